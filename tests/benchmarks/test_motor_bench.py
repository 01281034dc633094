"""The motor benchmark runs end to end and writes what it promises (its speed numbers are not checked)."""

import json

from rich.console import Console

from benchmarks.motor import run_motor_bench


def test_motor_bench_prints_the_table_and_writes_json_and_step_response_png(tmp_path):
    console = Console(record=True, width=120)
    results = run_motor_bench(device="cpu", steps=20, batch_sizes=(1, 4), out_dir=tmp_path, console=console)
    written = json.loads((tmp_path / "motor.json").read_text())
    assert written["batched_env_steps_per_s"].keys() == {"1", "4"} and written["device"] == "cpu"
    assert written["single_env_steps_per_s"] == results["single_env_steps_per_s"] > 0
    assert (tmp_path / "motor_step_response.png").read_bytes()[:4] == b"\x89PNG"
    text = console.export_text()
    assert "single env" in text and "n=4" in text and results["device_name"] in text
