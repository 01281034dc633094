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
from agents.qd.distilled import distilled, load_actor, reached_error, target_grid
from agents.trained import SHIPPED_DIR
from envs.qd.evaluator import BatchEvaluator
from envs.qd.tasks import get_task

ACTOR = SHIPPED_DIR / "qd-distilled" / "distilled.pt"  # the shipped qd/distilled


def test_distilled_policy_reaches_the_cells_of_its_archive_and_aims_across_the_arena():
    """The error is the distance between reached and target final position, each axis divided by its 2 m
    range (0.1 is 20 cm, about three of the archive's 6.25 cm cells). Aimed at the centres of the 441 of
    1024 grid cells its DCG-ME archive filled, it ends within 0.1 on average (measured: 0.037). Aimed at the
    25 centres of a 5 x 5 grid over the whole arena, much of which its archive never reached, it still does
    better than any policy that ignores its target: such a policy ends at one point whatever the target, and
    the point nearest the grid on average is its centre (the mean distance is convex, the grid symmetric),
    0.375 away on average (measured: 0.21)."""
    actor, _, _ = load_actor(ACTOR)
    cells = torch.load(ACTOR, weights_only=True)["targets"].double().numpy()
    assert len(cells) == 441
    assert reached_error(actor, BatchEvaluator("pointmaze", seed=7), cells).mean() <= 0.1
    grid = target_grid(get_task("pointmaze"), 5)
    ignoring_target = np.linalg.norm(grid / 2.0, axis=1).mean()  # the arena is centred on 0
    assert ignoring_target == pytest.approx(0.375, abs=1e-3)
    assert reached_error(actor, BatchEvaluator("pointmaze", seed=7), grid).mean() < ignoring_target


@pytest.mark.parametrize("via", ["kwargs", "info"])
def test_distilled_agent_ends_its_episode_near_the_target_it_is_given(via):
    """One Gymnasium episode of the Agent aimed past the gap of the first wall ends within 0.15 of the range
    (0.3 m) of the target (measured: 0.037 from each of five start states)."""
    env = gym.make("arena/QDPointMaze-v0")
    target = np.array([-0.8, -0.2])
    agent = distilled(EnvSpaces.of(env), target=None if via == "info" else target, weights=ACTOR)
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
        distilled(EnvSpaces.of(env), target=[5.0, 0.0], weights=ACTOR)
    with pytest.raises(ValueError, match=r"agent_dir=.*or weights="):
        distilled(EnvSpaces.of(env))


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
