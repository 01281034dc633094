"""`arena train` records the command that makes a package, that command makes it again, and a suite package
plays each env of its suite with the policy trained on that env."""

import shlex

import gymnasium as gym
import pytest
from typer.testing import CliRunner

import agents
from agents import AgentManifest, TrainingRecord, read_manifest, write_manifest
from arena.cli import app

runner = CliRunner()

SUITE = """
[scenario]
name = "two-tasks"
kind = "suite"
episodes = 1
low_reference = "random"
high_reference = "balancer"

[[envs]]
id = "CartPole-v1"

[[envs]]
id = "Acrobot-v1"
kwargs = { max_episode_steps = 50 }

[[agents]]
name = "random"

[[agents]]
name = "random"
label = "balancer"
"""


def test_write_manifest_writes_what_read_manifest_reads_back(tmp_path):
    manifest = AgentManifest(
        name="team/bot",
        version="1.0",
        entry_point="bot:make_agent",
        envs=["CartPole-v1"],
        kwargs={"target": [0.5, -0.25], "deterministic": False, "odd key": 'say "hi" é'},
        training=TrainingRecord(
            command="arena train ppo CartPole-v1 --steps 10 --seed 3 --device cpu", seed=3
        ),
    )
    write_manifest(tmp_path, manifest)
    (tmp_path / "bot.py").write_text("")
    assert read_manifest(tmp_path) == manifest


def test_the_recorded_train_command_makes_the_same_weights_again(tmp_path):
    """Same command, same seed, on CPU: the same weights, so the same version (a hash of the weights)."""
    first = tmp_path / "first"
    args = ["train", "ppo", "CartPole-v1", "--steps", "600", "--seed", "3", "--device", "cpu"]
    result = runner.invoke(app, [*args, "--option", "learning_rate=0.001", "--out", str(first)])
    assert result.exit_code == 0, result.output
    manifest = read_manifest(first)
    assert manifest.name == "ppo-CartPole-v1-seed3" and manifest.training.seed == 3
    words = shlex.split(manifest.training.command)
    assert words[:2] == ["arena", "train"] and "--out" not in words
    again = tmp_path / "again"
    result = runner.invoke(app, [*words[1:], "--out", str(again)])
    assert result.exit_code == 0, result.output
    assert read_manifest(again) == manifest


def test_a_suite_package_plays_each_env_with_the_policy_trained_on_it(tmp_path):
    suite = tmp_path / "two.toml"
    suite.write_text(SUITE)
    out = tmp_path / "package"
    result = runner.invoke(
        app,
        ["train", "reinforce", "--suite", str(suite), "--steps", "512", "--device", "cpu", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    manifest = read_manifest(out)
    assert manifest.entry_point == "agents.trained:load" and manifest.envs == ["Acrobot-v1", "CartPole-v1"]
    assert manifest.training.command.startswith(f"arena train reinforce --suite {suite} --steps 512")
    for env_id, task in (("CartPole-v1", "tasks/01-CartPole-v1"), ("Acrobot-v1", "tasks/02-Acrobot-v1")):
        assert read_manifest(out / task).envs == [env_id]
        env = gym.make(env_id, max_episode_steps=20)  # another episode limit: the same task
        agent = agents.load_agent(out, env)  # the other task's policy takes another number of inputs
        observation, info = env.reset(seed=0)
        assert env.action_space.contains(agent.act(observation, info))
        env.close()
    with pytest.raises(ValueError, match=r"not a task this package was trained on.*CartPole-v1"):
        agents.load_agent(out, gym.make("MountainCar-v0"))


def test_train_refuses_a_match_scenario_and_a_missing_env_in_one_line(tmp_path):
    result = runner.invoke(app, ["train", "ppo", "--suite", "werewolf", "--steps", "10"])
    assert result.exit_code == 2 and "--suite takes a task suite" in result.stderr, result.output
    result = runner.invoke(app, ["train", "ppo", "--steps", "10"])
    assert result.exit_code == 2 and "give an env id or --suite" in result.stderr, result.output
