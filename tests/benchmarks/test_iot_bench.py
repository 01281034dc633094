"""``arena bench iot`` in miniature: the files it writes agree with the numbers it returns, on the seeds it
was given, and each scenario's best scheduler is compared with every other one seed by seed."""

import csv
import json

import numpy as np
from rich.console import Console

from benchmarks.iot import SCENARIOS, run_iot_bench


def test_iot_bench_runs_the_given_seeds_and_compares_the_best_scheduler_with_each_other_paired_by_seed(
    tmp_path,
):
    """Every scheduler on every scenario appears once in the CSV with the JSON's numbers, the means of its
    per-seed values; no cluster does more work than its capacity allows (0 < utilisation <= 1); decisions/s
    are positive; the best scheduler has the lowest mean response and its paired differences are the
    per-seed ones."""
    results = run_iot_bench(
        tasks=60, seeds="10-11", decisions=300, out_dir=tmp_path, console=Console(quiet=True)
    )
    assert json.loads((tmp_path / "iot.json").read_text()) == json.loads(json.dumps(results))
    assert results["seeds"] == [10, 11]
    rows = list(csv.DictReader((tmp_path / "iot.csv").open()))
    assert {r["scenario"] for r in rows} == set(SCENARIOS)
    assert len(rows) == sum(len(v) for v in results["scenarios"].values()) >= 4 * 14
    for row in rows:
        metrics = results["scenarios"][row["scenario"]][row["scheduler"]]
        assert float(row["mean_response_s"]) == metrics["mean_response_s"]
        assert 0 < metrics["utilisation"] <= 1
        per_seed = results["per_seed"][row["scenario"]][row["scheduler"]]["mean_response_s"]
        assert len(per_seed) == 2 and metrics["mean_response_s"] == float(np.mean(per_seed))
    assert (tmp_path / "iot_energy_latency.png").stat().st_size > 10_000
    assert min(results["decisions_per_s"].values()) > 0
    for scenario, comparison in results["comparisons"].items():
        means = results["scenarios"][scenario]
        best, responses = comparison["best"], results["per_seed"][scenario]
        assert means[best]["mean_response_s"] == min(m["mean_response_s"] for m in means.values())
        assert set(comparison["against"]) == set(means) - {best}
        for name, paired in comparison["against"].items():
            differences = np.subtract(responses[best]["mean_response_s"], responses[name]["mean_response_s"])
            assert paired["seeds"] == 2 and paired["wins"] == int((differences < 0).sum())
            assert paired["mean_difference"] == float(differences.mean())
            assert paired["summary"].startswith(f"{best} beats {name} on {paired['wins']}/2 seeds")
