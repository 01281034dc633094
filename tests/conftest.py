"""Fixtures that register test-only envs for the duration of one test."""

import pytest

import envs


@pytest.fixture
def registered_test_envs():
    """Register test-only envs; yields their ids and removes them afterwards."""
    ids = {
        "cartpole": "arena/TestCartPole-v0",
        "global_rng": "arena/TestGlobalRng-v0",
        "masked": "arena/TestMaskedChoice-v0",
        "pennies": "test_matching_pennies",
    }
    common = dict(domain="test", summary="test only", max_episode_steps=50)
    envs.register_single(
        ids["cartpole"],
        "gymnasium.envs.classic_control.cartpole:CartPoleEnv",
        action_kind="Discrete",
        observation_kind="Box",
        **common,
    )
    envs.register_single(
        ids["global_rng"],
        "fixture_envs:GlobalRngCartPole",
        action_kind="Discrete",
        observation_kind="Box",
        **common,
    )
    envs.register_single(
        ids["masked"], "fixture_envs:MaskedChoice", action_kind="Discrete", observation_kind="Box", **common
    )
    envs.register_multi(
        ids["pennies"],
        "fixture_envs",
        domain="test",
        summary="matching pennies",
        action_kind="Discrete",
        observation_kind="Discrete",
    )
    yield ids
    for env_id in ids.values():
        envs.unregister(env_id)
