"""Play whole episodes of a single-agent env with one agent, and summarise the returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import gymnasium as gym
import numpy as np

import envs
from agents import Agent


@dataclass(frozen=True, kw_only=True)
class EpisodeResult:
    seed: int
    episode_return: float
    length: int
    terminated: bool
    truncated: bool


def play_episodes(
    env: gym.Env,
    agent: Agent,
    *,
    episodes: int,
    seed: int,
    on_episode: Callable[[EpisodeResult, dict], None] | None = None,
) -> list[EpisodeResult]:
    """Play ``episodes`` episodes; episode ``k`` resets the env and the agent with seed ``seed + k``.

    The agent sees the public part of ``info`` (:func:`envs.public_info`) unless it is a built-in that sets
    ``uses_privileged_info``. ``on_episode(result, info)`` is called after each episode with its final, full
    ``info`` (where envs put their end-of-episode metrics)."""
    if episodes < 1:
        raise ValueError(f"episodes={episodes} must be >= 1")
    shown = envs.agent_view(env, agent)
    results = []
    for k in range(episodes):
        observation, info = env.reset(seed=seed + k)
        agent.reset(seed=seed + k)
        total, length, terminated, truncated = 0.0, 0, False, False
        while not (terminated or truncated):
            action = agent.act(observation, shown(info))
            observation, reward, terminated, truncated, info = env.step(action)
            total += float(reward)
            length += 1
        result = EpisodeResult(
            seed=seed + k,
            episode_return=total,
            length=length,
            terminated=bool(terminated),
            truncated=bool(truncated),
        )
        results.append(result)
        if on_episode is not None:
            on_episode(result, info)
    return results


def summarize(results: list[EpisodeResult]) -> dict[str, Any]:
    """Mean, standard deviation (population), min and max of the returns, and the mean length."""
    returns = np.array([r.episode_return for r in results])
    return {
        "episodes": len(results),
        "return_mean": float(returns.mean()),
        "return_std": float(returns.std()),
        "return_min": float(returns.min()),
        "return_max": float(returns.max()),
        "length_mean": float(np.mean([r.length for r in results])),
        "per_episode": [asdict(r) for r in results],
    }
