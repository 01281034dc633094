"""Tuned hyperparameters per (algorithm, env id), applied on top of each config's paper defaults.

Like a model zoo's hyperparameter files: the papers' defaults are tuned for Atari/MuJoCo budgets; these are
the settings measured to work on specific tasks within their stated budgets.
"""

from __future__ import annotations

from typing import Any

from agents.pg.a2c import A2C
from agents.pg.ppo import PPO
from agents.pg.reinforce import REINFORCE
from agents.pg.trainer import Algorithm, LearnerConfig

ALGORITHMS: dict[str, Algorithm] = {algorithm.name: algorithm for algorithm in (PPO, A2C, REINFORCE)}

PRESETS: dict[tuple[str, str], dict[str, Any]] = {
    # rl-baselines3-zoo's CartPole settings: 8 envs x 32 steps, 20 epochs on the whole batch.
    ("ppo", "CartPole-v1"): dict(
        num_envs=8,
        num_steps=32,
        num_minibatches=1,
        update_epochs=20,
        gamma=0.98,
        gae_lambda=0.8,
        ent_coef=0.0,
        learning_rate=1e-3,
    ),
}


def config_for(algo: str, env_id: str | None, **overrides: Any) -> LearnerConfig:
    """``algo``'s config: paper defaults, then the preset for ``env_id`` if any, then ``overrides``."""
    if algo not in ALGORITHMS:
        raise ValueError(f"algo={algo!r} is not one of {sorted(ALGORITHMS)}")
    cls = ALGORITHMS[algo].config
    base = cls.continuous() if algo == "ppo" and _is_continuous(env_id) else cls()
    values = {**base.as_dict(), **PRESETS.get((algo, env_id), {}), **overrides}
    unknown = set(overrides) - set(base.as_dict())
    if unknown:
        raise ValueError(
            f"unknown {algo} hyperparameters {sorted(unknown)}; allowed: {sorted(base.as_dict())}"
        )
    return cls(**values)


def _is_continuous(env_id: str | None) -> bool:
    if env_id is None:
        return False
    import gymnasium as gym

    import envs  # noqa: F401  (registers our ids)

    env = gym.make(env_id)
    try:
        return isinstance(env.action_space, gym.spaces.Box)
    finally:
        env.close()
