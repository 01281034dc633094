"""Advantage actor-critic (A2C, the synchronous variant of Mnih et al., 2016).

Defaults follow the paper as configured in Stable-Baselines3: 5-step rollouts, RMSprop (lr 7e-4,
alpha 0.99, eps 1e-5), n-step returns (GAE with lambda 1), value coefficient 0.5, no entropy bonus, gradient
norm 0.5, no annealing, no advantage normalisation. One gradient step per rollout.
"""

from __future__ import annotations

from dataclasses import dataclass

from agents.pg.estimators import explained_variance, normalize_advantages
from agents.pg.rollout import Rollout
from agents.pg.trainer import (
    Algorithm,
    Learner,
    LearnerConfig,
    check_non_negative,
    check_unit_interval,
    clip_gradients,
)


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
        check_unit_interval(self, "gae_lambda")
        check_non_negative(self, "ent_coef", "vf_coef", "max_grad_norm")


def update(learner: Learner, rollout: Rollout) -> dict[str, float]:
    """One gradient step on the policy-gradient, value and entropy losses of the whole rollout."""
    c, policy = learner.config, learner.policy
    advantages, returns = rollout.gae(c.gamma, c.gae_lambda)
    b = rollout.batch(advantages, returns)
    b_advantages = normalize_advantages(b.advantages) if c.norm_adv else b.advantages
    dist = policy.distribution(b.obs, b.masks)
    pg_loss = -(b_advantages * dist.log_prob(b.actions)).mean()
    v_loss = 0.5 * ((policy.value(b.obs) - b.returns) ** 2).mean()
    entropy_loss = dist.entropy().mean()
    loss = pg_loss - c.ent_coef * entropy_loss + c.vf_coef * v_loss
    learner.optimizer.zero_grad()
    loss.backward()
    clip_gradients(policy.parameters(), c.max_grad_norm)
    learner.optimizer.step()
    return {
        "losses/policy_loss": pg_loss.item(),
        "losses/value_loss": v_loss.item(),
        "losses/entropy": entropy_loss.item(),
        "losses/explained_variance": explained_variance(b.values, b.returns),
    }


A2C = Algorithm(name="a2c", config=A2CConfig, update=update)
learn = A2C.learn  # (env, *, total_steps, seed, device, config, out, ...): see Algorithm.learn
