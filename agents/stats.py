"""Small statistics shared by learners, evaluations and benchmarks."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats


def wilson_interval(successes: int, trials: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion (z = 1.96: 95 %)."""
    if trials < 1:
        raise ValueError(f"trials={trials} must be >= 1")
    p = successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / (1 + z * z / trials)
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class PairedComparison:
    """How algorithm A did against algorithm B on the same seeds (one score each per seed, higher better).

    ``wins``, ``losses`` and ``ties`` count the seeds; ``sign_test_p`` is the two-sided exact sign test over
    the seeds without a tie and ``wilcoxon_p`` the two-sided Wilcoxon signed-rank test; ``mean_difference``
    is the mean of A - B and ``interval`` its 95 % Student-t interval.
    """

    wins: int
    losses: int
    ties: int
    mean_difference: float
    interval: tuple[float, float]
    sign_test_p: float
    wilcoxon_p: float

    @property
    def seeds(self) -> int:
        return self.wins + self.losses + self.ties

    def summary(self, a: str, b: str) -> str:
        """One line a claim can quote, e.g. ``PGA-ME beats ME on 17/20 seeds (sign test p = 0.003, ...)``."""
        low, high = self.interval
        return (
            f"{a} beats {b} on {self.wins}/{self.seeds} seeds (sign test p = {self.sign_test_p:.3g}, "
            f"Wilcoxon p = {self.wilcoxon_p:.3g}); mean difference {self.mean_difference:+.4g} "
            f"[{low:+.4g}, {high:+.4g}] (95 % t interval)"
        )

    def as_dict(self) -> dict[str, float | int | list[float]]:
        """The comparison as JSON-ready values."""
        return {**asdict(self), "interval": list(self.interval), "seeds": self.seeds}


def paired_comparison(
    a: Sequence[float], b: Sequence[float], *, higher_is_better: bool = True
) -> PairedComparison:
    """Compare the scores of two algorithms paired by seed (``a[i]`` and ``b[i]`` ran on the same seed).

    With ``higher_is_better=False`` (costs, errors) a win is a lower score; ``mean_difference`` stays A - B.
    """
    if len(a) != len(b) or len(a) < 2:
        raise ValueError(f"a and b need the same number (>= 2) of seeds, got {len(a)} and {len(b)}")
    difference = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    better = difference if higher_is_better else -difference
    wins, losses = int((better > 0).sum()), int((better < 0).sum())
    mean = float(difference.mean())
    half = float(
        stats.t.ppf(0.975, len(difference) - 1) * difference.std(ddof=1) / math.sqrt(len(difference))
    )
    sign_p = float(stats.binomtest(wins, wins + losses).pvalue) if wins + losses else 1.0
    wilcoxon_p = float(stats.wilcoxon(difference).pvalue) if wins + losses else 1.0
    return PairedComparison(
        wins=wins,
        losses=losses,
        ties=len(difference) - wins - losses,
        mean_difference=mean,
        interval=(mean - half, mean + half),
        sign_test_p=sign_p,
        wilcoxon_p=wilcoxon_p,
    )
