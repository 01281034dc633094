"""The inverted pendulum swing-up as a batched torch simulator."""

from __future__ import annotations

import math

import numpy as np
import torch
from gymnasium import spaces

from envs.classic.batched import ClassicVectorEnv


class PendulumVectorEnv(ClassicVectorEnv):
    """``num_envs`` copies of Gymnasium's ``Pendulum-v1`` as torch tensors (see :class:`ClassicVectorEnv`).

    ## Description
    A pendulum on a frictionless pivot, starting at a random angle, must be swung up and held upright.
    Physics, constants and spaces are those of Gymnasium's ``PendulumEnv``: semi-implicit Euler steps of
    ``dt = 0.05`` s, the angular velocity updated first and clipped to 8 rad/s, then the angle advanced
    with the new velocity.

    ## Action space
    ``Box(-2, 2, (1,))``: the torque on the free end (N m), clipped to [-2, 2].

    ## Observation space
    ``state``: theta (rad, 0 = upright) and its angular velocity (rad/s); observed as cos theta, sin theta
    and the angular velocity.

    ## Rewards
    -(angle_normalize(theta)^2 + 0.1 theta_dot^2 + 0.001 torque^2), from the state before the step and the
    clipped torque; ``angle_normalize`` maps theta into [-pi, pi).

    ## Starting state
    theta uniform in [-pi, pi), theta_dot uniform in [-1, 1).

    ## Episode end
    Never terminated; truncated at ``max_episode_steps`` (200).

    ## Arguments
    ``g`` (gravity, m/s^2, default 10) as in Gymnasium, plus those of :class:`ClassicVectorEnv`.

    ## Version history
    * v1: Gymnasium's ``Pendulum-v1``.
    """

    state_names = ("theta_rad", "theta_dot_rad_s")
    max_speed = 8.0  # rad/s
    max_torque = 2.0  # N m
    dt = 0.05  # s
    m = 1.0  # kg
    l = 1.0  # m  # noqa: E741  (the length, as the equations name it)

    def __init__(
        self,
        num_envs: int = 1,
        device: str | torch.device = "auto",
        dtype: torch.dtype | str = torch.float32,
        max_episode_steps: int | None = None,
        g: float = 10.0,
    ):
        high = np.array([1.0, 1.0, self.max_speed], dtype=np.float32)
        super().__init__(
            spaces.Box(low=-high, high=high, dtype=np.float32),
            spaces.Box(low=-self.max_torque, high=self.max_torque, shape=(1,), dtype=np.float32),
            num_envs=num_envs,
            device=device,
            dtype=dtype,
            max_episode_steps=max_episode_steps,
        )
        self.g = g

    def _initial_state(self, n: int) -> torch.Tensor:
        return torch.cat((self._uniform(n, -math.pi, math.pi), self._uniform(n, -1.0, 1.0)), dim=1)

    def _advance(self, state, actions):
        th, thdot = state.unbind(1)
        g, m, l, dt = self.g, self.m, self.l, self.dt  # noqa: E741
        u = actions.clamp(-self.max_torque, self.max_torque)
        costs = angle_normalize(th) ** 2 + 0.1 * thdot**2 + 0.001 * (u**2)
        newthdot = thdot + (3 * g / (2 * l) * torch.sin(th) + 3.0 / (m * l**2) * u) * dt
        newthdot = newthdot.clamp(-self.max_speed, self.max_speed)
        newth = th + newthdot * dt
        return torch.stack((newth, newthdot), dim=1), -costs, torch.zeros_like(th, dtype=torch.bool)

    def _observation(self, state):
        theta, thetadot = state.unbind(1)
        return torch.stack((torch.cos(theta), torch.sin(theta), thetadot), dim=1)


def angle_normalize(x: torch.Tensor) -> torch.Tensor:
    """The angle ``x`` (rad) mapped into [-pi, pi)."""
    return torch.remainder(x + math.pi, 2 * math.pi) - math.pi
