"""``arena bench inventory`` in miniature: it runs the seeds it is given, writes what it returns, and pairs
its learners by seed at each budget."""

import json

import numpy as np
import pytest
from rich.console import Console

from benchmarks.inventory import SETTING, optimal_cost, run_inventory_bench


def test_optimal_cost_of_the_single_store_is_the_base_stock_optimum():
    assert optimal_cost(SETTING) == pytest.approx(7.1230, abs=1e-4)


@pytest.mark.slow
def test_inventory_bench_runs_the_given_seeds_and_pairs_learners_by_seed_at_each_budget(tmp_path):
    """Two seeds, two tiny budgets each for the single-store learners and for GNN vs MLP: every budget has one
    run per seed and learner, and its comparisons are the paired test of those runs' numbers."""
    console = Console(record=True, width=200)
    results = run_inventory_bench(
        device="cpu",
        budgets=(0.5, 1.0),
        seeds="10-11",
        gnn_stores=(2,),
        gnn_budgets=(10, 20),
        gnn_test_scenarios=64,
        out_dir=tmp_path,
        console=console,
    )
    assert json.loads((tmp_path / "inventory.json").read_text()) == json.loads(json.dumps(results))
    assert results["seeds"] == [10, 11] and set(results["learners"]) == {"0.5", "1"}
    for numbers in results["learners"].values():
        assert {learner: len(runs) for learner, runs in numbers["runs"].items()} == dict.fromkeys(
            ("hdpo", "reinforce", "ppo"), 2
        )
        hdpo_gaps = [run["gap"] for run in numbers["runs"]["hdpo"]]
        for algo in ("reinforce", "ppo"):
            differences = np.subtract(hdpo_gaps, [run["gap"] for run in numbers["runs"][algo]])
            comparison = numbers["comparisons"][algo]
            assert comparison["seeds"] == 2 and comparison["wins"] == int((differences < 0).sum())
            assert comparison["mean_difference"] == pytest.approx(differences.mean())
    (row,) = results["gnn_vs_mlp"].values()
    assert set(row["budgets"]) == {"10", "20"}
    for costs in row["budgets"].values():
        assert len(costs["gnn_runs"]) == len(costs["mlp_runs"]) == 2
        assert costs["comparison"]["mean_difference"] == pytest.approx(costs["gnn"] - costs["mlp"])
        assert min(costs["gnn_runs"] + costs["mlp_runs"]) > row["lower_bound"] * 0.9
    text = console.export_text()
    assert "seeds 10-11" in text and "HDPO beats reinforce on" in text and "GNN beats MLP on" in text
    assert (tmp_path / "inventory_hdpo.png").read_bytes()[:4] == b"\x89PNG"
