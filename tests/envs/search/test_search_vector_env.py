"""The vector env against single envs, step for step."""

import gymnasium as gym
import numpy as np

import envs
from agents.base import EnvSpaces
from agents.baselines.search import random_searcher
from envs.search.env import SearchQAEnv


def test_vector_env_matches_single_envs_step_for_step_through_resets():
    """Copy i of the vector env, reset with seed s + i, follows a single env reset with s + i given the
    same actions: same observations, rewards, end flags and masks; after an end the copy's same-step reset
    matches the single env's next (unseeded) reset, and final_info carries the ending info."""
    vector = gym.make_vec("arena/SearchQA-v0", num_envs=3, hops=(1, 2), max_turns=4)
    singles = [SearchQAEnv(hops=(1, 2), max_turns=4) for _ in range(3)]
    players = [random_searcher(EnvSpaces.of(singles[0]), seed=i) for i in range(3)]
    obs, info = vector.reset(seed=7)
    single_out = [env.reset(seed=7 + i) for i, env in enumerate(singles)]
    ends = 0
    for _ in range(60):
        actions = [p.act(o, i) for p, (o, i) in zip(players, single_out, strict=True)]
        obs, rewards, terminated, truncated, info = vector.step(np.array(actions))
        for i, env in enumerate(singles):
            o, r, term, trunc, inf = env.step(actions[i])
            assert (r, term, trunc) == (rewards[i], terminated[i], truncated[i])
            if term or trunc:
                ends += 1
                assert info["final_info"]["em"][i] == inf["em"]
                assert np.array_equal(info["final_obs"][i]["slots"], o["slots"])
                o, inf = env.reset()
            assert all(np.array_equal(obs[k][i], o[k]) for k in o)
            assert np.array_equal(info["action_mask"][i], inf["action_mask"])
            single_out[i] = (o, inf)
    assert ends > 10


def test_vector_env_gives_each_copy_its_question_and_batches_text():
    vector = gym.make_vec("arena/SearchQAText-v0", num_envs=4, hops=2, split="test")
    obs, _ = vector.reset(options={"question": [3, 3, 7, 9]})
    pool = vector.envs[0].pool
    assert [o.splitlines()[0] for o in obs] == [f"Question: {pool[i].text}" for i in (3, 3, 7, 9)]
    obs, _, terminated, *_ = vector.step(["answer[x]", "search[y]", "open[1]", "lookup[z]"])
    assert terminated.tolist() == [True, False, False, False] and isinstance(obs, tuple)


def test_vector_env_declares_the_gold_chain_privileged_and_keeps_it_out_of_final_info():
    """The vector env declares what the single env does; its infos carry each copy's gold chain under the
    privileged key only: the finished episode's final_info holds the public keys (em, num_searches, ...),
    and the previous step's infos["gold"] held that episode's chain."""
    vector = gym.make_vec("arena/SearchQAText-v0", num_envs=2, hops=2, split="test")
    assert envs.privileged_info_keys(vector) == envs.privileged_info_keys(SearchQAEnv) == {"gold"}
    _, info = vector.reset(options={"question": [4, 5]})
    pool = vector.envs[0].pool
    assert [tuple(d) for d in info["gold"]["doc_ids"]] == [pool[4].doc_ids, pool[5].doc_ids]
    _, _, terminated, _, info = vector.step(["answer[x]", "search[y]"])
    assert terminated.tolist() == [True, False]
    assert "gold" not in info["final_info"] and info["final_info"]["em"][0] == 0.0
    assert info["final_info"]["num_searches"][0] == 0
