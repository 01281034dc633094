"""``arena bench search``: the search env's speed, BM25's speed, and the GRPO-family learners side by side.

Measured in one run, on one CPU core: env steps/s of the structured and text interfaces under random play
(``search/random``; only ``env.step`` is timed, best of three windows), BM25 queries/s over the held-out
question texts (best of three windows), and for each estimator and seed a training run of
:func:`agents.search.grpo.learn` on 1-2 hop questions: its CPU seconds, held-out exact match and searches on
2-hop questions before and after, its learning curve and the curve's mean (a measure of learning speed).
Writes ``search.json`` and ``search_learning.png`` (training exact match and searches per update, mean over
seeds with the min-max band) to out_dir.
"""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from agents.search.grpo import ESTIMATORS, SearchGRPOConfig, learn
from arena.cli import output
from benchmarks import BenchOut, benchmark
from benchmarks._machine import cpu_name


def env_steps_per_second(interface: str, steps: int, windows: int = 3) -> float:
    """Steps/s of ``env.step`` alone, random legal play on 1-4 hop questions, best of ``windows`` windows."""
    from agents.base import EnvSpaces
    from agents.baselines.search import random_searcher
    from envs.search.env import SearchQAEnv

    env = SearchQAEnv(interface=interface)
    agent = random_searcher(EnvSpaces.of(env), seed=0)
    observation, info = env.reset(seed=0)
    best = 0.0
    for _ in range(windows):
        spent = 0.0
        for _ in range(steps // windows):
            action = agent.act(observation, info)
            start = time.perf_counter()
            observation, _, terminated, truncated, info = env.step(action)
            spent += time.perf_counter() - start
            if terminated or truncated:
                observation, info = env.reset()
        best = max(best, (steps // windows) / spent)
    return best


def bm25_queries_per_second(repeats: int = 5, windows: int = 3) -> float:
    """Top-3 BM25 queries/s (tokenising included) over every held-out question text, best of ``windows``."""
    from envs.search.corpus import build_corpus

    corpus = build_corpus(0)
    queries = [q.text for qs in corpus.questions["test"].values() for q in qs] * repeats
    best = 0.0
    for _ in range(windows):
        start = time.perf_counter()
        for query in queries:
            corpus.search(query, 3)
        best = max(best, len(queries) / (time.perf_counter() - start))
    return best


def learning_runs(estimators, seeds, updates: int) -> dict[str, list[dict[str, Any]]]:
    """One training run per estimator and seed on 1-2 hop questions; CPU seconds, evals and curves."""
    runs: dict[str, list[dict[str, Any]]] = {}
    for estimator, seed in itertools.product(estimators, seeds):
        start = time.process_time()
        agent = learn(SearchGRPOConfig(estimator=estimator, updates=updates), seed=seed)
        history = agent.history
        runs.setdefault(estimator, []).append(
            {
                "seed": seed,
                "cpu_s": time.process_time() - start,
                "env_steps": history["env_steps"],
                "initial": history["initial"],
                "final": history["final"],
                "curve_em": [row["charts/em"] for row in history["updates"]],
                "mean_training_em": float(np.mean([row["charts/em"] for row in history["updates"]])),
                "curve_searches": [row["charts/num_searches"] for row in history["updates"]],
            }
        )
    return runs


def run_search_bench(
    *,
    estimators: tuple[str, ...] = ESTIMATORS,
    seeds: tuple[int, ...] = (0, 1, 2),
    updates: int = 60,
    steps: int = 6000,
    out_dir: Path = Path("results/bench"),
    console: Console | None = None,
) -> dict[str, Any]:
    """Measure, print a table, write ``search.json`` and ``search_learning.png``; returns the results."""
    import torch

    console = console or Console()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        results = {
            "cpu": cpu_name(),
            "env_steps_per_s": {i: env_steps_per_second(i, steps) for i in ("structured", "text")},
            "bm25_queries_per_s": bm25_queries_per_second(),
            "learning": {"updates": updates, "config": SearchGRPOConfig().__dict__ | {"updates": updates}},
        }
        results["learning"]["runs"] = learning_runs(estimators, seeds, updates)
    finally:
        torch.set_num_threads(threads)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "search.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    _plot(results["learning"]["runs"], out_dir / "search_learning.png")
    _print(console, results)
    return results


def _plot(runs: dict[str, list[dict[str, Any]]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(11, 4))
    for estimator, seed_runs in runs.items():
        for axis, key in zip(axes, ("curve_em", "curve_searches"), strict=True):
            curves = np.array([r[key] for r in seed_runs])
            x = np.arange(1, curves.shape[1] + 1)
            axis.plot(x, curves.mean(0), label=estimator)
            axis.fill_between(x, curves.min(0), curves.max(0), alpha=0.15)
    axes[0].set(xlabel="update", ylabel="training exact match", title="exact match (1-2 hops)")
    axes[1].set(xlabel="update", ylabel="searches per episode", title="searches (1-2 hops)")
    axes[0].legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def _print(console: Console, results: dict[str, Any]) -> None:
    speed = Table(title=f"search env speed on {results['cpu']} (one core)")
    speed.add_column("measure")
    speed.add_column("per second", justify="right")
    for interface, rate in results["env_steps_per_s"].items():
        speed.add_row(f"env steps ({interface})", f"{rate:,.0f}")
    speed.add_row("BM25 top-3 queries", f"{results['bm25_queries_per_s']:,.0f}")
    console.print(speed)
    learning = Table(title=f"learning on 1-2 hop questions, {results['learning']['updates']} updates per run")
    for column in (
        "estimator",
        "held-out EM before",
        "after (per seed)",
        "2-hop searches after",
        "mean training EM",
        "CPU s/run",
    ):
        learning.add_column(column, justify="left" if column == "estimator" else "right")
    for estimator, runs in results["learning"]["runs"].items():
        learning.add_row(
            estimator,
            f"{np.mean([r['initial']['sampled/em'] for r in runs]):.2f}",
            " ".join(f"{r['final']['sampled/em']:.2f}" for r in runs),
            " ".join(f"{r['final']['sampled/searches_2hop']:.2f}" for r in runs),
            " ".join(f"{r['mean_training_em']:.3f}" for r in runs),
            f"{np.mean([r['cpu_s'] for r in runs]):.0f}",
        )
    console.print(learning)


@benchmark("search")
def search_command(
    seeds: Annotated[int, typer.Option(min=1, help="Training seeds per estimator.")] = 3,
    updates: Annotated[int, typer.Option(min=1, help="Policy updates per training run.")] = 60,
    steps: Annotated[int, typer.Option(min=100, help="Env steps timed per interface.")] = 6000,
    out: BenchOut = Path("results/bench"),
) -> None:
    """Search QA: env steps/s (text and structured), BM25 queries/s, and the learning curves of GRPO,
    Dr. GRPO, RLOO, SAN, SPO and EMPG side by side.

    Example: [bold]arena bench search --seeds 3[/]
    """
    run_search_bench(
        seeds=tuple(range(seeds)), updates=updates, steps=steps, out_dir=out, console=output.console
    )
