"""Built-in scenarios by name, and where boards live.

`arena tournament NAME` plays the built-in scenario NAME (package data, so an installed wheel has it) unless a
file exists at that path, which wins; an unknown name gets the closest built-in names. Boards live under
$PG_ARENA_HOME, else ./leaderboards when the current directory has one, else the user's data directory.
"""

import sys
from pathlib import Path

import platformdirs
import pytest
from fixture_envs import PENNIES_SCENARIO
from typer.testing import CliRunner

import arena
from arena.cli import app
from arena.leaderboard import board_path, boards_home
from arena.scenario import BUILT_IN, ScenarioError, builtin_scenarios, find_scenario, load_scenarios

runner = CliRunner()
MINI_SUITE = """
[scenario]
name = "{name}"
kind = "suite"
episodes = 1
low_reference = "random"
high_reference = "random-b"
[[envs]]
id = "CartPole-v1"
kwargs = {{ max_episode_steps = 5 }}
[[agents]]
name = "random"
[[agents]]
name = "random"
label = "random-b"
"""


def test_the_built_ins_are_the_toml_files_of_the_arena_package_by_file_name():
    shipped = builtin_scenarios()
    assert Path(arena.__file__).resolve().parent / "scenarios" == BUILT_IN
    assert set(shipped) >= {"quickstart", "werewolf", "motor", "iot", "inventory", "search", "qd"}
    assert all(path == BUILT_IN / f"{name}.toml" and path.is_file() for name, path in shipped.items())
    assert list(shipped) == sorted(shipped)


def test_a_name_resolves_to_the_built_in_from_any_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert find_scenario("motor") == BUILT_IN / "motor.toml"


def test_an_existing_file_wins_over_the_built_in_of_the_same_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("motor").write_text(MINI_SUITE.format(name="mine"))
    assert find_scenario("motor") == Path("motor")
    (mine,) = load_scenarios(find_scenario("motor"))
    assert mine.name == "mine"
    assert find_scenario(tmp_path / "motor") == tmp_path / "motor"  # absolute paths too


def test_an_unknown_name_names_the_closest_built_ins_and_lists_them_all(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ScenarioError) as raised:
        find_scenario("quikstart")
    message = str(raised.value)
    assert message.startswith("quikstart: no such scenario file or built-in scenario; closest: quickstart")
    assert f"built-in: {', '.join(builtin_scenarios())}" in message


def test_the_tournament_command_refuses_an_unknown_name_in_one_line_with_exit_code_2(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PG_ARENA_HOME", str(tmp_path / "boards"))
    result = runner.invoke(app, ["tournament", "werewolff", "--board", "b"])
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "error: werewolff: no such scenario file or built-in scenario; closest: werewolf"
    )
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert not (tmp_path / "boards").exists()  # no board is made for a scenario that does not exist


def test_a_collection_includes_built_ins_by_name_and_files_by_path_relative_to_it(tmp_path):
    (tmp_path / "mine.toml").write_text(MINI_SUITE.format(name="mine"))
    collection = tmp_path / "c.toml"
    collection.write_text(
        '[collection]\nname = "c"\ninclude = ["werewolf", "mine.toml"]\ngames_per_pairing = 2\n'
    )
    werewolf, mine = load_scenarios(collection)
    assert (werewolf.name, werewolf.source) == ("c/werewolf", str(BUILT_IN / "werewolf.toml"))
    assert werewolf.header.games_per_pairing == 2
    assert mine.name == "c/mine"


@pytest.mark.parametrize("name", list(builtin_scenarios()))
def test_every_built_in_loads_by_name_and_lists_no_agent_package_by_path(name, tmp_path, monkeypatch):
    """From a directory without the checkout's examples/: what an installed wheel sees. Each scenario file is
    named after the scenario it holds, and a collection's scenarios are ``<collection>/<name>``."""
    if name == "qd_mujoco":
        pytest.importorskip("mujoco", reason="MuJoCo scenarios need pip install 'pg-arena[mujoco]'")
    monkeypatch.chdir(tmp_path)
    loaded = load_scenarios(find_scenario(name))
    assert loaded
    for scenario in loaded:
        assert not [entry for entry in scenario.spec.agents if entry.path is not None]
        assert scenario.name == name or scenario.name.startswith(f"{name}/")
        stem = scenario.name.removeprefix(f"{name}/")
        assert scenario.source == str(BUILT_IN / f"{stem}.toml")


def test_the_scenarios_command_lists_every_built_in_with_its_kind(tmp_path):
    result = runner.invoke(app, ["scenarios"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    rows = {line.split("│")[1].strip(): line for line in result.stdout.splitlines() if line.count("│") == 5}
    assert set(builtin_scenarios()) <= set(rows)
    assert "collection" in rows["quickstart"] and "match" in rows["werewolf"] and "suite" in rows["motor"]


def test_the_home_is_pg_arena_home_when_set_even_in_a_checkout(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("leaderboards").mkdir()
    monkeypatch.setenv("PG_ARENA_HOME", str(tmp_path / "elsewhere"))
    assert boards_home() == tmp_path / "elsewhere"
    assert board_path("b") == tmp_path / "elsewhere" / "b" / "board.sqlite"


def test_the_home_is_the_checkouts_leaderboards_when_the_current_directory_has_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PG_ARENA_HOME", "")  # set but empty counts as unset
    Path("leaderboards").mkdir()
    assert boards_home() == Path("leaderboards")
    assert board_path("b").resolve() == tmp_path / "leaderboards" / "b" / "board.sqlite"


def test_the_home_is_the_users_data_directory_elsewhere(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PG_ARENA_HOME", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert boards_home() == Path(platformdirs.user_data_dir("pg-arena"))
    if sys.platform == "linux":  # the XDG base directory specification
        assert boards_home() == tmp_path / "data" / "pg-arena"


@pytest.mark.skipif(sys.platform != "linux", reason="the XDG data directory is Linux's")
def test_a_tournament_outside_a_checkout_stores_the_board_in_the_data_directory_and_says_where(
    tmp_path, monkeypatch, registered_test_envs
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PG_ARENA_HOME", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    Path("pennies.toml").write_text(PENNIES_SCENARIO)
    result = runner.invoke(app, ["tournament", "pennies.toml", "--board", "b"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    database = tmp_path / "data" / "pg-arena" / "b" / "board.sqlite"
    assert result.stdout.splitlines()[0] == f"board 'b': {database}"
    assert database.is_file() and (database.parent / "leaderboard.json").is_file()
    assert not Path("leaderboards").exists()
