"""Return and advantage estimators, each written once and shared by every learner.

Time-major estimators take tensors shaped ``[T, N]`` (rollout steps x envs):

- ``rewards[t]``: reward of the transition taken at step t;
- ``terminated[t]`` / ``truncated[t]``: how the episode ended at that transition (kept apart: a terminated
  episode has no future, a truncated one is bootstrapped from the value of its final observation);
- ``next_values[t]``: the critic's value of the observation the transition reached, i.e. of the next step's
  observation, or of ``final_obs`` where the episode ended there (the collector fills it in, see
  :mod:`agents.pg.rollout`). It is ignored where ``terminated`` is set.

Group estimators take rewards shaped ``[..., G]``: the last axis is a group of G samples answering the same
prompt (or started from the same state); each group is standardised on its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import Tensor


def discounted_returns(
    rewards: Tensor, terminated: Tensor, truncated: Tensor, next_values: Tensor, gamma: float
) -> Tensor:
    """Monte-Carlo returns ``G_t = r_t + gamma * G_{t+1}``, cut at episode ends.

    After a terminated transition the future is 0; after a truncated one, and after the last step of the
    rollout, the future is bootstrapped with ``next_values``.
    """
    _check_discount("gamma", gamma)
    returns = torch.zeros_like(rewards)
    following = next_values[-1]
    for t in reversed(range(rewards.shape[0])):
        future = torch.where(terminated[t] | truncated[t], next_values[t], following)
        returns[t] = rewards[t] + gamma * (~terminated[t]).to(rewards.dtype) * future
        following = returns[t]
    return returns


def gae(
    rewards: Tensor,
    values: Tensor,
    next_values: Tensor,
    terminated: Tensor,
    truncated: Tensor,
    gamma: float,
    lam: float,
) -> tuple[Tensor, Tensor]:
    """Generalised advantage estimation (Schulman et al., 2016); returns ``(advantages, returns)``.

    ``delta_t = r_t + gamma * (1 - terminated_t) * next_values_t - values_t`` and
    ``A_t = delta_t + gamma * lam * (1 - done_t) * A_{t+1}``, with ``done = terminated | truncated``; the
    returns (value targets) are ``A + values``. ``lam = 1`` gives the Monte-Carlo advantage
    ``discounted_returns - values``, ``lam = 0`` the one-step TD error.
    """
    _check_discount("gamma", gamma)
    _check_discount("lam", lam)
    deltas = rewards + gamma * (~terminated).to(rewards.dtype) * next_values - values
    carry = (~(terminated | truncated)).to(rewards.dtype) * (gamma * lam)
    advantages = torch.zeros_like(rewards)
    running = torch.zeros_like(rewards[0])
    for t in reversed(range(rewards.shape[0])):
        running = deltas[t] + carry[t] * running
        advantages[t] = running
    return advantages, advantages + values


def explained_variance(predicted: Tensor, target: Tensor) -> float:
    """``1 - Var(target - predicted) / Var(target)``: 1 is a perfect critic, 0 no better than a constant."""
    variance = target.var()
    return math.nan if variance == 0 else (1 - (target - predicted).var() / variance).item()


def normalize_advantages(advantages: Tensor, eps: float = 1e-8) -> Tensor:
    """``(A - mean) / (std + eps)`` over all elements, with the sample (n - 1) std, as in PPO."""
    if advantages.numel() < 2:
        return advantages - advantages.mean()
    return (advantages - advantages.mean()) / (advantages.std() + eps)


def grpo_advantages(rewards: Tensor, *, eps: float = 1e-6, std: str = "sample") -> Tensor:
    """GRPO's group-relative advantage (Shao et al., 2024): ``(r - mean) / (std + eps)`` within each group.

    ``std="sample"`` divides the squared deviations by G - 1 (``torch.std``'s default, as the reference
    GRPO code does); ``std="population"`` by G. A group of equal rewards gets 0 (never NaN, whatever eps).
    """
    return _standardise(rewards, torch.ones_like(rewards, dtype=torch.bool), eps=eps, std=std)


def dr_grpo_advantages(rewards: Tensor) -> Tensor:
    """Dr. GRPO's advantage (Liu et al., 2025): ``r - mean`` within each group, without dividing by the std.

    Dr. GRPO also drops the per-response length normalisation; use :func:`aggregate_token_loss` with
    ``mode="dr_grpo"``.
    """
    return rewards - rewards.mean(dim=-1, keepdim=True)


def rloo_advantages(rewards: Tensor) -> Tensor:
    """REINFORCE leave-one-out (Kool et al., 2019; Ahmadian et al., 2024): ``r_i - mean_{j != i} r_j``.

    Equal to ``G / (G - 1) * (r_i - mean)``; groups need G >= 2.
    """
    size = rewards.shape[-1]
    if size < 2:
        raise ValueError(f"rewards: RLOO needs groups of at least 2 samples, got {size}")
    others = (rewards.sum(dim=-1, keepdim=True) - rewards) / (size - 1)
    return rewards - others


def san_advantages(
    rewards: Tensor, strata: Tensor, *, alpha: float = 1.0, eps: float = 1e-6, std: str = "sample"
) -> Tensor:
    """Stratified advantage normalisation (SAN), blended with the global group-relative advantage.

    Within each group, samples sharing a structural key (``strata``, e.g. the number of tool calls) are
    standardised among themselves: ``A_SAN = (r - mean_k) / (std_k + eps)``; a stratum of one sample or of
    equal rewards gives 0. The result is ``alpha * A_SAN + (1 - alpha) * A_GRPO``, computed as a lerp so that
    one stratum, or ``alpha = 0``, gives exactly :func:`grpo_advantages`.
    """
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    if strata.shape != rewards.shape:
        raise ValueError(
            f"strata must have the shape of rewards {tuple(rewards.shape)}, got {tuple(strata.shape)}"
        )
    global_advantage = grpo_advantages(rewards, eps=eps, std=std)
    stratified = torch.zeros_like(rewards)
    for key in torch.unique(strata):
        members = strata == key
        stratified = torch.where(members, _standardise(rewards, members, eps=eps, std=std), stratified)
    return torch.lerp(global_advantage, stratified, alpha)


def aggregate_token_loss(
    per_token: Tensor, mask: Tensor, *, mode: str, max_length: int | None = None
) -> Tensor:
    """Reduce a ``[B, L]`` per-token loss to a scalar, over the tokens where ``mask`` is set.

    ``mode="grpo"``: mean over each response's tokens, then over responses (GRPO's length normalisation).
    ``mode="dr_grpo"``: sum over all tokens divided by ``B * max_length`` (a constant, so long and short
    responses weigh per token the same; Dr. GRPO).
    """
    mask = mask.to(per_token.dtype)
    if mode == "grpo":
        return ((per_token * mask).sum(-1) / mask.sum(-1).clamp(min=1)).mean()
    if mode == "dr_grpo":
        length = per_token.shape[-1] if max_length is None else max_length
        if length < 1:
            raise ValueError(f"max_length must be >= 1, got {max_length}")
        return (per_token * mask).sum() / (per_token.shape[0] * length)
    raise ValueError(f"mode={mode!r} is not one of 'grpo', 'dr_grpo'")


@dataclass
class BetaValueTracker:
    """SPO's persistent per-prompt value tracker (Xu & Ding, 2025) for rewards in [0, 1].

    Each prompt keeps a Beta(a, b) belief over its success rate; the baseline is ``a / (a + b)``. After a
    reward r, ``a <- rho * a + r`` and ``b <- rho * b + (1 - r)``: ``rho`` forgets old evidence. SPO makes rho
    KL-adaptive, ``rho = 2 ** (-kl / kl_half)`` clipped to ``[rho_min, rho_max]``, where kl is the policy's
    divergence since the prompt was last seen; without a kl, ``rho_max`` is used. A new prompt starts from
    the mean of its first rewards with effective sample size ``1 / (1 - rho_max)``.
    """

    rho_min: float = 0.875
    rho_max: float = 0.96
    kl_half: float = 0.06
    _ab: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if not 0.0 < self.rho_min <= self.rho_max < 1.0:
            raise ValueError(
                f"need 0 < rho_min <= rho_max < 1, got rho_min={self.rho_min}, rho_max={self.rho_max}"
            )
        if self.kl_half <= 0:
            raise ValueError(f"kl_half must be > 0, got {self.kl_half}")

    def __contains__(self, prompt) -> bool:
        return prompt in self._ab

    def initialise(self, prompt, rewards: list[float]) -> None:
        """Start ``prompt``'s belief from the mean of its first rewards."""
        if not rewards:
            raise ValueError("rewards: need at least one reward to initialise a prompt")
        mean = sum(_check_unit("reward", r) for r in rewards) / len(rewards)
        weight = 1.0 / (1.0 - self.rho_max)
        self._ab[prompt] = (weight * mean, weight * (1.0 - mean))

    def value(self, prompt) -> float:
        """The baseline ``a / (a + b)`` of ``prompt`` (KeyError when it was never initialised)."""
        a, b = self._ab[prompt]
        return a / (a + b)

    def rho(self, kl: float | None = None) -> float:
        """The forgetting factor for a policy change of ``kl`` nats."""
        if kl is None:
            return self.rho_max
        return min(self.rho_max, max(self.rho_min, 2.0 ** (-kl / self.kl_half)))

    def advantage_and_update(self, prompt, reward: float, kl: float | None = None) -> float:
        """The advantage ``r - baseline`` (baseline from before this reward); then update the belief."""
        reward = _check_unit("reward", reward)
        if prompt not in self._ab:
            self.initialise(prompt, [reward])
        advantage = reward - self.value(prompt)
        a, b = self._ab[prompt]
        rho = self.rho(kl)
        self._ab[prompt] = (rho * a + reward, rho * b + (1.0 - reward))
        return advantage


def _standardise(rewards: Tensor, members: Tensor, *, eps: float, std: str) -> Tensor:
    """Standardise each group's ``members`` among themselves; 0 elsewhere and where they are all equal."""
    if std not in ("sample", "population"):
        raise ValueError(f"std={std!r} is not one of 'sample', 'population'")
    if eps < 0:
        raise ValueError(f"eps must be >= 0, got {eps}")
    weight = members.to(rewards.dtype)
    count = weight.sum(dim=-1, keepdim=True)
    mean = (rewards * weight).sum(dim=-1, keepdim=True) / count.clamp(min=1)
    centred = (rewards - mean) * weight
    dof = count - 1 if std == "sample" else count
    spread = ((centred**2).sum(dim=-1, keepdim=True) / dof.clamp(min=1)).sqrt()
    degenerate = (spread == 0) | (count < 2)
    return torch.where(degenerate, torch.zeros_like(rewards), centred / (spread + eps))


def _check_discount(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0 or math.isnan(value):
        raise ValueError(f"{name} must be in [0, 1], got {value}")


def _check_unit(name: str, value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value}")
    return float(value)
