"""``arena bench pg``: every side runs once per seed until solved or out of budget, an unsolved run is charged
the budget, and each comparison is the paired test of the charged times."""

import json

import pytest

from agents.stats import paired_comparison
from benchmarks import parse_seeds, seeds_text
from benchmarks.pg import _compare, _Solved, run_pg_bench


def test_seeds_text_writes_back_what_parse_seeds_reads():
    for text in ("10-19", "3", "0-4,10,12-13", "5,3-4"):
        assert seeds_text(parse_seeds(text)) == text


def test_solved_means_the_last_100_training_episodes_reach_the_threshold():
    solved = _Solved(475.0)
    assert not solved.add([500.0] * 99)  # fewer than 100 episodes never count
    assert solved.add([500.0])
    assert not solved.add([0.0] * 6)  # the last 100: 94 of 500 and 6 of 0
    assert solved.mean() == 470.0


def _side(time_to_solve):
    return {"time_to_solve_s": time_to_solve}


def test_an_unsolved_run_is_charged_the_budget_and_ratios_are_theirs_over_ours():
    runs = [
        {"seed": 10, "ours": _side(2.0), "zoo": _side(20.0)},
        {"seed": 11, "ours": _side(4.0), "zoo": _side(None)},  # charged 100 s
        {"seed": 12, "ours": _side(None), "zoo": _side(30.0)},  # ours charged 100 s
    ]
    comparison = _compare(runs, "zoo", budget_s=100.0)
    assert comparison["ratios"] == pytest.approx([10.0, 25.0, 0.3])
    assert comparison["median_ratio"] == pytest.approx(10.0)
    assert comparison["solved"] == {"ours": 2, "zoo": 2}
    expected = paired_comparison([2.0, 4.0, 100.0], [20.0, 100.0, 30.0], higher_is_better=False)
    assert (comparison["wins"], comparison["losses"]) == (expected.wins, expected.losses) == (2, 1)
    assert comparison["wilcoxon_p"] == pytest.approx(expected.wilcoxon_p)


@pytest.mark.slow
def test_pg_bench_runs_every_side_once_per_seed_within_the_budget(tmp_path):
    budget = 2.0
    results = run_pg_bench("CartPole-v1", seeds=(10, 11), budget_s=budget, device="cpu", out_dir=tmp_path)
    stored = json.loads((tmp_path / "pg_CartPole-v1.json").read_text())
    assert (tmp_path / "pg_CartPole-v1.png").stat().st_size > 0
    assert stored["seeds"] == [run["seed"] for run in stored["runs"]] == [10, 11]
    assert set(stored["comparisons"]) == {"zoo", "same_updates"}
    for run in results["runs"]:
        for side in ("ours", "zoo", "same_updates"):
            figures = run[side]
            # A run stops at the first check past the budget: one update (ours) or one vector step (SB3).
            assert figures["wall_s"] < budget + 1.0
            assert figures["time_to_solve_s"] is None or figures["time_to_solve_s"] <= figures["wall_s"]
            assert figures["curve"][-1]["step"] == figures["steps"] > 0
    for reference in ("zoo", "same_updates"):
        assert stored["comparisons"][reference] == json.loads(
            json.dumps(_compare(stored["runs"], reference, budget))
        )
