"""The registry's contract, and that the conformance checks pass good envs and catch broken ones."""

import gymnasium as gym
import pytest
from pettingzoo import AECEnv, ParallelEnv

import envs
from envs._core import conformance


def test_registered_id_is_made_by_gymnasium_with_and_without_module_prefix(registered_test_envs):
    env_id = registered_test_envs["cartpole"]
    for spelling in (env_id, f"envs:{env_id}"):
        env = gym.make(spelling)
        assert env.spec.max_episode_steps == 50
        env.close()


def test_list_envs_records_tags_and_filters(registered_test_envs):
    record = envs.get_record(registered_test_envs["cartpole"])
    assert (record.domain, record.multi_agent, record.action_kind, record.observation_kind) == (
        "test",
        False,
        "Discrete",
        "Box",
    )
    assert record.batched is False
    test_ids = {r.id for r in envs.list_envs(domain="test")}
    assert test_ids == set(registered_test_envs.values())
    assert [r.id for r in envs.list_envs(domain="test", kind="multi")] == ["test_matching_pennies"]


def test_register_rejects_bad_fields_naming_them():
    with pytest.raises(ValueError, match="must start with 'arena/'"):
        envs.register_single("Foo-v0", "x:y", domain="d", summary="s", action_kind="Box",
                             observation_kind="Box", max_episode_steps=1)  # fmt: skip
    with pytest.raises(ValueError, match=r"action_kind='Boxy'.*allowed: Box"):
        envs.register_single("arena/Foo-v0", "x:y", domain="d", summary="s", action_kind="Boxy",
                             observation_kind="Box", max_episode_steps=1)  # fmt: skip
    assert "arena/Foo-v0" not in gym.registry


def test_unknown_id_error_names_it_and_the_closest_ids(registered_test_envs):
    with pytest.raises(envs.UnknownEnvError) as raised:
        envs.get_record("arena/TestCartPol-v0")
    assert str(raised.value).startswith("unknown env 'arena/TestCartPol-v0'; closest: arena/TestCartPole-v0")
    with pytest.raises(envs.UnknownEnvError, match="unknown multi-agent env 'pennies'"):
        envs.make_multi("pennies")


def test_make_multi_returns_aec_by_default_and_parallel_on_request(registered_test_envs):
    name = registered_test_envs["pennies"]
    assert isinstance(envs.make_multi(name), AECEnv)
    parallel = envs.make_multi(name, parallel=True, rounds=3)
    assert isinstance(parallel, ParallelEnv) and parallel.rounds == 3


def test_conformance_checks_pass_a_correct_single_agent_env(registered_test_envs):
    env_id = registered_test_envs["cartpole"]
    conformance.check_gymnasium_api(env_id)
    conformance.check_sb3_api(env_id)
    conformance.check_declared_kinds(env_id)
    conformance.check_seed_determinism(env_id)


def test_determinism_check_follows_action_masks(registered_test_envs):
    """The masked env raises on an illegal action, so passing shows the check only plays legal ones."""
    conformance.check_seed_determinism(registered_test_envs["masked"], steps=200)


def test_determinism_check_catches_an_env_using_the_global_numpy_rng(registered_test_envs):
    with pytest.raises(AssertionError, match="reset observation"):
        conformance.check_seed_determinism(registered_test_envs["global_rng"])


def test_declared_kinds_check_catches_a_wrong_tag(registered_test_envs):
    envs.register_single("arena/TestWrongTag-v0", "gymnasium.envs.classic_control.cartpole:CartPoleEnv",
                         domain="test", summary="s", action_kind="Box", observation_kind="Box",
                         max_episode_steps=10)  # fmt: skip
    try:
        with pytest.raises(AssertionError, match="registered action_kind='Box', space is Discrete"):
            conformance.check_declared_kinds("arena/TestWrongTag-v0")
    finally:
        envs.unregister("arena/TestWrongTag-v0")


def test_pettingzoo_checks_pass_a_correct_multi_agent_env(registered_test_envs):
    name = registered_test_envs["pennies"]
    conformance.check_pettingzoo_api(name)
    conformance.check_pettingzoo_seeding(name)
    conformance.check_declared_kinds(name)
