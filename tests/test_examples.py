"""The example agent packages (each plays CartPole-v1 as documented; both are submitted and ranked) and the
reference pages that describe scenario files and agent packages (their tables match the models, their
examples load)."""

import json
import re
import textwrap
import typing
from pathlib import Path

import gymnasium as gym
import pytest
import torch
from pydantic import BaseModel
from typer.testing import CliRunner

import agents
from agents.base import AgentManifest
from agents.pg.policy import weights_version
from arena.cli import app
from arena.scenario import AgentEntry, Collection, Header, Sandbox, SuiteEnv, load_scenarios

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "agents"
BALANCER = EXAMPLES / "cartpole-balancer"
PPO = EXAMPLES / "ppo-cartpole"
WEREWOLF = EXAMPLES / "werewolf-bandwagon"
MAX_STEPS = 500  # CartPole-v1's time limit: a return of 500 means the pole never fell


def ppo_label() -> str:
    """The trained example's label on a board: name@version from its manifest."""
    manifest = agents.read_manifest(PPO)
    return f"{manifest.name}@{manifest.version}"


def episode_return(agent, seed: int) -> float:
    """The return of one CartPole-v1 episode played in this process with ``agent``."""
    env = gym.make("CartPole-v1")
    try:
        observation, info = env.reset(seed=seed)
        agent.reset(seed)
        total, done = 0.0, False
        while not done:
            observation, reward, terminated, truncated, info = env.step(agent.act(observation, info))
            total += float(reward)
            done = terminated or truncated
        return total
    finally:
        env.close()


@pytest.mark.parametrize("package", [BALANCER, PPO], ids=["cartpole-balancer", "ppo-cartpole"])
def test_each_example_balances_the_pole_for_the_whole_episode(package):
    agent = agents.load_agent(package)
    assert [episode_return(agent, seed) for seed in range(3)] == [MAX_STEPS] * 3


def test_the_trained_example_holds_the_weights_its_training_command_wrote():
    """``arena train`` names the version after a hash of the weights and records its seed and steps: edited
    weights no longer match the manifest, and another seed or length shows in training.json."""
    manifest = agents.read_manifest(PPO)
    checkpoint = torch.load(PPO / manifest.weights, map_location="cpu", weights_only=True)
    assert manifest.version == weights_version(checkpoint["state_dict"])
    command = "arena train ppo CartPole-v1 --steps 60000 --seed 0 --device cpu"
    assert (manifest.training.command, manifest.training.seed) == (command, 0)
    assert command in (PPO / "README.md").read_text()
    training = json.loads((PPO / "training.json").read_text())
    assert (training["algo"], training["env_id"], training["seed"], training["device"]) == (
        "ppo",
        "CartPole-v1",
        0,
        "cpu",
    )
    batch = (
        training["config"]["num_envs"] * training["config"]["num_steps"]
    )  # --steps 60000, in whole batches
    assert 60000 - batch < training["total_steps"] <= 60000


@pytest.mark.slow
def test_the_examples_are_submitted_and_ranked_between_the_references(tmp_path, monkeypatch):
    """random and the balancer are the suite's references (0 and 1 by construction); the submitted PPO
    package, which balances as long as the balancer does, scores well above the midpoint."""
    monkeypatch.setenv("PG_ARENA_HOME", str(tmp_path / "boards"))
    scenario = tmp_path / "cartpole.toml"
    scenario.write_text(
        textwrap.dedent(f"""
        [scenario]
        name = "cartpole-examples"
        kind = "suite"
        episodes = 3
        low_reference = "random"
        high_reference = "examples/cartpole-balancer@1.0"
        [[envs]]
        id = "CartPole-v1"
        [[agents]]
        name = "random"
        [[agents]]
        path = "{BALANCER}"
        """)
    )
    played = runner.invoke(app, ["tournament", str(scenario), "--board", "ci"])
    assert played.exit_code == 0, played.output
    submitted = runner.invoke(app, ["submit", str(PPO), "--board", "ci"])
    assert submitted.exit_code == 0, submitted.output
    table = runner.invoke(app, ["leaderboard", "--board", "ci", "--json"])
    assert table.exit_code == 0, table.output
    overall = {
        row["agent"]: row
        for row in json.loads(table.stdout)
        if row["scenario"] == "cartpole-examples" and row["env_id"] == "overall"
    }
    ppo = ppo_label()
    assert set(overall) == {"random", "examples/cartpole-balancer@1.0", ppo}
    assert overall["random"]["score"] == pytest.approx(0.0)
    assert overall["examples/cartpole-balancer@1.0"]["score"] == pytest.approx(1.0)
    assert overall[ppo]["score"] > 0.5
    assert all(row["episodes"] == 3 and row["forfeits"] == 0 for row in overall.values())


@pytest.mark.slow
def test_the_werewolf_example_submitted_to_a_board_plays_each_pairing_in_the_sandbox(tmp_path, monkeypatch):
    """The README's flow for the Werewolf example, on a small roster: a Werewolf tournament of two built-ins,
    then ``arena submit`` of the package, which joins the scenario and plays each built-in 2 games (one deal
    from both sides) in the sandbox: 4 games, none forfeited, each counted once as a win, draw or loss."""
    monkeypatch.setenv("PG_ARENA_HOME", str(tmp_path / "boards"))
    scenario = tmp_path / "werewolf.toml"
    scenario.write_text(
        textwrap.dedent("""
        [scenario]
        name = "werewolf-examples"
        kind = "match"
        env = "werewolf"
        env_kwargs = { num_players = 7 }
        games_per_pairing = 2
        [[agents]]
        name = "werewolf/scripted"
        [[agents]]
        name = "random"
        """)
    )
    played = runner.invoke(app, ["tournament", str(scenario), "--board", "ww"])
    assert played.exit_code == 0, played.output
    submitted = runner.invoke(app, ["submit", str(WEREWOLF), "--board", "ww"])
    assert submitted.exit_code == 0, submitted.output
    table = runner.invoke(app, ["leaderboard", "--board", "ww", "--json"])
    assert table.exit_code == 0, table.output
    rows = {row["agent"]: row for row in json.loads(table.stdout)}
    label = "examples/werewolf-bandwagon@1.0"
    assert set(rows) == {"werewolf/scripted", "random", label}
    example = rows[label]
    assert example["games"] == 4 and example["forfeits"] == 0
    assert example["wins"] + example["draws"] + example["losses"] == 4


def documented_rows(page: str, heading: str) -> dict[str, list[str]]:
    """The table rows of the section of ``docs/<page>`` whose heading starts with ``heading``, keyed by the
    field in their first cell (backticks and brackets stripped), the rest of their cells as values."""
    text = (ROOT / "docs" / page).read_text()
    section = re.split(r"^## ", text, flags=re.MULTILINE)
    (body,) = [part for part in section if part.startswith(heading)]
    rows = {}
    for line in body.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("| `") and len(cells) >= 3:
            rows[cells[0].strip("`[]")] = cells[1:]
    return rows


def toml_literal(value) -> str:
    """``value`` as the documented default shows it (a TOML literal in backticks)."""
    return f"`{json.dumps(value) if isinstance(value, (bool, str)) else value}`"


def bound_numbers(field) -> list[str]:
    """The numeric bounds of a pydantic field (ge, gt, le, lt), as the page writes them."""
    bounds = [
        getattr(m, name) for m in field.metadata for name in ("ge", "gt", "le", "lt") if hasattr(m, name)
    ]
    return [str(int(b)) if float(b).is_integer() else str(b) for b in bounds]


@pytest.mark.parametrize(
    ("page", "heading", "model"),
    [
        ("scenarios.md", "`[scenario]`", Header),
        ("scenarios.md", "`[[agents]]`", AgentEntry),
        ("scenarios.md", "`[[envs]]`", SuiteEnv),
        ("scenarios.md", "`[sandbox]`", Sandbox),
        ("scenarios.md", "Collection files", Collection),
        ("agents.md", "The package", AgentManifest),
    ],
    ids=["scenario", "agents", "envs", "sandbox", "collection", "agent.toml"],
)
def test_each_documented_table_lists_every_field_with_its_default_bounds_and_choices(
    page, heading, model: type[BaseModel]
):
    rows = documented_rows(page, heading)
    assert set(rows) == set(model.model_fields)
    for name, field in model.model_fields.items():
        default, allowed = rows[name][1], rows[name][2]
        if field.is_required():
            assert default == "required", name
        elif field.default_factory is not None:
            assert default == toml_literal(field.default_factory()), name
        elif field.default is not None:
            assert default == toml_literal(field.default), name
        for number in bound_numbers(field):
            assert number in allowed, (name, number)
        for choice in (
            typing.get_args(field.annotation) if typing.get_origin(field.annotation) is typing.Literal else ()
        ):
            assert f'"{choice}"' in allowed, (name, choice)
        pattern = next((m.pattern for m in field.metadata if getattr(m, "pattern", None)), None)
        if pattern is not None:
            assert f"`{pattern}`" in allowed, name


def test_the_scenario_examples_on_the_page_load_as_described(tmp_path):
    """Each TOML example of docs/scenarios.md, saved in a folder of one's own beside examples/ (as the page
    says), loads; the collection includes built-in scenarios by name."""
    folder = tmp_path / "my_scenarios"
    folder.mkdir()
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    blocks = re.findall(r"```toml\n(.*?)```", (ROOT / "docs" / "scenarios.md").read_text(), flags=re.DOTALL)
    loaded = []
    for i, block in enumerate(blocks):
        (folder / f"example{i}.toml").write_text(block)
        loaded.append(load_scenarios(folder / f"example{i}.toml"))
    match, suite, collection = loaded
    assert [(s.name, s.kind, s.header.format) for s in match] == [("werewolf-gauntlet", "match", "gauntlet")]
    assert match[0].labels == ("scripted-balanced", "random", "examples/werewolf-bandwagon@1.0")
    assert match[0].spec.sandbox.memory_mb == 2048
    (suite,) = suite
    assert suite.labels == ("random", "examples/cartpole-balancer@1.0", ppo_label())
    assert [(e.label, e.episodes) for e in suite.spec.envs] == [
        ("CartPole-v1, 500 steps", None),
        ("CartPole-v1, 100 steps", 50),
    ]
    assert [s.name for s in collection] == ["short/werewolf", "short/motor"]
    assert collection[0].header.games_per_pairing == 4
    assert collection[1].header.episodes == 2
    assert {e.kwargs["max_episode_steps"] for e in collection[1].spec.envs} == {500}


def test_the_python_example_of_the_agents_page_builds_the_balancer_and_answers_the_rule(monkeypatch):
    (block,) = [
        b
        for b in re.findall(
            r"```python\n(.*?)```", (ROOT / "docs" / "agents.md").read_text(), flags=re.DOTALL
        )
        if "load_agent(" in b
    ]
    monkeypatch.chdir(ROOT)
    namespace = {}
    exec(block, namespace)
    _, _, angle, angular_velocity = namespace["observation"]
    assert namespace["action"] == int(angle + 0.5 * angular_velocity > 0)
