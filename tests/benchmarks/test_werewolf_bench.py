"""The Werewolf benchmark writes consistent numbers (no speed is asserted: speed claims come from runs)."""

import json

from agents.stats import wilson_interval
from benchmarks.werewolf import run_werewolf_bench


def test_wilson_interval_matches_the_closed_form_for_half_of_100():
    """p = 0.5, n = 100, z = 1.96: centre 0.5, half-width 1.96 * sqrt(0.25/100 + 0.96/40000) / 1.0384."""
    low, high = wilson_interval(50, 100)
    half = 1.96 * (0.25 / 100 + 1.96**2 / 40_000) ** 0.5 / (1 + 1.96**2 / 100)
    assert abs(low - (0.5 - half)) < 1e-12 and abs(high - (0.5 + half)) < 1e-12
    assert wilson_interval(0, 20)[0] == 0.0 and wilson_interval(20, 20)[1] == 1.0


def test_bench_writes_json_whose_rates_follow_from_its_counts(tmp_path):
    results = run_werewolf_bench(games=12, seed=3, out_dir=tmp_path)
    assert json.loads((tmp_path / "werewolf.json").read_text()) == json.loads(json.dumps(results))
    assert results["cpu"] and results["device"] == "cpu"
    for label in ("scripted", "random"):
        row = results[label]
        assert row["villager_wins"] + row["werewolf_wins"] + row["draws"] == 12
        assert abs(row["turns_per_s"] - row["turns"] / row["seconds"]) < 1e-6 * row["turns_per_s"]
        rate, low, high = row["villager_win_rate"]
        assert low <= rate == row["villager_wins"] / 12 <= high
