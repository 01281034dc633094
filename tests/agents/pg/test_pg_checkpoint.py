"""Checkpoints load back as Agents acting as the trained policy; training is seeded and deterministic on CPU;
``arena.training`` trains and evaluates through agent packages."""

import csv
import json
import shutil

import gymnasium as gym
import numpy as np
import pytest
import torch

from agents import Agent, load_agent
from agents.pg import a2c, ppo, reinforce
from agents.pg.presets import ALGORITHMS
from agents.pg.trainer import Learner
from arena.training import evaluate, train

SMALL = dict(num_envs=4, num_steps=32, torch_threads=1)


def _parameters(learner):
    return [p.detach().clone() for p in learner.policy.parameters()]


@pytest.mark.parametrize(
    "module,config", [(ppo, ppo.PPOConfig), (a2c, a2c.A2CConfig), (reinforce, reinforce.ReinforceConfig)]
)
def test_same_seed_gives_bit_identical_parameters_on_cpu(module, config):
    def run(seed):
        learner = Learner(
            "x", module.update, "CartPole-v1", config(**SMALL), total_steps=256, seed=seed, device="cpu"
        )
        learner.train()
        return _parameters(learner)

    first, second, other = run(7), run(7), run(8)
    assert all(torch.equal(a, b) for a, b in zip(first, second, strict=True))
    assert not all(torch.equal(a, b) for a, b in zip(first, other, strict=True))


@pytest.mark.parametrize("module", [ppo, a2c, reinforce], ids=lambda module: module.__name__)
def test_every_learner_without_a_config_trains_with_its_papers_defaults_and_saves_under_its_name(
    module, tmp_path
):
    """The three ``learn`` functions are one path (``Algorithm.learn``) with each algorithm's own parts."""
    algorithm = ALGORITHMS[module.__name__.rsplit(".", 1)[1]]
    defaults = algorithm.config()
    steps = defaults.num_envs * defaults.num_steps  # one update
    agent = module.learn("CartPole-v1", total_steps=steps, seed=0, device="cpu", out=tmp_path)
    training = json.loads((tmp_path / "training.json").read_text())
    assert agent.name == f"{algorithm.name}-CartPole-v1"
    assert training["algo"] == algorithm.name and training["total_steps"] == steps
    assert training["config"] == json.loads(json.dumps(defaults.as_dict()))


def test_checkpoint_loads_as_agent_acting_like_the_trained_policy(tmp_path):
    trained = ppo.learn(
        "CartPole-v1",
        total_steps=256,
        seed=0,
        device="cpu",
        config=ppo.PPOConfig(**SMALL),
        out=tmp_path / "run",
    )
    shutil.move(tmp_path / "run", tmp_path / "moved")  # a package keeps working wherever it is copied
    loaded = load_agent(tmp_path / "moved")
    assert isinstance(loaded, Agent)
    observations = np.random.default_rng(0).normal(size=(50, 4)).astype(np.float32)
    trained.reset(seed=5)
    loaded.reset(seed=5)
    assert [trained.act(o, {}) for o in observations] == [loaded.act(o, {}) for o in observations]
    with (tmp_path / "moved" / "progress.csv").open() as file:
        columns = next(csv.reader(file))
    events = list((tmp_path / "moved" / "tb").glob("events.out.tfevents.*"))
    assert events and events[0].stat().st_size > 0  # the same scalars for TensorBoard (a dev dependency)
    for name in (
        "charts/episodic_return",
        "charts/SPS",
        "losses/approx_kl",
        "losses/clipfrac",
        "losses/explained_variance",
    ):
        assert name in columns


def test_loading_for_an_env_with_other_spaces_is_refused(tmp_path):
    ppo.learn(
        "CartPole-v1",
        total_steps=128,
        seed=0,
        device="cpu",
        config=ppo.PPOConfig(**SMALL),
        out=tmp_path / "run",
    )
    with pytest.raises(ValueError, match="observation_space"):
        load_agent(tmp_path / "run", env=gym.make("Acrobot-v1"))


def test_train_writes_a_package_that_evaluate_plays_reproducibly(tmp_path):
    out = train(
        "a2c",
        "CartPole-v1",
        steps=400,
        seed=0,
        device="cpu",
        out=tmp_path / "a2c",
        env_kwargs={},
        progress=False,
    )
    first = evaluate(out, "CartPole-v1", episodes=3, seed=11)
    again = evaluate(out, "CartPole-v1", episodes=3, seed=11)
    returns = [episode["episode_return"] for episode in first["per_episode"]]
    assert first["per_episode"] == again["per_episode"] and first["episodes"] == 3
    assert first["return_mean"] == pytest.approx(sum(returns) / 3)
    # CartPole pays 1 per step: each return is an episode length between 8 and 500 steps.
    assert all(8 <= r <= 500 for r in returns)


def test_unknown_algorithm_and_hyperparameter_are_rejected_by_name(tmp_path):
    with pytest.raises(ValueError, match="unknown learner 'dqn'"):
        train("dqn", "CartPole-v1", steps=100, seed=0, device="cpu", out=tmp_path, env_kwargs={})
    with pytest.raises(ValueError, match="clip_cof"):
        train(
            "ppo", "CartPole-v1", steps=100, seed=0, device="cpu", out=tmp_path, env_kwargs={}, clip_cof=0.1
        )


def test_config_fields_are_validated_up_front():
    with pytest.raises(ValueError, match="num_envs"):
        ppo.PPOConfig(num_envs=0).validate()
    with pytest.raises(ValueError, match="gae_lambda"):
        ppo.PPOConfig(gae_lambda=1.5).validate()
    with pytest.raises(ValueError, match="total_steps"):
        Learner(
            "ppo", ppo.update, "CartPole-v1", ppo.PPOConfig(**SMALL), total_steps=10, seed=0, device="cpu"
        )


def test_box_policy_checkpoint_loads_and_acts_within_the_bounds(tmp_path):
    config = ppo.PPOConfig(**SMALL, action_bound="tanh", normalize_obs=True)
    trained = ppo.learn(
        "Pendulum-v1", total_steps=128, seed=0, device="cpu", config=config, out=tmp_path / "box"
    )
    loaded = load_agent(tmp_path / "box")
    space = gym.make("Pendulum-v1").action_space
    observations = np.random.default_rng(1).normal(size=(20, 3)).astype(np.float32)
    trained.reset(seed=2)
    loaded.reset(seed=2)
    for obs in observations:
        action = loaded.act(obs, {})
        assert space.contains(action)
        np.testing.assert_array_equal(action, trained.act(obs, {}))
