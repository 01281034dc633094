"""Proximal Policy Optimization (Schulman et al., 2017) with the clipped surrogate objective.

Defaults are those of the paper's Atari/classic-control settings as in PPO's widely used single-file
reference (4 envs x 128 steps, 4 epochs of 4 minibatches, clip 0.2, GAE lambda 0.95, entropy 0.01, value
clipping, advantage normalisation per minibatch, lr 2.5e-4 annealed to 0, gradient norm 0.5);
:meth:`PPOConfig.continuous` gives the MuJoCo settings (2048 steps, 10 epochs of 32 minibatches, lr 3e-4,
no entropy bonus). ``target_kl`` stops an update's epochs early when the approximate KL exceeds it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from agents.pg.estimators import explained_variance, normalize_advantages
from agents.pg.rollout import Rollout
from agents.pg.trainer import (
    Algorithm,
    Learner,
    LearnerConfig,
    check_non_negative,
    check_positive_ints,
    check_unit_interval,
    clip_gradients,
)


@dataclass
class PPOConfig(LearnerConfig):
    gae_lambda: float = 0.95
    num_minibatches: int = 4
    update_epochs: int = 4
    norm_adv: bool = True
    clip_coef: float = 0.2
    clip_vloss: bool = True
    ent_coef: float = 0.01
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    target_kl: float | None = None

    @classmethod
    def continuous(cls, **overrides) -> PPOConfig:
        """The MuJoCo settings: one env, 2048 steps, 10 epochs x 32 minibatches, lr 3e-4, no entropy."""
        defaults = dict(
            num_envs=1,
            num_steps=2048,
            learning_rate=3e-4,
            num_minibatches=32,
            update_epochs=10,
            ent_coef=0.0,
            normalize_obs=True,
        )
        return cls(**{**defaults, **overrides})

    def validate(self) -> None:
        super().validate()
        check_positive_ints(self, "num_minibatches", "update_epochs")
        check_unit_interval(self, "gae_lambda")
        check_non_negative(self, "clip_coef", "ent_coef", "vf_coef", "max_grad_norm")
        if self.target_kl is not None and self.target_kl <= 0:
            raise ValueError(f"target_kl must be > 0 or None, got {self.target_kl}")


def update(learner: Learner, rollout: Rollout) -> dict[str, float]:
    """Several epochs of minibatch steps on the clipped surrogate, value and entropy losses."""
    c, policy, optimizer = learner.config, learner.policy, learner.optimizer
    advantages, returns = rollout.gae(c.gamma, c.gae_lambda)
    b = rollout.batch(advantages, returns)
    size = b.obs.shape[0]
    minibatch = math.ceil(size / c.num_minibatches)
    clipfracs, approx_kl = [], torch.zeros((), device=b.obs.device)
    for _epoch in range(c.update_epochs):
        order = torch.randperm(size, generator=learner.generator, device=b.obs.device)
        for start in range(0, size, minibatch):
            mb = order[start : start + minibatch]
            dist = policy.distribution(b.obs[mb], None if b.masks is None else b.masks[mb])
            newlogprob, entropy = dist.log_prob(b.actions[mb]), dist.entropy()
            newvalue = policy.value(b.obs[mb])
            logratio = newlogprob - b.logprobs[mb]
            ratio = logratio.exp()
            with torch.no_grad():
                old_approx_kl = (-logratio).mean()
                approx_kl = ((ratio - 1) - logratio).mean()  # Schulman's low-variance KL estimator
                clipfracs.append(((ratio - 1.0).abs() > c.clip_coef).float().mean())
            mb_advantages = normalize_advantages(b.advantages[mb]) if c.norm_adv else b.advantages[mb]
            pg_loss = torch.max(
                -mb_advantages * ratio, -mb_advantages * torch.clamp(ratio, 1 - c.clip_coef, 1 + c.clip_coef)
            ).mean()
            if c.clip_vloss:
                v_clipped = b.values[mb] + torch.clamp(newvalue - b.values[mb], -c.clip_coef, c.clip_coef)
                v_loss = (
                    0.5 * torch.max((newvalue - b.returns[mb]) ** 2, (v_clipped - b.returns[mb]) ** 2).mean()
                )
            else:
                v_loss = 0.5 * ((newvalue - b.returns[mb]) ** 2).mean()
            entropy_loss = entropy.mean()
            loss = pg_loss - c.ent_coef * entropy_loss + c.vf_coef * v_loss
            optimizer.zero_grad()
            loss.backward()
            clip_gradients(policy.parameters(), c.max_grad_norm)
            optimizer.step()
        if c.target_kl is not None and approx_kl.item() > c.target_kl:
            break
    return {
        "losses/policy_loss": pg_loss.item(),
        "losses/value_loss": v_loss.item(),
        "losses/entropy": entropy_loss.item(),
        "losses/old_approx_kl": old_approx_kl.item(),
        "losses/approx_kl": approx_kl.item(),
        "losses/clipfrac": torch.stack(clipfracs).mean().item(),
        "losses/explained_variance": explained_variance(b.values, b.returns),
    }


PPO = Algorithm(name="ppo", config=PPOConfig, update=update)
learn = PPO.learn  # (env, *, total_steps, seed, device, config, out, ...): see Algorithm.learn
