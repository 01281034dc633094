"""`arena submit`: sandbox probe, stored copy, refusal of changed content, and the new agent's matches."""

import json
import textwrap

import pytest
from typer.testing import CliRunner

from arena.cli import app

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
    monkeypatch.setenv("PG_ARENA_HOME", str(tmp_path / "boards"))
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
