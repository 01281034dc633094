"""``arena train dcg_me``'s trainer: a DCG-ME run on one QD env written as an agent package whose factory
plays the distilled actor at the package's target."""

from __future__ import annotations

import csv
import json

import gymnasium as gym
import numpy as np
import pytest
import torch

import envs  # noqa: F401  (registers the ids)
from agents import load_agent, read_manifest
from agents.pg.policy import weights_version
from agents.qd.distilled import WEIGHTS, load_actor, train_package

POINTMAZE = "arena/QDPointMaze-v0"
# cpu_config("dcg_me") evaluates an initial batch of 32, then 32 offspring per iteration: 64 evaluations are
# two logged iterations, the smallest run that trains the critic and the actor once.
EVALUATIONS, BATCH = 64, 32


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    out = tmp_path_factory.mktemp("dcg") / "package"
    return train_package(POINTMAZE, {}, out=out, steps=EVALUATIONS, seed=0, device="cpu", progress=False)


@pytest.mark.slow
def test_package_plays_an_episode_with_actions_in_the_box_and_aims_at_its_target(package):
    """``load_agent`` builds the distilled policy from the package alone: over one Gymnasium episode every
    action is inside the action box [-1, 1]^2, and each is the saved actor's output at the manifest's
    target (normalised to [0, 1] over the descriptor box [-1, 1]^2), which lies inside that box."""
    manifest = read_manifest(package)
    target = np.asarray(manifest.kwargs["target"])
    assert manifest.entry_point == "agents.qd.distilled:distilled" and manifest.envs == [POINTMAZE]
    assert target.shape == (2,) and np.all(np.abs(target) <= 1.0)
    actor, low, high = load_actor(package / WEIGHTS)
    cond = torch.as_tensor((target - low) / (high - low), dtype=torch.float32)
    env = gym.make(POINTMAZE)
    agent = load_agent(package, env)
    obs, info = env.reset(seed=0)
    done = False
    while not done:
        action = agent.act(obs, info)
        assert env.action_space.contains(action)
        with torch.no_grad():
            expected = actor(torch.as_tensor(obs).unsqueeze(0), cond.unsqueeze(0))[0].numpy()
        np.testing.assert_allclose(action, expected, atol=1e-6)
        obs, _, terminated, truncated, info = env.step(action)
        done = terminated or truncated


@pytest.mark.slow
def test_package_records_the_budget_one_progress_row_per_iteration_and_its_weights_hash(package):
    """The run spends exactly ``steps`` evaluations (the batch divides them), logs one row per iteration
    (evaluations 32, 64), at most 100 env steps per episode (100-step episodes, fewer when one reaches the
    goal), and the version is the hash of the actor's weights as saved."""
    record = json.loads((package / "training.json").read_text())
    assert record["algo"] == "dcg_me" and record["steps"] == record["evaluations"] == EVALUATIONS
    assert record["config"]["batch_size"] == BATCH and record["config"]["episode_length"] == 100
    with (package / "progress.csv").open() as file:
        rows = list(csv.DictReader(file))
    assert [int(r["evaluations"]) for r in rows] == [BATCH, 2 * BATCH]
    assert 0 < int(rows[-1]["env_steps"]) <= EVALUATIONS * 100
    state = torch.load(package / WEIGHTS, weights_only=True)["state_dict"]
    assert read_manifest(package).version == weights_version(state)


@pytest.mark.slow
def test_same_seed_gives_the_same_version_and_another_seed_another(package, tmp_path):
    """All randomness comes from the seed (archive, emitters, networks, the evaluator's start states)."""
    again = train_package(POINTMAZE, {}, out=tmp_path / "a", steps=EVALUATIONS, seed=0, progress=False)
    other = train_package(POINTMAZE, {}, out=tmp_path / "b", steps=EVALUATIONS, seed=1, progress=False)
    assert read_manifest(again).version == read_manifest(package).version
    assert read_manifest(other).version != read_manifest(package).version


def test_unknown_options_env_kwargs_and_targets_are_refused_before_training(tmp_path):
    arguments = {"out": tmp_path / "p", "steps": EVALUATIONS, "seed": 0, "progress": False}
    with pytest.raises(ValueError, match=r"options \['policy'\].*allowed:.*critic_steps.*target"):
        train_package(POINTMAZE, {}, policy="gnn", **arguments)
    with pytest.raises(ValueError, match=r"env_kwargs \['task'\] would change the QD task"):
        train_package(POINTMAZE, {"task": "ant_omni"}, **arguments)
    with pytest.raises(ValueError, match="not a registered QD env"):
        train_package("CartPole-v1", {}, **arguments)
    with pytest.raises(ValueError, match="target must have 2 values within"):
        train_package(POINTMAZE, {}, target=[2.0, 0.0], **arguments)
    assert not (tmp_path / "p").exists()
