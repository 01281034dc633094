"""The motor benchmark runs end to end and writes what it promises (its speed numbers are not checked), and
every motor id agrees with gym-electric-motor (the optional ``gem`` extra; skipped without it) on random
full-range actions."""

import json

import pytest
from rich.console import Console

import benchmarks.motor
from benchmarks.motor import COMPARED, compare_with_gem, gem_installed, run_motor_bench


def test_motor_bench_prints_the_table_and_writes_json_and_step_response_png_for_the_given_seeds(tmp_path):
    console = Console(record=True, width=160)
    results = run_motor_bench(
        device="cpu",
        steps=20,
        batch_sizes=(1, 4),
        seeds="10-11",
        compared=("arena/PMSMCurrent-v0",),
        out_dir=tmp_path,
        console=console,
    )
    written = json.loads((tmp_path / "motor.json").read_text())
    assert written["batched_env_steps_per_s"].keys() == {"1", "4"} and written["device"] == "cpu"
    assert written["single_env_steps_per_s"] == results["single_env_steps_per_s"] > 0
    assert written["seeds"] == [10, 11]
    assert (tmp_path / "motor_step_response.png").read_bytes()[:4] == b"\x89PNG"
    text = console.export_text()
    assert "single env" in text and "n=4" in text and results["device_name"] in text
    if gem_installed():
        (row,) = written["gem_agreement"]["rows"].values()
        assert row["seed"] in (10, 11) and row["max_relative_error"] < 1e-5
        assert "arena/PMSMCurrent-v0" in text and "seeds 10-11" in text


def test_motor_bench_without_gym_electric_motor_says_so_and_compares_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(benchmarks.motor, "gem_installed", lambda: False)
    console = Console(record=True, width=160)
    results = run_motor_bench(device="cpu", steps=20, batch_sizes=(1,), out_dir=tmp_path, console=console)
    assert "gem_agreement" not in results and "not installed" in console.export_text()


@pytest.mark.parametrize("row", list(COMPARED))
def test_each_motor_id_follows_gym_electric_motor_within_1e_5_of_peak_on_random_full_range_actions(row):
    """200 steps (20 ms) of uniform random actions in [-1, 1] drive the currents to 6 A (series motor) to
    1900 A, and every observed quantity stays within 1e-5 of GEM's peak (measured: 2e-9 to 8e-6)."""
    pytest.importorskip("gym_electric_motor")
    env_id, env_kwargs = COMPARED[row]
    errors = compare_with_gem(env_id, seed=10, steps=200, **env_kwargs)
    assert max(e["peak"] for q, e in errors.items() if q.startswith("i_")) > 5.0  # not a trajectory at rest
    assert max(e["relative"] for e in errors.values()) < 1e-5, errors
