"""`arena submit`: sandbox probe, stored copy, refusal of changed content, and the new agent's matches."""

import json
import shutil
import stat
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agents.base import AgentPackageError
from arena.cli import app
from arena.leaderboard import Board
from arena.submit import submit

runner = CliRunner()

AGENT = """
class Agent:
    name = "{name}"
    def reset(self, seed=None):
        pass
    def act(self, observation, info):
        {act}

def make(spaces):
    return Agent()
"""
# Push the cart towards where the pole is falling (angle plus a share of its angular velocity).
BALANCE = "return int(observation[2] + 0.5 * observation[3] > 0)"


def package(root, name, act, version="1"):
    directory = root / name
    directory.mkdir(exist_ok=True)
    (directory / "agent.toml").write_text(
        f'name = "{name}"\nversion = "{version}"\nentry_point = "agent:make"\nenvs = ["CartPole-v1"]\n'
    )
    (directory / "agent.py").write_text(textwrap.dedent(AGENT.format(name=name, act=act)))
    return directory


@pytest.fixture
def board_with_suite(tmp_path, monkeypatch):
    """A board under a relative home, as the default ./leaderboards is, with a CartPole suite played."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PG_ARENA_HOME", "boards")
    package(tmp_path, "balancer", BALANCE)
    scenario = tmp_path / "cartpole.toml"
    scenario.write_text(
        textwrap.dedent("""
        [scenario]
        name = "cartpole"
        kind = "suite"
        episodes = 3
        low_reference = "random"
        high_reference = "balancer@1"
        [[envs]]
        id = "CartPole-v1"
        [[agents]]
        name = "random"
        [[agents]]
        path = "balancer"
        """)
    )
    result = runner.invoke(app, ["tournament", str(scenario), "--board", "t"])
    assert result.exit_code == 0, result.output
    return tmp_path


def leaderboard_rows():
    result = runner.invoke(app, ["leaderboard", "--board", "t", "--json"])
    assert result.exit_code == 0, result.output
    return {(row["agent"], row["env_id"]): row for row in json.loads(result.stdout)}


def test_a_submission_is_stored_and_scored_between_the_references(board_with_suite):
    """Always pushing left (about 9 steps) is worse than random (about 22): its normalised score is below 0,
    while the references score exactly 0 and 1 by construction."""
    lefty = package(board_with_suite, "lefty", "return 0")
    result = runner.invoke(app, ["submit", str(lefty), "--board", "t"])
    assert result.exit_code == 0, result.output
    assert (board_with_suite / "boards" / "t" / "agents" / "lefty@1" / "agent.py").is_file()
    rows = leaderboard_rows()
    assert rows[("random", "overall")]["score"] == pytest.approx(0.0)
    assert rows[("balancer@1", "overall")]["score"] == pytest.approx(1.0)
    assert rows[("lefty@1", "overall")]["score"] < 0
    assert rows[("lefty@1", "CartPole-v1")]["episodes"] == 3


def test_resubmitting_the_same_content_plays_nothing_new_and_changed_content_needs_a_new_version(
    board_with_suite,
):
    lefty = package(board_with_suite, "lefty", "return 0")
    assert runner.invoke(app, ["submit", str(lefty), "--board", "t"]).exit_code == 0
    before = leaderboard_rows()
    assert runner.invoke(app, ["submit", str(lefty), "--board", "t"]).exit_code == 0
    assert leaderboard_rows() == before
    package(board_with_suite, "lefty", "return 1")
    changed = runner.invoke(app, ["submit", str(lefty), "--board", "t"])
    assert changed.exit_code == 2
    assert "agent 'lefty@1' is already on board 't' with other content" in changed.stderr
    assert "bump its version" in changed.stderr


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (lambda d: (d / "agent.toml").unlink(), "no agent.toml"),
        (lambda d: (d / "agent.py").write_text("import nonexistent_module_xyz\n"), "nonexistent_module_xyz"),
        (lambda d: (d / "agent.py").write_text(AGENT.format(name="x", act="return 5")), "INVALID"),
    ],
)
def test_each_broken_submission_is_refused_with_its_reason(board_with_suite, breakage, message):
    broken = package(board_with_suite, "broken", "return 0")
    breakage(broken)
    result = runner.invoke(app, ["submit", str(broken), "--board", "t"])
    assert result.exit_code == 2
    assert message in result.stderr
    assert not (board_with_suite / "boards" / "t" / "agents" / "broken@1").exists()


# Storing is all or nothing. These tests call submit() on a board without scenarios (no matches to play).


def named_package(directory, name, act="return 0", version="0.1"):
    """A package whose manifest name may hold '/', in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "agent.toml").write_text(
        f'name = "{name}"\nversion = "{version}"\nentry_point = "agent:make"\nenvs = ["CartPole-v1"]\n'
    )
    (directory / "agent.py").write_text(textwrap.dedent(AGENT.format(name=name, act=act)))
    return directory


@pytest.fixture
def empty_board(tmp_path):
    with Board("b", root=tmp_path / "boards") as board:
        yield board


def stored_state(board):
    """The board's agent rows and every path under its agents directory, with each file's bytes."""
    agents_dir = board.path.parent / "agents"
    files = {
        str(p.relative_to(agents_dir)): (p.read_bytes() if p.is_file() else None)
        for p in (sorted(agents_dir.rglob("*")) if agents_dir.exists() else [])
    }
    return board.agents(), files


def test_a_name_with_a_slash_is_stored_in_one_directory_readable_by_other_users(tmp_path, empty_board):
    """'team/wolf-bot' is a valid name (built-ins look like 'werewolf/scripted'); its copy lives in one
    directory, team%2Fwolf-bot@0.1, with directories 0755 and files 0644 for the sandbox's user. The agent
    reads a file only its owner may read in the source: the probe plays a readable copy, so it is accepted."""
    reads_its_table = "return int(open(__file__.replace('agent.py', 'data/table.txt')).read())"
    source = named_package(tmp_path / "src", "team/wolf-bot", act=reads_its_table)
    (source / "run.sh").write_text("#!/bin/sh\n")
    (source / "run.sh").chmod(0o4700)
    (source / "data").mkdir(mode=0o700)
    (source / "data" / "table.txt").write_text("1\n")
    (source / "data" / "table.txt").chmod(0o600)
    submission = submit(source, empty_board)
    agents_dir = empty_board.path.parent / "agents"
    assert submission.label == "team/wolf-bot@0.1"
    assert submission.stored_at == agents_dir / "team%2Fwolf-bot@0.1"
    assert [p.name for p in agents_dir.iterdir()] == ["team%2Fwolf-bot@0.1"]
    assert (submission.stored_at / "agent.py").is_file()
    assert [a["source"] for a in empty_board.agents()] == [str(submission.stored_at)]
    modes = {
        str(p.relative_to(submission.stored_at)): stat.S_IMODE(p.stat().st_mode)
        for p in [submission.stored_at, *submission.stored_at.rglob("*")]
    }
    assert modes == {
        ".": 0o755,
        "agent.toml": 0o644,
        "agent.py": 0o644,
        "run.sh": 0o644,
        "data": 0o755,
        "data/table.txt": 0o644,
    }


def test_resubmitting_the_same_content_changes_nothing(tmp_path, empty_board):
    source = named_package(tmp_path / "src", "team/wolf-bot")
    first = submit(source, empty_board)
    before, inode = stored_state(empty_board), first.stored_at.stat().st_ino
    again = submit(source, empty_board)
    assert again.stored_at == first.stored_at and again.content_hash == first.content_hash
    assert stored_state(empty_board) == before and first.stored_at.stat().st_ino == inode


def test_other_content_under_the_same_name_and_version_is_refused_with_no_change(tmp_path, empty_board):
    source = named_package(tmp_path / "src", "team/wolf-bot")
    submit(source, empty_board)
    before = stored_state(empty_board)
    named_package(source, "team/wolf-bot", act="return 1")
    with pytest.raises(ValueError, match=r"'team/wolf-bot@0\.1' is already on board 'b' with other content"):
        submit(source, empty_board)
    assert stored_state(empty_board) == before


def test_a_copy_that_fails_midway_leaves_no_row_and_no_directory(tmp_path, empty_board, monkeypatch):
    """Both copies: the one the probe plays (in a scratch folder) and the one stored on the board."""
    copytree = shutil.copytree

    def fail_into(place: str):
        def copy_one_file_then_fail(source, destination, **kwargs):
            if place not in str(destination):
                return copytree(source, destination, **kwargs)
            Path(destination).mkdir(exist_ok=True)
            shutil.copy(Path(source) / "agent.toml", Path(destination) / "agent.toml")
            raise OSError(28, "No space left on device")

        return copy_one_file_then_fail

    source = named_package(tmp_path / "src", "team/wolf-bot")
    for place, stage in (("arena-probe-", "to probe it"), (str(empty_board.path.parent), "on board")):
        monkeypatch.setattr("arena.submit.shutil.copytree", fail_into(place))
        with pytest.raises(ValueError, match=rf"{stage}.* failed, so nothing was stored: .*No space left"):
            submit(source, empty_board)
        assert stored_state(empty_board) == ([], {})


def test_a_rename_that_fails_leaves_no_row_and_no_directory(tmp_path, empty_board, monkeypatch):
    """The row is written in the same transaction as the rename into place, so a refused rename rolls it
    back."""
    rename = Path.rename

    def refuse_into_agents_dir(self, target):
        if Path(target).parent.name == "agents" and not Path(target).name.startswith("."):
            raise OSError(36, "File name too long", str(target))
        return rename(self, target)

    monkeypatch.setattr(Path, "rename", refuse_into_agents_dir)
    with pytest.raises(ValueError, match="File name too long"):
        submit(named_package(tmp_path / "src", "team/wolf-bot"), empty_board)
    assert stored_state(empty_board) == ([], {})


def test_an_agents_directory_the_filesystem_refuses_leaves_the_board_unchanged(tmp_path, empty_board):
    (empty_board.path.parent / "agents").write_text("not a directory")
    with pytest.raises(ValueError, match="nothing was stored"):
        submit(named_package(tmp_path / "src", "bot"), empty_board)
    assert empty_board.agents() == []


def test_a_package_holding_a_symbolic_link_is_refused_before_it_runs(tmp_path, empty_board):
    """A link would copy what it points at (a private key, say) into a copy other users can read."""
    (tmp_path / "secret").write_text("key")
    source = named_package(tmp_path / "src", "bot")
    (source / "key").symlink_to(tmp_path / "secret")
    with pytest.raises(AgentPackageError, match="key is a symbolic link"):
        submit(source, empty_board)
    assert stored_state(empty_board) == ([], {})


def test_a_stored_copy_cut_short_is_replaced_on_resubmission(tmp_path, empty_board):
    source = named_package(tmp_path / "src", "bot")
    first = submit(source, empty_board)
    (first.stored_at / "agent.py").unlink()
    again = submit(source, empty_board)
    assert (again.stored_at / "agent.py").read_bytes() == (source / "agent.py").read_bytes()
    assert len(empty_board.agents()) == 1
    assert [p.name for p in first.stored_at.parent.iterdir()] == ["bot@0.1"]


def test_an_agent_submitted_before_a_scenario_joins_it_when_the_scenario_is_first_played(board_with_suite):
    lefty = package(board_with_suite, "lefty", "return 0")
    early = runner.invoke(app, ["submit", str(lefty), "--board", "later"])
    assert early.exit_code == 0, early.output
    assert "no scenario on board 'later' plays its envs yet; it will join those that do" in early.output
    played = runner.invoke(app, ["tournament", str(board_with_suite / "cartpole.toml"), "--board", "later"])
    assert played.exit_code == 0, played.output
    result = runner.invoke(app, ["leaderboard", "--board", "later", "--json"])
    rows = {(row["agent"], row["env_id"]): row for row in json.loads(result.stdout)}
    assert rows[("lefty@1", "CartPole-v1")]["episodes"] == 3
    assert rows[("lefty@1", "overall")]["score"] < 0  # scored between the same references as the others
