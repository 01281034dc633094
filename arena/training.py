"""What ``arena train`` and ``arena eval`` do: train a registered learner into an agent package, evaluate one.

``train`` runs a learner (:func:`agents.list_learners`: ``ppo``, ``hdpo``, ``grpo``, ...) on one env and
writes an agent package (``agent.toml``, weights, ``training.json``, ``progress.csv`` and, for learners that
log episodic returns, ``learning_curve.png``) that ``agents.load_agent(out)`` loads as an Agent.
``train_suite`` trains one such package per env of a task suite into a suite package
(:mod:`agents.trained`). Either way the package's ``agent.toml`` records the ``arena train`` command and seed
that make it again. ``evaluate`` plays any agent package through the Agent protocol.
"""

from __future__ import annotations

import json
import shlex
import time
from pathlib import Path
from typing import Any

import gymnasium as gym

import agents
from agents import TrainingRecord, read_manifest, slug, write_manifest
from arena.episodes import play_episodes, summarize
from arena.plots import learning_curve_png


def train(
    learner: str,
    env_id: str,
    *,
    steps: int,
    seed: int,
    device: str,
    out: Path,
    env_kwargs: dict,
    progress: bool = True,
    console=None,
    **options: Any,
) -> Path:
    """Train ``learner`` on ``env_id`` (made with ``env_kwargs``) for ``steps`` of its budget unit and write
    the agent package, named ``<learner>-<env>-seed<S>``, to ``out``; returns ``out``.

    ``options`` go to the learner (hyperparameters, or e.g. ``policy="gnn"`` for hdpo)."""
    record = agents.learner(learner)
    out = Path(out)
    record.load()(
        env_id,
        dict(env_kwargs),
        out=out,
        steps=steps,
        seed=seed,
        device=device,
        progress=progress,
        console=console,
        **options,
    )
    command = train_command(
        learner, env_id, steps=steps, seed=seed, device=device, env_kwargs=env_kwargs, options=options
    )
    manifest = read_manifest(out)
    write_manifest(
        out,
        manifest.model_copy(
            update={
                "name": f"{learner}-{slug(env_id)}-seed{seed}",
                "training": TrainingRecord(command=command, seed=seed),
            }
        ),
    )
    _learning_curve(out, f"{learner} on {env_id}")
    return out


def train_suite(
    learner: str,
    scenario: str,
    *,
    steps: int,
    seed: int,
    device: str,
    out: Path,
    progress: bool = True,
    console=None,
    **options: Any,
) -> Path:
    """Train ``learner`` on every env entry of the task suite ``scenario`` (a built-in name or a file), each
    with the entry's kwargs, into ``out/tasks/NN-<label>/``, and write the suite package around them
    (:mod:`agents.trained`), named ``<learner>-<suite>-seed<S>``; returns ``out``.

    A suite entry's ``max_episode_steps`` is kept for training; the package plays the same env under any
    episode limit."""
    from agents.trained import write_suite_package
    from arena.scenario import find_scenario, load_scenario, task_labels

    suite = load_scenario(find_scenario(scenario))
    if suite.kind != "suite":
        raise ValueError(
            f"scenario={scenario!r}: {suite.name} is a {suite.kind} scenario; --suite takes a task suite"
        )
    out = Path(out)
    started = time.perf_counter()
    tasks = []
    labels = task_labels(suite.spec.envs)
    for number, (entry, label) in enumerate(zip(suite.spec.envs, labels, strict=True), start=1):
        directory = Path("tasks") / f"{number:02d}-{slug(label)}"
        if console is not None:
            console.print(f"[bold]{number}/{len(labels)}[/] {label}: {learner} for {steps} steps")
        train(
            learner,
            entry.id,
            steps=steps,
            seed=seed,
            device=device,
            out=out / directory,
            env_kwargs=entry.kwargs,
            progress=progress,
            console=console,
            **options,
        )
        env = gym.make(entry.id, **entry.kwargs)
        tasks.append(
            {
                "dir": directory.as_posix(),
                "label": label,
                "env_id": entry.id,
                "env_kwargs": dict(env.spec.kwargs),
            }
        )
        env.close()
    command = train_command(
        learner, None, suite=scenario, steps=steps, seed=seed, device=device, options=options
    )
    metadata = {
        "learner": learner,
        "suite": suite.name,
        "seed": seed,
        "steps": steps,
        "options": options,
        "wall_time_s": round(time.perf_counter() - started, 1),
    }
    write_suite_package(
        out,
        name=f"{learner}-{slug(suite.name)}-seed{seed}",
        tasks=tasks,
        training=TrainingRecord(command=command, seed=seed),
        metadata=metadata,
    )
    return out


def train_command(
    learner: str,
    env_id: str | None,
    *,
    steps: int,
    seed: int,
    device: str,
    suite: str | None = None,
    env_kwargs: dict | None = None,
    options: dict | None = None,
) -> str:
    """The ``arena train`` command line that runs this training (without ``--out``)."""
    words = ["arena", "train", learner] + ([env_id] if suite is None else ["--suite", suite])
    words += ["--steps", str(steps), "--seed", str(seed), "--device", device]
    for key, value in (env_kwargs or {}).items():
        words += ["--env-kwarg", f"{key}={_value_text(value)}"]
    for key, value in (options or {}).items():
        words += ["--option", f"{key}={_value_text(value)}"]
    return shlex.join(words)


def _value_text(value: Any) -> str:
    """A ``key=value`` option's value as the CLI reads it back: JSON, or a bare string that is not JSON."""
    if isinstance(value, str):
        try:
            json.loads(value)
        except json.JSONDecodeError:
            return value
    return json.dumps(value)


def _learning_curve(out: Path, title: str) -> None:
    """``learning_curve.png`` from ``progress.csv`` when the learner logged episodic returns."""
    progress_csv = out / "progress.csv"
    if progress_csv.is_file() and "charts/episodic_return" in progress_csv.read_text().partition("\n")[0]:
        learning_curve_png(progress_csv, out / "learning_curve.png", title)


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
