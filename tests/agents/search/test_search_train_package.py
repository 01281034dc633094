"""``arena train grpo`` / ``san`` on the search env: the GRPO-family trainer writes an agent package for one
structured suite entry, trained on the train split only."""

from __future__ import annotations

import csv
import json

import gymnasium as gym
import pytest
import torch

import envs  # noqa: F401  (registers the ids)
from agents import load_agent, read_manifest
from agents.pg.policy import weights_version
from agents.search import grpo
from agents.search.grpo import ESTIMATORS, SearchGRPOConfig, train_package
from agents.search.policy import WEIGHTS

SEARCH, TEXT = "arena/SearchQA-v0", "arena/SearchQAText-v0"
SUITE_KWARGS = {"hops": 2, "split": "test"}  # as the search suite's 2-hop entry gives them
# 3 updates x 4 questions x 4 answers = 48 episodes: under a second of training on one core; each run also
# builds the corpus once per process and plays the 50 held-out questions twice before and after training.
STEPS, SMALL = 3, {"prompts": 4, "group_size": 4}


def train(out, seed=0, env_kwargs=SUITE_KWARGS, **options):
    return train_package(
        SEARCH, env_kwargs, out=out, steps=STEPS, seed=seed, device="cpu", progress=False, **SMALL, **options
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The package of a short run and the agent that training returned (caught from ``grpo.learn``)."""
    caught = []

    def catching_learn(*args, **kwargs):
        caught.append(learn(*args, **kwargs))
        return caught[-1]

    learn = grpo.learn
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(grpo, "learn", catching_learn)
        package = train(tmp_path_factory.mktemp("search") / "grpo")
    return package, caught[0]


@pytest.mark.slow
def test_loaded_package_plays_the_same_actions_as_the_trained_policy(trained):
    """``load_agent`` builds the policy from the package alone (factory ``agents.search.policy:load`` with
    ``agent_dir``), and over three held-out episodes it picks the same action as the trained agent at every
    step; the manifest's version is the hash of the saved weights."""
    package, agent = trained
    manifest = read_manifest(package)
    assert (manifest.entry_point, manifest.envs, manifest.weights) == (
        "agents.search.policy:load",
        [SEARCH],
        WEIGHTS,
    )
    assert manifest.version == weights_version(torch.load(package / WEIGHTS, weights_only=True)["state"])
    env = gym.make(SEARCH, hops=2, split="test")
    loaded = load_agent(package, env)
    steps = 0
    for seed in (100, 101, 102):
        observation, info = env.reset(seed=seed)
        done = False
        while not done:
            action = agent.act(observation, info)
            assert loaded.act(observation, info) == action
            observation, _, terminated, truncated, info = env.step(action)
            done, steps = terminated or truncated, steps + 1
    assert steps >= 3


@pytest.mark.slow
def test_package_records_the_run_with_the_envs_defaults_and_one_progress_row_per_update(trained):
    """training.json names the learner, env, kwargs as given, seed and budget; the config takes the hops from
    the kwargs and the env's own default ``max_turns`` (10, not the config's 6) and ``top_k`` (3), and
    progress.csv has one row per update, numbered 1..steps, with the papers' column names."""
    package, _ = trained
    record = json.loads((package / "training.json").read_text())
    assert {k: record[k] for k in ("algo", "env_id", "env_kwargs", "seed", "steps", "training_split")} == {
        "algo": "grpo",
        "env_id": SEARCH,
        "env_kwargs": SUITE_KWARGS,
        "seed": 0,
        "steps": STEPS,
        "training_split": "train",
    }
    assert (record["config"]["hops"], record["config"]["max_turns"], record["config"]["top_k"]) == (
        [2],
        10,
        3,
    )
    assert record["config"]["prompts"] == 4 and record["wall_time_s"] > 0
    with (package / "progress.csv").open() as file:
        rows = list(csv.DictReader(file))
    assert [int(r["global_step"]) for r in rows] == list(range(1, STEPS + 1))
    assert {"charts/em", "charts/num_searches", "losses/approx_kl", "losses/clipfrac"} <= set(rows[0])


@pytest.mark.slow
def test_same_seed_gives_the_same_version_and_another_seed_another(trained, tmp_path):
    """All randomness (initial weights, questions drawn, actions sampled) comes from the seed."""
    package, _ = trained
    again, other = train(tmp_path / "again", seed=0), train(tmp_path / "other", seed=1)
    assert read_manifest(again).version == read_manifest(package).version
    assert read_manifest(other).version != read_manifest(package).version


@pytest.mark.slow
def test_training_never_sees_a_test_question_even_when_the_kwargs_say_test(search_questions_played, tmp_path):
    """With ``split="test"`` in the kwargs (as the suite gives them), every episode training collects is on a
    train-split question, of 1 or 2 hops (the curriculum up to the entry's 2), and only the held-out
    evaluation plays test questions, all of 2 hops; without the curriculum training plays 2-hop ones only."""
    seen = search_questions_played
    train(tmp_path / "curriculum")
    assert seen == {"train": {("train", 1), ("train", 2)}, "evaluate": {("test", 2)}}
    for played in seen.values():
        played.clear()
    train(tmp_path / "two_hops", curriculum=False)
    assert seen == {"train": {("train", 2)}, "evaluate": {("test", 2)}}


def test_text_env_unknown_options_and_estimators_are_refused_before_training(tmp_path):
    """The policy plays only the structured interface; options and estimators are checked by name."""
    arguments = {"out": tmp_path / "p", "steps": STEPS, "seed": 0, "device": "cpu", "progress": False}
    with pytest.raises(ValueError, match=r"SearchQAText-v0' is the text interface.*slots.*Dict observation"):
        train_package(TEXT, SUITE_KWARGS, **arguments)
    with pytest.raises(ValueError, match="interface='text'"):
        train_package(SEARCH, {**SUITE_KWARGS, "interface": "text"}, **arguments)
    with pytest.raises(ValueError, match=r"unknown option\(s\) policy.*estimator.*learning_rate"):
        train_package(SEARCH, SUITE_KWARGS, policy="gnn", **arguments)
    with pytest.raises(ValueError, match=", ".join(ESTIMATORS)):
        train_package(SEARCH, SUITE_KWARGS, estimator="ppo", **arguments)
    assert not (tmp_path / "p").exists()


def test_config_refuses_env_kwargs_that_would_change_the_split_or_its_own_fields():
    """The training split is fixed; hops, max_turns, top_k and corpus_seed have their own fields."""
    for key, value in (("split", "test"), ("hops", 4), ("interface", "text")):
        with pytest.raises(ValueError, match=f"env_kwargs: {key} cannot be set"):
            SearchGRPOConfig(env_kwargs={key: value})
