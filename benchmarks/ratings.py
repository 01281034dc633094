"""``arena bench ratings``: how often the leaderboard's 95 % rating intervals cover the true strength.

Synthetic round-robin tournaments with known strengths: ``agents`` agents, log-strengths evenly spaced over
:data:`SPREAD` nats, play every pair ``games`` times with the seats alternating; the first seat adds
:data:`SIDE_ADVANTAGE` nats, which the fit absorbs in its side parameters. Ratings are identified only up to a
common offset, so the truth is centred exactly as the estimate is (mean of the agents 1000 Elo) and an
interval covers when it holds its agent's centred true rating. Each tournament is fitted once and bootstrapped
once; from the same replicates come the studentised (bootstrap-t) intervals the leaderboard shows, the
percentile intervals it showed before, and, for reference, the Wald interval rating +- z se. Tournament t of
seed s draws from ``numpy.random.default_rng([s, t])``. Writes ``ratings.json`` to ``out``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.table import Table
from scipy import stats

from agents.stats import wilson_interval
from arena.cli import output
from arena.ratings import (
    ELO_ANCHOR,
    ELO_PER_NAT,
    PairwiseOutcomes,
    bootstrap_ratings,
    percentile_interval,
    studentized_interval,
)
from benchmarks import BenchOut, Seeds, benchmark, seeds_text
from benchmarks._machine import cpu_name

METHODS = ("studentized", "percentile", "wald")
SHOWN = "studentized"  # what the leaderboard computes
BEFORE = "percentile"  # what it computed before
SPREAD = 2.0  # nats between the weakest and the strongest agent (347 Elo)
SIDE_ADVANTAGE = 0.3  # nats the first seat adds
CONFIDENCE = 0.95


def round_robin(
    rng: np.random.Generator, strengths: np.ndarray, games: int, side_advantage: float
) -> PairwiseOutcomes:
    """Every pair of agents plays ``games`` duels, agent i on the first seat in the even ones; one pair of
    seats per match, the first seat winning with probability sigmoid(s_first - s_second + side_advantage)."""
    i, j = np.triu_indices(len(strengths), 1)
    i, j = np.repeat(i, games), np.repeat(j, games)
    swap = np.tile(np.arange(games) % 2 == 1, len(strengths) * (len(strengths) - 1) // 2)
    first, second = np.where(swap, j, i), np.where(swap, i, j)
    margin = strengths[first] - strengths[second] + side_advantage
    score = (rng.random(len(first)) < 1.0 / (1.0 + np.exp(-margin))).astype(float)
    matches = len(first)
    return PairwiseOutcomes(
        agents=tuple(f"a{k:03d}" for k in range(len(strengths))),
        sides=("first", "second"),
        match_ids=tuple(f"m{m:06d}" for m in range(matches)),
        match=np.arange(matches),
        first=first,
        second=second,
        first_side=np.zeros(matches, dtype=np.int64),
        second_side=np.ones(matches, dtype=np.int64),
        score=score,
    )


def intervals(outcomes: PairwiseOutcomes, bootstrap: int, seed: int) -> dict[str, tuple]:
    """Each method's 95 % (low, high) per agent, from one fit and one set of bootstrap replicates."""
    fit = bootstrap_ratings(outcomes, bootstrap=bootstrap, seed=seed)
    z = stats.norm.ppf(0.5 + CONFIDENCE / 2.0)
    return {
        "studentized": studentized_interval(fit, CONFIDENCE),
        "percentile": percentile_interval(fit, CONFIDENCE),
        "wald": (fit.rating - z * fit.se, fit.rating + z * fit.se),
    }


def coverage(
    seeds: tuple[int, ...],
    *,
    agents: int,
    games: int,
    tournaments: int,
    bootstrap: int = 200,
) -> dict[str, Any]:
    """Coverage of each method over ``tournaments`` tournaments per seed: intervals, hits, the proportion
    with its 95 % Wilson interval, and the mean width (Elo)."""
    if agents < 2 or games < 1 or tournaments < 1 or bootstrap < 1 or not seeds:
        raise ValueError(
            f"agents={agents} (>= 2), games={games}, tournaments={tournaments}, bootstrap={bootstrap} "
            f"(each >= 1) and at least one seed are needed"
        )
    strengths = np.linspace(-SPREAD / 2.0, SPREAD / 2.0, agents)
    truth = ELO_ANCHOR + ELO_PER_NAT * (strengths - strengths.mean())
    hits = dict.fromkeys(METHODS, 0)
    widths: dict[str, list[float]] = {method: [] for method in METHODS}
    for seed in seeds:
        for t in range(tournaments):
            rng = np.random.default_rng([seed, t])
            outcomes = round_robin(rng, strengths, games, SIDE_ADVANTAGE)
            found = intervals(outcomes, bootstrap, int(rng.integers(2**31)))
            for method, (low, high) in found.items():
                hits[method] += int(((low <= truth) & (truth <= high)).sum())
                widths[method].append(float(np.mean(high - low)))
    total = agents * tournaments * len(seeds)
    return {
        method: {
            "intervals": total,
            "hits": hits[method],
            "coverage": hits[method] / total,
            "wilson_95": list(wilson_interval(hits[method], total)),
            "mean_width_elo": float(np.mean(widths[method])),
        }
        for method in METHODS
    }


def run_ratings_bench(
    seeds: tuple[int, ...],
    *,
    agents: int,
    games: tuple[int, ...],
    tournaments: int,
    bootstrap: int,
    out_dir: Path,
    console: Console | None = None,
) -> dict[str, Any]:
    """Measure every setting (one per entry of ``games``), print the table and write ``ratings.json``;
    returns what it wrote."""
    console = console or Console()
    start = time.perf_counter()
    settings = [
        {
            "agents": agents,
            "games_per_pair": g,
            "tournaments": tournaments * len(seeds),
            **coverage(seeds, agents=agents, games=g, tournaments=tournaments, bootstrap=bootstrap),
        }
        for g in games
    ]
    results = {
        "cpu": cpu_name(),
        "seeds": seeds_text(seeds),
        "method": SHOWN,
        "before": BEFORE,
        "bootstrap": bootstrap,
        "confidence": CONFIDENCE,
        "spread_nats": SPREAD,
        "side_advantage_nats": SIDE_ADVANTAGE,
        "settings": settings,
        "seconds": time.perf_counter() - start,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "ratings.json").write_text(json.dumps(results, indent=2))
    _print(console, results)
    return results


def _print(console: Console, results: dict[str, Any]) -> None:
    table = Table(title=f"95 % rating interval coverage, seeds {results['seeds']}")
    for column in ("agents", "games/pair", "intervals", "method", "coverage [Wilson 95 %]", "mean width"):
        table.add_column(column)
    for setting in results["settings"]:
        for method in METHODS:
            found = setting[method]
            low, high = found["wilson_95"]
            name = {results["method"]: f"{method} (shown)", results["before"]: f"{method} (before)"}.get(
                method, method
            )
            table.add_row(
                str(setting["agents"]),
                str(setting["games_per_pair"]),
                str(found["intervals"]),
                name,
                f"{100 * found['coverage']:.2f} % [{100 * low:.2f}, {100 * high:.2f}]",
                f"{found['mean_width_elo']:.1f} Elo",
            )
    console.print(table)
    console.print(
        f"shown: {results['method']} (before: {results['before']}), {results['bootstrap']} bootstrap "
        f"replicates per tournament; device: {results['cpu']}"
    )


@benchmark("ratings")
def ratings_command(
    seeds: Seeds = "10-19",
    agents: Annotated[int, typer.Option(min=2, help="Agents per tournament.")] = 8,
    games: Annotated[
        list[int], typer.Option(min=1, help="Games per pair of agents; repeat for several settings.")
    ] = (10, 30),
    tournaments: Annotated[int, typer.Option(min=1, help="Tournaments per seed and setting.")] = 100,
    bootstrap: Annotated[int, typer.Option(min=1, help="Bootstrap replicates per tournament.")] = 200,
    out: BenchOut = Path("results/bench"),
) -> None:
    """Coverage of the leaderboard's 95 % rating intervals (studentised bootstrap, against the percentile
    bootstrap it replaced and the Wald interval) on round robins with known strengths, per games per pair.

    Example: [bold]arena bench ratings --games 10 --games 30 --seeds 10-19[/]
    """
    run_ratings_bench(
        seeds,
        agents=agents,
        games=tuple(games),
        tournaments=tournaments,
        bootstrap=bootstrap,
        out_dir=out,
        console=output.console,
    )
