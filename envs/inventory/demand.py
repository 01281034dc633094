"""Customer demand per store and period, sampled as torch tensors from a caller's generator.

Every model answers ``sample(batch, periods, generator, start) -> (batch, periods, stores)`` tensor. ``start``
(an int64 tensor of shape (batch,)) is the index of the first period; only the time-series model uses it.
"""

from __future__ import annotations

import csv
from pathlib import Path

import torch

SPLITS = ("train", "dev", "test")


class PoissonDemand:
    """Independent Poisson demand, mean ``mean[i]`` units per period at store ``i``."""

    name = "poisson"

    def __init__(self, mean, device: torch.device, dtype: torch.dtype):
        self.mean = torch.as_tensor(mean, device=device, dtype=dtype)
        self.std = self.mean.sqrt()

    def sample(self, batch: int, periods: int, generator: torch.Generator, start=None) -> torch.Tensor:
        rates = self.mean.expand(batch, periods, -1).contiguous()
        return torch.poisson(rates, generator=generator)


class NormalDemand:
    """Normal demand with means ``mean``, standard deviations ``std`` and one correlation between every pair
    of stores, ``max(0, N)`` when ``truncate`` (the default) so that demand is never negative."""

    name = "normal"

    def __init__(self, mean, std, correlation: float, truncate: bool, device, dtype):
        self.mean = torch.as_tensor(mean, device=device, dtype=dtype)
        self.std = torch.as_tensor(std, device=device, dtype=dtype)
        n = self.mean.numel()
        if not -1.0 / max(n - 1, 1) <= correlation < 1.0:
            raise ValueError(
                f"demand_correlation={correlation} must be in [{-1.0 / max(n - 1, 1):.3g}, 1) for {n} stores"
            )
        matrix = torch.full((n, n), float(correlation), dtype=torch.float64)
        matrix.fill_diagonal_(1.0)
        self._cholesky = torch.linalg.cholesky(matrix).to(device=device, dtype=dtype)
        self.truncate = truncate

    def sample(self, batch: int, periods: int, generator: torch.Generator, start=None) -> torch.Tensor:
        z = torch.randn(batch, periods, self.mean.numel(), generator=generator, device=self.mean.device)
        demand = self.mean + self.std * (z.to(self.mean.dtype) @ self._cholesky.T)
        return demand.clamp_min(0.0) if self.truncate else demand


class SeriesDemand:
    """Demand read from a CSV time series: one column per store (a header row), one row per period.

    The rows are split by period into train / dev / test parts (``fractions``, in that order); an episode
    plays consecutive periods of its ``split`` from ``start`` on, wrapping around at the split's end.
    """

    name = "csv"

    def __init__(self, path, stores: int, split: str, fractions, device, dtype):
        if split not in SPLITS:
            raise ValueError(f"demand_split={split!r} is not one of {', '.join(SPLITS)}")
        rows = list(csv.reader(Path(path).read_text().splitlines()))
        header, body = rows[0], [r for r in rows[1:] if r]
        if len(header) != stores:
            raise ValueError(f"demand_csv {path}: has {len(header)} columns, the network has {stores} stores")
        series = torch.tensor([[float(v) for v in row] for row in body], dtype=torch.float64)
        if (series < 0).any():
            raise ValueError(f"demand_csv {path}: demand must be >= 0")
        if len(fractions) != 3 or any(f <= 0 for f in fractions) or abs(sum(fractions) - 1.0) > 1e-9:
            raise ValueError(f"demand_split_fractions={fractions!r} must be 3 positive numbers summing to 1")
        bounds = [0, round(fractions[0] * len(series)), round((fractions[0] + fractions[1]) * len(series))]
        bounds.append(len(series))
        part = SPLITS.index(split)
        self.series = series[bounds[part] : bounds[part + 1]].to(device=device, dtype=dtype)
        if len(self.series) == 0:
            raise ValueError(f"demand_csv {path}: the {split} split is empty ({len(series)} rows in all)")
        self.mean, self.std = self.series.mean(0), self.series.std(0, unbiased=False)

    def __len__(self) -> int:
        return len(self.series)

    def sample(self, batch: int, periods: int, generator: torch.Generator, start=None) -> torch.Tensor:
        steps = torch.arange(periods, device=self.series.device)
        return self.series[(start[:, None] + steps) % len(self.series)]
