"""``arena bench ratings`` at a small size: the leaderboard's intervals cover the known strengths about 95 %
of the time, and the command writes what it prints."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from arena.cli import app
from arena.ratings import fit_bradley_terry
from benchmarks.ratings import coverage, round_robin


@pytest.mark.parametrize("games", [10, 30])
def test_studentized_intervals_cover_the_centred_true_strength_about_95_percent(games):
    """60 round robins of 8 agents (480 intervals) from tuning seed 0. Under 95 % coverage the hits are about
    Binomial(480, 0.95): sd 1.0 point, so [91, 98.5] is 4 sd below and 3.5 sd above. (The full benchmark,
    8,000 intervals per setting, measures 95-96 %.)"""
    found = coverage((0,), agents=8, games=games, tournaments=60)
    shown = found["studentized"]
    assert shown["intervals"] == 480
    assert 0.91 <= shown["coverage"] <= 0.985, shown
    low, high = shown["wilson_95"]
    assert low < shown["coverage"] < high
    assert set(found) == {"studentized", "percentile", "wald"}


def test_round_robin_plays_every_pair_equally_with_the_seats_alternating_and_the_side_advantage():
    """4 agents of equal strength, 2,000 games per pair: each ordered seating occurs 1,000 times, and the
    fitted first-seat advantage recovers 0.8 nats (se ~ 1/sqrt(12000 * 0.23) = 0.02)."""
    outcomes = round_robin(np.random.default_rng(0), np.zeros(4), 2000, 0.8)
    seatings = np.unique(np.stack([outcomes.first, outcomes.second]), axis=1, return_counts=True)[1]
    assert len(seatings) == 12 and set(seatings) == {1000}
    _, sides = fit_bradley_terry(outcomes)
    assert sides["first"] - sides["second"] == pytest.approx(0.8, abs=0.08)


def test_bench_command_writes_the_coverage_it_prints(tmp_path):
    """3 agents x 4 tournaments = 12 intervals per method, printed as written to ratings.json."""
    small = ["--seeds", "3", "--agents", "3", "--games", "2", "--tournaments", "4", "--bootstrap", "19"]
    result = CliRunner().invoke(
        app, ["bench", "ratings", *small, "--out", str(tmp_path)], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    stored = json.loads((tmp_path / "ratings.json").read_text())
    assert (stored["seeds"], stored["method"], stored["before"], stored["bootstrap"]) == (
        "3",
        "studentized",
        "percentile",
        19,
    )
    (setting,) = stored["settings"]
    assert (setting["agents"], setting["games_per_pair"], setting["tournaments"]) == (3, 2, 4)
    for method in ("studentized", "percentile", "wald"):
        found = setting[method]
        assert found["intervals"] == 12 and found["coverage"] == found["hits"] / 12
        assert f"{100 * found['coverage']:.2f} %" in result.output
    assert "shown: studentized (before: percentile), 19 bootstrap replicates per tournament" in result.output
    assert stored["cpu"] in result.output.replace("\n", "")


@pytest.mark.parametrize("bad", [{"agents": 1}, {"games": 0}, {"tournaments": 0}, {"bootstrap": 0}])
def test_coverage_refuses_empty_settings_naming_them(bad):
    with pytest.raises(ValueError, match=f"{next(iter(bad))}={next(iter(bad.values()))}"):
        coverage((0,), **{"agents": 3, "games": 1, "tournaments": 1, **bad})
