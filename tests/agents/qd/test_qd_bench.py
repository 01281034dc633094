"""``arena bench qd`` at a toy size: each algorithm and seed reports final numbers at equal evaluations."""

import json

from rich.console import Console

from arena.bench.qd import run_qd_bench


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
