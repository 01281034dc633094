"""Leaderboard plots (matplotlib's object API, Agg): rating intervals of matches, return distributions of
suites, learning curves.

Each plot is its own ``Figure`` on its own Agg canvas, with no pyplot and so no global figure state: safe in
a server thread. Every text is drawn with mathtext off (``parse_math=False``), so a name such as
``bot$\\frac{1}{0}$`` is drawn as written instead of raising in the mathtext parser.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from arena.results import MatchResult

PLAIN = {"parse_math": False}  # text properties for every string drawn: names come from submissions


def rating_intervals_png(rows: list[dict], path: Path, title: str) -> Path:
    """Each agent's rating with its 95 % interval, best on top; unbounded ends are drawn to the axis edge."""
    rows = list(reversed(rows))
    finite = [v for row in rows for v in (row["low"], row["high"]) if v is not None]
    left, right = (min(finite), max(finite)) if finite else (900.0, 1100.0)
    fig = _figure((7, 0.45 * len(rows) + 1.2))
    ax = fig.subplots()
    for y, row in enumerate(rows):
        low = row["low"] if row["low"] is not None else left
        high = row["high"] if row["high"] is not None else right
        ax.plot([low, high], [y, y], color="tab:blue", linewidth=3, solid_capstyle="butt")
        ax.plot(row["rating"], y, "o", color="black")
    ax.set_yticks(range(len(rows)), [row["agent"] for row in rows], **PLAIN)
    ax.set_xlabel("rating (Bradley–Terry, Elo scale) with 95 % bootstrap interval", **PLAIN)
    ax.set_title(title, **PLAIN)
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, path)


def return_distributions_png(results: list[MatchResult], path: Path, title: str) -> Path:
    """Per env, a box plot of each agent's episode returns."""
    by_env: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for result in results:
        for p in result.participants:
            by_env[result.env_id][p.agent].append(p.score)
    envs = sorted(by_env)
    fig = _figure((4.5 * len(envs), 3.6))
    axes = fig.subplots(1, len(envs), squeeze=False)
    for ax, env_id in zip(axes[0], envs, strict=True):
        agents = sorted(by_env[env_id])
        ax.boxplot([by_env[env_id][a] for a in agents], orientation="horizontal")
        ax.set_yticks(range(1, len(agents) + 1), agents, **PLAIN)  # boxes stand at 1..n
        ax.set_title(env_id, fontsize=9, **PLAIN)
        ax.set_xlabel("episode return", **PLAIN)
    fig.suptitle(title, **PLAIN)
    return _save(fig, path)


def learning_curve_png(progress_csv: Path, path: Path, title: str) -> Path:
    """Mean episodic return against environment steps, from a training run's ``progress.csv``."""
    with progress_csv.open() as handle:
        rows = [r for r in csv.DictReader(handle) if r.get("charts/episodic_return") not in (None, "", "nan")]
    fig = _figure((6.5, 3.8))
    ax = fig.subplots()
    ax.plot([float(r["global_step"]) for r in rows], [float(r["charts/episodic_return"]) for r in rows])
    ax.set_xlabel("environment steps", **PLAIN)
    ax.set_ylabel("mean episodic return", **PLAIN)
    ax.set_title(title, **PLAIN)
    ax.grid(alpha=0.3)
    return _save(fig, path)


def _figure(size: tuple[float, float]) -> Figure:
    fig = Figure(figsize=size)
    FigureCanvasAgg(fig)  # attaches itself as fig.canvas
    return fig


def _save(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path
