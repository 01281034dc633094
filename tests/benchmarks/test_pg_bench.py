"""``arena bench pg``: both PPOs run once per seed, and each comparison is the paired test of those runs."""

import json

import pytest

from agents.stats import paired_comparison
from benchmarks import parse_seeds, seeds_text
from benchmarks.pg import run_pg_bench


def test_seeds_text_writes_back_what_parse_seeds_reads():
    for text in ("10-19", "3", "0-4,10,12-13", "5,3-4"):
        assert seeds_text(parse_seeds(text)) == text


@pytest.mark.slow
def test_pg_bench_runs_each_seed_and_pairs_the_two_sides_by_seed(tmp_path):
    results = run_pg_bench("CartPole-v1", steps=4096, seeds=(10, 11), device="cpu", out_dir=tmp_path)
    stored = json.loads((tmp_path / "pg_CartPole-v1.json").read_text())
    assert stored["seeds"] == [run["seed"] for run in stored["runs"]] == [10, 11]
    throughput = {side: [run[side]["steps_per_s"] for run in results["runs"]] for side in ("ours", "sb3")}
    expected = paired_comparison(throughput["ours"], throughput["sb3"])
    stored_throughput = stored["comparisons"]["steps_per_s"]
    assert stored_throughput["wins"] + stored_throughput["losses"] + stored_throughput["ties"] == 2
    assert stored_throughput["wins"] == expected.wins
    assert stored_throughput["interval"] == pytest.approx(list(expected.interval))
    assert set(stored["comparisons"]) == {
        "steps_per_s",
        "return_at_2048_steps",
        "return_at_4096_steps",
        "time_to_threshold_s",
    }
    final = {side: [run[side]["final_return"] for run in results["runs"]] for side in ("ours", "sb3")}
    at_budget = stored["comparisons"]["return_at_4096_steps"]
    assert at_budget["mean_difference"] == pytest.approx(
        paired_comparison(final["ours"], final["sb3"]).mean_difference
    )
