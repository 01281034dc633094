"""A Stable-Baselines3 model played through the Agent protocol and loaded back from an agent package."""

import gymnasium as gym
import numpy as np
from stable_baselines3 import PPO

from agents import load_agent
from agents.base import EnvSpaces
from agents.sb3 import SB3Agent, save


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


def test_saved_sb3_model_loads_back_as_an_agent_package(tmp_path):
    model, env = _trained_model()
    save(model, tmp_path / "sb3-agent", env_id="CartPole-v1")
    agent = load_agent(tmp_path / "sb3-agent")
    observations = np.stack([env.observation_space.sample() for _ in range(16)])
    for obs in observations:
        assert agent.act(obs, {}) == int(model.predict(obs, deterministic=True)[0])
