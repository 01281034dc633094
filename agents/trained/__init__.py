"""Suite packages (one trained policy per env of a task suite) and the learned agents shipped with pg-arena.

``arena train <learner> --suite <scenario>`` writes a *suite package*: an agent package whose ``tasks/``
folder holds one complete agent package per env entry of the suite, each trained on that entry's env id and
kwargs, and whose factory, :func:`load`, builds the agent of the task package trained on the env it is asked
to play::

    motor-ppo/
    ├── agent.toml          entry_point = "agents.trained:load"; [training] command = "arena train ..."
    ├── training.json       the learner, suite, seed, steps and the tasks: {dir, env_id, env_kwargs}
    └── tasks/01-DCMotorSpeed-v0/   agent.toml, policy.pt, training.json, progress.csv (one package)

Two envs are the same task when their ids are equal and so are their kwargs (as Gymnasium's ``spec.kwargs``
holds them: registered defaults and the scenario's), except ``max_episode_steps`` and ``render_mode``, which
change neither the dynamics nor the rewards.

The shipped learned agents are such packages, in this folder, registered as built-in agents by the names in
:data:`SHIPPED` (each package's ``agent.toml`` records the ``arena train`` command that made it).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

INDEX = "training.json"
IGNORED_KWARGS = ("max_episode_steps", "render_mode")
SHIPPED_DIR = Path(__file__).resolve().parent

# name -> (package folder in SHIPPED_DIR, domain, summary); each plays the envs of its suite only
SHIPPED: dict[str, tuple[str, str, str]] = {
    "iot/ppo": ("iot-ppo", "iot", "Masked PPO trained on each env of the iot suite; plays its mode."),
    "iot/ppo+aco": ("iot-pg_aco", "iot", "The iot suite's PPO schedulers refined by ant-colony pheromone."),
    "inventory/hdpo_mlp": (
        "inventory-hdpo_mlp",
        "inventory",
        "An MLP trained by HDPO on each inventory suite env.",
    ),
    "inventory/hdpo_gnn": (
        "inventory-hdpo_gnn",
        "inventory",
        "A GNN trained by HDPO on each inventory suite env.",
    ),
    "motor/ppo": ("motor-ppo", "motor", "PPO trained on each env of the motor suite (tuned presets)."),
    "qd/distilled": ("qd-distilled", "qd", "DCG-ME's descriptor-conditioned actor, aimed at target=[...]."),
    "search/grpo": ("search-grpo", "search", "The slot policy trained by GRPO on each search suite entry."),
    "werewolf/lspo": (
        "werewolf-lspo",
        "werewolf",
        "Latent-strategy player: speech strategies, PPO per side.",
    ),
    "search/san": ("search-san", "search", "The slot policy trained by Stratified GRPO on the search suite."),
}


def task_key(env_id: str, env_kwargs: dict) -> str:
    """The canonical text of a task (env id and kwargs, numbers as floats, minus :data:`IGNORED_KWARGS`)."""

    def canonical(value: Any) -> Any:
        if isinstance(value, bool) or value is None or isinstance(value, str):
            return value
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, dict):
            return {str(k): canonical(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [canonical(v) for v in value]
        return str(value)

    kwargs = {k: v for k, v in env_kwargs.items() if k not in IGNORED_KWARGS}
    return json.dumps([env_id, canonical(kwargs)], sort_keys=True)


def write_suite_package(
    out: str | Path, *, name: str, tasks: list[dict], training, metadata: dict[str, Any]
) -> Path:
    """Write the suite package's ``agent.toml`` (version: a hash of the task packages' versions; envs: their
    ids; ``training``: an :class:`agents.TrainingRecord`) and its index, ``metadata`` plus ``tasks`` (each
    ``{"dir", "label", "env_id", "env_kwargs"}``, ``dir`` relative to ``out``) around the task packages
    already in ``out``; returns ``out``."""
    from agents.base import AgentManifest, read_manifest, write_manifest

    out = Path(out)
    versions = "".join(read_manifest(out / task["dir"]).version for task in tasks)
    manifest = AgentManifest(
        name=name,
        version=hashlib.sha256(versions.encode()).hexdigest()[:8],
        entry_point="agents.trained:load",
        envs=sorted({task["env_id"] for task in tasks}),
        training=training,
    )
    write_manifest(out, manifest)
    (out / INDEX).write_text(json.dumps({**metadata, "tasks": tasks}, indent=2, default=str) + "\n")
    return out


def load(spaces, *, agent_dir: str, **kwargs: Any):
    """Agent-package factory of a suite package: the agent of the task package in ``agent_dir/tasks/``
    trained on ``spaces``' env id and kwargs, built with ``kwargs`` over its own ``[kwargs]``.

    An env the package was not trained on raises ValueError naming the tasks it was trained on."""
    from agents.base import load_agent

    index = json.loads((Path(agent_dir) / INDEX).read_text())
    wanted = task_key(spaces.env_id or "", dict(spaces.env_kwargs))
    for task in index["tasks"]:
        if task_key(task["env_id"], task["env_kwargs"]) == wanted:
            return load_agent(Path(agent_dir) / task["dir"], spaces, **kwargs)
    trained = "; ".join(f"{t['env_id']} {t['env_kwargs']}" for t in index["tasks"])
    raise ValueError(
        f"env: {spaces.env_id} with kwargs {dict(spaces.env_kwargs)} is not a task this package was trained "
        f"on ({agent_dir}); it was trained on: {trained}"
    )


def register_shipped() -> None:
    """Register each shipped package of :data:`SHIPPED` as a built-in agent (played in-process)."""
    from agents.registry import register_agent

    for name, (folder, domain, summary) in SHIPPED.items():
        register_agent(
            name,
            "agents.trained:shipped",
            domain=domain,
            summary=summary,
            kwargs={"agent_dir": str(SHIPPED_DIR / folder)},
        )


def shipped(spaces, *, agent_dir: str, **kwargs: Any):
    """Built-in factory of a shipped package: the agent ``agents.load_agent`` builds from ``agent_dir``."""
    from agents.base import load_agent

    return load_agent(agent_dir, spaces, **kwargs)
