"""Multi-layer perceptrons with the orthogonal initialisation used by PPO implementations."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import torch
from torch import nn

ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "elu": nn.ELU, "silu": nn.SiLU}


def mlp(
    in_dim: int,
    out_dim: int,
    hidden: Sequence[int] = (64, 64),
    *,
    activation: str = "tanh",
    out_gain: float = 1.0,
    generator: torch.Generator | None = None,
) -> nn.Sequential:
    """A fully connected net ``in_dim -> hidden... -> out_dim``.

    Hidden layers get orthogonal weights with gain sqrt(2) and zero biases, the output layer gain
    ``out_gain`` (0.01 for a policy head, 1 for a value head), as in the PPO implementation details of
    Huang et al. (2022). ``generator`` makes the initialisation independent of torch's global RNG.
    """
    if in_dim < 1 or out_dim < 1:
        raise ValueError(f"in_dim and out_dim must be >= 1, got in_dim={in_dim}, out_dim={out_dim}")
    if any(h < 1 for h in hidden):
        raise ValueError(f"hidden sizes must be >= 1, got hidden={tuple(hidden)}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation={activation!r} is not one of {sorted(ACTIVATIONS)}")
    sizes = [in_dim, *hidden]
    layers: list[nn.Module] = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        layers += [_init(_linear(fan_in, fan_out), math.sqrt(2), generator), ACTIVATIONS[activation]()]
    layers.append(_init(_linear(sizes[-1], out_dim), out_gain, generator))
    return nn.Sequential(*layers)


def _linear(fan_in: int, fan_out: int) -> nn.Linear:
    """A linear layer left uninitialised (``_init`` fills it): nn.Linear's own initialisation would draw from
    torch's global generator."""
    return nn.utils.skip_init(nn.Linear, fan_in, fan_out)


def _init(layer: nn.Linear, gain: float, generator: torch.Generator | None) -> nn.Linear:
    nn.init.orthogonal_(layer.weight, gain, generator=generator)
    nn.init.zeros_(layer.bias)
    return layer
