"""The paired comparison that every benchmark claim quotes, against textbook values."""

import math

import numpy as np
import pytest
from scipy import stats

from agents.stats import paired_comparison


def test_sign_test_is_the_exact_binomial_tail():
    comparison = paired_comparison([1.0] * 9 + [0.0], [0.0] * 9 + [1.0])
    assert (comparison.wins, comparison.losses, comparison.ties) == (9, 1, 0)
    # P(X <= 1) + P(X >= 9) for X ~ B(10, 1/2)
    assert comparison.sign_test_p == pytest.approx(2 * (1 + 10) / 2**10)


def test_interval_is_the_paired_t_interval_and_ties_are_not_counted():
    rng = np.random.default_rng(3)
    a = rng.normal(1.0, 1.0, 12)
    b = a - rng.normal(0.3, 0.5, 12)
    b[0] = a[0]
    comparison = paired_comparison(a, b)
    expected = stats.ttest_rel(a, b).confidence_interval(0.95)
    assert comparison.interval == pytest.approx((expected.low, expected.high))
    assert comparison.ties == 1 and comparison.seeds == 12
    assert math.isclose(comparison.mean_difference, float(np.mean(a - b)))


def test_lower_is_better_turns_wins_around():
    costs_a, costs_b = [1.0, 2.0, 3.0], [2.0, 3.0, 2.0]
    comparison = paired_comparison(costs_a, costs_b, higher_is_better=False)
    assert (comparison.wins, comparison.losses) == (2, 1)
    assert comparison.mean_difference == pytest.approx(-1 / 3)
    assert "beats B on 2/3 seeds" in comparison.summary("A", "B")


def test_unpaired_input_is_refused():
    with pytest.raises(ValueError, match="same number"):
        paired_comparison([1.0, 2.0], [1.0])
