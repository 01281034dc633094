"""The search env's scripted players: the oracle solves every question with exactly h searches."""

import gymnasium as gym
import numpy as np
import pytest

import agents
import envs  # noqa: F401  (registers the ids)
from agents.base import EnvSpaces
from agents.baselines.search import oracle, random_searcher, retrieve_once

IDS = ("arena/SearchQA-v0", "arena/SearchQAText-v0")


def _play(env, agent, questions):
    """(em, f1, searches, truncated) of each question index played to its end."""
    out = []
    for i in questions:
        observation, info = env.reset(options={"question": i})
        agent.reset(seed=i)
        done = False
        while not done:
            observation, _, terminated, truncated, info = env.step(agent.act(observation, info))
            done = terminated or truncated
        out.append((info["em"], info["f1"], info["num_searches"], truncated))
    return np.array(out, dtype=float)


@pytest.mark.parametrize("env_id", IDS)
@pytest.mark.parametrize("corpus_seed", [0, 1, 2])
def test_oracle_scores_em_and_f1_one_with_exactly_h_searches(env_id, corpus_seed):
    """Every held-out question of 1 to 4 hops: EM = F1 = 1 after exactly h searches, as the gold chain has
    one document per hop and each is the top result for its entity's name."""
    for hops in (1, 2, 3, 4):
        env = gym.make(env_id, hops=hops, corpus_seed=corpus_seed, split="test")
        results = _play(env, oracle(EnvSpaces.of(env)), range(len(env.unwrapped.pool)))
        assert np.all(results[:, :2] == 1.0) and np.all(results[:, 2] == hops), (hops, results.mean(0))


@pytest.mark.parametrize("env_id", IDS)
def test_turn_budget_below_the_oracle_needs_truncates_with_score_zero(env_id):
    """An h-hop question takes h searches and an answer; with max_turns <= h the oracle never answers."""
    for hops in (1, 2, 3, 4):
        for budget in {max(1, hops - 1), hops}:
            env = gym.make(env_id, hops=hops, max_turns=budget, split="test")
            results = _play(env, oracle(EnvSpaces.of(env)), range(10))
            assert np.all(results[:, 3] == 1) and np.all(results[:, :2] == 0.0), (hops, budget)


@pytest.mark.parametrize("env_id", IDS)
def test_retrieve_once_answers_one_hop_questions_and_fails_multi_hop_ones(env_id):
    """One search of the question text finds the 1-hop answer (the question names the entity whose top
    document answers it) but never a 2-4 hop answer, whatever top_k: the generator keeps those out of the
    top 10 results."""
    for hops, expected, top_k in ((1, 1.0, 3), (2, 0.0, 3), (2, 0.0, 10), (4, 0.0, 10)):
        env = gym.make(env_id, hops=hops, split="test", top_k=top_k)
        results = _play(env, retrieve_once(EnvSpaces.of(env)), range(len(env.unwrapped.pool)))
        assert results[:, 0].mean() == expected and np.all(results[:, 2] == 1)


def test_baselines_are_registered_and_random_plays_legal_actions():
    env = gym.make("arena/SearchQA-v0", hops=1, split="test")
    for name in ("search/oracle", "search/retrieve_once", "search/random"):
        assert agents.make(name, env).name == name
    results = _play(env, random_searcher(EnvSpaces.of(env), seed=0), range(50))
    assert results[:, 0].mean() < 0.2  # about one legal answer in 15 after a search is right
