"""The quality-diversity tasks: one record per task with its episode length, descriptor and fitness bounds.

Settings follow the QD literature's benchmark suite (QDax's environments, used by the PGA-ME paper, Flageat et
al. 2023 "Benchmarking Quality-Diversity Algorithms on Neuroevolution for Reinforcement Learning", and the
DCG-ME paper, Faldor et al. 2023): 100-step point-maze episodes, 250 steps for ant_omni, 1000 for the
unidirectional (``*_uni``) tasks; feet-contact proportions in [0, 1] per foot; ant_omni's final x-y in [-30,
30] m. Each task's ``min_fitness`` is ``-reward_floor * episode_length``: the per-step reward is clipped from
below at ``-reward_floor`` (QDax's experimentally found reward offsets), so every episode's return is at least
``min_fitness`` and the QD score ``sum(f - min_fitness)`` is never negative.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class QDTask:
    """One QD task: a registered env, its episode length, descriptor space and fitness lower bound."""

    name: str
    env_id: str
    episode_length: int
    obs_dim: int
    action_dim: int  # actions are in [-1, 1]^action_dim
    descriptor_low: tuple[float, ...]
    descriptor_high: tuple[float, ...]
    descriptor_names: tuple[str, ...]
    min_fitness: float  # lower bound of an episode's return: the QD-score offset
    needs_mujoco: bool

    @property
    def descriptor_dim(self) -> int:
        return len(self.descriptor_low)

    @property
    def reward_floor(self) -> float:
        """The per-step reward's lower clip (positive number): ``-min_fitness / episode_length``."""
        return -self.min_fitness / self.episode_length


# Largest distance (m) from the point maze's goal (-0.5, 0.8) to a point of the [-1, 1]^2 arena: the corner
# (1, -1).
POINTMAZE_MAX_DISTANCE = math.hypot(1.5, 1.8)


def _uni(
    name: str, env_id: str, length: int, obs: int, act: int, feet: tuple[str, ...], floor: float
) -> QDTask:
    return QDTask(
        name=name,
        env_id=env_id,
        episode_length=length,
        obs_dim=obs,
        action_dim=act,
        descriptor_low=(0.0,) * len(feet),
        descriptor_high=(1.0,) * len(feet),
        descriptor_names=tuple(f"{foot}_contact" for foot in feet),
        min_fitness=-floor * length,
        needs_mujoco=True,
    )


TASKS: dict[str, QDTask] = {
    "pointmaze": QDTask(
        name="pointmaze",
        env_id="arena/QDPointMaze-v0",
        episode_length=100,
        obs_dim=2,
        action_dim=2,
        descriptor_low=(-1.0, -1.0),
        descriptor_high=(1.0, 1.0),
        descriptor_names=("x_pos", "y_pos"),
        min_fitness=-POINTMAZE_MAX_DISTANCE * 100,
        needs_mujoco=False,
    ),
    "walker2d_uni": _uni(
        "walker2d_uni", "arena/QDWalker2dUni-v0", 1000, 17, 6, ("right_foot", "left_foot"), 1.413
    ),
    "halfcheetah_uni": _uni(
        "halfcheetah_uni", "arena/QDHalfCheetahUni-v0", 1000, 17, 6, ("back_foot", "front_foot"), 0.6
    ),
    "hopper_uni": _uni("hopper_uni", "arena/QDHopperUni-v0", 1000, 11, 3, ("foot",), 1.413),
    "ant_uni": _uni(
        "ant_uni",
        "arena/QDAntUni-v0",
        1000,
        105,
        8,
        ("front_left", "back_left", "back_right", "front_right"),
        3.24,
    ),
    "ant_omni": QDTask(
        name="ant_omni",
        env_id="arena/QDAntOmni-v0",
        episode_length=250,
        obs_dim=105,
        action_dim=8,
        descriptor_low=(-30.0, -30.0),
        descriptor_high=(30.0, 30.0),
        descriptor_names=("x_pos", "y_pos"),
        min_fitness=-3.03 * 250,
        needs_mujoco=True,
    ),
}


def get_task(name: str) -> QDTask:
    """The task called ``name``; ValueError naming the allowed names otherwise."""
    if name not in TASKS:
        raise ValueError(f"task={name!r} is not a QD task; allowed: {', '.join(TASKS)}")
    return TASKS[name]
