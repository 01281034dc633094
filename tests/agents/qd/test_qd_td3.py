"""The TD3 pieces of PGA-ME and DCG-ME against their definitions: the batched policy is the archive policy,
the policy-gradient variation climbs the critic, the critic's bootstrap stops at true terminations only, and
bad hyperparameters are refused by name."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from agents.qd import cpu_config
from agents.qd.distilled import ConditionedActor
from agents.qd.td3 import TD3, BatchedPolicy, ReplayBuffer, TD3Config, TwinCritic, pg_variation
from envs.qd.evaluator import MLPPolicySpec


def test_batched_policy_acts_as_the_archive_policy_of_each_row():
    """The PG operator differentiates BatchedPolicy, the evaluator plays MLPPolicySpec.act: the same function
    of the same row layout (float32 against float64 rounding: 1e-5)."""
    spec = MLPPolicySpec(3, 2, (8, 8))
    params = spec.init(4, torch.Generator().manual_seed(0)).float()
    obs = torch.rand(4, 5, 3, generator=torch.Generator().manual_seed(1)) * 2 - 1
    batched = BatchedPolicy(spec)(params, obs)
    for row, row_obs, actions in zip(params, obs, batched, strict=True):
        torch.testing.assert_close(actions, spec.act(row.expand(5, -1), row_obs), rtol=1e-5, atol=1e-5)


def test_policy_gradient_variation_moves_every_row_towards_the_critics_best_action():
    """With Q1(s, a) = -||a - 0.5||^2 (a fixed critic) every row's actions approach 0.5; Q2 is not used.
    Each row is improved on its own (Adam is elementwise), so a row alone gives the same result."""
    spec = MLPPolicySpec(2, 2, (8,))
    critic = TwinCritic(2, 2, 0, (4,))
    critic.q1 = _FixedQ(obs_dim=2)
    buffer = ReplayBuffer(100, 2, 2, 2, 0)
    states = torch.rand(100, 2, generator=torch.Generator().manual_seed(2)) * 2 - 1
    buffer.add(**_columns(states, terminated=torch.zeros(100)))
    params = spec.init(3, torch.Generator().manual_seed(3)).float()

    def varied(rows):
        kwargs = {"steps": 200, "lr": 1e-2, "batch_size": 32, "generator": torch.Generator().manual_seed(4)}
        return pg_variation(rows, BatchedPolicy(spec), critic, buffer, **kwargs)

    children = varied(params)
    before = (spec.act(params[:, None].expand(3, 100, -1).reshape(300, -1), states.repeat(3, 1)) - 0.5).abs()
    after = (spec.act(children[:, None].expand(3, 100, -1).reshape(300, -1), states.repeat(3, 1)) - 0.5).abs()
    assert after.mean() < 0.05 < before.mean()
    torch.testing.assert_close(varied(params[1:2])[0], children[1])
    assert all(p.requires_grad for p in critic.parameters())  # the critic is left trainable


@pytest.mark.parametrize(("terminated", "expected"), [(1.0, 1.0), (0.0, 2.0)])
def test_critic_bootstraps_past_truncation_but_not_past_termination(terminated, expected):
    """Reward 1 every step from one state: Q = r = 1 where every transition terminates, and
    Q = r / (1 - gamma) = 2 for gamma = 0.5 where none does (a time-limit end is not a termination).
    Tolerance 0.1: a 2-layer critic after 600 full-rate updates on uniformly drawn actions."""
    config = TD3Config(
        critic_hidden=(32, 32), critic_lr=1e-2, discount=0.5, tau=1.0, policy_delay=1, batch_size=64
    )
    spec = MLPPolicySpec(1, 1, (4,))
    generator = torch.Generator().manual_seed(5)
    td3 = TD3(ConditionedActor(spec, 0, generator), 1, 1, 0, config, generator)
    buffer = ReplayBuffer(256, 1, 1, 1, 0)
    actions = torch.rand(256, 1, generator=torch.Generator().manual_seed(6)) * 2 - 1
    buffer.add(**{**_columns(torch.zeros(256, 1), torch.full((256,), terminated)), "action": actions})
    td3.train(buffer, 600)
    with torch.no_grad():
        q1, q2 = td3.critic(torch.zeros(5, 1), torch.linspace(-1, 1, 5)[:, None], torch.zeros(5, 0))
    torch.testing.assert_close(q1, torch.full((5,), expected), atol=0.1, rtol=0)
    torch.testing.assert_close(q2, torch.full((5,), expected), atol=0.1, rtol=0)


def test_a_batch_larger_than_the_replay_buffer_leaves_its_last_rows():
    buffer = ReplayBuffer(4, 1, 1, 1, 0)
    buffer.add(**_columns(torch.arange(6.0)[:, None], torch.zeros(6)))
    assert buffer.size == 4
    assert sorted(buffer.data["obs"].squeeze(-1).tolist()) == [2.0, 3.0, 4.0, 5.0]


@pytest.mark.parametrize(
    ("field", "make"),
    [
        ("discount", lambda: TD3Config(discount=1.5)),
        ("tau", lambda: TD3Config(tau=-0.1)),
        ("policy_delay", lambda: TD3Config(policy_delay=0)),
        ("batch_size", lambda: TD3Config(batch_size=0)),
        ("pg_lr", lambda: cpu_config("pga_me", pg_lr=0.0)),
        ("ai_fraction", lambda: cpu_config("dcg_me", ai_fraction=1.5)),
        ("iso_sigma", lambda: cpu_config("me", iso_sigma=-1.0)),
    ],
)
def test_bad_hyperparameters_raise_value_errors_naming_the_field(field, make):
    with pytest.raises(ValueError, match=field):
        make()


class _FixedQ(nn.Module):
    """Q(s, a) = -||a - 0.5||^2 over the [obs, action] input."""

    def __init__(self, obs_dim: int):
        super().__init__()
        self.obs_dim = obs_dim
        self.unused = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return -((x[..., self.obs_dim :] - 0.5) ** 2).sum(dim=-1, keepdim=True)


def _columns(obs: torch.Tensor, terminated: torch.Tensor) -> dict[str, torch.Tensor]:
    n, width = obs.shape
    return {
        "obs": obs,
        "action": torch.zeros(n, 2 if width == 2 else 1),
        "reward": torch.ones(n),
        "next_obs": obs,
        "terminated": terminated,
        "step_descriptor": torch.zeros(n, 2 if width == 2 else 1),
        "episode_descriptor": torch.zeros(n, 2 if width == 2 else 1),
        "cond": torch.zeros(n, 0),
    }
