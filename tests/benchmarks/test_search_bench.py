"""``arena bench search`` in a reduced form: it writes its JSON and plot, and its numbers hang together."""

import json

from rich.console import Console

from benchmarks.search import run_search_bench


def test_search_bench_writes_json_and_plot_with_positive_rates(tmp_path):
    console = Console(record=True, width=140)
    results = run_search_bench(
        estimators=("grpo", "san"), seeds=(0,), updates=2, steps=300, out_dir=tmp_path, console=console
    )
    saved = json.loads((tmp_path / "search.json").read_text())
    assert (tmp_path / "search_learning.png").stat().st_size > 0
    assert saved["env_steps_per_s"]["structured"] > 0 and saved["bm25_queries_per_s"] > 0
    for estimator in ("grpo", "san"):
        (run,) = saved["learning"]["runs"][estimator]
        assert len(run["curve_em"]) == len(run["curve_searches"]) == 2
        assert 0.0 <= run["final"]["sampled/em"] <= 1.0 and run["env_steps"] > 0
    assert results["cpu"] in " ".join(console.export_text().split())  # the table names the CPU
