"""REINFORCE with a learnt baseline (Williams, 1992; Sutton & Barto, 2018, section 13.4).

The policy gradient uses Monte-Carlo returns ``G_t`` minus the critic's ``V(s_t)``; the critic regresses on
``G_t``. Returns are cut at episode ends; only where an episode is truncated (time limit, or the end of the
rollout) is the tail bootstrapped with the critic, since fixed-length rollouts cannot wait for every
episode to finish. One gradient step (Adam) per rollout of 8 envs x 64 steps; advantages are normalised.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from agents.pg.estimators import discounted_returns, normalize_advantages
from agents.pg.policy import PolicyAgent
from agents.pg.ppo import explained_variance
from agents.pg.rollout import Rollout
from agents.pg.trainer import Learner, LearnerConfig, learn_with


@dataclass
class ReinforceConfig(LearnerConfig):
    num_envs: int = 8
    num_steps: int = 64
    learning_rate: float = 1e-3
    anneal_lr: bool = False
    norm_adv: bool = True
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5


def update(learner: Learner, rollout: Rollout) -> dict[str, float]:
    """One gradient step on ``-log pi(a|s) (G - V(s))`` plus the critic's squared error."""
    c, policy = learner.config, learner.policy
    returns = discounted_returns(
        rollout.rewards, rollout.terminated, rollout.truncated, rollout.next_values, c.gamma
    )
    keep = rollout.valid.reshape(-1)  # never train on NEXT_STEP reset transitions
    b_obs, b_actions, b_masks = (x.flatten(0, 1)[keep] for x in (rollout.obs, rollout.actions, rollout.masks))
    b_values, b_returns = rollout.values.reshape(-1)[keep], returns.reshape(-1)[keep]
    advantages = b_returns - b_values
    if c.norm_adv:
        advantages = normalize_advantages(advantages)
    dist = policy.distribution(b_obs, b_masks if rollout.masked else None)
    pg_loss = -(advantages * dist.log_prob(b_actions)).mean()
    v_loss = 0.5 * ((policy.value(b_obs) - b_returns) ** 2).mean()
    learner.optimizer.zero_grad()
    (pg_loss + c.vf_coef * v_loss).backward()
    torch.nn.utils.clip_grad_norm_(policy.parameters(), c.max_grad_norm)
    learner.optimizer.step()
    return {
        "losses/policy_loss": pg_loss.item(),
        "losses/value_loss": v_loss.item(),
        "losses/entropy": dist.entropy().mean().item(),
        "losses/explained_variance": explained_variance(b_values, b_returns),
    }


def learn(
    env,
    *,
    total_steps: int,
    seed: int,
    device: str = "auto",
    config: ReinforceConfig | None = None,
    out: str | Path | None = None,
    env_kwargs: dict | None = None,
    progress: bool = False,
    console=None,
) -> PolicyAgent:
    """Train REINFORCE with baseline on ``env`` for ``total_steps`` env steps; return the Agent."""
    return learn_with(
        "reinforce",
        update,
        env,
        config or ReinforceConfig(),
        total_steps=total_steps,
        seed=seed,
        device=device,
        out=out,
        env_kwargs=env_kwargs,
        progress=progress,
        console=console,
    )
