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
from pathlib import Path

import torch

from agents.pg.estimators import gae, normalize_advantages
from agents.pg.policy import PolicyAgent
from agents.pg.rollout import Rollout
from agents.pg.trainer import Learner, LearnerConfig, learn_with


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
        _positive_ints(self, "num_minibatches", "update_epochs")
        if not 0.0 <= self.gae_lambda <= 1.0:
            raise ValueError(f"gae_lambda must be in [0, 1], got {self.gae_lambda}")
        for name in ("clip_coef", "ent_coef", "vf_coef", "max_grad_norm"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.target_kl is not None and self.target_kl <= 0:
            raise ValueError(f"target_kl must be > 0 or None, got {self.target_kl}")


def _positive_ints(config, *names: str) -> None:
    for name in names:
        if not (isinstance(getattr(config, name), int) and getattr(config, name) >= 1):
            raise ValueError(f"{name} must be an integer >= 1, got {getattr(config, name)!r}")


def update(learner: Learner, rollout: Rollout) -> dict[str, float]:
    """Several epochs of minibatch steps on the clipped surrogate, value and entropy losses."""
    c, policy, optimizer = learner.config, learner.policy, learner.optimizer
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
    b_logprobs, b_values, b_advantages, b_returns = (
        x.reshape(-1)[keep] for x in (rollout.logprobs, rollout.values, advantages, returns)
    )
    masks = b_masks if rollout.masked else None
    size = b_obs.shape[0]
    minibatch = math.ceil(size / c.num_minibatches)
    clipfracs, approx_kl = [], torch.zeros((), device=b_obs.device)
    for _epoch in range(c.update_epochs):
        order = torch.randperm(size, generator=learner.generator, device=b_obs.device)
        for start in range(0, size, minibatch):
            mb = order[start : start + minibatch]
            dist = policy.distribution(b_obs[mb], None if masks is None else masks[mb])
            newlogprob, entropy = dist.log_prob(b_actions[mb]), dist.entropy()
            newvalue = policy.value(b_obs[mb])
            logratio = newlogprob - b_logprobs[mb]
            ratio = logratio.exp()
            with torch.no_grad():
                old_approx_kl = (-logratio).mean()
                approx_kl = ((ratio - 1) - logratio).mean()  # Schulman's low-variance KL estimator
                clipfracs.append(((ratio - 1.0).abs() > c.clip_coef).float().mean())
            mb_advantages = normalize_advantages(b_advantages[mb]) if c.norm_adv else b_advantages[mb]
            pg_loss = torch.max(
                -mb_advantages * ratio, -mb_advantages * torch.clamp(ratio, 1 - c.clip_coef, 1 + c.clip_coef)
            ).mean()
            if c.clip_vloss:
                v_clipped = b_values[mb] + torch.clamp(newvalue - b_values[mb], -c.clip_coef, c.clip_coef)
                v_loss = (
                    0.5 * torch.max((newvalue - b_returns[mb]) ** 2, (v_clipped - b_returns[mb]) ** 2).mean()
                )
            else:
                v_loss = 0.5 * ((newvalue - b_returns[mb]) ** 2).mean()
            entropy_loss = entropy.mean()
            loss = pg_loss - c.ent_coef * entropy_loss + c.vf_coef * v_loss
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(policy.parameters(), c.max_grad_norm)
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
        "losses/explained_variance": explained_variance(b_values, b_returns),
    }


def explained_variance(predicted: torch.Tensor, target: torch.Tensor) -> float:
    """``1 - Var(target - predicted) / Var(target)``: 1 is a perfect critic, 0 no better than a constant."""
    variance = target.var()
    return math.nan if variance == 0 else (1 - (target - predicted).var() / variance).item()


def learn(
    env,
    *,
    total_steps: int,
    seed: int,
    device: str = "auto",
    config: PPOConfig | None = None,
    out: str | Path | None = None,
    env_kwargs: dict | None = None,
    progress: bool = False,
    console=None,
) -> PolicyAgent:
    """Train PPO on ``env`` (an id, an env or a vector env) for ``total_steps`` env steps; return the Agent.

    With ``out``, writes the CSV/TensorBoard logs there and saves an agent package that
    ``agents.load_agent(out)`` loads.
    """
    return learn_with(
        "ppo",
        update,
        env,
        config or PPOConfig(),
        total_steps=total_steps,
        seed=seed,
        device=device,
        out=out,
        env_kwargs=env_kwargs,
        progress=progress,
        console=console,
    )
