"""REINFORCE with a learnt baseline (Williams, 1992; Sutton & Barto, 2018, section 13.4).

The policy gradient uses Monte-Carlo returns ``G_t`` minus the critic's ``V(s_t)``; the critic regresses on
``G_t``. Returns are cut at episode ends; only where an episode is truncated (time limit, or the end of the
rollout) is the tail bootstrapped with the critic, since fixed-length rollouts cannot wait for every
episode to finish. One gradient step (Adam) per rollout of 8 envs x 64 steps; advantages are normalised.
"""

from __future__ import annotations

from dataclasses import dataclass

from agents.pg.estimators import explained_variance, normalize_advantages
from agents.pg.rollout import Rollout
from agents.pg.trainer import Algorithm, Learner, LearnerConfig, clip_gradients


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
    returns = rollout.discounted_returns(c.gamma)
    b = rollout.batch(returns - rollout.values, returns)
    b_advantages = normalize_advantages(b.advantages) if c.norm_adv else b.advantages
    dist = policy.distribution(b.obs, b.masks)
    pg_loss = -(b_advantages * dist.log_prob(b.actions)).mean()
    v_loss = 0.5 * ((policy.value(b.obs) - b.returns) ** 2).mean()
    learner.optimizer.zero_grad()
    (pg_loss + c.vf_coef * v_loss).backward()
    clip_gradients(policy.parameters(), c.max_grad_norm)
    learner.optimizer.step()
    return {
        "losses/policy_loss": pg_loss.item(),
        "losses/value_loss": v_loss.item(),
        "losses/entropy": dist.entropy().mean().item(),
        "losses/explained_variance": explained_variance(b.values, b.returns),
    }


REINFORCE = Algorithm(name="reinforce", config=ReinforceConfig, update=update)
learn = REINFORCE.learn  # (env, *, total_steps, seed, device, config, out, ...): see Algorithm.learn
