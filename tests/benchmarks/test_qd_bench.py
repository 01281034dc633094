"""``arena bench qd`` at a toy size: each algorithm and seed reports final numbers at equal evaluations,
and the evaluator benchmark runs end to end on a tiny budget and writes what it prints."""

import json

import pytest
from rich.console import Console

from benchmarks.qd import run_qd_bench, run_qd_eval_bench


def test_qd_bench_writes_per_algorithm_and_seed_results_at_equal_evaluations_and_the_curves(tmp_path):
    results = run_qd_bench(
        "pointmaze", evals=64, seeds=2, out_dir=tmp_path, console=Console(quiet=True), episode_length=20
    )
    stored = json.loads((tmp_path / "qd_pointmaze.json").read_text())
    assert stored == json.loads(json.dumps(results))
    assert set(stored["runs"]) == {"me", "pga_me", "dcg_me"}
    for runs in stored["runs"].values():
        assert [r["seed"] for r in runs] == [0, 1]
        assert all(r["evaluations"] == 64 and 0 < r["coverage"] <= 1 and r["qd_score"] > 0 for r in runs)
    assert (tmp_path / "qd_pointmaze_curves.png").stat().st_size > 0


@pytest.mark.parametrize("task", ["pointmaze", "hopper_uni"])
def test_qd_eval_bench_writes_its_numbers_for_the_same_episodes(task, tmp_path):
    results = run_qd_eval_bench(
        task, batch=3, out_dir=tmp_path, console=Console(quiet=True), episode_length=6, repeats=1
    )
    assert json.loads((tmp_path / f"qd_eval_{task}.json").read_text()) == results
    assert 3 <= results["evaluator"]["env_steps"] <= 3 * 6  # every episode takes at least one step
    for loop in ("evaluator", "raw", "evaluator_mlp", "gym_sync_vector"):
        assert results[loop]["env_steps_per_s"] > 0
    assert results["overhead"] > -1.0


def test_qd_eval_bench_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="batch"):
        run_qd_eval_bench("pointmaze", batch=0, out_dir=tmp_path)
    with pytest.raises(ValueError, match="task"):
        run_qd_eval_bench("maze", out_dir=tmp_path)
