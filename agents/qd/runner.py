"""``run_qd``: run MAP-Elites, PGA-ME or DCG-ME on a QD task for a budget of evaluations.

Each iteration appends a row to ``out/progress.csv``: iteration, evaluations, env_steps, qd_score (offset
``task.min_fitness``, see agents/qd/map_elites.py), coverage (fraction of cells filled), max_fitness,
wall_time_s and the learners' losses. Every ``checkpoint_every`` iterations and at the end the state of the
run (archive, emitters' random generators, networks, optimisers, replay buffer, the evaluator's counters and
generator) is saved as data, ``out/checkpoint.json`` and the tensors in ``out/checkpoint.pt``, which is read
with ``torch.load(..., weights_only=True)``: nothing is unpickled (agents/qd/checkpoint.py). ``resume=True``
continues from it, and a resumed run ends in the same archive as an uninterrupted one. At the end
``out/archive.png`` is the archive heatmap (2-D descriptors) and, for DCG-ME, ``out/distilled.pt`` the
descriptor-conditioned actor.

The run stops at the first iteration boundary at or past ``evals`` evaluations, so every algorithm with the
same ``batch_size`` and ``init_batch`` spends exactly the same number of evaluations.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from ribs.archives import GridArchive
from rich.console import Console

from agents.pg import TrainingLogger
from agents.qd.checkpoint import STATE, load_checkpoint, read_checkpoint
from agents.qd.checkpoint import save_checkpoint as _save_checkpoint
from agents.qd.dcg_me import DCGME, DCGConfig
from agents.qd.distilled import save_actor
from agents.qd.map_elites import MapElites, MEConfig, QDAlgorithm
from agents.qd.pga_me import PGAME, PGAConfig
from agents.qd.td3 import TD3Config

ALGORITHMS = {"me": (MapElites, MEConfig), "pga_me": (PGAME, PGAConfig), "dcg_me": (DCGME, DCGConfig)}
CHECKPOINT = "checkpoint.pt"  # the tensors; checkpoint.json (STATE) holds the rest


def cpu_config(algorithm: str, **overrides):
    """The configuration for a 2-core CPU budget of a few thousand evaluations: the papers' operators and
    ratios with smaller batches and networks and fewer gradient steps, and learning rates of 1e-3 for the
    few TD3 updates per iteration (the papers use 256-policy batches, 256-unit critics, 3e-4 rates, and
    300/3000 critic and 100/150 PG steps per iteration on accelerators).

    PGA-ME makes one sixteenth of each batch by policy gradient instead of half: at this budget its critic
    has had a few thousand small updates, and on the point maze, whose fitness (reach the goal) pulls
    against its descriptor (where the point ends), a PG offspring finds a new cell half as often as an
    iso-line one (measured with a quarter, seed 4: 10% against 20% of offspring). So the batch keeps the
    greedy actor and one PG offspring and the iso-line operator makes the rest. Measured against
    MAP-Elites' QD-score: half, 26.9k against 30.0k (100-step episodes, seed 0, 3008 evaluations); with
    50-step episodes and 1504 evaluations, a quarter wins 3 of 5 seeds (0-4), an eighth 8 of 10 (0-9), a
    sixteenth 5 of 5 on seeds 0-4 and 4 of 5 on seeds 5-9 (by 1.4k to 7.8k; seed 9 lost by 1.7k).

    DCG-ME follows the reference implementation (QDax) in how it trains and injects its actor: targets of the
    actor injection are descriptors of archive elites, the lengthscale is 0.05 (its 0.1 on descriptors in
    [-1, 1]), and the critic replays each new transition as often as there: 3000 updates of 100 transitions
    per 256 episodes of 250 steps is 4.7 samples per transition, and 150 updates of 100 per 32 episodes of
    100 steps (the bench's point maze) is 4.7 here (PGA-ME's 64 updates of 64 give 1.3, its reference's 300
    of 256 per 256 x 250 steps 1.2). Its shares are an eighth of each batch by descriptor-conditioned PG
    and an eighth by actor injection instead of a quarter each, chosen on seeds 0-9 only (50-step episodes,
    1504 evaluations), QD-score against MAP-Elites: a quarter and a quarter wins 4 of 10, mean -0.3k; an
    eighth and an eighth 6 of 10, +0.9k; an eighth and a quarter 3 of 10, -0.2k. (The earlier preset, an
    eighth by DC-PG and one injection at a uniformly drawn target, lengthscale 0.1 and 128 updates of 64,
    won 8 of 10, +1.9k, on the seeds it was chosen on; benchmarks/qd.py has both on fresh seeds.)"""
    cls = ALGORITHMS[algorithm][1] if algorithm in ALGORITHMS else None
    if cls is None:
        raise ValueError(f"algorithm must be one of {sorted(ALGORITHMS)}, got {algorithm!r}")
    values = {"batch_size": 32, "init_batch": 32}
    if cls is not MEConfig:
        td3 = TD3Config(
            critic_hidden=(64, 64), batch_size=64, critic_lr=1e-3, actor_lr=1e-3, buffer_size=200_000
        )
        values.update(critic_steps=64, pg_steps=10, td3=td3)
    if cls is PGAConfig:
        values.update(pg_fraction=1 / 16)
    if cls is DCGConfig:
        values.update(
            critic_steps=150, td3=replace(td3, batch_size=100), pg_fraction=1 / 8, ai_fraction=1 / 8
        )
    values.update(overrides)
    return cls(**values)


@dataclass
class QDRun:
    """A finished run: the algorithm (archive, networks), its evaluator and the logged rows."""

    algorithm: QDAlgorithm
    rows: list[dict[str, float]]

    @property
    def archive(self):
        return self.algorithm.archive


def make_algorithm(
    algorithm: str, evaluator, *, config=None, archive: str = "grid", seed: int = 0, centroids=None
) -> QDAlgorithm:
    """The named algorithm (``me``, ``pga_me``, ``dcg_me``) on ``evaluator`` with ``config`` (default
    :func:`cpu_config`); ``centroids`` fixes a CVT archive's cells."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {sorted(ALGORITHMS)}, got {algorithm!r}")
    cls, config_cls = ALGORITHMS[algorithm]
    config = cpu_config(algorithm) if config is None else config
    if not isinstance(config, config_cls):
        raise ValueError(
            f"config for {algorithm!r} must be a {config_cls.__name__}, got {type(config).__name__}"
        )
    return cls(evaluator, config, archive=archive, seed=seed, centroids=centroids)


def run_qd(
    algorithm: str,
    task: str = "pointmaze",
    evals: int = 2000,
    seed: int = 0,
    archive: str = "grid",
    out: str | Path | None = None,
    resume: bool = False,
    *,
    config=None,
    episode_length: int | None = None,
    checkpoint_every: int = 10,
    evaluator=None,
    progress: bool = False,
    console: Console | None = None,
) -> QDRun:
    """Run ``algorithm`` on ``task`` until ``evals`` evaluations (see the module docstring for files).

    ``evaluator`` replaces the default
    ``envs.qd.evaluator.BatchEvaluator(task, episode_length=episode_length, seed=seed)`` (a checkpoint
    records a ``BatchEvaluator``'s settings, so a run that saves one must use that class). With ``resume``,
    the algorithm, its configuration, archive and evaluator come from ``out/checkpoint.json`` and
    ``out/checkpoint.pt`` and only ``evals`` (the new total) is taken from the arguments.
    """
    if evals < 1:
        raise ValueError(f"evals must be >= 1, got {evals}")
    if checkpoint_every < 1:
        raise ValueError(f"checkpoint_every must be >= 1, got {checkpoint_every}")
    out = Path(out) if out is not None else None
    if resume and out is None:
        raise ValueError(f"resume=True needs out/{STATE}; out is None")
    if resume:
        state, _ = read_checkpoint(out)
        if (state["algorithm"], state["task"]) != (algorithm, getattr(task, "name", task)):
            raise ValueError(
                f"algorithm, task: the checkpoint under {out} is {state['algorithm']} on {state['task']}, "
                f"not {algorithm} on {task}"
            )
        algo, rows, elapsed = load_checkpoint(out)
    else:
        if evaluator is None:
            from envs.qd import BatchEvaluator

            evaluator = BatchEvaluator(task, episode_length=episode_length, seed=seed)
        algo, rows, elapsed = (
            make_algorithm(algorithm, evaluator, config=config, archive=archive, seed=seed),
            [],
            0.0,
        )
    logger = TrainingLogger(
        out,
        evals,
        progress=progress,
        description=f"{algo.name} {algo.task.name}",
        headline=("qd_score", "QD-score"),
        console=console,
    )
    for row in rows:
        logger.log(row["evaluations"], {k: v for k, v in row.items() if k != "evaluations"})
    try:
        while algo.evaluator.evaluations < evals:
            start = time.perf_counter()
            losses = algo.step()
            elapsed += time.perf_counter() - start
            row = {
                "evaluations": algo.evaluator.evaluations,
                **metrics(algo),
                "wall_time_s": elapsed,
                **losses,
            }
            rows.append(row)
            logger.log(row["evaluations"], {k: v for k, v in row.items() if k != "evaluations"})
            if out is not None and algo.iterations % checkpoint_every == 0:
                save_checkpoint(out, algo, rows, elapsed)
    finally:
        logger.close()
    if out is not None:
        save_checkpoint(out, algo, rows, elapsed)
        heatmap(algo, out / "archive.png")
        if isinstance(algo, DCGME):
            targets = cell_centres(algo.archive)
            save_actor(algo.td3.actor, algo.spec, algo.low, algo.high, out / "distilled.pt", targets)
    return QDRun(algo, rows)


def metrics(algo: QDAlgorithm) -> dict[str, float]:
    """The archive's QD-score (offset task.min_fitness), coverage and max fitness, and the cost so far."""
    stats = algo.archive.stats
    return {
        "iteration": algo.iterations,
        "env_steps": algo.evaluator.env_steps,
        "qd_score": float(stats.qd_score),
        "coverage": float(stats.coverage),
        "max_fitness": float("nan") if stats.obj_max is None else float(stats.obj_max),
    }


def cell_centres(archive) -> np.ndarray:
    """The descriptor-space centres [n, D] of the archive's filled cells (grid centres, CVT centroids)."""
    index = archive.data("index")
    if isinstance(archive, GridArchive):
        cells = archive.int_to_grid_index(index)
        return np.stack(
            [(b[c] + b[c + 1]) / 2 for b, c in zip(archive.boundaries, cells.T, strict=True)], axis=1
        )
    return archive.centroids[index]


def save_checkpoint(out: Path, algo: QDAlgorithm, rows: list[dict], elapsed: float) -> None:
    """Save the run's state as ``out/checkpoint.json`` and ``out/checkpoint.pt`` (tensors only), each
    written aside then renamed (see agents/qd/checkpoint.py)."""
    _save_checkpoint(out, algo, rows, elapsed)


def heatmap(algo: QDAlgorithm, path: Path) -> Path | None:
    """The archive's elites coloured by fitness over the two descriptors (None for other descriptor counts).

    Drawn with matplotlib from ``archive.data()``: ``ribs.visualize`` needs seaborn, not a dependency here. A
    ``Figure`` on its own Agg canvas, no pyplot: no global figure state, nothing to close, safe in a thread.
    """
    if len(algo.low) != 2:
        return None
    data = algo.archive.data(["measures", "objective"])
    fig = Figure(figsize=(6, 5))
    FigureCanvasAgg(fig)  # attaches itself as fig.canvas
    ax = fig.subplots()
    if isinstance(algo.archive, GridArchive):
        image = np.full(algo.archive.dims[::-1], np.nan)
        cells = algo.archive.int_to_grid_index(algo.archive.index_of(data["measures"]))
        image[cells[:, 1], cells[:, 0]] = data["objective"]
        x, y = algo.archive.boundaries
        mesh = ax.pcolormesh(x, y, np.ma.masked_invalid(image), cmap="viridis")
    else:
        mesh = ax.scatter(*data["measures"].T, c=data["objective"], s=8, cmap="viridis")
    fig.colorbar(mesh, ax=ax, label="fitness")
    names = algo.task.descriptor_names
    ax.set(
        xlabel=names[0],
        ylabel=names[1],
        title=f"{algo.name} on {algo.task.name}",
        xlim=(algo.low[0], algo.high[0]),
        ylim=(algo.low[1], algo.high[1]),
    )
    fig.savefig(path, dpi=100, bbox_inches="tight")
    return path
