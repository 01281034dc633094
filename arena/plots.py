"""Leaderboard plots (matplotlib's object API, Agg): rating intervals of matches, return distributions of
suites, learning curves.

Each plot is its own ``Figure`` on its own Agg canvas, with no pyplot and so no global figure state: safe in
a server thread. Every text is drawn with mathtext off (``parse_math=False``), so a name such as
``bot$\\frac{1}{0}$`` is drawn as written instead of raising in the mathtext parser.

The leaderboard page shows a figure at its size in CSS inches (:func:`css_size`), so a text of ``s`` pt in
the figure reads as ``s`` pt at 100 % zoom: every text is at least ``MIN_FONT_PT``, and no figure is wider
than ``PAGE_WIDTH_IN``, which the page's column holds without shrinking it. Agents are listed best first
(top), long names are shortened in the middle, and a figure grows with its number of agents so that their
names never overlap.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from arena.results import MatchResult

PLAIN = {"parse_math": False}  # text properties for every string drawn: names come from submissions
MIN_FONT_PT = 9  # the smallest text drawn
FONT_PT = 10  # tick labels and axis labels
TITLE_PT = 11
PAGE_WIDTH_IN = 11.5  # the page's column is 72rem = 12 CSS inches wide
CSS_DPI = 96  # CSS pixels per inch: the page shows a figure at this many pixels per figure inch
PNG_DPI = 2 * CSS_DPI  # drawn at twice the shown size, so that it stays sharp on high-density screens
LABEL_CHARS = 28  # longer agent names are shortened in the middle
ROW_IN = 0.32  # height per agent: 10 pt names need 0.14 in
OUTLIER_STRETCH = 5.0  # an agent that alone stretches the return axis this much is clipped off it


def rating_intervals_figure(rows: list[dict], title: str) -> Figure:
    """Each agent's rating with its 95 % interval, in the order of ``rows`` (best, the first, on top);
    unbounded ends are drawn to the axis edge."""
    finite = [v for row in rows for v in (row["low"], row["high"]) if v is not None]
    left, right = (min(finite), max(finite)) if finite else (900.0, 1100.0)
    fig = _figure((7.0, ROW_IN * len(rows) + 1.3))
    ax = fig.subplots()
    top = len(rows) - 1
    for i, row in enumerate(rows):
        low = row["low"] if row["low"] is not None else left
        high = row["high"] if row["high"] is not None else right
        ax.plot([low, high], [top - i, top - i], color="tab:blue", linewidth=3, solid_capstyle="butt")
        ax.plot(row["rating"], top - i, "o", color="black")
    ax.set_yticks([top - i for i in range(len(rows))], _labels([row["agent"] for row in rows]), **PLAIN)
    ax.set_ylim(-0.6, top + 0.6)
    ax.set_xlabel("rating (Bradley–Terry, Elo scale) with 95 % bootstrap interval", fontsize=FONT_PT, **PLAIN)
    ax.set_title(title, fontsize=TITLE_PT, **PLAIN)
    ax.tick_params(labelsize=FONT_PT)
    ax.grid(axis="x", alpha=0.3)
    return fig


def return_distributions_figure(results: Sequence[MatchResult], agents: Sequence[str], title: str) -> Figure:
    """Per env, a box plot of each agent's episode returns, agents in the order of ``agents`` (best on top;
    agents not named there follow by name). Two envs to a row, the agents named on the left of each row.

    Where one agent's returns alone stretch an env's axis more than ``OUTLIER_STRETCH`` times the others'
    range, the axis is clipped to the others' range, labelled so, and that agent's median is written at the
    edge it lies beyond."""
    by_env: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for result in results:
        for p in result.participants:
            by_env[result.env_id][p.agent].append(p.score)
    envs = sorted(by_env)
    played = {agent for returns in by_env.values() for agent in returns}
    order = [a for a in agents if a in played] + sorted(played - set(agents))
    position = {agent: len(order) - i for i, agent in enumerate(order)}  # best at the top
    labels = dict(zip(order, _labels(order), strict=True))
    columns = min(2, len(envs))
    rows = math.ceil(len(envs) / columns)
    width = PAGE_WIDTH_IN if columns == 2 else 7.0
    fig = _figure((width, rows * (ROW_IN * len(order) + 1.1) + 0.5))
    axes = fig.subplots(rows, columns, squeeze=False, sharey=True)
    for ax in axes.flat[len(envs) :]:
        ax.remove()
    for ax, env_id in zip(axes.flat, envs, strict=False):
        returns = by_env[env_id]
        here = [a for a in order if a in returns]
        ax.boxplot(
            [returns[a] for a in here], positions=[position[a] for a in here], orientation="horizontal"
        )
        ax.set_yticks([position[a] for a in order], [labels[a] for a in order], **PLAIN)
        ax.set_ylim(0.4, len(order) + 0.6)
        ax.set_title(env_id.removeprefix("arena/"), fontsize=FONT_PT, **PLAIN)
        ax.tick_params(labelsize=FONT_PT)
        ax.grid(axis="x", alpha=0.3)
        clipped = _outlier_limits(returns)
        if clipped is None:
            ax.set_xlabel("episode return", fontsize=FONT_PT, **PLAIN)
            continue
        outlier, low, high = clipped
        ax.set_xlim(low, high)
        ax.set_xlabel("episode return (axis clipped to the other agents)", fontsize=FONT_PT, **PLAIN)
        median = statistics.median(returns[outlier])
        below = median < low
        ax.text(
            0.01 if below else 0.99,
            position[outlier],
            f"{'← ' if below else ''}median {median:.3g}{'' if below else ' →'}",
            transform=ax.get_yaxis_transform(),
            ha="left" if below else "right",
            va="center",
            fontsize=MIN_FONT_PT,
            **PLAIN,
        )
    fig.suptitle(title, fontsize=TITLE_PT, **PLAIN)
    return fig


def learning_curve_png(progress_csv: Path, path: Path, title: str) -> Path:
    """Mean episodic return against environment steps (``charts/env_steps`` where the learner counts
    updates in ``global_step``), from a training run's ``progress.csv``, written to ``path`` as PNG; returns
    ``path``."""
    with progress_csv.open() as handle:
        rows = [r for r in csv.DictReader(handle) if r.get("charts/episodic_return") not in (None, "", "nan")]
    steps = "charts/env_steps" if rows and "charts/env_steps" in rows[0] else "global_step"
    fig = _figure((6.5, 3.8))
    ax = fig.subplots()
    ax.plot([float(r[steps]) for r in rows], [float(r["charts/episodic_return"]) for r in rows])
    ax.set_xlabel("environment steps", **PLAIN)
    ax.set_ylabel("mean episodic return", **PLAIN)
    ax.set_title(title, **PLAIN)
    ax.grid(alpha=0.3)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png(fig))
    return path


def png(fig: Figure) -> bytes:
    """``fig`` encoded as PNG at ``PNG_DPI``."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=PNG_DPI)
    return buffer.getvalue()


def css_size(fig: Figure) -> tuple[int, int]:
    """The width and height in CSS pixels at which the page shows ``fig``: its size in inches at 96 px."""
    return round(fig.get_figwidth() * CSS_DPI), round(fig.get_figheight() * CSS_DPI)


def _labels(agents: list[str]) -> list[str]:
    """The agents' names as drawn: each longer than ``LABEL_CHARS`` shortened in the middle, unless that
    would make two of them equal."""
    keep = LABEL_CHARS - 10
    short = [a if len(a) <= LABEL_CHARS else f"{a[:keep]}…{a[-9:]}" for a in agents]
    return short if len(set(short)) == len(set(agents)) else list(agents)


def _outlier_limits(returns: dict[str, list[float]]) -> tuple[str, float, float] | None:
    """The agent whose returns alone stretch the axis over ``OUTLIER_STRETCH`` times the others' range, with
    that range padded by a tenth; None if no agent does (or fewer than three played)."""
    if len(returns) < 3:
        return None
    every = [v for values in returns.values() for v in values]
    span = max(every) - min(every)
    found = None
    for agent in returns:
        others = [v for other, values in returns.items() if other != agent for v in values]
        low, high = min(others), max(others)
        if (high - low) * OUTLIER_STRETCH < span and (found is None or high - low < found[2] - found[1]):
            found = (agent, low, high)
    if found is None:
        return None
    agent, low, high = found
    pad = 0.1 * (high - low) or 0.1 * abs(high) or 1.0
    return agent, low - pad, high + pad


def _figure(size: tuple[float, float]) -> Figure:
    fig = Figure(figsize=size, layout="constrained")  # lays out titles, labels and names without overlaps
    FigureCanvasAgg(fig)  # attaches itself as fig.canvas
    return fig
