"""Every match records the versions of the env and agents that produced it; a changed one is replayed."""

import json
import sqlite3
import sys
import textwrap

import gymnasium as gym
import pytest
from fixture_envs import PENNIES_SCENARIO

import arena
from arena import versions
from arena.leaderboard import Board
from arena.report import render_board
from arena.scenario import load_scenario
from arena.tournament import run_tournament


@pytest.fixture
def pennies(tmp_path, registered_test_envs):
    path = tmp_path / "pennies.toml"
    path.write_text(PENNIES_SCENARIO)
    return load_scenario(path)


def test_a_match_is_stored_with_its_env_and_agent_versions_and_the_page_shows_them(pennies, tmp_path):
    with Board("b", root=tmp_path) as board:
        run_tournament(pennies, board)
        stored = board.match_versions(pennies.hash)
        page = render_board(board)
    env_version = versions.env_version("test_matching_pennies")
    agents_version = versions.builtin_agents_version()
    assert env_version.startswith(f"{arena.__version__}/") and len(env_version.split("/")[-1]) == 16
    assert len(stored) == 2
    for found in stored.values():
        assert found.env == env_version
        assert found.agents == {"random": agents_version, "random-b": agents_version}
    assert versions.short(env_version) in page and versions.short(agents_version) in page


def test_a_match_of_an_old_env_version_is_replayed_in_place_and_nothing_is_replayed_when_nothing_changed(
    pennies, tmp_path, monkeypatch
):
    with Board("b", root=tmp_path) as board:
        first = run_tournament(pennies, board)
        ids = sorted(board.match_ids(pennies.hash))
        same = run_tournament(pennies, board)
        monkeypatch.setattr(versions, "env_version", lambda env_id: "9.9/0123456789abcdef")
        changed = run_tournament(pennies, board)
        again = run_tournament(pennies, board)
        stored = board.match_versions(pennies.hash)
        count = board._db.execute("SELECT COUNT(*) FROM matches").fetchone()[0]
    assert (first.played, first.replayed) == (2, 0)
    assert (same.played, same.already_stored, same.replayed) == (0, 2, 0)
    assert (changed.played, changed.already_stored, changed.replayed) == (2, 0, 2)
    assert (again.played, again.replayed) == (0, 0)
    assert sorted(stored) == ids and count == 2  # replaced under the same ids, not added
    assert {found.env for found in stored.values()} == {"9.9/0123456789abcdef"}


def test_a_changed_agent_version_replays_only_that_agents_matches(pennies, tmp_path, monkeypatch):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "agent.toml").write_text(
        'name = "pkg"\nversion = "1"\nentry_point = "agents.base:RandomAgent"\n'
        'envs = ["test_matching_pennies"]\n'
    )
    path = tmp_path / "three.toml"
    path.write_text(PENNIES_SCENARIO + f'[[agents]]\npath = "{package}"\n')
    scenario = load_scenario(path)
    with Board("b", root=tmp_path) as board:
        assert run_tournament(scenario, board, trust_agents=True).played == 6
        monkeypatch.setattr(versions, "package_version", lambda content_hash: "9.9/changed")
        changed = run_tournament(scenario, board, trust_agents=True)
    assert (changed.played, changed.replayed, changed.already_stored) == (4, 4, 2)


def test_each_version_is_computed_once_per_tournament(pennies, tmp_path, monkeypatch):
    calls = []
    for name in ("env_version", "builtin_agents_version"):
        real = getattr(versions, name)
        monkeypatch.setattr(
            versions, name, lambda *args, real=real, name=name: calls.append(name) or real(*args)
        )
    with Board("b", root=tmp_path) as board:
        run_tournament(pennies, board)
    assert sorted(calls) == ["builtin_agents_version", "env_version"]


def test_a_project_version_bump_changes_every_version(monkeypatch):
    before = (versions.env_version("werewolf"), versions.builtin_agents_version())
    monkeypatch.setattr(arena, "__version__", "99.0")
    after = (versions.env_version("werewolf"), versions.builtin_agents_version())
    assert all(a != b and a.startswith("99.0/") for a, b in zip(after, before, strict=True))


def test_an_env_version_hashes_its_family_package_and_changes_with_any_file_of_it(tmp_path, monkeypatch):
    """An env outside the project: the package of its entry point (sources and data files) is hashed, so
    editing a sibling module or a data file changes the version; bytecode caches do not."""
    family = tmp_path / "famtest" / "fam"
    family.mkdir(parents=True)
    (tmp_path / "famtest" / "__init__.py").write_text("")
    (family / "__init__.py").write_text("")
    (family / "env.py").write_text(
        textwrap.dedent("""
        from gymnasium.envs.classic_control.cartpole import CartPoleEnv

        class Env(CartPoleEnv):
            pass
        """)
    )
    (family / "helpers.py").write_text("X = 1\n")
    (family / "table.json").write_text("[1]")
    monkeypatch.syspath_prepend(str(tmp_path))
    gym.register("arena/TestFamily-v0", entry_point="famtest.fam.env:Env", max_episode_steps=5)
    try:
        first = versions.env_version("arena/TestFamily-v0")
        (family / "__pycache__").mkdir()
        (family / "__pycache__" / "env.cpython.pyc").write_bytes(b"cache")
        assert versions.env_version("arena/TestFamily-v0") == first
        (family / "table.json").write_text("[2]")
        second = versions.env_version("arena/TestFamily-v0")
        (family / "helpers.py").write_text("X = 2\n")
        third = versions.env_version("arena/TestFamily-v0")
    finally:
        gym.registry.pop("arena/TestFamily-v0")
        for name in [m for m in sys.modules if m.startswith("famtest")]:
            del sys.modules[name]
    assert len({first, second, third}) == 3


def test_the_project_envs_hash_their_family_package_and_the_core():
    import envs

    root = versions._package_roots("envs.motor.env")
    assert [p.name for p in root] == ["motor"] and root[0].parent.name == "envs"
    assert versions._env_module("werewolf").startswith("envs.werewolf")
    assert versions.env_version("werewolf") != versions.env_version("arena/DCMotorSpeed-v0")
    assert envs  # imported for the registrations


OLD_SCHEMA = """
CREATE TABLE scenarios (
    hash TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, source TEXT NOT NULL,
    spec_json TEXT NOT NULL, added_at TEXT NOT NULL
);
CREATE TABLE agents (
    label TEXT PRIMARY KEY, source TEXT NOT NULL, version TEXT, content_hash TEXT, added_at TEXT NOT NULL
);
CREATE TABLE matches (
    match_id TEXT PRIMARY KEY, scenario_hash TEXT NOT NULL REFERENCES scenarios(hash), env_id TEXT NOT NULL,
    seed INTEGER NOT NULL, duration_s REAL NOT NULL, forfeited INTEGER NOT NULL, extra_json TEXT NOT NULL,
    finished_at TEXT NOT NULL, position INTEGER NOT NULL
);
CREATE TABLE participants (
    match_id TEXT NOT NULL REFERENCES matches(match_id), seat TEXT NOT NULL, agent TEXT NOT NULL,
    team TEXT NOT NULL, rank INTEGER NOT NULL, score REAL, status TEXT NOT NULL, reason TEXT NOT NULL,
    PRIMARY KEY (match_id, seat)
);
CREATE INDEX matches_by_scenario ON matches(scenario_hash, position);
"""


def test_a_board_from_before_versions_opens_and_resumes_replaying_its_unknown_version_matches(
    pennies, tmp_path
):
    """The old board holds one of the scenario's two matches, stored without versions (and played with
    unkeyed seeds): opening adds the columns in place, and the resumed tournament replays that match under
    its id and plays the other."""
    from arena.match import match_id

    old_id = match_id(pennies.hash, "test_matching_pennies", ["random", "random-b"], 0)
    path = tmp_path / "b" / "board.sqlite"
    path.parent.mkdir()
    with sqlite3.connect(path) as db:
        db.executescript(OLD_SCHEMA)
        spec = json.dumps(pennies.spec.model_dump(), sort_keys=True)
        db.execute(
            "INSERT INTO scenarios VALUES (?, 'pennies', 'match', 's.toml', ?, 't')", (pennies.hash, spec)
        )
        db.execute(
            "INSERT INTO matches VALUES (?, ?, 'test_matching_pennies', 0, 0.1, 0, '{}', 't', 0)",
            (old_id, pennies.hash),
        )
        db.executemany(
            "INSERT INTO participants VALUES (?, ?, ?, ?, ?, ?, 'OK', '')",
            [(old_id, "even", "random", "even", 0, 1.0), (old_id, "odd", "random-b", "odd", 1, -1.0)],
        )
    db.close()
    with Board("b", root=tmp_path) as board:
        assert [r.match_id for r in board.results()] == [old_id]
        assert board.match_versions(pennies.hash)[old_id] == versions.MatchVersions()
        env_versions, agent_versions = board.versions_played(pennies.hash)
        assert env_versions == {"test_matching_pennies": ["unknown"]}
        assert agent_versions == {"random": ["unknown"], "random-b": ["unknown"]}
        assert len(board.secret) == 32
        summary = run_tournament(pennies, board)
        stored = board.match_versions(pennies.hash)
    assert (summary.scheduled, summary.played, summary.replayed, summary.already_stored) == (2, 2, 1, 0)
    assert old_id in stored and len(stored) == 2
    assert all(found.env != versions.UNKNOWN for found in stored.values())
