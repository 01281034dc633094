"""The point maze's geometry, goal and reward against hand-derived answers and an independent wall check."""

import math

import gymnasium as gym
import numpy as np
import pytest
import torch

import envs  # noqa: F401  (registers the ids)
from envs.qd.pointmaze import GOAL, WALLS, maze_step
from envs.qd.tasks import get_task

ENV_ID = "arena/QDPointMaze-v0"


def _segment_enters_box(p0: np.ndarray, p1: np.ndarray, box: tuple[float, ...]) -> bool:
    """Liang-Barsky clipping: does the segment p0 -> p1 meet the open rectangle (x_from, x_to) x (y_low,
    y_high)?"""
    x_from, x_to, y_low, y_high = box
    t0, t1 = 0.0, 1.0
    d = p1 - p0
    for delta, low, high, start in ((d[0], x_from, x_to, p0[0]), (d[1], y_low, y_high, p0[1])):
        if delta == 0.0:
            if not low < start < high:
                return False
            continue
        ta, tb = (low - start) / delta, (high - start) / delta
        t0, t1 = max(t0, min(ta, tb)), min(t1, max(ta, tb))
    return t1 - t0 > 1e-9  # a positive length of the segment lies strictly inside


def test_random_moves_never_enter_a_wall_and_stay_in_the_arena():
    """10 000 random moves of 50 points (uniform actions, biased upwards so the points reach both walls): no
    move's segment enters a wall's interior (checked by Liang-Barsky clipping, independent of the simulator's
    rule, on the walls' float32 coordinates, the simulator's precision)."""
    walls = [
        tuple(float(np.float32(v)) for v in wall) for wall in WALLS
    ]  # as the float32 simulator sees them
    generator = torch.Generator().manual_seed(0)
    position = torch.tensor([[0.0, -0.85]]).repeat(50, 1)
    hits = 0
    for _ in range(200):
        action = 2.0 * torch.rand(50, 2, generator=generator) - 1.0 + torch.tensor([0.0, 0.3])
        new, _, _ = maze_step(position, action)
        for p0, p1 in zip(position.double().numpy(), new.double().numpy(), strict=True):
            for wall in walls:
                assert not _segment_enters_box(p0, p1, wall), f"{p0} -> {p1} enters wall {wall}"
            hits += any(abs(p1[1] - face) < 1e-7 for wall in walls for face in wall[2:])
        assert new.abs().max() <= 1.0
        position = new
    assert hits > 10  # the walls were actually met, so the check above was exercised


@pytest.mark.parametrize(
    ("start", "action", "expected"),
    [
        ((0.0, -0.55), (0.0, 1.0), (0.0, -0.5)),  # under the lower wall: stops on its lower face
        ((0.0, 0.25), (0.0, -1.0), (0.0, 0.21)),  # above the upper wall: stops on its upper face
        ((-0.8, -0.55), (0.0, 1.0), (-0.8, -0.45)),  # through the lower wall's gap (x < -0.5)
        ((0.8, 0.15), (0.0, 1.0), (0.8, 0.25)),  # through the upper wall's gap (x > 0.5)
        ((0.95, 0.95), (1.0, 1.0), (1.0, 1.0)),  # the border clips
    ],
)
def test_a_move_stops_on_the_wall_face_it_hits_and_passes_through_the_gaps(start, action, expected):
    new, _, _ = maze_step(torch.tensor([start]), torch.tensor([action]))
    assert new[0].tolist() == pytest.approx(expected, abs=1e-6)


def test_driving_straight_to_a_reachable_point_ends_there_and_the_descriptor_is_that_point():
    """From the start (0, -0.9), steering at (0.55, -0.75) (same side of both walls, 0.57 m away, so 6 steps
    at 0.1 m/step) ends exactly there; the descriptor is the final position."""
    env = gym.make(ENV_ID)
    obs, _ = env.reset(seed=0, options={"start": (0.0, -0.9)})
    target = np.array([0.55, -0.75], dtype=np.float32)
    for _ in range(20):
        obs, _, terminated, truncated, info = env.step(np.clip((target - obs) / 0.1, -1.0, 1.0))
    assert obs == pytest.approx(target, abs=1e-6)
    assert info["descriptor"] == pytest.approx(target, abs=1e-6)
    assert not terminated and not truncated


def test_reward_is_minus_the_goal_distance_and_fitness_their_sum_reaching_the_goal_terminates():
    """From (-0.5, 0.5) straight up: y = 0.6, 0.7 (outside the 0.1 m goal square) then 0.8 (inside, so
    terminated); rewards -0.2, -0.1, 0 by the distance formula; fitness -0.3."""
    env = gym.make(ENV_ID)
    env.reset(seed=0, options={"start": (-0.5, 0.5)})
    rewards, ends = [], []
    for _ in range(3):
        obs, reward, terminated, _, info = env.step(np.array([0.0, 1.0], dtype=np.float32))
        rewards.append(reward)
        ends.append(terminated)
        assert reward == pytest.approx(-math.hypot(obs[0] - GOAL[0], obs[1] - GOAL[1]), abs=1e-7)
    assert rewards == pytest.approx([-0.2, -0.1, 0.0], abs=1e-6)
    assert ends == [False, False, True]
    assert info["fitness"] == pytest.approx(-0.3, abs=1e-6)
    assert info["step_descriptor"] == pytest.approx(obs)


def test_min_fitness_is_the_farthest_corner_distance_times_the_episode_length():
    """The farthest arena point from the goal (-0.5, 0.8) is the corner (1, -1): sqrt(1.5^2 + 1.8^2) m per
    step."""
    task = get_task("pointmaze")
    assert task.min_fitness == pytest.approx(-100 * math.sqrt(1.5**2 + 1.8**2))
    _, reward, _ = maze_step(torch.tensor([[0.95, -0.95]]), torch.tensor([[1.0, -1.0]]))
    assert float(reward[0]) == pytest.approx(task.min_fitness / 100, abs=1e-6)


def test_unknown_task_name_raises_naming_the_allowed_names():
    with pytest.raises(ValueError, match="pointmaze"):
        get_task("pointmase")
