"""Return and advantage estimators against hand-computed vectors and their defining identities.

Hand examples use powers of two (gamma = lam = 0.5) so every expected number is exact in binary floating
point; the comparisons elsewhere use float64 and a 1e-12 tolerance, far below any algorithmic difference.
"""

import math

import pytest
import torch

from agents.pg.estimators import (
    BetaValueTracker,
    aggregate_token_loss,
    discounted_returns,
    dr_grpo_advantages,
    gae,
    grpo_advantages,
    normalize_advantages,
    rloo_advantages,
    san_advantages,
)

# One env, five steps: an episode truncated by its time limit at t=1 (value of its final observation 10),
# one terminated at t=3 (its next value 99 must be ignored), and the rollout cut after t=4 (bootstrap 6).
REWARDS = torch.tensor([[1.0], [1.0], [1.0], [1.0], [1.0]])
VALUES = torch.tensor([[2.0], [4.0], [2.0], [4.0], [2.0]])
NEXT_VALUES = torch.tensor([[4.0], [10.0], [4.0], [99.0], [6.0]])
TERMINATED = torch.tensor([[False], [False], [False], [True], [False]])
TRUNCATED = torch.tensor([[False], [True], [False], [False], [False]])


def test_gae_bootstraps_truncation_from_final_observation_and_zeroes_termination():
    """By hand with gamma = lam = 0.5: deltas (1, 2, 1, -3, 2); A_t = delta_t + 0.25 * A_{t+1} within an
    episode gives (1.5, 2, 0.25, -3, 2). Treating the truncation as a termination would give A_1 = -3."""
    advantages, returns = gae(REWARDS, VALUES, NEXT_VALUES, TERMINATED, TRUNCATED, gamma=0.5, lam=0.5)
    assert advantages.squeeze(1).tolist() == [1.5, 2.0, 0.25, -3.0, 2.0]
    assert returns.squeeze(1).tolist() == [3.5, 6.0, 2.25, 1.0, 4.0]


def test_discounted_returns_cut_at_episode_ends_by_hand():
    """G_4 = 1 + 0.5 * 6, G_3 = 1 (terminated), G_2 = 1 + 0.5 * G_3, G_1 = 1 + 0.5 * 10 (truncated),
    G_0 = 1 + 0.5 * G_1."""
    returns = discounted_returns(REWARDS, TERMINATED, TRUNCATED, NEXT_VALUES, gamma=0.5)
    assert returns.squeeze(1).tolist() == [4.0, 6.0, 1.5, 1.0, 4.0]


def _random_rollout(steps=40, envs=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    rewards = torch.randn(steps, envs, generator=g, dtype=torch.float64)
    values = torch.randn(steps, envs, generator=g, dtype=torch.float64)
    final_values = torch.randn(steps, envs, generator=g, dtype=torch.float64)
    terminated = torch.rand(steps, envs, generator=g) < 0.1
    truncated = (torch.rand(steps, envs, generator=g) < 0.1) & ~terminated
    # As a collector fills it in: the next step's value inside an episode, the final observation's at its end.
    following = torch.cat([values[1:], final_values[-1:]])
    next_values = torch.where(terminated | truncated, final_values, following)
    return rewards, values, next_values, terminated, truncated


def test_gae_with_lambda_one_is_monte_carlo_return_minus_value():
    """GAE(lambda=1) telescopes to G_t - V(s_t) (Schulman et al., 2016, eq. 18)."""
    rewards, values, next_values, terminated, truncated = _random_rollout()
    advantages, _ = gae(rewards, values, next_values, terminated, truncated, gamma=0.97, lam=1.0)
    expected = discounted_returns(rewards, terminated, truncated, next_values, gamma=0.97) - values
    torch.testing.assert_close(advantages, expected, rtol=0, atol=1e-12)


def test_gae_with_lambda_zero_is_one_step_td_error():
    rewards, values, next_values, terminated, truncated = _random_rollout(seed=1)
    advantages, _ = gae(rewards, values, next_values, terminated, truncated, gamma=0.9, lam=0.0)
    expected = rewards + 0.9 * (~terminated).double() * next_values - values
    torch.testing.assert_close(advantages, expected, rtol=0, atol=1e-12)


def test_gae_rejects_discount_outside_unit_interval():
    with pytest.raises(ValueError, match="gamma"):
        gae(REWARDS, VALUES, NEXT_VALUES, TERMINATED, TRUNCATED, gamma=1.5, lam=0.5)


def test_normalized_advantages_have_zero_mean_and_unit_sample_std():
    advantages = torch.arange(10, dtype=torch.float64) ** 2
    normalized = normalize_advantages(advantages, eps=0.0)
    assert abs(normalized.mean().item()) < 1e-12
    assert abs(normalized.std().item() - 1.0) < 1e-12


def test_grpo_on_one_success_in_four_with_sample_std():
    """(1,0,0,0): mean 1/4, sample std sqrt((9/16 + 3/16) / 3) = 1/2, so (3/4, -1/4) / (1/2)."""
    rewards = torch.tensor([1.0, 0.0, 0.0, 0.0])
    assert grpo_advantages(rewards, eps=0.0).tolist() == [1.5, -0.5, -0.5, -0.5]
    # The default eps = 1e-6 shifts each value by a relative 2e-6.
    torch.testing.assert_close(
        grpo_advantages(rewards), torch.tensor([1.5, -0.5, -0.5, -0.5]), rtol=3e-6, atol=0
    )


def test_grpo_with_population_std_scales_by_sqrt_of_n_over_n_minus_one():
    """Population std of (1,0,0,0) is sqrt(3)/4, so the advantages are (sqrt(3), -1/sqrt(3), ...)."""
    advantages = grpo_advantages(
        torch.tensor([1.0, 0.0, 0.0, 0.0], dtype=torch.float64), eps=0.0, std="population"
    )
    expected = torch.tensor([math.sqrt(3), *[-1 / math.sqrt(3)] * 3], dtype=torch.float64)
    torch.testing.assert_close(advantages, expected, rtol=0, atol=1e-12)


def test_grpo_degenerate_group_gives_zero_not_nan_and_groups_are_independent():
    rewards = torch.tensor([[1.0, 1.0, 1.0, 1.0], [1.0, 0.0, 0.0, 0.0]])
    advantages = grpo_advantages(rewards, eps=0.0)
    assert advantages.tolist() == [[0.0] * 4, [1.5, -0.5, -0.5, -0.5]]


def test_dr_grpo_only_subtracts_the_group_mean():
    assert dr_grpo_advantages(torch.tensor([1.0, 0.0, 0.0, 0.0])).tolist() == [0.75, -0.25, -0.25, -0.25]


def test_rloo_subtracts_the_mean_of_the_other_samples():
    """(1,0,0,0): 1 - 0 = 1 for the success, 0 - 1/3 for the others; in general G/(G-1) * (r - mean)."""
    torch.testing.assert_close(
        rloo_advantages(torch.tensor([1.0, 0.0, 0.0, 0.0], dtype=torch.float64)),
        torch.tensor([1.0, -1 / 3, -1 / 3, -1 / 3], dtype=torch.float64),
        rtol=0,
        atol=1e-15,
    )
    rewards = torch.randn(5, 6, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    expected = 6 / 5 * (rewards - rewards.mean(-1, keepdim=True))
    torch.testing.assert_close(rloo_advantages(rewards), expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("alpha", [0.3, 1.0])
def test_san_with_one_stratum_equals_grpo_exactly(alpha):
    rewards = torch.randn(3, 8, generator=torch.Generator().manual_seed(0))
    strata = torch.full_like(rewards, 2, dtype=torch.long)
    assert torch.equal(san_advantages(rewards, strata, alpha=alpha), grpo_advantages(rewards))


def test_san_with_alpha_zero_equals_grpo_exactly():
    rewards = torch.randn(3, 8, generator=torch.Generator().manual_seed(1))
    strata = torch.randint(0, 3, rewards.shape, generator=torch.Generator().manual_seed(2))
    assert torch.equal(san_advantages(rewards, strata, alpha=0.0), grpo_advantages(rewards))


def test_san_standardises_within_strata_and_zeroes_singletons():
    """Rewards (1,0 | 1,1,0 | 0) in strata (0,0 | 1,1,1 | 2): stratum 0 gives +-1/sqrt(2) (mean 1/2, sample
    std 1/sqrt(2)); stratum 1 has mean 2/3 and sample std 1/sqrt(3), so (1/sqrt(3), 1/sqrt(3), -2/sqrt(3));
    the singleton stratum 2 gives 0."""
    rewards = torch.tensor([1.0, 0.0, 1.0, 1.0, 0.0, 0.0], dtype=torch.float64)
    strata = torch.tensor([0, 0, 1, 1, 1, 2])
    s2, s3 = math.sqrt(2), math.sqrt(3)
    expected = torch.tensor([1 / s2, -1 / s2, 1 / s3, 1 / s3, -2 / s3, 0.0], dtype=torch.float64)
    torch.testing.assert_close(
        san_advantages(rewards, strata, alpha=1.0, eps=0.0), expected, rtol=0, atol=1e-12
    )
    constant = san_advantages(torch.ones(4), torch.tensor([0, 0, 1, 1]), alpha=0.5, eps=0.0)
    assert constant.tolist() == [0.0] * 4


def test_san_rejects_alpha_outside_unit_interval():
    with pytest.raises(ValueError, match="alpha"):
        san_advantages(torch.ones(4), torch.zeros(4), alpha=1.5)


def test_token_loss_grpo_averages_per_response_and_dr_grpo_divides_by_a_constant():
    """Responses of 2 and 4 tokens with per-token loss 1: GRPO gives 1; Dr. GRPO (2 + 4) / (2 * 4) = 0.75."""
    per_token = torch.ones(2, 4)
    mask = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 1]], dtype=torch.bool)
    assert aggregate_token_loss(per_token, mask, mode="grpo").item() == 1.0
    assert aggregate_token_loss(per_token, mask, mode="dr_grpo", max_length=4).item() == 0.75


def test_spo_beta_tracker_by_hand():
    """Init from (1,0,1,1): mean 3/4 with weight 1/(1-0.96) = 25 -> Beta(18.75, 6.25). A reward 0 has
    advantage -3/4; then a = 0.96 * 18.75 = 18, b = 0.96 * 6.25 + 1 = 7, baseline 18/25 = 0.72."""
    tracker = BetaValueTracker()
    tracker.initialise("q", [1.0, 0.0, 1.0, 1.0])
    assert tracker.value("q") == pytest.approx(0.75, abs=1e-12)
    assert tracker.advantage_and_update("q", 0.0) == pytest.approx(-0.75, abs=1e-12)
    assert tracker.value("q") == pytest.approx(0.72, abs=1e-12)


def test_spo_forgetting_halves_per_kl_half_within_clip():
    tracker = BetaValueTracker(rho_min=0.5, rho_max=0.99, kl_half=0.1)
    assert tracker.rho(0.0) == 0.99
    assert tracker.rho(0.1) == pytest.approx(0.5)
    assert tracker.rho(0.05) == pytest.approx(2**-0.5)
    assert tracker.rho(10.0) == 0.5
