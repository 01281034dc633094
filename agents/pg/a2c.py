"""Advantage actor-critic (A2C, the synchronous variant of Mnih et al., 2016).

Defaults follow the paper as configured in Stable-Baselines3: 5-step rollouts, RMSprop (lr 7e-4,
alpha 0.99, eps 1e-5), n-step returns (GAE with lambda 1), value coefficient 0.5, no entropy bonus, gradient
norm 0.5, no annealing, no advantage normalisation. One gradient step per rollout.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from agents.pg.estimators import gae, normalize_advantages
from agents.pg.policy import PolicyAgent
from agents.pg.ppo import explained_variance
from agents.pg.rollout import Rollout
from agents.pg.trainer import Learner, LearnerConfig, learn_with


@dataclass
class A2CConfig(LearnerConfig):
    num_envs: int = 8
    num_steps: int = 5
    learning_rate: float = 7e-4
    anneal_lr: bool = False
    optimizer: str = "rmsprop"
    gae_lambda: float = 1.0
    norm_adv: bool = False
    ent_coef: float = 0.0
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5

    def validate(self) -> None:
        super().validate()
        if not 0.0 <= self.gae_lambda <= 1.0:
            raise ValueError(f"gae_lambda must be in [0, 1], got {self.gae_lambda}")
        for name in ("ent_coef", "vf_coef", "max_grad_norm"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")


def update(learner: Learner, rollout: Rollout) -> dict[str, float]:
    """One gradient step on the policy-gradient, value and entropy losses of the whole rollout."""
    c, policy = learner.config, learner.policy
    advantages, returns = gae(
        rollout.rewards,
        rollout.values,
        rollout.next_values,
        rollout.terminated,
        rollout.truncated,
        c.gamma,
        c.gae_lambda,
    )
    keep = rollout.valid.reshape(-1)  # never train on NEXT_STEP reset transitions
    b_obs, b_actions, b_masks = (x.flatten(0, 1)[keep] for x in (rollout.obs, rollout.actions, rollout.masks))
    b_values, b_advantages, b_returns = (x.reshape(-1)[keep] for x in (rollout.values, advantages, returns))
    if c.norm_adv:
        b_advantages = normalize_advantages(b_advantages)
    dist = policy.distribution(b_obs, b_masks if rollout.masked else None)
    pg_loss = -(b_advantages * dist.log_prob(b_actions)).mean()
    v_loss = 0.5 * ((policy.value(b_obs) - b_returns) ** 2).mean()
    entropy_loss = dist.entropy().mean()
    loss = pg_loss - c.ent_coef * entropy_loss + c.vf_coef * v_loss
    learner.optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(policy.parameters(), c.max_grad_norm)
    learner.optimizer.step()
    return {
        "losses/policy_loss": pg_loss.item(),
        "losses/value_loss": v_loss.item(),
        "losses/entropy": entropy_loss.item(),
        "losses/explained_variance": explained_variance(b_values, b_returns),
    }


def learn(
    env,
    *,
    total_steps: int,
    seed: int,
    device: str = "auto",
    config: A2CConfig | None = None,
    out: str | Path | None = None,
    env_kwargs: dict | None = None,
    progress: bool = False,
    console=None,
) -> PolicyAgent:
    """Train A2C on ``env`` for ``total_steps`` env steps; return the Agent (saved to ``out`` when given)."""
    return learn_with(
        "a2c",
        update,
        env,
        config or A2CConfig(),
        total_steps=total_steps,
        seed=seed,
        device=device,
        out=out,
        env_kwargs=env_kwargs,
        progress=progress,
        console=console,
    )
