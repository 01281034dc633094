"""``arena bench qd`` at a toy size: the algorithms run on the seeds asked for and are compared, paired by
seed, at each budget; the evaluator benchmark runs end to end on a tiny budget and writes what it prints."""

import json

import numpy as np
import pytest
from rich.console import Console
from typer.testing import CliRunner

from arena.cli import app
from benchmarks.qd import run_qd_bench, run_qd_eval_bench


def test_qd_bench_runs_the_seeds_asked_for_and_compares_each_pair_by_seed_at_each_budget(tmp_path):
    """Batches of 32: 32 evaluations is the initial archive, 64 one iteration later. Each comparison counts
    a seed as a win where A's final QD-score is above B's, and its mean difference is that of the scores."""
    budgets = ["--evals", "64", "--evals", "32", "--episode-length", "20", "--no-throughput"]
    files = ["--out", str(tmp_path), "--json", str(tmp_path / "qd.json")]
    result = CliRunner().invoke(
        app, ["bench", "qd", "--seeds", "7,3", *budgets, *files], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    stored = json.loads((tmp_path / "qd.json").read_text())
    assert stored["seeds"] == [7, 3]
    assert [budget["evals"] for budget in stored["budgets"]] == [32, 64]
    for budget in stored["budgets"]:
        runs = budget["runs"]
        assert set(runs) == {"me", "pga_me", "dcg_me"}
        for per_seed in runs.values():
            assert [r["seed"] for r in per_seed] == [7, 3]
            assert all(r["evaluations"] == budget["evals"] and r["qd_score"] > 0 for r in per_seed)
        assert set(budget["comparisons"]) == {"pga_me_vs_me", "dcg_me_vs_me", "dcg_me_vs_pga_me"}
        for key, comparison in budget["comparisons"].items():
            a, b = key.split("_vs_")
            difference = np.array([r["qd_score"] for r in runs[a]]) - [r["qd_score"] for r in runs[b]]
            assert (comparison["wins"], comparison["losses"]) == (
                (difference > 0).sum(),
                (difference < 0).sum(),
            )
            assert comparison["seeds"] == 2
            assert comparison["mean_difference"] == pytest.approx(difference.mean())
            assert comparison["summary"].replace(" ", "") in result.output.replace("\n", "").replace(" ", "")
    assert (tmp_path / "qd_pointmaze_curves.png").stat().st_size > 0


def test_qd_bench_needs_two_seeds_for_its_paired_comparison(tmp_path):
    with pytest.raises(ValueError, match="at least 2 seeds"):
        run_qd_bench("pointmaze", evals=[32], seeds=[0], out_dir=tmp_path, console=Console(quiet=True))


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
