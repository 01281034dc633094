"""Action distributions against torch.distributions (an independent implementation) and sampling statistics.

Sampling checks draw 40,000 samples: a frequency's standard error is at most sqrt(0.25 / 40000) = 0.0025, so
the 0.015 tolerance is six standard errors (a false failure about once in 10^9 runs).
"""

import gymnasium as gym
import numpy as np
import pytest
import torch
from torch.distributions import Normal, TanhTransform, TransformedDistribution

from agents.pg.distributions import ActionKind, Categorical, Gaussian, MultiCategorical

SAMPLES = 40_000


def test_gumbel_max_sampling_matches_softmax_probabilities():
    logits = torch.tensor([[0.5, -1.0, 2.0, 0.0]]).expand(SAMPLES, 4)
    samples = Categorical(logits).sample(torch.Generator().manual_seed(0))
    frequencies = torch.bincount(samples, minlength=4).double() / SAMPLES
    torch.testing.assert_close(frequencies, torch.softmax(logits[0].double(), 0), rtol=0, atol=0.015)


def test_categorical_log_prob_and_entropy_equal_torch_categorical():
    logits = torch.randn(5, 6, generator=torch.Generator().manual_seed(0))
    actions = torch.tensor([0, 5, 2, 3, 1])
    reference = torch.distributions.Categorical(logits=logits)
    ours = Categorical(logits)
    torch.testing.assert_close(ours.log_prob(actions), reference.log_prob(actions))
    torch.testing.assert_close(ours.entropy(), reference.entropy())


def test_masked_categorical_never_samples_illegal_actions_and_renormalises():
    """Legal actions keep their relative odds: log p(a) = logit_a - logsumexp(legal logits)."""
    logits = torch.tensor([[1.0, 2.0, 3.0, 4.0]]).expand(SAMPLES, 4)
    mask = torch.tensor([[True, False, True, False]]).expand(SAMPLES, 4)
    dist = Categorical(logits, mask)
    samples = dist.sample(torch.Generator().manual_seed(1))
    assert set(samples.unique().tolist()) == {0, 2}
    expected = torch.tensor([1.0, 3.0]) - torch.logsumexp(torch.tensor([1.0, 3.0]), 0)
    torch.testing.assert_close(dist.log_prob(torch.tensor([0, 2]).repeat(SAMPLES // 2))[:2], expected)
    reference = torch.distributions.Categorical(logits=torch.tensor([1.0, 3.0]))
    torch.testing.assert_close(dist.entropy()[0], reference.entropy())


def test_mask_allowing_nothing_falls_back_to_all_actions_instead_of_nan():
    dist = Categorical(torch.zeros(1, 3), torch.zeros(1, 3, dtype=torch.bool))
    assert torch.isfinite(dist.entropy()).all()


def test_multicategorical_log_prob_is_sum_of_independent_dimensions():
    logits = torch.randn(4, 2 + 3, generator=torch.Generator().manual_seed(2))
    actions = torch.tensor([[0, 2], [1, 0], [1, 1], [0, 2]])
    dist = MultiCategorical(logits, (2, 3))
    first = torch.distributions.Categorical(logits=logits[:, :2])
    second = torch.distributions.Categorical(logits=logits[:, 2:])
    expected = first.log_prob(actions[:, 0]) + second.log_prob(actions[:, 1])
    torch.testing.assert_close(dist.log_prob(actions), expected)
    torch.testing.assert_close(dist.entropy(), first.entropy() + second.entropy())


def test_gaussian_log_prob_equals_normal_and_tanh_adds_the_jacobian():
    mean = torch.randn(6, 2, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    log_std = torch.tensor([-0.5, 0.3], dtype=torch.float64)
    raw = torch.randn(6, 2, generator=torch.Generator().manual_seed(4), dtype=torch.float64) * 2
    normal = Normal(mean, log_std.exp())
    torch.testing.assert_close(
        Gaussian(mean, log_std, squash=False).log_prob(raw), normal.log_prob(raw).sum(-1)
    )
    squashed = TransformedDistribution(normal, [TanhTransform()])
    torch.testing.assert_close(
        Gaussian(mean, log_std, squash=True).log_prob(raw), squashed.log_prob(torch.tanh(raw)).sum(-1)
    )
    torch.testing.assert_close(Gaussian(mean, log_std, squash=False).entropy(), normal.entropy().sum(-1))


def test_gaussian_samples_have_the_policy_mean_and_std():
    """Sample mean within 6 standard errors (std / sqrt(n) = 0.01 for std 2) and std within 2%."""
    dist = Gaussian(
        torch.full((SAMPLES, 1), 1.5), torch.tensor([np.log(2.0)], dtype=torch.float32), squash=False
    )
    samples = dist.sample(torch.Generator().manual_seed(5))
    assert abs(samples.mean().item() - 1.5) < 0.06
    assert abs(samples.std().item() - 2.0) < 0.04


def test_box_actions_are_clipped_or_squashed_into_the_bounds():
    space = gym.spaces.Box(np.array([-1, 0], np.float32), np.array([1, 10], np.float32))
    raw = torch.tensor([[-5.0, 0.0], [0.5, 50.0]])
    assert ActionKind.of(space, "clip").to_env(raw).tolist() == [[-1.0, 0.0], [0.5, 10.0]]
    squashed = ActionKind.of(space, "tanh").to_env(torch.tensor([[0.0, 0.0]]))
    torch.testing.assert_close(squashed, torch.tensor([[0.0, 5.0]]))  # tanh(0) = 0 is the middle of the box


def test_discrete_start_offsets_are_added_for_the_env():
    assert ActionKind.of(gym.spaces.Discrete(3, start=-1)).to_env(torch.tensor([0, 2])).tolist() == [-1, 1]
    kind = ActionKind.of(gym.spaces.MultiDiscrete([2, 3], start=[1, 5]))
    assert kind.to_env(torch.tensor([[0, 2]])).tolist() == [[1, 7]]


def test_unsupported_spaces_and_bounds_are_rejected_by_name():
    with pytest.raises(ValueError, match="action_space"):
        ActionKind.of(gym.spaces.Dict({"a": gym.spaces.Discrete(2)}))
    with pytest.raises(ValueError, match="bound"):
        ActionKind.of(gym.spaces.Box(-1, 1, (1,)), "sigmoid")
    with pytest.raises(ValueError, match="tanh"):
        ActionKind.of(gym.spaces.Box(-np.inf, np.inf, (1,)), "tanh")
