"""``arena bench search``: the search env's speed, its shortcuts, and the GRPO-family learners paired by seed.

Measured in one run, on one CPU core:

* env steps/s of the structured and text interfaces under random play (``search/random``; only ``env.step``
  is timed, best of three windows) and BM25 queries/s over the held-out question texts (best of three);
* the shortcuts that must not pay, on the held-out (test) split, by hop count: the exact match of an agent
  that never searches and answers the most frequent training answer of the question's relation path
  (:func:`prior_only_em`), and how often one search of the question text or of the entity it names shows a
  document holding the answer (:func:`single_query_shows_answer`, at the learners' ``top_k`` and at the
  largest the env allows);
* per estimator and seed of ``--seeds`` one training run of :func:`agents.search.grpo.learn` on 1-2 hop
  questions (train split): CPU seconds, held-out exact match (sampled play, mean over 1 and 2 hops) and
  searches before, at half the budget and at the end, and the learning curve. Each estimator is compared
  with GRPO, paired by seed (:func:`agents.stats.paired_comparison`), at both budgets, on two scores: the
  held-out exact match and the curve mean (mean training exact match over the updates so far, a measure of
  learning speed). The half-budget numbers come from the same runs: nothing in training depends on the total
  number of updates, so they are what a run of half the updates gives.

Writes ``search.json`` and ``search_learning.png`` (training exact match and searches per update, mean over
seeds with the min-max band) to out_dir.
"""

from __future__ import annotations

import itertools
import json
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from agents.search.grpo import ESTIMATORS, SearchGRPOConfig, learn
from agents.stats import paired_comparison
from arena.cli import output
from benchmarks import EVALUATION_SEEDS, BenchOut, Seeds, benchmark, seeds_text
from benchmarks._machine import cpu_name

BASELINE = "grpo"  # every other estimator is compared with it


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


def prior_only_em(corpus_seed: int = 0) -> dict[int, float]:
    """Held-out exact match, by hop count, of answering at once the most frequent training answer of the
    question's relation path (ties to the answer seen first; no answer for a path never trained on)."""
    from envs.search.corpus import build_corpus
    from envs.search.scoring import exact_match

    corpus = build_corpus(corpus_seed)
    counts: dict[tuple[str, ...], Counter] = {}
    for question in corpus.pool("train", tuple(corpus.questions["train"])):
        counts.setdefault(question.relations, Counter())[question.answers[0]] += 1
    guess = {path: answers.most_common(1)[0][0] for path, answers in counts.items()}
    return {
        hops: float(np.mean([exact_match(guess.get(q.relations, ""), q.answers) for q in questions]))
        for hops, questions in corpus.questions["test"].items()
    }


def single_query_shows_answer(top_k: int, corpus_seed: int = 0) -> dict[str, dict[int, float]]:
    """By query (``question``: the question text, ``entity``: the name of the entity it names) and hop count,
    the share of held-out questions for which one search of ``top_k`` results shows a document that holds the
    answer (name or alias, SQuAD-normalised, as a word sequence of the document as the tools show it)."""
    from envs.search.corpus import build_corpus
    from envs.search.scoring import normalize

    corpus = build_corpus(corpus_seed)

    def shows(query: str, answers: tuple[str, ...]) -> bool:
        shown = [f" {normalize(corpus.document(d))} " for d in corpus.search(query, top_k)]
        return any(f" {normalize(a)} " in document for a in answers for document in shown)

    return {
        name: {
            hops: float(np.mean([shows(query(q), q.answers) for q in questions]))
            for hops, questions in corpus.questions["test"].items()
        }
        for name, query in (("question", lambda q: q.text), ("entity", lambda q: q.subject))
    }


def learning_runs(estimators, seeds, updates: int) -> dict[str, list[dict[str, Any]]]:
    """One training run per estimator and seed on 1-2 hop questions, evaluated on the held-out split before,
    after ``updates // 2`` updates and at the end; CPU seconds, evals and curves."""
    runs: dict[str, list[dict[str, Any]]] = {}
    half = max(1, updates // 2)
    for estimator, seed in itertools.product(estimators, seeds):
        start = time.process_time()
        agent = learn(SearchGRPOConfig(estimator=estimator, updates=updates), seed=seed, evaluate_at=(half,))
        history = agent.history
        runs.setdefault(estimator, []).append(
            {
                "seed": seed,
                "cpu_s": time.process_time() - start,
                "env_steps": history["env_steps"],
                "initial": history["initial"],
                "half": history["checkpoints"][half],
                "final": history["final"],
                "curve_em": [row["charts/em"] for row in history["updates"]],
                "curve_searches": [row["charts/num_searches"] for row in history["updates"]],
            }
        )
    return runs


def comparisons(runs: dict[str, list[dict[str, Any]]], updates: int) -> dict[str, dict[str, dict]]:
    """Each estimator against GRPO, paired by seed, at half and at all of the budget, on the held-out exact
    match (``held_out_em``) and the curve mean (``curve_mean``); each holds
    :meth:`agents.stats.PairedComparison.as_dict` and its ``summary`` line. Empty with fewer than 2 seeds."""
    if BASELINE not in runs or len(runs[BASELINE]) < 2:
        return {}
    half = max(1, updates // 2)
    scores = {
        f"held_out_em_at_{half}_updates": lambda run: run["half"]["sampled/em"],
        f"held_out_em_at_{updates}_updates": lambda run: run["final"]["sampled/em"],
        f"curve_mean_at_{half}_updates": lambda run: float(np.mean(run["curve_em"][:half])),
        f"curve_mean_at_{updates}_updates": lambda run: float(np.mean(run["curve_em"])),
    }
    out: dict[str, dict[str, dict]] = {}
    for estimator, estimator_runs in runs.items():
        if estimator == BASELINE:
            continue
        if [r["seed"] for r in estimator_runs] != [r["seed"] for r in runs[BASELINE]]:
            raise ValueError(f"{estimator} and {BASELINE} ran on different seeds: cannot pair them")
        for name, score in scores.items():
            comparison = paired_comparison(
                [score(r) for r in estimator_runs], [score(r) for r in runs[BASELINE]]
            )
            out.setdefault(name, {})[estimator] = {
                "summary": comparison.summary(estimator, BASELINE),
                **comparison.as_dict(),
            }
    return out


def run_search_bench(
    *,
    estimators: tuple[str, ...] = ESTIMATORS,
    seeds: Sequence[int] = EVALUATION_SEEDS,
    updates: int = 60,
    steps: int = 6000,
    out_dir: Path = Path("results/bench"),
    console: Console | None = None,
) -> dict[str, Any]:
    """Measure, print tables and comparisons, write ``search.json`` and ``search_learning.png``; returns the
    results."""
    import torch

    from envs.search.corpus import MAX_TOP_K

    config = SearchGRPOConfig(updates=updates)
    console = console or Console()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        results = {
            "cpu": cpu_name(),
            "seeds": list(seeds),
            "env_steps_per_s": {i: env_steps_per_second(i, steps) for i in ("structured", "text")},
            "bm25_queries_per_s": bm25_queries_per_second(),
            "shortcuts": {
                "corpus_seed": config.corpus_seed,
                "prior_only_em": prior_only_em(config.corpus_seed),
                "single_query_shows_answer": {
                    k: single_query_shows_answer(k, config.corpus_seed) for k in (config.top_k, MAX_TOP_K)
                },
            },
            "learning": {"updates": updates, "config": config.__dict__},
        }
        runs = learning_runs(estimators, seeds, updates)
        results["learning"] |= {"runs": runs, "comparisons": comparisons(runs, updates)}
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
    shortcuts = results["shortcuts"]
    hops = list(shortcuts["prior_only_em"])
    table = Table(title=f"shortcuts on the held-out questions (corpus seed {shortcuts['corpus_seed']})")
    table.add_column("measure")
    for h in hops:
        table.add_column(f"{h} hop", justify="right")
    table.add_row("prior-only EM", *(f"{shortcuts['prior_only_em'][h]:.3f}" for h in hops))
    for top_k, by_query in shortcuts["single_query_shows_answer"].items():
        for query, rates in by_query.items():
            table.add_row(
                f"one search ({query}, top {top_k}) shows the answer", *(f"{rates[h]:.3f}" for h in hops)
            )
    console.print(table)
    learning = Table(
        title=f"learning on 1-2 hop questions, {results['learning']['updates']} updates per run, "
        f"seeds {seeds_text(results['seeds'])}"
    )
    for column in (
        "estimator",
        "held-out EM before",
        "at half",
        "at end",
        "2-hop searches at end",
        "CPU s/run",
    ):
        learning.add_column(column, justify="left" if column == "estimator" else "right")
    for estimator, runs in results["learning"]["runs"].items():
        learning.add_row(
            estimator,
            f"{np.mean([r['initial']['sampled/em'] for r in runs]):.2f}",
            f"{np.mean([r['half']['sampled/em'] for r in runs]):.2f}",
            f"{np.mean([r['final']['sampled/em'] for r in runs]):.2f}",
            f"{np.mean([r['final']['sampled/searches_2hop'] for r in runs]):.2f}",
            f"{np.mean([r['cpu_s'] for r in runs]):.0f}",
        )
    console.print(learning)
    for name, by_estimator in results["learning"]["comparisons"].items():
        for comparison in by_estimator.values():
            console.print(f"{name}: {comparison['summary']}")


@benchmark("search")
def search_command(
    seeds: Seeds = "10-19",
    updates: Annotated[int, typer.Option(min=2, help="Policy updates per training run.")] = 60,
    estimators: Annotated[
        str,
        typer.Option(
            help=f"Comma-separated estimators to run ({', '.join(ESTIMATORS)}); GRPO is always run."
        ),
    ] = ",".join(ESTIMATORS),
    steps: Annotated[int, typer.Option(min=100, help="Env steps timed per interface.")] = 6000,
    out: BenchOut = Path("results/bench"),
) -> None:
    """Search QA: env steps/s (text and structured), BM25 queries/s, the shortcuts that must not pay (a
    prior-only agent, one search), and GRPO, Dr. GRPO, RLOO, SAN, SPO and EMPG trained once per seed and
    compared with GRPO paired by seed at half and all of the updates.

    Example: [bold]arena bench search --seeds 10-19 --updates 60[/]
    """
    chosen = tuple(e.strip() for e in estimators.split(",") if e.strip())
    unknown = [e for e in chosen if e not in ESTIMATORS]
    if unknown:
        output.fail(f"estimators: unknown {', '.join(unknown)}; known: {', '.join(ESTIMATORS)}")
    chosen = (BASELINE, *(e for e in chosen if e != BASELINE))
    if len(seeds) < 2:
        output.fail(f"seeds: a paired comparison needs at least 2 seeds, got {len(seeds)}")
    run_search_bench(
        estimators=chosen, seeds=seeds, updates=updates, steps=steps, out_dir=out, console=output.console
    )
