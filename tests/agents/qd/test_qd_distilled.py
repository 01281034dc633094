"""The shipped distilled policy (DCG-ME's descriptor-conditioned actor, trained on the point maze) reaches the
descriptors it is asked for, and plays as an Agent in the Gymnasium env."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

import agents
import envs  # noqa: F401  (registers the ids)
from agents.base import EnvSpaces
from agents.qd.distilled import DATA, distilled, load_actor, reached_error, target_grid
from envs.qd.evaluator import BatchEvaluator
from envs.qd.tasks import get_task


def test_distilled_policy_reaches_a_grid_of_targets_within_0_15_of_the_descriptor_range_on_average():
    """Targets: the 25 centres of a 5 x 5 grid over the whole arena, and the centres of the 763 grid cells
    its DCG-ME archive filled. The error is the distance between reached and target final position, each
    axis divided by its 2 m range (0.15 is 30 cm). Measured: 0.062 on the grid, 0.056 on the cells."""
    path = DATA / "pointmaze_distilled.pt"
    actor, _, _ = load_actor(path)
    cells = torch.load(path, weights_only=True)["targets"].double().numpy()
    assert len(cells) >= 700
    for targets in (target_grid(get_task("pointmaze"), 5), cells):
        errors = reached_error(actor, BatchEvaluator("pointmaze", seed=7), targets)
        assert errors.mean() <= 0.15


@pytest.mark.parametrize("via", ["kwargs", "info"])
def test_distilled_agent_ends_its_episode_near_the_target_it_is_given(via):
    """One Gymnasium episode of the Agent aimed past the gap of the first wall ends within 0.15 of the range
    (0.3 m) of the target (measured: 0.003 to 0.012 over five start states)."""
    env = gym.make("arena/QDPointMaze-v0")
    target = np.array([-0.8, -0.2])
    agent = distilled(EnvSpaces.of(env), target=None if via == "info" else target)
    obs, info = env.reset(seed=3)
    done = False
    while not done:
        step_info = {**info, "target_descriptor": target} if via == "info" else info
        obs, _, terminated, truncated, info = env.step(agent.act(obs, step_info))
        done = terminated or truncated
    assert np.linalg.norm(info["descriptor"] - target) / 2.0 <= 0.15


def test_distilled_and_elite_are_registered_and_reject_bad_input():
    env = gym.make("arena/QDPointMaze-v0")
    assert agents.make("qd/distilled", env).name == "qd/distilled"
    assert agents.make("qd/elite", env).name == "qd/elite"
    with pytest.raises(ValueError, match="target"):
        distilled(EnvSpaces.of(env), target=[5.0, 0.0])


def test_elite_defaults_to_the_shipped_elite_of_its_task_and_names_the_tasks_that_have_one():
    from agents.qd.elite import shipped_elite

    assert shipped_elite("arena/QDPointMaze-v0").name == "pointmaze_elite.pt"
    with pytest.raises(ValueError, match=r"env_id: no elite is shipped for 'CartPole-v1'.*QDPointMaze"):
        shipped_elite("CartPole-v1")


def test_shipped_walker_elite_walks_forward_in_the_gymnasium_env():
    """Upright, the walker earns +1 per step (healthy bonus) plus its forward speed minus a small control
    cost, so standing still for all 250 steps earns at most 250: a return above that means it walks forward.
    (Measured over 10 episodes: 386 +- 31, the lowest 333; its archive fitness was 439.6.)"""
    pytest.importorskip("mujoco")
    env = gym.make("arena/QDWalker2dUni-v0", max_episode_steps=250)
    player = agents.make("qd/elite", env)
    for seed in range(3):
        obs, info = env.reset(seed=seed)
        done, total = False, 0.0
        while not done:
            obs, reward, terminated, truncated, info = env.step(player.act(obs, info))
            total, done = total + reward, terminated or truncated
        assert total > 250, (seed, total)
        assert info["descriptor"].min() >= 0.0 and info["descriptor"].max() <= 1.0
