"""The descriptor-conditioned actor of DCG-ME and the Agent that plays it: one policy for the whole archive.

``ConditionedActor`` is an archive policy (the evaluator's ``MLPPolicySpec`` network) whose first layer also
reads a target descriptor, normalised to [0, 1]. Fixing the target folds it into the first layer's bias, which
turns the actor back into an ordinary archive policy (``fold``): that is how DCG-ME injects the actor into
the archive, and why evaluating a folded row is exactly evaluating the actor at that target.

``distilled(spaces, target=..., weights=...)`` loads a saved actor as an :class:`agents.base.Agent`; the
target descriptor (in the task's units) comes from the ``target`` kwarg or from ``info["target_descriptor"]``.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import torch
from torch import nn

from agents.base import EnvSpaces

# The shipped pointmaze_distilled.pt is the actor of one DCG-ME run on the point maze: 8000 evaluations of
# 100 steps, seed 0, with the earlier preset (an eighth of each batch by DC-PG, one actor injection at a
# uniformly drawn target, lengthscale 0.1, critic_steps=256; archive: 763 cells, QD-score 85.6k).
DATA = Path(__file__).resolve().parent / "data"


class ConditionedActor(nn.Module):
    """pi(s | d'): the policy network of ``spec`` with ``cond_dim`` extra inputs in its first layer."""

    def __init__(self, spec, cond_dim: int, generator: torch.Generator):
        super().__init__()
        self.obs_dim, self.cond_dim = spec.obs_dim, cond_dim
        self.net = copy.deepcopy(spec.to_module(spec.init(1, generator)[0]))
        first = self._first_linear()
        wider = nn.utils.skip_init(nn.Linear, first.in_features + cond_dim, first.out_features)
        with torch.no_grad():
            wider.weight.zero_()
            wider.weight[:, : first.in_features] = first.weight
            wider.bias.copy_(first.bias)
        _set_first_linear(self.net, wider)

    def forward(self, obs: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([obs, cond], dim=-1))

    def fold(self, spec, cond: torch.Tensor) -> torch.Tensor:
        """Archive-policy rows [n, P] equal to this actor at the n targets ``cond`` [n, cond_dim]."""
        first = self._first_linear()
        rows = []
        with torch.no_grad():
            for target in cond:
                module = copy.deepcopy(self.net)
                folded = nn.utils.skip_init(nn.Linear, self.obs_dim, first.out_features)
                folded.weight.copy_(first.weight[:, : self.obs_dim])
                folded.bias.copy_(first.bias + first.weight[:, self.obs_dim :] @ target)
                _set_first_linear(module, folded)
                rows.append(spec.from_module(module))
        return torch.stack(rows)

    def _first_linear(self) -> nn.Linear:
        return next(m for m in self.net.modules() if isinstance(m, nn.Linear))


def _set_first_linear(module: nn.Module, layer: nn.Linear) -> None:
    for name, child in module.named_children():
        if isinstance(child, nn.Linear):
            setattr(module, name, layer)
            return
        if any(isinstance(m, nn.Linear) for m in child.modules()):
            _set_first_linear(child, layer)
            return
    raise ValueError("the policy network has no nn.Linear layer")


def save_actor(actor: ConditionedActor, spec, low, high, path: str | Path, targets=None) -> None:
    """Save the actor's weights with what is needed to rebuild it (spec sizes, descriptor bounds) and
    ``targets`` [n, D] (task units): the centres of the archive cells it was distilled from."""
    torch.save(
        {
            "targets": torch.as_tensor(np.zeros((0, len(low))) if targets is None else targets).float(),
            "state_dict": actor.state_dict(),
            "obs_dim": spec.obs_dim,
            "action_dim": spec.action_dim,
            "hidden": tuple(spec.hidden),
            "descriptor_low": list(map(float, low)),
            "descriptor_high": list(map(float, high)),
        },
        path,
    )


def load_actor(path: str | Path) -> tuple[ConditionedActor, np.ndarray, np.ndarray]:
    """The actor saved by :func:`save_actor` and its descriptor bounds (low, high); the saved targets are
    ``torch.load(path, weights_only=True)["targets"]`` (the file holds tensors and plain values only)."""
    from envs.qd import MLPPolicySpec

    saved = torch.load(path, weights_only=True)
    spec = MLPPolicySpec(saved["obs_dim"], saved["action_dim"], tuple(saved["hidden"]))
    low, high = np.asarray(saved["descriptor_low"]), np.asarray(saved["descriptor_high"])
    actor = ConditionedActor(spec, len(low), torch.Generator().manual_seed(0))
    actor.load_state_dict(saved["state_dict"])
    actor.eval()
    return actor, low, high


class DistilledPolicy:
    """Plays the descriptor-conditioned actor towards a target descriptor (task units)."""

    name = "qd/distilled"

    def __init__(self, actor: ConditionedActor, low, high, target=None):
        self.actor, self.low, self.high = actor, np.asarray(low, float), np.asarray(high, float)
        self.target = None if target is None else self._check(target)

    def _check(self, target) -> np.ndarray:
        target = np.asarray(target, dtype=float).reshape(-1)
        if target.shape != self.low.shape or np.any(target < self.low) or np.any(target > self.high):
            raise ValueError(
                f"target must have {self.low.size} values within "
                f"[{self.low.tolist()}, {self.high.tolist()}], "
                f"got {target.tolist()}"
            )
        return target

    def normalised(self, target) -> torch.Tensor:
        return torch.as_tensor((self._check(target) - self.low) / (self.high - self.low), dtype=torch.float32)

    def reset(self, seed: int | None = None) -> None:
        """Deterministic policy: nothing to reset."""

    def act(self, observation, info: dict) -> np.ndarray:
        target = info.get("target_descriptor", self.target) if info else self.target
        if target is None:
            raise ValueError("no target descriptor: pass target=... or info['target_descriptor']")
        obs = torch.as_tensor(np.asarray(observation, dtype=np.float32)).unsqueeze(0)
        with torch.no_grad():
            action = self.actor(obs, self.normalised(target).unsqueeze(0))[0]
        return action.numpy().astype(np.float32)


def distilled(spaces: EnvSpaces, target=None, weights: str | Path | None = None, seed: int | None = None):
    """Factory: the distilled policy from ``weights`` (default: the shipped pointmaze actor); ``target`` in
    task units, default the centre of the descriptor box. ``seed`` is accepted for the factory protocol."""
    actor, low, high = load_actor(weights or DATA / "pointmaze_distilled.pt")
    if spaces.observation_space.shape != (actor.obs_dim,):
        raise ValueError(
            f"observation_space shape {spaces.observation_space.shape} does not match "
            f"the actor's ({actor.obs_dim},)"
        )
    return DistilledPolicy(actor, low, high, (low + high) / 2 if target is None else target)


def target_grid(task, per_dim: int) -> np.ndarray:
    """Targets [per_dim ** D, D] (task units) at the centres of a per_dim^D grid over the descriptor box."""
    low, high = np.asarray(task.descriptor_low), np.asarray(task.descriptor_high)
    axes = [lo + (np.arange(per_dim) + 0.5) * (hi - lo) / per_dim for lo, hi in zip(low, high, strict=True)]
    return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, len(low))


def reached_error(actor: ConditionedActor, evaluator, targets: np.ndarray) -> np.ndarray:
    """Per target: ||d - d'|| / range, the distance between the descriptor an episode of the actor aimed at
    target d' reaches and d', with each dimension divided by its range (so 1.0 spans a side of the box)."""
    task = evaluator.task
    low, high = np.asarray(task.descriptor_low), np.asarray(task.descriptor_high)
    cond = torch.as_tensor((targets - low) / (high - low), dtype=torch.float32)
    with torch.no_grad():
        result = evaluator.evaluate_agent(lambda obs: actor(obs.float(), cond), len(targets))
    return np.linalg.norm((result.descriptors - targets) / (high - low), axis=1)
