"""Running statistics that standardise what a learner sees: observations (saved with the policy) and rewards
(a training-time scale only).

:class:`RunningNorm` standardises observations by their running mean and variance (Welford/Chan), as a
module whose buffers travel with the weights. :class:`RewardScaler` divides rewards by the running standard
deviation of the discounted return, as Stable-Baselines3's ``VecNormalize(norm_reward=True)`` and the PPO
implementation details of Huang et al. (2022) do: the advantages keep their sign and ratios, while returns of
any magnitude reach the critic at a scale near 1.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class RunningNorm(nn.Module):
    """Observation standardisation with running mean and variance (Welford/Chan), saved with the weights."""

    def __init__(self, dim: int, clip: float = 10.0):
        super().__init__()
        self.clip = clip
        self.register_buffer("mean", torch.zeros(dim, dtype=torch.float64))
        self.register_buffer("var", torch.ones(dim, dtype=torch.float64))
        self.register_buffer("count", torch.tensor(1e-4, dtype=torch.float64))

    @torch.no_grad()
    def update(self, batch: Tensor) -> None:
        """Fold ``batch`` (``[B, dim]``) into the running mean and variance."""
        batch = batch.double()
        mean, var, n = batch.mean(0), batch.var(0, unbiased=False), batch.shape[0]
        delta, total = mean - self.mean, self.count + n
        self.mean += delta * n / total
        self.var = (self.var * self.count + var * n + delta**2 * self.count * n / total) / total
        self.count = total

    def forward(self, obs: Tensor) -> Tensor:
        scaled = (obs - self.mean.to(obs.dtype)) / torch.sqrt(self.var.to(obs.dtype) + 1e-8)
        return scaled.clamp(-self.clip, self.clip)


class RewardScaler:
    """Rewards divided by the running standard deviation of each env's discounted return, then clipped.

    ``scale_(rewards, done, valid)`` takes a rollout's ``[T, N]`` rewards, episode ends and valid flags
    (None: all valid) on the device, carries each env's discounted return
    ``G_t = gamma * G_{t-1} * (1 - done_{t-1}) + r_t`` across rollouts, folds the rollout's valid ``G_t``
    into the running variance, then scales the rewards in place by ``1 / sqrt(var + 1e-8)`` and clips them to
    ``[-clip, clip]``. (VecNormalize updates the variance before each step; here it is updated once per
    rollout, before the rollout is scaled.) The episode returns a learner logs are the env's own, unscaled.
    """

    def __init__(self, num_envs: int, gamma: float, device: torch.device | str, clip: float = 10.0):
        self.gamma, self.clip = gamma, clip
        self.returns = torch.zeros(num_envs, dtype=torch.float64, device=device)
        self.stats = RunningNorm(1).to(device)

    @torch.no_grad()
    def scale_(self, rewards: Tensor, done: Tensor, valid: Tensor | None) -> None:
        discounted = torch.empty_like(rewards, dtype=torch.float64)
        for t in range(rewards.shape[0]):
            self.returns = self.returns * self.gamma + rewards[t].double()
            discounted[t] = self.returns
            self.returns = torch.where(done[t], 0.0, self.returns)
        self.stats.update((discounted if valid is None else discounted[valid]).reshape(-1, 1))
        std = torch.sqrt(self.stats.var + 1e-8).to(rewards.dtype)
        rewards.div_(std).clamp_(-self.clip, self.clip)
