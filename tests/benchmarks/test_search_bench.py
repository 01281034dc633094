"""``arena bench search`` in a reduced form: it writes its JSON and plot, its shortcut measurements show no
shortcut, and its comparisons are the paired comparisons of its own per-seed runs."""

import json

import numpy as np
import pytest
from rich.console import Console

from agents.stats import paired_comparison
from benchmarks.search import run_search_bench


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    """Two estimators, two seeds, two updates (comparisons at 1 and 2 updates)."""
    out = tmp_path_factory.mktemp("search")
    console = Console(record=True, width=200)
    results = run_search_bench(
        estimators=("grpo", "san"), seeds=(0, 1), updates=2, steps=300, out_dir=out, console=console
    )
    return results, json.loads((out / "search.json").read_text()), console.export_text(), out


def test_search_bench_writes_json_and_plot_with_positive_rates(bench):
    results, saved, text, out = bench
    assert (out / "search_learning.png").stat().st_size > 0
    assert saved["env_steps_per_s"]["structured"] > 0 and saved["bm25_queries_per_s"] > 0
    for estimator in ("grpo", "san"):
        assert [run["seed"] for run in saved["learning"]["runs"][estimator]] == [0, 1]
        for run in saved["learning"]["runs"][estimator]:
            assert len(run["curve_em"]) == len(run["curve_searches"]) == 2
            assert 0.0 <= run["half"]["sampled/em"] <= 1.0 and 0.0 <= run["final"]["sampled/em"] <= 1.0
    assert results["cpu"] in " ".join(text.split())  # the tables name the CPU


def test_search_bench_shortcuts_pay_nothing_on_multi_hop_questions(bench):
    """Prior-only EM at most 0.02 at every hop count; one search (question or entity, top 3 or 10) shows
    the answer of every 1-hop and of no multi-hop held-out question."""
    _, saved, _, _ = bench
    shortcuts = saved["shortcuts"]
    assert set(shortcuts["prior_only_em"]) == {"1", "2", "3", "4"}
    assert max(shortcuts["prior_only_em"].values()) <= 0.02
    assert set(shortcuts["single_query_shows_answer"]) == {"3", "10"}
    for by_query in shortcuts["single_query_shows_answer"].values():
        for rates in by_query.values():
            assert rates == {"1": 1.0, "2": 0.0, "3": 0.0, "4": 0.0}


def test_search_bench_comparisons_are_paired_over_its_own_runs_at_half_and_all_updates(bench):
    """SAN against GRPO on the held-out EM and the curve mean at 1 and 2 updates: each entry is
    paired_comparison of the saved per-seed scores, and its summary line is printed."""
    _, saved, text, _ = bench
    runs, comparisons = saved["learning"]["runs"], saved["learning"]["comparisons"]
    scores = {
        "held_out_em_at_1_updates": lambda r: r["half"]["sampled/em"],
        "held_out_em_at_2_updates": lambda r: r["final"]["sampled/em"],
        "curve_mean_at_1_updates": lambda r: float(np.mean(r["curve_em"][:1])),
        "curve_mean_at_2_updates": lambda r: float(np.mean(r["curve_em"])),
    }
    assert set(comparisons) == set(scores)
    for name, score in scores.items():
        expected = paired_comparison([score(r) for r in runs["san"]], [score(r) for r in runs["grpo"]])
        assert comparisons[name]["san"]["wins"] == expected.wins and comparisons[name]["san"]["seeds"] == 2
        assert comparisons[name]["san"]["mean_difference"] == pytest.approx(expected.mean_difference)
        assert expected.summary("san", "grpo") in " ".join(text.split())
