"""A Stable-Baselines3 model played through the Agent protocol and loaded back from an agent package, which
only the arena's sandbox (``PG_ARENA_SANDBOXED=1``) may do: loading one unpickles code."""

import base64
import json
import pickle
import zipfile

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3 import PPO

from agents import load_agent
from agents.base import AgentPackageError, EnvSpaces
from agents.sb3 import MODEL, SANDBOX_VARIABLE, SB3Agent, save


def _trained_model():
    env = gym.make("CartPole-v1")
    model = PPO("MlpPolicy", env, n_steps=64, batch_size=64, n_epochs=1, seed=0, device="cpu")
    return model.learn(total_timesteps=64), env


def test_sb3_agent_acts_as_the_models_deterministic_prediction():
    model, env = _trained_model()
    agent = SB3Agent(model, EnvSpaces.of(env))
    obs, info = env.reset(seed=3)
    for _ in range(20):
        expected, _ = model.predict(obs, deterministic=True)
        action = agent.act(obs, info)
        assert isinstance(action, int) and action == int(expected)
        obs, _, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            obs, info = env.reset()


class _Touch:
    """Unpickling it creates ``path``: stands for any code a model file could run when unpickled."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return open, (self.path, "w")


def _poison(package, keys, marker) -> None:
    """Replace the cloudpickled entries ``keys`` of model.zip by a pickle that creates ``marker``."""
    path = package / MODEL
    with zipfile.ZipFile(path) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    data = json.loads(files["data"])
    for key in keys:
        assert ":serialized:" in data[key]
        data[key] = {":serialized:": base64.b64encode(pickle.dumps(_Touch(marker))).decode()}
    files["data"] = json.dumps(data).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)


def test_an_sb3_package_is_not_unpickled_outside_the_arenas_sandbox(tmp_path, monkeypatch):
    monkeypatch.delenv(SANDBOX_VARIABLE, raising=False)
    model, _ = _trained_model()
    package = save(model, tmp_path / "sb3-agent", env_id="CartPole-v1")
    marker = tmp_path / "ran"
    _poison(package, ["policy_class", "observation_space"], marker)
    with pytest.raises(
        AgentPackageError, match="SB3 model files are unpickled only inside the arena's sandbox"
    ):
        load_agent(package)
    monkeypatch.setenv(SANDBOX_VARIABLE, "0")
    with pytest.raises(AgentPackageError, match="submit or play it as an agent package"):
        load_agent(package)
    assert not marker.exists()


def test_in_the_sandbox_the_entries_only_training_needs_are_not_unpickled(tmp_path, monkeypatch):
    monkeypatch.setenv(SANDBOX_VARIABLE, "1")
    model, env = _trained_model()
    package = save(model, tmp_path / "sb3-agent", env_id="CartPole-v1")
    marker = tmp_path / "ran"
    _poison(package, ["lr_schedule", "clip_range", "rollout_buffer_class"], marker)
    agent = load_agent(package)
    assert not marker.exists()
    for obs in np.stack([env.observation_space.sample() for _ in range(8)]):
        assert agent.act(obs, {}) == int(model.predict(obs, deterministic=True)[0])


def test_saved_sb3_model_loads_back_as_an_agent_package(tmp_path, monkeypatch):
    monkeypatch.setenv(SANDBOX_VARIABLE, "1")  # as inside the arena's sandbox worker
    model, env = _trained_model()
    save(model, tmp_path / "sb3-agent", env_id="CartPole-v1")
    agent = load_agent(tmp_path / "sb3-agent")
    observations = np.stack([env.observation_space.sample() for _ in range(16)])
    for obs in observations:
        assert agent.act(obs, {}) == int(model.predict(obs, deterministic=True)[0])
