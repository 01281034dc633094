"""What ``arena train`` and ``arena eval`` do: train a policy-gradient agent into a directory, evaluate one.

``train`` writes an agent package (``agent.toml``, ``policy.pt``, ``training.json``, ``progress.csv`` and
``learning_curve.png``) that ``agents.load_agent(out)`` loads as an Agent; ``evaluate`` plays any agent
package through the Agent protocol.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import gymnasium as gym

from arena.episodes import play_episodes, summarize
from arena.plots import learning_curve_png

ALGORITHMS = ("ppo", "a2c", "reinforce")


def train(
    algo: str,
    env_id: str,
    *,
    steps: int,
    seed: int,
    device: str,
    out: Path,
    env_kwargs: dict,
    progress: bool = True,
    console=None,
    **hyperparameters: Any,
) -> Path:
    """Train ``algo`` (ppo, a2c, reinforce) on ``env_id`` for ``steps`` env steps; return ``out``.

    Hyperparameters are the algorithm's paper defaults, then the tuned preset for ``env_id`` if any
    (:func:`agents.pg.config_for`), then ``hyperparameters``.
    """
    if algo not in ALGORITHMS:
        raise ValueError(f"algo={algo!r} is not one of {', '.join(ALGORITHMS)}")
    from agents import pg

    module = getattr(pg, algo)  # the learner's module: pg.ppo, pg.a2c or pg.reinforce
    config = pg.config_for(algo, env_id, **hyperparameters)
    module.learn(
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
    learning_curve_png(Path(out) / "progress.csv", Path(out) / "learning_curve.png", f"{algo} on {env_id}")
    return Path(out)


def evaluate(
    agent_dir: Path,
    env_id: str,
    *,
    episodes: int,
    seed: int,
    env_kwargs: dict | None = None,
    deterministic: bool | None = None,
    trust_agents: bool = False,
) -> dict[str, Any]:
    """Play ``episodes`` episodes of ``env_id`` (seeds ``seed``, ``seed + 1``, ...) with the agent package,
    in the sandbox as in a tournament (:func:`arena.launch.package_player`).

    The env is made with ``env_kwargs``, or else with those the agent was trained with when it was trained
    on ``env_id``. ``deterministic`` overrides the package's own setting (for agents whose factory takes
    it, as ours and the SB3 adapter's do). Returns :func:`arena.episodes.summarize`'s statistics.
    """
    import envs  # noqa: F401  (registers our ids)
    from arena.launch import package_player

    if env_kwargs is None:
        env_kwargs = _trained_env_kwargs(Path(agent_dir), env_id)
    env = gym.make(env_id, **env_kwargs)
    overrides = {} if deterministic is None else {"deterministic": deterministic}
    player = None
    try:
        player = package_player(agent_dir, env, overrides, trust_agents=trust_agents)
        results = play_episodes(env, player, episodes=episodes, seed=seed)
    finally:
        if player is not None:
            player.close()
        env.close()
    return {
        "agent": player.name,
        "env_id": env_id,
        "seed": seed,
        **summarize(results),
    }


def _trained_env_kwargs(agent_dir: Path, env_id: str) -> dict:
    metadata = agent_dir / "training.json"
    if not metadata.is_file():
        return {}
    data = json.loads(metadata.read_text())
    return dict(data.get("env_kwargs", {})) if data.get("env_id") == env_id else {}
