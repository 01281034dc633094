"""Batched policy evaluation: the first episode of each of many envs, stepped together."""

from __future__ import annotations

import torch

from agents.pg.policy import ActorCritic
from agents.pg.rollout import TorchVectorEnv, make_vector_env


@torch.no_grad()
def evaluate_policy(
    policy: ActorCritic,
    env,
    *,
    episodes: int,
    seed: int,
    deterministic: bool = False,
    env_kwargs: dict | None = None,
    device: str | torch.device = "cpu",
) -> list[float]:
    """Undiscounted returns of ``episodes`` episodes, one per env of a batch of ``episodes`` envs.

    Taking each env's first episode (rather than the first episodes to finish, which favours short ones)
    keeps the estimate unbiased.
    """
    if episodes < 1:
        raise ValueError(f"episodes must be >= 1, got {episodes}")
    vec = TorchVectorEnv(
        make_vector_env(env, episodes, device=device, env_kwargs=env_kwargs), device, policy.action.bound
    )
    generator = torch.Generator(device=vec.device).manual_seed(seed)
    returns = torch.full((episodes,), float("nan"), dtype=torch.float64, device=vec.device)
    try:
        obs, mask = vec.reset(seed=seed)
        while torch.isnan(returns).any():
            dist = policy.distribution(obs, mask)
            step = vec.step(dist.mode() if deterministic else dist.sample(generator))
            first = torch.isnan(returns) & ~torch.isnan(step.episode_return)
            returns = torch.where(first, step.episode_return, returns)
            obs, mask = step.obs, step.action_mask
    finally:
        vec.close()
    return returns.tolist()
