"""The ``arena train`` learners ``ppo``, ``a2c`` and ``reinforce``: any Gymnasium env id to an agent package.

Hyperparameters are the algorithm's paper defaults, then the tuned preset for the env id if any
(:func:`agents.pg.config_for`), then the ``hyperparameters`` given; ``steps`` counts env steps.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agents.pg.presets import ALGORITHMS, config_for


def train_ppo(env_id: str, env_kwargs: dict, **arguments: Any) -> Path:
    """PPO (Schulman et al., 2017); see :func:`train_algorithm`."""
    return train_algorithm("ppo", env_id, env_kwargs, **arguments)


def train_a2c(env_id: str, env_kwargs: dict, **arguments: Any) -> Path:
    """A2C (Mnih et al., 2016); see :func:`train_algorithm`."""
    return train_algorithm("a2c", env_id, env_kwargs, **arguments)


def train_reinforce(env_id: str, env_kwargs: dict, **arguments: Any) -> Path:
    """REINFORCE with a learned baseline (Williams, 1992); see :func:`train_algorithm`."""
    return train_algorithm("reinforce", env_id, env_kwargs, **arguments)


def train_algorithm(
    algo: str,
    env_id: str,
    env_kwargs: dict,
    *,
    out: Path,
    steps: int,
    seed: int,
    device: str,
    progress: bool = True,
    console=None,
    **hyperparameters: Any,
) -> Path:
    """Train ``algo`` on ``env_id`` (made with ``env_kwargs``) for ``steps`` env steps and write the agent
    package (``agent.toml``, ``policy.pt``, ``training.json``, ``progress.csv``) to ``out``."""
    config = config_for(algo, env_id, **hyperparameters)
    ALGORITHMS[algo].learn(
        env_id,
        total_steps=steps,
        seed=seed,
        device=device,
        config=config,
        out=out,
        env_kwargs=env_kwargs,
        progress=progress,
        console=console,
    )
    return Path(out)
