"""Action distributions for Discrete, MultiDiscrete, masked-discrete and Box action spaces.

Sampling takes an explicit ``torch.Generator``, so a learner never touches torch's global RNG. A policy
network outputs ``ActionKind.param_dim`` numbers per observation; :meth:`ActionKind.distribution` turns them
into a distribution over *raw* actions (what the rollout stores and ``log_prob`` scores) and
:meth:`ActionKind.to_env` maps raw actions to the env's action space (index offsets, clipping or squashing).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import gymnasium as gym
import numpy as np
import torch
from torch import Tensor

LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)
BOUNDS = ("clip", "tanh")


class Categorical:
    """A categorical distribution over the last axis of ``logits``; ``mask`` (bool) marks the legal actions.

    Rows whose mask allows nothing are treated as unmasked rather than producing NaN.
    """

    def __init__(self, logits: Tensor, mask: Tensor | None = None):
        if mask is not None:
            mask = mask | ~mask.any(dim=-1, keepdim=True)
            logits = logits.masked_fill(~mask, torch.finfo(logits.dtype).min)
        self.log_probs = torch.log_softmax(logits, dim=-1)

    def sample(self, generator: torch.Generator | None = None) -> Tensor:
        """Gumbel-max sampling: argmax(log p + Gumbel noise) is distributed as p."""
        uniform = torch.rand(self.log_probs.shape, generator=generator, device=self.log_probs.device)
        gumbel = -torch.log(-torch.log(uniform.clamp(min=1e-20, max=1 - 1e-7)))
        return torch.argmax(self.log_probs + gumbel, dim=-1)

    def mode(self) -> Tensor:
        return torch.argmax(self.log_probs, dim=-1)

    def log_prob(self, actions: Tensor) -> Tensor:
        return self.log_probs.gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)

    def entropy(self) -> Tensor:
        return -(self.log_probs.exp() * self.log_probs).sum(-1)


class MultiCategorical:
    """Independent categoricals, one per MultiDiscrete dimension; log-probs and entropies add up."""

    def __init__(self, logits: Tensor, nvec: tuple[int, ...], mask: Tensor | None = None):
        logit_parts = torch.split(logits, list(nvec), dim=-1)
        mask_parts = torch.split(mask, list(nvec), dim=-1) if mask is not None else [None] * len(nvec)
        self.parts = [Categorical(lg, m) for lg, m in zip(logit_parts, mask_parts, strict=True)]

    def sample(self, generator: torch.Generator | None = None) -> Tensor:
        return torch.stack([p.sample(generator) for p in self.parts], dim=-1)

    def mode(self) -> Tensor:
        return torch.stack([p.mode() for p in self.parts], dim=-1)

    def log_prob(self, actions: Tensor) -> Tensor:
        return sum(p.log_prob(actions[..., i]) for i, p in enumerate(self.parts))

    def entropy(self) -> Tensor:
        return sum(p.entropy() for p in self.parts)


class Gaussian:
    """A diagonal Gaussian over raw actions with state-independent ``log_std`` (Schulman et al., 2017).

    With ``tanh`` squashing the env receives ``tanh(u)`` rescaled to the bounds, and ``log_prob`` includes the
    change of variables ``-sum log(1 - tanh(u)^2)`` (Haarnoja et al., 2018); ``entropy`` is that of the
    Gaussian before squashing (the squashed entropy has no closed form).
    """

    def __init__(self, mean: Tensor, log_std: Tensor, squash: bool):
        self.mean, self.log_std, self.squash = mean, log_std.expand_as(mean), squash

    def sample(self, generator: torch.Generator | None = None) -> Tensor:
        noise = torch.randn(
            self.mean.shape, generator=generator, device=self.mean.device, dtype=self.mean.dtype
        )
        return self.mean + self.log_std.exp() * noise

    def mode(self) -> Tensor:
        return self.mean

    def log_prob(self, actions: Tensor) -> Tensor:
        z = (actions - self.mean) / self.log_std.exp()
        log_prob = (-0.5 * z**2 - self.log_std - LOG_SQRT_2PI).sum(-1)
        if self.squash:  # log(1 - tanh(u)^2) = 2 * (log 2 - u - softplus(-2u)), stable for large |u|
            log_prob = log_prob - (
                2 * (math.log(2) - actions - torch.nn.functional.softplus(-2 * actions))
            ).sum(-1)
        return log_prob

    def entropy(self) -> Tensor:
        return (0.5 + LOG_SQRT_2PI + self.log_std).sum(-1)


@dataclass(frozen=True, kw_only=True)
class ActionKind:
    """What a policy needs to know about an action space; plain data, so it is saved with the weights."""

    kind: str  # "discrete" | "multidiscrete" | "box"
    nvec: tuple[int, ...] = ()  # categories per dimension (discrete: one entry)
    start: tuple[int, ...] = ()  # the first action of each discrete dimension
    shape: tuple[int, ...] = ()  # the Box's shape
    low: tuple[float, ...] = ()
    high: tuple[float, ...] = ()
    bound: str = "clip"  # how Box actions meet the bounds: "clip" (as CleanRL) or "tanh" squashing

    @classmethod
    def of(cls, space: gym.Space, bound: str = "clip") -> ActionKind:
        """The ActionKind of a Gymnasium ``Discrete``, ``MultiDiscrete`` or ``Box`` space."""
        if bound not in BOUNDS:
            raise ValueError(f"bound={bound!r} is not one of {BOUNDS}")
        if isinstance(space, gym.spaces.Discrete):
            return cls(kind="discrete", nvec=(int(space.n),), start=(int(space.start),))
        if isinstance(space, gym.spaces.MultiDiscrete):
            if space.nvec.ndim != 1:
                raise ValueError(
                    f"action_space: MultiDiscrete must be 1-D, got nvec shape {space.nvec.shape}"
                )
            return cls(
                kind="multidiscrete",
                nvec=tuple(int(n) for n in space.nvec),
                start=tuple(int(s) for s in np.broadcast_to(space.start, space.nvec.shape)),
            )
        if isinstance(space, gym.spaces.Box):
            low, high = space.low.astype(np.float64).ravel(), space.high.astype(np.float64).ravel()
            if bound == "tanh" and not (np.isfinite(low).all() and np.isfinite(high).all()):
                raise ValueError("bound='tanh' needs a Box action space with finite low and high")
            return cls(
                kind="box",
                shape=tuple(space.shape),
                low=tuple(map(float, low)),
                high=tuple(map(float, high)),
                bound=bound,
            )
        raise ValueError(
            f"action_space: {type(space).__name__} is not supported (allowed: Discrete, MultiDiscrete, Box)"
        )

    @property
    def dim(self) -> int:
        """Raw action components per step (1 for Discrete)."""
        return len(self.low) if self.kind == "box" else len(self.nvec)

    @property
    def param_dim(self) -> int:
        """Network outputs per observation: logits, or the Gaussian's mean."""
        return len(self.low) if self.kind == "box" else sum(self.nvec)

    @property
    def mask_dim(self) -> int:
        return 0 if self.kind == "box" else sum(self.nvec)

    def distribution(self, params: Tensor, log_std: Tensor | None = None, mask: Tensor | None = None):
        if self.kind == "discrete":
            return Categorical(params, mask)
        if self.kind == "multidiscrete":
            return MultiCategorical(params, self.nvec, mask)
        return Gaussian(params, log_std, squash=self.bound == "tanh")

    def to_env(self, actions: Tensor) -> Tensor:
        """Raw actions ``[B, dim]`` (``[B]`` for Discrete) as the env's actions, still a tensor."""
        if self.kind != "box":
            return actions + torch.tensor(
                self.start if self.kind == "multidiscrete" else self.start[0], device=actions.device
            )
        low = torch.tensor(self.low, dtype=actions.dtype, device=actions.device)
        high = torch.tensor(self.high, dtype=actions.dtype, device=actions.device)
        if self.bound == "tanh":
            env_actions = low + (torch.tanh(actions) + 1) * (high - low) / 2
        else:
            env_actions = torch.clamp(actions, low, high)
        return env_actions.reshape(*actions.shape[:-1], *self.shape)

    def flat_mask(self, mask, batch: int, device) -> Tensor | None:
        """``info["action_mask"]`` (rows per env, or one per MultiDiscrete dim) as ``[B, mask_dim]``."""
        if mask is None or self.kind == "box":
            return None
        if isinstance(mask, (tuple, list)):
            mask = torch.cat(
                [torch.as_tensor(np.asarray(m) if not torch.is_tensor(m) else m) for m in mask], dim=-1
            )
        mask = torch.as_tensor(mask if torch.is_tensor(mask) else np.asarray(mask), device=device).bool()
        return mask.reshape(batch, self.mask_dim)

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ActionKind:
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})
