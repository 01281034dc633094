"""The Werewolf benchmark writes consistent numbers (no speed is asserted: speed claims come from runs)."""

import json

from typer.testing import CliRunner

from agents.stats import wilson_interval
from arena.cli import app
from benchmarks.werewolf import SEED_BLOCK, VARIANTS, play_seeds, play_werewolf, run_werewolf_bench


def test_wilson_interval_matches_the_closed_form_for_half_of_100():
    """p = 0.5, n = 100, z = 1.96: centre 0.5, half-width 1.96 * sqrt(0.25/100 + 0.96/40000) / 1.0384."""
    low, high = wilson_interval(50, 100)
    half = 1.96 * (0.25 / 100 + 1.96**2 / 40_000) ** 0.5 / (1 + 1.96**2 / 100)
    assert abs(low - (0.5 - half)) < 1e-12 and abs(high - (0.5 + half)) < 1e-12
    assert wilson_interval(0, 20)[0] == 0.0 and wilson_interval(20, 20)[1] == 1.0


def test_each_seed_plays_its_own_block_of_games():
    """Seeds 3 and 5 with 4 games each are the games seeded 3e6..3e6+3 and 5e6..5e6+3, tallied together."""
    together = play_seeds((3, 5), 4, env_kwargs={"num_players": 5})
    apart = [play_werewolf(4, seed=s * SEED_BLOCK, env_kwargs={"num_players": 5}) for s in (3, 5)]
    assert together.games == 8
    assert together.villager_wins == sum(t.villager_wins for t in apart)
    assert together.turns == sum(t.turns for t in apart)


def test_bench_writes_json_whose_rates_follow_from_its_counts(tmp_path):
    results = run_werewolf_bench(seeds=(3, 4), games_per_seed=3, players=(5, 6), out_dir=tmp_path)
    assert json.loads((tmp_path / "werewolf.json").read_text()) == json.loads(json.dumps(results))
    assert (tmp_path / "werewolf.png").stat().st_size > 0
    assert results["cpu"] and results["device"] == "cpu" and results["seeds"] == "3-4"
    assert results["games_per_cell"] == 6 and not results["legacy_roster"]
    cells = {(c["num_players"], c["variant"]): c for c in results["cells"]}
    assert sorted(cells) == sorted((n, v) for n in (5, 6) for v in VARIANTS)
    for cell in cells.values():
        assert cell["villager_wins"] + cell["werewolf_wins"] + cell["draws"] == 6
        assert abs(cell["turns_per_s"] - cell["turns"] / cell["seconds"]) < 1e-6 * cell["turns_per_s"]
        rate, low, high = cell["villager_win_rate"]
        assert low <= rate == cell["villager_wins"] / 6 <= high
    assert cells[5, "default"]["roles"] == {"werewolf": 1, "seer": 1, "doctor": 1, "villager": 2}
    assert not cells[5, "default"]["doctor_self_protect"]
    assert cells[6, "no doctor"]["roles"] == {"werewolf": 2, "seer": 1, "doctor": 0, "villager": 3}


def test_the_command_takes_its_seeds_and_can_play_the_legacy_roster(tmp_path):
    options = ["--seeds", "7,9", "--games-per-seed", "2", "--players", "5", "--legacy-roster"]
    result = CliRunner().invoke(
        app, ["bench", "werewolf", *options, "--out", str(tmp_path)], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    results = json.loads((tmp_path / "werewolf.json").read_text())
    assert results["seeds"] == "7,9" and results["games_per_cell"] == 4 and results["legacy_roster"]
    default = next(c for c in results["cells"] if c["variant"] == "default")
    assert default["roles"] == {"werewolf": 2, "seer": 1, "doctor": 1, "villager": 1}
    assert default["doctor_self_protect"]
