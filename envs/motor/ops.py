"""The few elementwise operations the physics needs, for two backends.

The motor, load and converter equations are written once, as arithmetic on per-state columns. Ordinary
operators (+, -, *, /, comparisons) work on both backends; everything else goes through one of these
namespaces: :data:`FLOAT_OPS` for Python floats (the single env: float64, no per-call array overhead) and
:data:`TORCH_OPS` for torch tensors of shape (n,) (the batched env, any device and dtype).
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import torch


def _clip(x, low, high):
    return low if x < low else high if x > high else x


def _where(condition, a, b):
    return a if condition else b


FLOAT_OPS = SimpleNamespace(
    abs=abs, cos=math.cos, sin=math.sin, sqrt=math.sqrt, exp=math.exp, clip=_clip, where=_where
)

TORCH_OPS = SimpleNamespace(
    abs=torch.abs,
    cos=torch.cos,
    sin=torch.sin,
    sqrt=torch.sqrt,
    exp=torch.exp,
    clip=torch.clamp,
    where=torch.where,
)
