"""The learned agents shipped in agents/trained/: each is a package whose agent.toml records the `arena train`
command that made it, is ranked in a built-in scenario of its domain beside the baselines and plays every env
of it with legal actions, and that command, run with a short budget, goes through the same code path to a
package of the same shape."""

import json
import shlex

import gymnasium as gym
import pytest
from typer.testing import CliRunner

import agents
import envs
from agents.trained import SHIPPED, SHIPPED_DIR, task_key
from arena.cli import app
from arena.players import check_action
from arena.scenario import builtin_scenarios, load_scenario

runner = CliRunner()

# A budget of about one update of each learner (its own unit: arena learners), with the options that make
# the rest of its loop small; the shipped command's other options stay.
SHORT = {
    "ppo": ["--steps", "4096"],
    "ppo_iot": ["--steps", "1024"],
    "pg_aco": ["--steps", "1024"],
    "grpo": ["--steps", "1"],
    "san": ["--steps", "1"],
    "hdpo": ["--steps", "2", "--option", "dev_scenarios=64", "--option", "dev_periods=20"],
    "dcg_me": ["--steps", "64", "--option", "batch_size=32"],
    "lspo": ["--steps", "256"]
    + [f"--option={k}={v}" for k, v in dict(iterations=1, corpus_games=20, imitation_games=10).items()]
    + [f"--option={k}={v}" for k, v in dict(policy_games=2, eval_games=4, num_envs=2, num_steps=32).items()],
}


def recorded(name: str) -> tuple[list[str], agents.AgentManifest]:
    """The words of the shipped package's training command after ``arena train``, and its manifest."""
    manifest = agents.read_manifest(SHIPPED_DIR / SHIPPED[name][0])
    words = shlex.split(manifest.training.command)
    assert words[:2] == ["arena", "train"], manifest.training.command
    return words[2:], manifest


def ranking_scenarios(name: str) -> list:
    """The built-in scenarios (not collections) whose roster names ``name``."""
    found = []
    for path in builtin_scenarios().values():
        try:
            scenario = load_scenario(path)
        except ValueError:  # a collection, or a suite that needs an optional extra (MuJoCo)
            continue
        if any(entry.name == name for entry in scenario.spec.agents):
            found.append(scenario)
    return found


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_a_shipped_agent_is_made_by_a_registered_learner_for_its_domain_and_ranked_there(name):
    words, manifest = recorded(name)
    assert agents.learner(words[0]).domain in (SHIPPED[name][1], "any")
    assert int(words[words.index("--seed") + 1]) == manifest.training.seed
    scenarios = ranking_scenarios(name)
    assert scenarios, f"no built-in scenario ranks {name}"
    if "--suite" in words:  # a suite package: one task package per env of that suite
        suite = load_scenario(builtin_scenarios()[words[words.index("--suite") + 1]])
        assert suite in scenarios
        index = json.loads((SHIPPED_DIR / SHIPPED[name][0] / "training.json").read_text())
        assert [t["env_id"] for t in index["tasks"]] == [entry.id for entry in suite.spec.envs]


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_a_shipped_agent_plays_every_env_of_the_scenarios_that_rank_it_with_legal_actions(name):
    for scenario in ranking_scenarios(name):
        kwargs = next(entry.kwargs for entry in scenario.spec.agents if entry.name == name)
        if scenario.kind == "match":
            game = envs.make_multi(scenario.header.env, **scenario.header.env_kwargs)
            game.reset(seed=100)
            seat = game.agent_selection
            observation, _, _, _, info = game.last()
            agent = agents.make(name, game, seat=seat, **kwargs)
            agent.reset(seed=100)
            check_action(agent.act(observation, info), game.action_space(seat), info)  # raises if illegal
            game.close()
            continue
        for entry in scenario.spec.envs:
            env = gym.make(entry.id, **entry.kwargs)
            agent = agents.make(name, env, **kwargs)
            observation, info = env.reset(seed=100)
            agent.reset(seed=100)
            check_action(agent.act(observation, info), env.action_space, info)
            env.close()


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_the_recorded_command_retrains_a_package_of_the_same_shape_with_a_short_budget(name, tmp_path):
    words, manifest = recorded(name)
    steps = words.index("--steps")
    words = words[:steps] + words[steps + 2 :] + SHORT[words[0]]
    result = runner.invoke(app, ["train", *words, "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    again = agents.read_manifest(tmp_path)
    assert (again.name, again.entry_point, again.envs) == (manifest.name, manifest.entry_point, manifest.envs)
    if manifest.entry_point != "agents.trained:load":
        return
    shipped_tasks = json.loads((SHIPPED_DIR / SHIPPED[name][0] / "training.json").read_text())["tasks"]
    new_tasks = json.loads((tmp_path / "training.json").read_text())["tasks"]
    assert [(t["dir"], task_key(t["env_id"], t["env_kwargs"])) for t in new_tasks] == [
        (t["dir"], task_key(t["env_id"], t["env_kwargs"])) for t in shipped_tasks
    ]
    for task in new_tasks:
        shipped_task = agents.read_manifest(SHIPPED_DIR / SHIPPED[name][0] / task["dir"])
        assert agents.read_manifest(tmp_path / task["dir"]).entry_point == shipped_task.entry_point
