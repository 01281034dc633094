"""SAN's per-stratum standardisation and EMPG's entropy modulation, against their defining properties."""

import math

import pytest
import torch

from agents.pg.estimators import san_advantages
from agents.search.empg import empg_advantages


def test_san_advantages_have_zero_mean_and_unit_sample_std_within_each_stratum_of_two_or_more():
    """With alpha = 1, each stratum (number of searches) of each group of 16 is standardised on its own:
    mean 0 and sample std 1 (eps = 0, so exactly, up to rounding); singleton strata get 0."""
    generator = torch.Generator().manual_seed(0)
    rewards = torch.rand(32, 16, generator=generator, dtype=torch.float64)
    strata = torch.randint(0, 4, (32, 16), generator=generator)
    advantages = san_advantages(rewards, strata, alpha=1.0, eps=0.0)
    checked = 0
    for g in range(32):
        for key in strata[g].unique():
            members = advantages[g][strata[g] == key]
            if members.numel() >= 2:
                assert members.mean().abs() < 1e-9 and members.std() == pytest.approx(1.0, rel=1e-9)
                checked += 1
            else:
                assert members.item() == 0.0
    assert checked > 100


def test_empg_without_modulation_is_the_outcome_advantage_centred_over_steps():
    """k = 0 and zeta = 0: g = 1 everywhere, so A_mod(i, t) = A_i minus the mean over the batch's steps."""
    advantages = torch.tensor([1.0, -2.0, 0.5])
    entropies = torch.tensor([[0.3, 0.9, 0.0], [1.2, 0.0, 0.0], [0.1, 0.4, 0.7]])
    valid = torch.tensor([[True, True, False], [True, False, False], [True, True, True]])
    mean = (2 * 1.0 - 2.0 + 3 * 0.5) / 6
    expected = (advantages[:, None] - mean) * valid
    assert torch.allclose(empg_advantages(advantages, entropies, valid, k=0.0, zeta=0.0), expected)


def test_empg_scaling_weighs_the_surest_step_e_to_the_k_times_the_least_sure_and_averages_one():
    """With all A_i = 1 and zeta = 0, A_mod + 1 is g(H) = exp(-k H_n) / mean exp(-k H_n): its mean over the
    steps is 1 and the lowest-entropy step (H_n = 0) gets e^k times the highest (H_n = 1)."""
    entropies = torch.tensor([[0.2, 1.4, 0.8], [0.5, 1.0, 0.0]])
    valid = torch.tensor([[True, True, True], [True, True, False]])
    g = empg_advantages(torch.ones(2), entropies, valid, k=2.0, zeta=0.0) + 1
    assert g[valid].mean() == pytest.approx(1.0)
    assert g[0, 0] / g[0, 1] == pytest.approx(math.exp(2.0))
    assert g[1, 0] > g[0, 2] > g[1, 1]  # entropies 0.5 < 0.8 < 1.0: monotone


def test_empg_future_clarity_bonus_rewards_steps_leading_to_sure_states_and_not_the_last_step():
    """A_i = 0, k = 0: before centring a step gets zeta * exp(-k_future * H_n(next step)), the last 0."""
    entropies = torch.tensor([[0.0, 1.0, 0.0]])
    valid = torch.ones(1, 3, dtype=torch.bool)
    out = empg_advantages(torch.zeros(1), entropies, valid, k=0.0, k_future=1.0, zeta=0.1)
    raw = torch.tensor([0.1 * math.exp(-1.0), 0.1, 0.0])
    assert torch.allclose(out[0], raw - raw.mean())
