"""The `arena` command line: version, listings, playing episodes, and one-line errors for bad input."""

import json
import re

import pytest
from typer.testing import CliRunner

import arena
import envs
from agents import content_hash, read_manifest
from arena.cli import app

runner = CliRunner()


def test_version_is_the_installed_distribution_version():
    from importlib.metadata import version

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"pg-arena {version('pg-arena')}" == f"pg-arena {arena.__version__}"


def test_envs_says_plainly_when_nothing_is_registered(monkeypatch):
    monkeypatch.setattr(envs, "list_envs", lambda **_: [])
    result = runner.invoke(app, ["envs"])
    assert result.exit_code == 0
    assert result.stdout.strip() == "No environments are registered yet."


def test_envs_lists_registered_ids_and_filters_by_domain(registered_test_envs):
    result = runner.invoke(app, ["envs", "--domain", "test"], env={"COLUMNS": "250"})
    assert result.exit_code == 0
    for env_id in registered_test_envs.values():
        assert env_id in result.stdout
    assert "4 environments" in result.stdout


def test_agents_lists_the_random_agent():
    result = runner.invoke(app, ["agents"], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "random" in result.stdout


def test_play_random_cartpole_matches_the_known_mean_episode_length(tmp_path):
    """A uniformly random CartPole policy balances about 22 steps on average (std about 12): 200 episodes
    give a standard error under 1, so 22 ± 4 is a 4-sigma band."""
    out = tmp_path / "summary.json"
    result = runner.invoke(
        app, ["play", "CartPole-v1", "--episodes", "200", "--seed", "0", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(out.read_text())
    assert summary["episodes"] == 200 and summary["agent"] == "random"
    assert 18 <= summary["length_mean"] <= 26
    assert summary["return_mean"] == summary["length_mean"]  # reward +1 per step
    assert [e["seed"] for e in summary["per_episode"][:3]] == [0, 1, 2]


def test_play_is_reproducible_for_a_seed(tmp_path):
    outs = [tmp_path / "a.json", tmp_path / "b.json"]
    for out in outs:
        runner.invoke(app, ["play", "CartPole-v1", "--episodes", "5", "--seed", "3", "--out", str(out)])
    first, second = (json.loads(o.read_text())["per_episode"] for o in outs)
    assert first == second


def test_play_passes_env_kwargs_parsed_as_json(tmp_path):
    out = tmp_path / "s.json"
    args = [
        "play",
        "CartPole-v1",
        "--episodes",
        "2",
        "--env-kwarg",
        "sutton_barto_reward=true",
        "--out",
        str(out),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(out.read_text())
    assert summary["env_kwargs"] == {"sutton_barto_reward": True}
    assert summary["return_max"] <= 0  # Sutton & Barto's reward is 0 per step and -1 at the failure


def test_play_an_agent_package_directory(tmp_path):
    package = tmp_path / "left"
    package.mkdir()
    (package / "agent.toml").write_text(
        'name = "left"\nversion = "1"\nentry_point = "left:make"\nenvs = ["CartPole-v1"]\n'
    )
    (package / "left.py").write_text(
        "class Left:\n    name = 'left'\n    def reset(self, seed=None): pass\n"
        "    def act(self, observation, info): return 0\n\ndef make(spaces):\n    return Left()\n"
    )
    out = tmp_path / "s.json"
    result = runner.invoke(
        app, ["play", "CartPole-v1", "--agent", str(package), "--episodes", "3", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    # Always pushing left topples the pole in 8-10 steps from CartPole's near-upright start.
    assert 7 <= json.loads(out.read_text())["length_mean"] <= 11


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["play", "CartPol-v1"], "error: unknown env id 'CartPol-v1'; closest: CartPole-v1"),
        (["play", "CartPole-v1", "--agent", "rando"], "error: unknown agent 'rando'; closest: random"),
        (
            ["play", "CartPole-v1", "--env-kwarg", "oops"],
            "error: --env-kwarg 'oops' must look like key=value",
        ),
        (["play", "CartPole-v1", "--env-kwarg", "nope=1"], "error: cannot make 'CartPole-v1'"),
        (["envs", "--kind", "both"], "error: --kind 'both' is not allowed; use 'single' or 'multi'"),
    ],
)
def test_bad_input_gives_one_line_naming_it_and_exit_code_2(args, message):
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert result.stderr.startswith(message)
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output


def test_play_refuses_a_multi_agent_game(registered_test_envs):
    result = runner.invoke(app, ["play", registered_test_envs["pennies"]])
    assert result.exit_code == 2 and "is a multi-agent game" in result.stderr


def test_train_then_eval_round_trip_through_an_agent_package(tmp_path):
    """The run is named by learner, env, seed and weights, and eval leaves the package as it was."""
    run = tmp_path / "run"
    trained = runner.invoke(
        app, ["train", "ppo", "CartPole-v1", "--steps", "512", "--device", "cpu", "--out", str(run)]
    )
    assert trained.exit_code == 0, trained.output
    assert (run / "agent.toml").is_file() and (run / "policy.pt").is_file()
    assert (run / "learning_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    manifest = read_manifest(run)
    assert manifest.name == "ppo-CartPole-v1-seed0" and re.fullmatch(r"[0-9a-f]{8}", manifest.version)
    package_hash = content_hash(run)
    out = tmp_path / "eval.json"
    evaluated = runner.invoke(
        app, ["eval", str(run), "CartPole-v1", "--episodes", "3", "--seed", "5", "--out", str(out)]
    )
    assert evaluated.exit_code == 0, evaluated.output
    summary = json.loads(out.read_text())
    assert summary["episodes"] == 3 and [e["seed"] for e in summary["per_episode"]] == [5, 6, 7]
    assert content_hash(run) == package_hash


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "pp", "CartPole-v1"], "error: unknown learner 'pp'; closest: ppo"),
        (["train", "ppo", "CartPol-v1"], "error: unknown env id 'CartPol-v1'"),
        (["eval", "nowhere", "CartPole-v1"], "error: "),
    ],
)
def test_train_and_eval_refuse_bad_input_in_one_line(args, message):
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and result.stderr.startswith(message), result.output
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output
    if args[0] == "eval":
        assert "nowhere/agent.toml: no agent.toml" in result.stderr


def test_play_passes_agent_kwargs_to_the_agent_factory(tmp_path):
    package = tmp_path / "fixed"
    package.mkdir()
    (package / "agent.toml").write_text(
        'name = "fixed"\nversion = "1"\nentry_point = "fixed:make"\nenvs = ["CartPole-v1"]\n'
    )
    (package / "fixed.py").write_text(
        "class Fixed:\n    name = 'fixed'\n    def __init__(self, action): self.action = action\n"
        "    def reset(self, seed=None): pass\n    def act(self, observation, info): return self.action\n\n"
        "def make(spaces, action=0):\n    return Fixed(action)\n"
    )
    out = tmp_path / "s.json"
    args = ["play", "CartPole-v1", "--agent", str(package), "--agent-kwarg", "action=1", "--out", str(out)]
    result = runner.invoke(app, [*args, "--episodes", "3"])
    assert result.exit_code == 0, result.output
    summary = json.loads(out.read_text())
    assert summary["agent_kwargs"] == {"action": 1}
    assert 7 <= summary["length_mean"] <= 11  # always pushing right topples the pole as fast as pushing left

    bad = runner.invoke(app, ["play", "CartPole-v1", "--agent", str(package), "--agent-kwarg", "speed=2"])
    assert bad.exit_code == 2 and bad.stderr.startswith(f"error: agent {str(package)!r} forfeits")
    assert "unexpected keyword argument 'speed'" in bad.stderr  # the package runs sandboxed, as in a match


def test_qd_grows_an_archive_writes_its_files_and_resumes(tmp_path):
    import csv

    out = tmp_path / "qd"
    args = ["qd", "me", "pointmaze", "--episode-length", "20", "--out", str(out)]
    result = runner.invoke(app, [*args, "--evals", "64"])
    assert result.exit_code == 0, result.output
    assert {"progress.csv", "checkpoint.pt", "archive.png"} <= {p.name for p in out.iterdir()}
    rows = list(csv.DictReader((out / "progress.csv").open()))
    assert int(rows[-1]["global_step"]) == 64  # 32 initial policies + one batch of 32
    assert float(rows[-1]["qd_score"]) > 0  # offset below every fitness: every filled cell adds to it

    resumed = runner.invoke(app, [*args, "--evals", "128", "--resume"])
    assert resumed.exit_code == 0, resumed.output
    rows = list(csv.DictReader((out / "progress.csv").open()))
    assert [int(r["global_step"]) for r in rows][-3:] == [64, 96, 128]
    # elites are only ever replaced by better ones, so the QD-score never falls
    assert float(rows[-1]["qd_score"]) >= float(rows[-3]["qd_score"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["qd", "mapelites"], "error: unknown algorithm 'mapelites'"),
        (["qd", "me", "pointmaz"], "error: unknown QD task 'pointmaz'; closest: pointmaze"),
        (["qd", "me", "--archive", "hex", "--evals", "1"], "error: archive"),
        (["bench", "qd", "--task", "walker"], "error: unknown QD task 'walker'"),
    ],
)
def test_qd_refuses_bad_input_in_one_line(args, message, tmp_path):
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "x")])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(message), result.stderr


def test_leaderboard_of_a_scenario_with_no_matches_yet_says_so(tmp_path, monkeypatch):
    """A suite stored before any of its episodes (a killed first run) prints a line, not a traceback."""
    from arena.leaderboard import Board
    from arena.scenario import load_scenario

    monkeypatch.setenv("PG_ARENA_HOME", str(tmp_path))
    path = tmp_path / "suite.toml"
    path.write_text(
        '[scenario]\nname = "empty"\nkind = "suite"\nepisodes = 1\nlow_reference = "random"\n'
        'high_reference = "steady"\n[[envs]]\nid = "CartPole-v1"\n[[agents]]\nname = "random"\n'
        '[[agents]]\nname = "random"\nlabel = "steady"\n'
    )
    scenario = load_scenario(path)
    with Board("b") as board:
        spec = scenario.spec.model_dump()
        board.add_scenario(scenario.hash, scenario.name, scenario.kind, scenario.source, spec)
    result = runner.invoke(app, ["leaderboard", "--board", "b"])
    assert result.exit_code == 0, result.output
    assert "empty: no table yet (matches still to be played)" in result.output
