"""The ``ppo_iot`` and ``pg_aco`` learners write agent packages for one configuration of the IoT env:
loadable, legal, reproducible from their seed, trained by one PPO path, and recording how they were
trained."""

import csv
import json

import gymnasium as gym
import pytest
import torch

import agents
import envs  # noqa: F401  (registers the ids)
from agents.iot.pg_aco import PGACOScheduler
from agents.pg.policy import WEIGHTS, weights_version

ENV = "arena/IoTScheduling-v0"
SMALL = dict(num_tasks=40, node_speeds=[1.0, 3.0], arrival_rate=2.4)  # single-task jobs
ONE_UPDATE = 1024  # the IoT PPO settings' 8 envs x 128 steps
train_ppo_package = agents.learner("ppo_iot").load()  # as arena train runs them
train_pg_aco_package = agents.learner("pg_aco").load()


def train(trainer, directory, seed=0, env_kwargs=SMALL, steps=ONE_UPDATE, **options):
    return trainer(
        ENV, env_kwargs, out=directory, steps=steps, seed=seed, device="cpu", progress=False, **options
    )


@pytest.fixture(scope="module")
def packages(tmp_path_factory):
    """Packages trained for one PPO update: ppo_iot with seeds 0 and 1, pg_aco with seed 0."""
    root = tmp_path_factory.mktemp("iot")
    return {
        "ppo0": train(train_ppo_package, root / "ppo0"),
        "ppo1": train(train_ppo_package, root / "ppo1", seed=1),
        "aco0": train(train_pg_aco_package, root / "aco0", alpha=0.5, beta=2.0),
    }


def play_one_episode(env, agent, seed):
    """The actions of one whole episode, each checked against the mask it was chosen under, and the
    episode's return, length and response times."""
    observation, info = env.reset(seed=seed)
    agent.reset(seed)
    actions, total, done = [], 0.0, False
    while not done:
        action = agent.act(observation, info)
        assert info["action_mask"][action], f"illegal node {action} at decision {len(actions)}"
        actions.append(action)
        observation, reward, terminated, truncated, info = env.step(action)
        total += reward
        done = terminated or truncated
    assert terminated and not truncated
    return actions, total, info["response_times"]


def test_ppo_package_plays_a_whole_episode_legally_and_its_return_is_minus_the_response_times(packages):
    """The package loads through its manifest as the policy's mode and plays one full 40-task episode: one
    legal decision per task (single-task jobs), and a return of exactly minus the sum of the response times
    (the env's reward without energy or SLA weights; float sums, so to 1e-9 relative)."""
    env = gym.make(ENV, **SMALL)
    agent = agents.load_agent(packages["ppo0"], env)
    assert agent.deterministic
    actions, total, response_times = play_one_episode(env, agent, seed=100)
    assert len(actions) == SMALL["num_tasks"] == len(response_times)
    assert total == pytest.approx(-response_times.sum(), rel=1e-9)


def test_manifest_version_is_the_hash_of_the_saved_weights_and_training_json_records_the_run(packages):
    """agent.toml's version is weights_version of the weights file; training.json names the learner, the
    env configuration it was given, seed, budget and every PPO setting, with training episodes no longer
    than the env's (40 tasks here, under the default 200)."""
    manifest = agents.read_manifest(packages["ppo0"])
    state = torch.load(packages["ppo0"] / WEIGHTS, weights_only=True)["state_dict"]
    assert manifest.entry_point == "agents.pg.policy:load"
    assert (manifest.envs, manifest.weights) == ([ENV], WEIGHTS)
    assert manifest.version == weights_version(state)
    record = json.loads((packages["ppo0"] / "training.json").read_text())
    assert (record["algo"], record["env_id"], record["seed"]) == ("ppo_iot", ENV, 0)
    assert record["steps"] == ONE_UPDATE
    assert record["env_kwargs"] == SMALL
    assert record["config"]["train_num_tasks"] == 40
    assert (record["config"]["gamma"], record["config"]["gae_lambda"]) == (0.9, 0.9)  # IOT_PPO's settings
    assert record["wall_time_s"] > 0


def test_same_seed_gives_the_same_weights_and_both_learners_share_them(packages, tmp_path):
    """Training is deterministic on CPU: seed 0 again gives seed 0's weights version, seed 1 another; the
    pg_aco learner trains the very same policy (one training path), so its version is ppo_iot's."""
    again = train(train_ppo_package, tmp_path / "again")
    versions = {name: agents.read_manifest(directory).version for name, directory in packages.items()}
    assert agents.read_manifest(again).version == versions["ppo0"] == versions["aco0"]
    assert versions["ppo1"] != versions["ppo0"]


def test_pg_aco_package_holds_its_weights_and_without_pheromone_or_heuristic_plays_the_ppo_mode(packages):
    """The pg_aco package's factory loads the policy from the package itself with the manifest's alpha and
    beta; with alpha = beta = 0 its score is log pi alone, so it takes the PPO package's (the same policy's)
    mode at every decision of a whole episode."""
    env = gym.make(ENV, **SMALL)
    hybrid = agents.load_agent(packages["aco0"], env)
    assert isinstance(hybrid, PGACOScheduler) and (hybrid.alpha, hybrid.beta) == (0.5, 2.0)
    plain = agents.load_agent(packages["aco0"], env, alpha=0.0, beta=0.0)
    mode = agents.load_agent(packages["ppo0"], env)
    hybrid_actions, _, _ = play_one_episode(env, plain, seed=101)
    mode_actions, _, _ = play_one_episode(env, mode, seed=101)
    assert hybrid_actions == mode_actions


def test_training_episodes_hold_train_num_tasks_tasks(tmp_path):
    """On the suite's 1000-task configuration, training episodes hold 200 tasks (one decision each): two
    envs x 256 steps finish exactly one episode each, of length 200, as progress.csv logs it. PPO settings
    pass through as options."""
    out = train(
        train_ppo_package,
        tmp_path,
        env_kwargs=dict(SMALL, num_tasks=1000),
        steps=512,
        num_envs=2,
        num_steps=256,
    )
    (row,) = list(csv.DictReader((out / "progress.csv").open()))
    assert float(row["charts/episodic_length"]) == 200 and float(row["charts/episodes"]) == 2
    assert json.loads((out / "training.json").read_text())["config"]["num_envs"] == 2


def test_unknown_options_and_other_envs_are_refused_with_the_allowed_values(tmp_path):
    """An option that is neither a PPO setting, train_num_tasks nor the factory's is named with the allowed
    ones; negative pheromone or heuristic weights and envs other than the IoT one are refused."""
    with pytest.raises(ValueError, match=r"'gamma_typo'.*allowed: .*alpha, anneal_lr"):
        train(train_pg_aco_package, tmp_path, gamma_typo=0.5)
    with pytest.raises(ValueError, match="beta"):
        train(train_pg_aco_package, tmp_path, beta=-1.0)
    with pytest.raises(ValueError, match="arena/IoTScheduling-v0 only"):
        train_ppo_package("CartPole-v1", {}, out=tmp_path, steps=ONE_UPDATE, seed=0, device="cpu")
    assert not (tmp_path / WEIGHTS).exists()  # refused before training
