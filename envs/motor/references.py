"""Reference signals, as fractions of the controlled quantity's limit (so always within [-1, 1]).

==============  =================================  =======================================================
kind            parameters (defaults)              value at step k (time t = k tau)
==============  =================================  =======================================================
``constant``    value (0.5)                        value
``step``        initial (0.0), final (0.5),        initial before t_step (s), final from then on
                t_step (0.01)
``sinusoid``    amplitude (0.5), offset (0.0),     offset + amplitude sin(2 pi frequency t)
                frequency (10.0, Hz)
``random_step`` low (-0.5), high (0.5),            a new level, uniform in [low, high], every period (s)
                period (0.2)
``random_walk`` sigma (1.0, 1/sqrt(s)),            starts uniform in [low, high], then
                low (-0.5), high (0.5)             clip(r + sigma sqrt(tau) N(0, 1), low, high)
==============  =================================  =======================================================

The same code runs on Python floats (the single env, random numbers from its ``np_random``) and on torch
tensors (the batched env, random numbers from its own ``torch.Generator``) through a *sampler* with
``uniform(low, high)`` and ``normal()``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

DEFAULTS: dict[str, dict[str, float]] = {
    "constant": {"value": 0.5},
    "step": {"initial": 0.0, "final": 0.5, "t_step": 0.01},
    "sinusoid": {"amplitude": 0.5, "offset": 0.0, "frequency": 10.0},
    "random_step": {"low": -0.5, "high": 0.5, "period": 0.2},
    "random_walk": {"sigma": 1.0, "low": -0.5, "high": 0.5},
}


@dataclass(frozen=True)
class Reference:
    """A validated reference signal of one kind for control steps of ``tau`` seconds."""

    kind: str
    params: dict[str, float]
    tau: float

    @classmethod
    def from_spec(cls, spec: Any, tau: float, field: str = "reference") -> Reference:
        """Build from ``{"kind": ..., <parameters>}``; a ValueError names the bad field and its range."""
        if not isinstance(spec, dict) or spec.get("kind") not in DEFAULTS:
            raise ValueError(f"{field} must be a dict with 'kind' one of {', '.join(DEFAULTS)}; got {spec!r}")
        kind = spec["kind"]
        unknown = set(spec) - {"kind"} - set(DEFAULTS[kind])
        if unknown:
            raise ValueError(
                f"{field}: unknown parameter(s) {sorted(unknown)} for kind {kind!r}; "
                f"allowed: {', '.join(DEFAULTS[kind])}"
            )
        params = {**DEFAULTS[kind], **{k: float(v) for k, v in spec.items() if k != "kind"}}
        for name in ("value", "initial", "final", "low", "high"):
            if name in params and not -1.0 <= params[name] <= 1.0:
                raise ValueError(
                    f"{field}.{name}={params[name]} must be in [-1, 1] (a fraction of the limit)"
                )
        if kind == "sinusoid" and abs(params["offset"]) + abs(params["amplitude"]) > 1.0:
            raise ValueError(f"{field}: |offset| + |amplitude| must be <= 1, got {params}")
        if "low" in params and params["low"] > params["high"]:
            raise ValueError(f"{field}.low={params['low']} must be <= high={params['high']}")
        for name in ("t_step", "frequency", "sigma"):
            if name in params and params[name] < 0:
                raise ValueError(f"{field}.{name}={params[name]} must be >= 0")
        if kind == "random_step" and params["period"] <= 0:
            raise ValueError(f"{field}.period={params['period']} must be > 0 (seconds)")
        return cls(kind, params, tau)

    @property
    def random(self) -> bool:
        return self.kind in ("random_step", "random_walk")

    def start(self, sample, ops) -> Any:
        """The value at step 0 (a fraction of the limit)."""
        p = self.params
        if self.random:
            return sample.uniform(p["low"], p["high"])
        zero = sample.zero()
        return self.next(zero, zero, zero, sample, ops)

    def next(self, r, k, t, sample, ops) -> Any:
        """The value at step ``k`` (time ``t`` s), given the value ``r`` at step k - 1."""
        p = self.params
        if self.kind == "constant":
            return r * 0.0 + p["value"]
        if self.kind == "step":
            return ops.where(k >= round(p["t_step"] / self.tau), p["final"] + 0.0 * r, p["initial"] + 0.0 * r)
        if self.kind == "sinusoid":
            return p["offset"] + p["amplitude"] * ops.sin((2 * math.pi * p["frequency"]) * t)
        if self.kind == "random_step":
            period = max(1, round(p["period"] / self.tau))
            return ops.where(k % period == 0, sample.uniform(p["low"], p["high"]), r)
        noise = (p["sigma"] * math.sqrt(self.tau)) * sample.normal()
        return ops.clip(r + noise, p["low"], p["high"])
