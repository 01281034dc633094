"""Acrobot (Sutton 1996; Sutton and Barto's book) as a batched torch simulator."""

from __future__ import annotations

import math

import numpy as np
import torch
from gymnasium import spaces

from envs.classic.batched import ClassicVectorEnv


class AcrobotVectorEnv(ClassicVectorEnv):
    """``num_envs`` copies of Gymnasium's ``Acrobot-v1`` as torch tensors (see :class:`ClassicVectorEnv`).

    ## Description
    Two links hang in a chain from a fixed joint; a torque on the joint between them must swing the free end
    above a target height. Physics, constants and spaces are those of Gymnasium's ``AcrobotEnv`` with its
    defaults: the "book" dynamics (Sutton and Barto), one fourth-order Runge-Kutta step of ``dt = 0.2`` s per
    env step, no torque noise; then the angles are wrapped to [-pi, pi] and the angular velocities clipped
    to 4 pi and 9 pi rad/s.

    ## Action space
    ``Discrete(3)``: a torque of -1, 0 or +1 N m on the actuated joint.

    ## Observation space
    ``state``: theta1 (rad, 0 = first link pointing down), theta2 (rad, relative to the first link), and
    their angular velocities (rad/s); observed as cos theta1, sin theta1, cos theta2, sin theta2 and the two
    angular velocities.

    ## Rewards
    -1 for every step that does not reach the target, 0 for the one that does.

    ## Starting state
    Every state variable uniform in [-0.1, 0.1).

    ## Episode end
    Terminated when -cos(theta1) - cos(theta1 + theta2) > 1 (the free end above the target height);
    truncated at ``max_episode_steps`` (500).

    ## Arguments
    Those of :class:`ClassicVectorEnv`.

    ## Version history
    * v1: Gymnasium's ``Acrobot-v1``.
    """

    state_names = ("theta1_rad", "theta2_rad", "dtheta1_rad_s", "dtheta2_rad_s")
    dt = 0.2  # s, one RK4 step
    LINK_LENGTH_1 = 1.0  # m
    LINK_MASS_1 = 1.0  # kg
    LINK_MASS_2 = 1.0  # kg
    LINK_COM_POS_1 = 0.5  # m, position of the centre of mass of link 1
    LINK_COM_POS_2 = 0.5  # m
    LINK_MOI = 1.0  # kg m^2, moment of inertia of both links
    MAX_VEL_1 = 4 * math.pi  # rad/s
    MAX_VEL_2 = 9 * math.pi  # rad/s

    def __init__(
        self,
        num_envs: int = 1,
        device: str | torch.device = "auto",
        dtype: torch.dtype | str = torch.float32,
        max_episode_steps: int | None = None,
    ):
        high = np.array([1.0, 1.0, 1.0, 1.0, self.MAX_VEL_1, self.MAX_VEL_2], dtype=np.float32)
        super().__init__(
            spaces.Box(low=-high, high=high, dtype=np.float32),
            spaces.Discrete(3),
            num_envs=num_envs,
            device=device,
            dtype=dtype,
            max_episode_steps=max_episode_steps,
        )

    def _initial_state(self, n: int) -> torch.Tensor:
        return self._uniform(n, -0.1, 0.1, columns=4)

    def _advance(self, state, actions):
        torque = actions - 1  # actions 0, 1, 2: -1, 0, +1 N m
        # Gymnasium's rk4 over t = [0, dt]: one classical Runge-Kutta step, the torque held.
        dt = self.dt
        dt2 = dt / 2.0
        k1 = self._dsdt(state, torque)
        k2 = self._dsdt(state + dt2 * k1, torque)
        k3 = self._dsdt(state + dt2 * k2, torque)
        k4 = self._dsdt(state + dt * k3, torque)
        theta1, theta2, dtheta1, dtheta2 = (state + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)).unbind(1)
        theta1, theta2 = _wrap(theta1, -math.pi, math.pi), _wrap(theta2, -math.pi, math.pi)
        dtheta1 = dtheta1.clamp(-self.MAX_VEL_1, self.MAX_VEL_1)
        dtheta2 = dtheta2.clamp(-self.MAX_VEL_2, self.MAX_VEL_2)
        terminated = -torch.cos(theta1) - torch.cos(theta2 + theta1) > 1.0
        rewards = torch.where(terminated, 0.0, -1.0).to(self.dtype)
        return torch.stack((theta1, theta2, dtheta1, dtheta2), dim=1), rewards, terminated

    def _dsdt(self, state: torch.Tensor, torque: torch.Tensor) -> torch.Tensor:
        """The time derivative of ``state`` (rad/s, rad/s^2) under ``torque`` (N m): the book's equations."""
        m1, m2 = self.LINK_MASS_1, self.LINK_MASS_2
        l1, lc1, lc2 = self.LINK_LENGTH_1, self.LINK_COM_POS_1, self.LINK_COM_POS_2
        I1 = I2 = self.LINK_MOI  # kg m^2
        g = 9.8  # m/s^2
        a = torque
        theta1, theta2, dtheta1, dtheta2 = state.unbind(1)
        cos2, sin2 = torch.cos(theta2), torch.sin(theta2)
        d1 = m1 * lc1**2 + m2 * (l1**2 + lc2**2 + 2 * l1 * lc2 * cos2) + I1 + I2
        d2 = m2 * (lc2**2 + l1 * lc2 * cos2) + I2
        phi2 = m2 * lc2 * g * torch.cos(theta1 + theta2 - math.pi / 2.0)
        phi1 = (
            -m2 * l1 * lc2 * dtheta2**2 * sin2
            - 2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * sin2
            + (m1 * lc1 + m2 * l1) * g * torch.cos(theta1 - math.pi / 2)
            + phi2
        )
        ddtheta2 = (a + d2 / d1 * phi1 - m2 * l1 * lc2 * dtheta1**2 * sin2 - phi2) / (
            m2 * lc2**2 + I2 - d2**2 / d1
        )
        ddtheta1 = -(d2 * ddtheta2 + phi1) / d1
        return torch.stack((dtheta1, dtheta2, ddtheta1, ddtheta2), dim=1)

    def _observation(self, state):
        theta1, theta2, dtheta1, dtheta2 = state.unbind(1)
        return torch.stack(
            (torch.cos(theta1), torch.sin(theta1), torch.cos(theta2), torch.sin(theta2), dtheta1, dtheta2),
            dim=1,
        )


def _wrap(x: torch.Tensor, low: float, high: float) -> torch.Tensor:
    """``x`` shifted by whole periods ``high - low`` into [low, high], as Gymnasium's ``wrap`` does by
    repeated subtraction (values already inside are returned unchanged)."""
    period = high - low
    above = torch.ceil((x - high) / period).clamp(min=0)
    below = torch.ceil((low - x) / period).clamp(min=0)
    return x - above * period + below * period
