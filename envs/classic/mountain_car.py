"""Mountain car (Moore 1990), discrete and continuous, as batched torch simulators."""

from __future__ import annotations

import numpy as np
import torch
from gymnasium import spaces

from envs.classic.batched import ClassicVectorEnv


class MountainCarVectorEnv(ClassicVectorEnv):
    """``num_envs`` copies of Gymnasium's ``MountainCar-v0`` as torch tensors (see :class:`ClassicVectorEnv`).

    ## Description
    An underpowered car in a valley on the curve y = 0.45 sin(3x) + 0.55 must rock back and forth to reach
    the flag on the right hill. Physics, constants and spaces are those of Gymnasium's ``MountainCarEnv``:
    velocity += (action - 1) force - cos(3 position) gravity, clipped to 0.07; position += velocity,
    clipped to [-1.2, 0.6]; at the left wall a leftward velocity becomes 0 (an inelastic collision).

    ## Action space
    ``Discrete(3)``: accelerate left, do not accelerate, accelerate right.

    ## Observation space
    ``state``: position and velocity (the task's own length and time units); observed as they are.

    ## Rewards
    -1 for every step.

    ## Starting state
    Position uniform in [-0.6, -0.4), velocity 0.

    ## Episode end
    Terminated when position >= 0.5 and velocity >= ``goal_velocity``; truncated at ``max_episode_steps``
    (200).

    ## Arguments
    ``goal_velocity`` (default 0) as in Gymnasium, plus those of :class:`ClassicVectorEnv`.

    ## Version history
    * v0: Gymnasium's ``MountainCar-v0``.
    """

    state_names = ("position", "velocity")
    min_position = -1.2
    max_position = 0.6
    max_speed = 0.07
    goal_position = 0.5
    force = 0.001
    gravity = 0.0025

    def __init__(
        self,
        num_envs: int = 1,
        device: str | torch.device = "auto",
        dtype: torch.dtype | str = torch.float32,
        max_episode_steps: int | None = None,
        goal_velocity: float = 0.0,
    ):
        low = np.array([self.min_position, -self.max_speed], dtype=np.float32)
        high = np.array([self.max_position, self.max_speed], dtype=np.float32)
        super().__init__(
            spaces.Box(low, high, dtype=np.float32),
            self._action_space(),
            num_envs=num_envs,
            device=device,
            dtype=dtype,
            max_episode_steps=max_episode_steps,
        )
        self.goal_velocity = goal_velocity

    def _action_space(self) -> spaces.Space:
        return spaces.Discrete(3)

    def _initial_state(self, n: int) -> torch.Tensor:
        position = self._uniform(n, -0.6, -0.4)
        return torch.cat((position, torch.zeros_like(position)), dim=1)

    def _advance(self, state, actions):
        position, velocity = state.unbind(1)
        velocity = velocity + ((actions - 1) * self.force + torch.cos(3 * position) * (-self.gravity))
        position, velocity = self._move(position, velocity)
        return (
            torch.stack((position, velocity), dim=1),
            torch.full_like(position, -1.0),
            self._at_goal(position, velocity),
        )

    def _move(self, position: torch.Tensor, velocity: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Clip the new ``velocity``, advance ``position`` by it and clip that; stop the car at the left
        wall. Returns the new position and velocity."""
        velocity = velocity.clamp(-self.max_speed, self.max_speed)
        position = (position + velocity).clamp(self.min_position, self.max_position)
        velocity = torch.where((position == self.min_position) & (velocity < 0), 0.0, velocity)
        return position, velocity

    def _at_goal(self, position: torch.Tensor, velocity: torch.Tensor) -> torch.Tensor:
        return (position >= self.goal_position) & (velocity >= self.goal_velocity)

    def _observation(self, state):
        return state.clone()  # a copy: an agent that edits its observation leaves the state alone


class ContinuousMountainCarVectorEnv(MountainCarVectorEnv):
    """``num_envs`` copies of Gymnasium's ``MountainCarContinuous-v0`` as torch tensors.

    ## Description
    The car of :class:`MountainCarVectorEnv` with a continuous engine, as Gymnasium's
    ``Continuous_MountainCarEnv``: velocity += force 0.0015 - 0.0025 cos(3 position), the same clipping
    and left wall, and the flag at position 0.45.

    ## Action space
    ``Box(-1, 1, (1,))``: the force, clipped to [-1, 1].

    ## Observation space
    ``state``: position and velocity; observed as they are.

    ## Rewards
    -0.1 action^2 for every step (the unclipped action), plus 100 for the step that reaches the flag.

    ## Starting state
    Position uniform in [-0.6, -0.4), velocity 0.

    ## Episode end
    Terminated when position >= 0.45 and velocity >= ``goal_velocity``; truncated at ``max_episode_steps``
    (999).

    ## Arguments
    ``goal_velocity`` (default 0) as in Gymnasium, plus those of :class:`ClassicVectorEnv`.

    ## Version history
    * v0: Gymnasium's ``MountainCarContinuous-v0``. Gymnasium's single env keeps its state in float32
      between steps; here the state has the vector env's ``dtype``.
    """

    goal_position = 0.45
    power = 0.0015

    def _action_space(self) -> spaces.Space:
        return spaces.Box(low=-1.0, high=1.0, shape=(1,), dtype=np.float32)

    def _advance(self, state, actions):
        position, velocity = state.unbind(1)
        force = actions.clamp(-1.0, 1.0)
        velocity = velocity + (force * self.power - 0.0025 * torch.cos(3 * position))
        position, velocity = self._move(position, velocity)
        terminated = self._at_goal(position, velocity)
        rewards = torch.where(terminated, 100.0, 0.0).to(self.dtype) - actions**2 * 0.1
        return torch.stack((position, velocity), dim=1), rewards, terminated
