"""The learned agents shipped in agents/trained/: each is a package whose agent.toml records the `arena train`
command that made it, plays every env of its suite beside the suite's baselines, and that command, run with a
short budget, goes through the same code path to a package of the same shape."""

import json
import shlex

import gymnasium as gym
import pytest
from typer.testing import CliRunner

import agents
from agents.trained import SHIPPED, SHIPPED_DIR, task_key
from arena.cli import app
from arena.players import check_action
from arena.scenario import find_scenario, load_scenario

runner = CliRunner()

# The smallest budget each learner takes (one update), in its own unit (arena learners).
SHORT_STEPS = {"ppo": 4096, "ppo_iot": 1024, "pg_aco": 1024, "grpo": 1, "san": 1, "hdpo": 2}


def recorded(name: str) -> tuple[list[str], agents.AgentManifest]:
    """The shipped package's manifest and its training command's words after ``arena train``."""
    manifest = agents.read_manifest(SHIPPED_DIR / SHIPPED[name][0])
    words = shlex.split(manifest.training.command)
    assert words[:2] == ["arena", "train"], manifest.training.command
    return words[2:], manifest


def option(words: list[str], flag: str) -> str:
    return words[words.index(flag) + 1]


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_a_shipped_agent_is_trained_by_a_registered_learner_on_its_suite_and_ranked_there(name):
    words, manifest = recorded(name)
    learner, suite_name = words[0], option(words, "--suite")
    assert agents.learner(learner).domain == SHIPPED[name][1] == suite_name.split("_")[0]
    assert int(option(words, "--seed")) == manifest.training.seed
    suite = load_scenario(find_scenario(suite_name))
    assert name in suite.labels, f"{suite_name} does not rank {name}"
    index = json.loads((SHIPPED_DIR / SHIPPED[name][0] / "training.json").read_text())
    assert (index["learner"], index["suite"], index["steps"]) == (
        learner,
        suite_name,
        int(option(words, "--steps")),
    )
    assert len(index["tasks"]) == len(suite.spec.envs)


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_a_shipped_agent_plays_every_env_of_its_suite_with_legal_actions(name):
    words, _ = recorded(name)
    for entry in load_scenario(find_scenario(option(words, "--suite"))).spec.envs:
        env = gym.make(entry.id, **entry.kwargs)
        try:
            agent = agents.make(name, env)
            observation, info = env.reset(seed=100)
            agent.reset(seed=100)
            check_action(agent.act(observation, info), env.action_space, info)  # raises on an illegal one
        finally:
            env.close()


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_the_recorded_command_retrains_a_package_of_the_same_shape_with_a_short_budget(name, tmp_path):
    words, manifest = recorded(name)
    words[words.index("--steps") + 1] = str(SHORT_STEPS[words[0]])
    result = runner.invoke(app, ["train", *words, "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    again = agents.read_manifest(tmp_path)
    assert (again.name, again.entry_point, again.envs) == (manifest.name, manifest.entry_point, manifest.envs)
    shipped_tasks = json.loads((SHIPPED_DIR / SHIPPED[name][0] / "training.json").read_text())["tasks"]
    new_tasks = json.loads((tmp_path / "training.json").read_text())["tasks"]
    assert [(t["dir"], task_key(t["env_id"], t["env_kwargs"])) for t in new_tasks] == [
        (t["dir"], task_key(t["env_id"], t["env_kwargs"])) for t in shipped_tasks
    ]
    for task in new_tasks:
        shipped_task = agents.read_manifest(SHIPPED_DIR / SHIPPED[name][0] / task["dir"])
        assert agents.read_manifest(tmp_path / task["dir"]).entry_point == shipped_task.entry_point
