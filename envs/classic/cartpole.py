"""Cart-pole (Barto, Sutton and Anderson 1983) as a batched torch simulator."""

from __future__ import annotations

import math

import numpy as np
import torch
from gymnasium import spaces

from envs.classic.batched import ClassicVectorEnv


class CartPoleVectorEnv(ClassicVectorEnv):
    """``num_envs`` copies of Gymnasium's ``CartPole-v1`` as torch tensors (see :class:`ClassicVectorEnv`).

    ## Description
    A pole hinged on a cart that moves along a frictionless track; push the cart left or right to keep the
    pole upright. Physics, constants and spaces are those of Gymnasium's ``CartPoleEnv``: explicit Euler
    steps of ``tau = 0.02`` s (its default ``kinematics_integrator``).

    ## Action space
    ``Discrete(2)``: 0 pushes the cart left, 1 right, with a force of 10 N.

    ## Observation space
    ``state``: cart position x (m), cart velocity (m/s), pole angle theta from upright (rad), pole angular
    velocity (rad/s); observed as they are.

    ## Rewards
    +1 for every step, the terminating one included; with ``sutton_barto_reward=True`` 0 for every step and
    -1 for the terminating one.

    ## Starting state
    Every state variable uniform in [-0.05, 0.05).

    ## Episode end
    Terminated when |x| > 2.4 m or |theta| > 12 degrees; truncated at ``max_episode_steps`` (500).

    ## Arguments
    ``sutton_barto_reward`` as in Gymnasium, plus those of :class:`ClassicVectorEnv`.

    ## Version history
    * v1: Gymnasium's ``CartPole-v1``.
    """

    state_names = ("x_m", "x_dot_m_s", "theta_rad", "theta_dot_rad_s")
    gravity = 9.8  # m/s^2
    masscart = 1.0  # kg
    masspole = 0.1  # kg
    total_mass = masspole + masscart
    length = 0.5  # m, half the pole's length
    polemass_length = masspole * length
    force_mag = 10.0  # N
    tau = 0.02  # s between state updates
    theta_threshold_radians = 12 * 2 * math.pi / 360
    x_threshold = 2.4  # m

    def __init__(
        self,
        num_envs: int = 1,
        device: str | torch.device = "auto",
        dtype: torch.dtype | str = torch.float32,
        max_episode_steps: int | None = None,
        sutton_barto_reward: bool = False,
    ):
        # Angle limit twice the termination angle, so that a failing observation is still within bounds.
        high = np.array(
            [self.x_threshold * 2, np.inf, self.theta_threshold_radians * 2, np.inf], dtype=np.float32
        )
        super().__init__(
            spaces.Box(-high, high, dtype=np.float32),
            spaces.Discrete(2),
            num_envs=num_envs,
            device=device,
            dtype=dtype,
            max_episode_steps=max_episode_steps,
        )
        self.sutton_barto_reward = sutton_barto_reward

    def _initial_state(self, n: int) -> torch.Tensor:
        return self._uniform(n, -0.05, 0.05, columns=4)

    def _advance(self, state, actions):
        x, x_dot, theta, theta_dot = state.unbind(1)
        force = self.force_mag * (2 * actions - 1)  # action 0 pushes left (-10 N), 1 right (+10 N)
        costheta, sintheta = torch.cos(theta), torch.sin(theta)
        # Equations of motion: https://coneural.org/florian/papers/05_cart_pole.pdf
        temp = (force + self.polemass_length * torch.square(theta_dot) * sintheta) / self.total_mass
        thetaacc = (self.gravity * sintheta - costheta * temp) / (
            self.length * (4.0 / 3.0 - self.masspole * torch.square(costheta) / self.total_mass)
        )
        xacc = temp - self.polemass_length * thetaacc * costheta / self.total_mass
        # Explicit Euler: every variable advances by tau times its derivative at the old state.
        state = state + self.tau * torch.stack((x_dot, xacc, theta_dot, thetaacc), dim=1)
        x, theta = state[:, 0], state[:, 2]
        terminated = (x.abs() > self.x_threshold) | (theta.abs() > self.theta_threshold_radians)
        rewards = -terminated.to(self.dtype) if self.sutton_barto_reward else torch.ones_like(x)
        return state, rewards, terminated

    def _observation(self, state):
        return state.clone()  # a copy: an agent that edits its observation leaves the state alone
