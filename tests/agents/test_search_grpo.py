"""GRPO-family learners on the search env: a small fixed budget must lift held-out exact match."""

import pytest

from agents.search.grpo import ESTIMATORS, SearchGRPOConfig, learn

# 20 updates x 8 questions x 8 answers = 1,280 one-hop episodes (about 3,000 env steps): ~3 s on one core.
# Measured, seeds 0-2, held-out EM before 0.00/0.06/0.00, after: GRPO 0.90/0.96/1.00, SAN 0.98/0.98/1.00,
# RLOO and Dr. GRPO 0.90/0.98/1.00, SPO 0.88/0.48/0.86, EMPG 0.82/0.92/0.92: the weakest gain is 0.42.
SMALL = {"hops": (1,), "updates": 20, "prompts": 8, "group_size": 8, "max_turns": 3}


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_each_estimator_lifts_held_out_one_hop_exact_match_by_at_least_0_2(estimator):
    """The initial policy is nearly uniform over the legal actions, so it rarely answers right (EM <= 0.06);
    every estimator's update pushes probability to rewarded search-then-answer episodes. The threshold is
    the issue's 0.2; the smallest measured gain at this budget is 0.42 (SPO, seed 1)."""
    agent = learn(SearchGRPOConfig(estimator=estimator, **SMALL), seed=0)
    before, after = agent.history["initial"]["sampled/em"], agent.history["final"]["sampled/em"]
    assert after >= before + 0.2, (before, after)
    assert agent.history["final"]["sampled/searches_1hop"] == pytest.approx(1.0, abs=0.3)


def test_config_rejects_unknown_estimators_and_singleton_groups():
    with pytest.raises(ValueError, match="estimator"):
        SearchGRPOConfig(estimator="ppo")
    with pytest.raises(ValueError, match="group_size"):
        SearchGRPOConfig(estimator="grpo", group_size=1)


def test_trained_policy_saves_as_an_agent_package_that_plays_the_same(tmp_path):
    """The checkpoint loads through agents.load_agent and chooses the same actions as the trained agent."""
    import gymnasium as gym

    from agents.base import load_agent

    agent = learn(SearchGRPOConfig(**{**SMALL, "updates": 2}), seed=0, out=tmp_path / "policy")
    env = gym.make("arena/SearchQA-v0", hops=2, split="test")
    loaded = load_agent(tmp_path / "policy", env)
    observation, info = env.reset(seed=3)
    for _ in range(4):
        action = agent.act(observation, info)
        assert loaded.act(observation, info) == action
        observation, _, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            break
