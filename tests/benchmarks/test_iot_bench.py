"""``arena bench iot`` in miniature: the files it writes agree with the numbers it returns."""

import csv
import json

from rich.console import Console

from benchmarks.iot import SCENARIOS, run_iot_bench


def test_iot_bench_writes_json_csv_and_plot_consistent_with_its_results(tmp_path):
    """Every scheduler on every scenario appears once in the CSV with the JSON's numbers; no cluster does
    more work than its capacity allows (0 < utilisation <= 1); decisions/s are positive."""
    results = run_iot_bench(tasks=60, seeds=1, decisions=300, out_dir=tmp_path, console=Console(quiet=True))
    assert json.loads((tmp_path / "iot.json").read_text()) == json.loads(json.dumps(results))
    rows = list(csv.DictReader((tmp_path / "iot.csv").open()))
    assert {r["scenario"] for r in rows} == set(SCENARIOS)
    assert len(rows) == sum(len(v) for v in results["scenarios"].values()) >= 4 * 14
    for row in rows:
        metrics = results["scenarios"][row["scenario"]][row["scheduler"]]
        assert float(row["mean_response_s"]) == metrics["mean_response_s"]
        assert 0 < metrics["utilisation"] <= 1
    assert (tmp_path / "iot_energy_latency.png").stat().st_size > 10_000
    assert min(results["decisions_per_s"].values()) > 0
