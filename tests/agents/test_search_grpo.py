"""GRPO-family learners on the search env: a small fixed budget must lift held-out exact match."""

import pytest

from agents.search.grpo import ESTIMATORS, SearchGRPOConfig, learn

# 20 updates x 8 questions x 8 answers = 1,280 one-hop episodes (about 3,000 env steps): ~1 s on one core.
# Measured, seeds 0-2, held-out EM before 0.00/0.02/0.02, after: GRPO 0.92/0.96/1.00, Dr. GRPO 0.92/0.98/1.00,
# RLOO 0.92/0.94/1.00, SAN 0.96/1.00/1.00, SPO 0.90/0.50/0.68, EMPG 0.66/0.94/0.96: the weakest gain is 0.48.
SMALL = {"hops": (1,), "updates": 20, "prompts": 8, "group_size": 8, "max_turns": 3}


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_each_estimator_lifts_held_out_one_hop_exact_match_by_at_least_0_2(estimator):
    """The initial policy is nearly uniform over the legal actions, so it rarely answers right (EM <= 0.06);
    every estimator's update pushes probability to rewarded search-then-answer episodes. The threshold is
    the issue's 0.2; the smallest measured gain at this budget is 0.48 (SPO, seed 1)."""
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


def test_checkpoint_after_k_updates_is_the_final_eval_of_a_k_update_run():
    """Nothing in training depends on the total number of updates: the held-out eval that evaluate_at takes
    after 2 of 4 updates equals the final eval of the same seed's 2-update run; out-of-range counts fail."""
    short = learn(SearchGRPOConfig(**{**SMALL, "updates": 2}), seed=3)
    long = learn(SearchGRPOConfig(**{**SMALL, "updates": 4}), seed=3, evaluate_at=(2,))
    assert long.history["checkpoints"] == {2: short.history["final"]}
    assert long.history["updates"][:2] == short.history["updates"]
    with pytest.raises(ValueError, match="evaluate_at"):
        learn(SearchGRPOConfig(**{**SMALL, "updates": 2}), evaluate_at=(3,))


def test_training_plays_only_train_questions_and_evaluation_only_held_out_ones(search_questions_played):
    """Every episode the learner collects outside evaluate is on a train-split question, every one inside
    it on a test-split question; and both kinds happen."""
    learn(SearchGRPOConfig(**{**SMALL, "hops": (1, 2), "updates": 2}), seed=0, evaluate_at=(1,))
    splits = {phase: {split for split, _hops in played} for phase, played in search_questions_played.items()}
    assert splits == {"train": {"train"}, "evaluate": {"test"}}
