"""Every registered env, checked the moment it is registered: a failing id is a failing test, never a skip."""

import pytest

import envs
from envs._core import conformance

SINGLE = [r.id for r in envs.list_envs(kind="single")]
MULTI = [r.id for r in envs.list_envs(kind="multi")]
# Stable-Baselines3 supports no Text spaces (its checker requires array observations), so envs with a text
# interface (observation or action a string, for language agents) are left out of its check only.
SB3_CHECKABLE = [
    r.id for r in envs.list_envs(kind="single") if "Text" not in (r.action_kind, r.observation_kind)
]


@pytest.mark.parametrize("env_id", SINGLE)
def test_single_agent_env_passes_gymnasium_env_checker(env_id):
    conformance.check_gymnasium_api(env_id)


@pytest.mark.parametrize("env_id", SB3_CHECKABLE)
def test_single_agent_env_passes_stable_baselines3_env_checker(env_id):
    conformance.check_sb3_api(env_id)


@pytest.mark.parametrize("env_id", SINGLE + MULTI)
def test_registered_space_kinds_match_the_real_spaces(env_id):
    conformance.check_declared_kinds(env_id)


@pytest.mark.parametrize("env_id", SINGLE)
def test_same_seed_gives_same_episodes_while_other_envs_and_global_rngs_run(env_id):
    conformance.check_seed_determinism(env_id)


@pytest.mark.parametrize("name", MULTI)
def test_multi_agent_env_passes_pettingzoo_api_tests(name):
    conformance.check_pettingzoo_api(name)


@pytest.mark.parametrize("name", MULTI)
def test_multi_agent_env_passes_pettingzoo_seed_tests(name):
    conformance.check_pettingzoo_seeding(name)
