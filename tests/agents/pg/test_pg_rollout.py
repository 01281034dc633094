"""Rollout collection under every Gymnasium autoreset mode, numpy and tensor envs.

A counter env makes the bootstrapping plumbing checkable exactly: its observation is the step count, episodes
are truncated after 3 steps, and the critic is replaced by V(obs) = obs. The value of the observation each
transition reaches is then obs + 1 (the final observation 3 where an episode was truncated), whatever the
autoreset mode, and reset transitions must be flagged invalid.
"""

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.vector import AutoresetMode, VectorEnv

from agents.pg.distributions import ActionKind
from agents.pg.policy import ActorCritic, PolicyArch
from agents.pg.rollout import Rollout, TorchVectorEnv, collect, make_vector_env

HORIZON = 3


class CounterEnv(gym.Env):
    """Observation = steps taken; reward 1; never terminates (the TimeLimit truncates it)."""

    observation_space = gym.spaces.Box(0, 10, (1,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.count = 0
        return np.array([0.0], np.float32), {}

    def step(self, action):
        self.count += 1
        return np.array([self.count], np.float32), 1.0, False, False, {}


class TorchCounterVectorEnv(VectorEnv):
    """The counter as a batched torch env with same-step autoreset, the contract of our batched envs."""

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP}

    def __init__(self, num_envs: int):
        self.num_envs = num_envs
        self.single_observation_space = CounterEnv.observation_space
        self.single_action_space = CounterEnv.action_space
        self.observation_space = gym.vector.utils.batch_space(self.single_observation_space, num_envs)
        self.action_space = gym.vector.utils.batch_space(self.single_action_space, num_envs)

    def reset(self, *, seed=None, options=None):
        self.count = torch.zeros(self.num_envs)
        return self.count[:, None].clone(), {}

    def step(self, actions):
        assert torch.is_tensor(actions), "a tensor env must receive tensor actions"
        self.count += 1
        truncated = self.count >= HORIZON
        final_obs = self.count[:, None].clone()
        self.count = torch.where(truncated, 0.0, self.count)
        info = {"final_obs": final_obs, "_final_obs": truncated.clone()} if truncated.any() else {}
        return (
            self.count[:, None].clone(),
            torch.ones(self.num_envs),
            torch.zeros_like(truncated),
            truncated,
            info,
        )


def _identity_critic_policy(obs_dim=1):
    policy = ActorCritic(PolicyArch(obs_dim=obs_dim, action=ActionKind.of(gym.spaces.Discrete(2))))
    policy.critic = torch.nn.Linear(obs_dim, 1)
    with torch.no_grad():
        policy.critic.weight.fill_(1.0)
        policy.critic.bias.zero_()
    return policy


def _sync_counter(mode, num_envs=2):
    return gym.vector.SyncVectorEnv(
        [lambda: gym.wrappers.TimeLimit(CounterEnv(), HORIZON)] * num_envs, autoreset_mode=mode
    )


@pytest.mark.parametrize(
    "make_env",
    [
        lambda: _sync_counter(AutoresetMode.SAME_STEP),
        lambda: _sync_counter(AutoresetMode.NEXT_STEP),
        lambda: _sync_counter(AutoresetMode.DISABLED),
        lambda: TorchCounterVectorEnv(2),
    ],
    ids=["same_step", "next_step", "disabled", "torch_same_step"],
)
def test_truncated_transitions_bootstrap_from_final_observation_in_every_autoreset_mode(make_env):
    env = TorchVectorEnv(make_env())
    rollout = Rollout(10, env)
    obs, mask = env.reset(seed=0)
    collect(env, _identity_critic_policy(), rollout, obs, mask, torch.Generator().manual_seed(0))
    valid = rollout.valid
    obs_seen = rollout.obs[..., 0]
    # Valid transitions start from 0, 1 or 2 and reach obs + 1 (the final observation 3 when truncated).
    assert set(obs_seen[valid].tolist()) == {0.0, 1.0, 2.0}
    torch.testing.assert_close(rollout.next_values[valid], obs_seen[valid] + 1, rtol=0, atol=1e-6)
    assert rollout.truncated[valid].tolist() == (obs_seen[valid] == 2).tolist()
    if env.mode is AutoresetMode.NEXT_STEP:
        # The step after each truncation only resets the env: it starts from the final observation 3.
        assert (~valid).sum() > 0
        assert (obs_seen[~valid] == 3).all()
    else:
        assert valid.all()
    returns, lengths = rollout.finished_episodes()
    assert returns == lengths and set(lengths) == {float(HORIZON)}


def test_tensor_env_keeps_tensors_and_numpy_env_gets_numpy_actions():
    tensor_env = TorchVectorEnv(TorchCounterVectorEnv(3))
    tensor_env.reset(seed=0)
    tensor_env.step(torch.zeros(3, dtype=torch.long))  # the env asserts it receives a tensor
    numpy_env = TorchVectorEnv(make_vector_env("CartPole-v1", 3, vectorization="sync"))
    obs, _ = numpy_env.reset(seed=0)
    step = numpy_env.step(torch.zeros(3, dtype=torch.long))
    assert torch.is_tensor(obs) and torch.is_tensor(step.obs) and step.obs.shape == (3, 4)


def test_cartpole_vector_entry_point_is_chosen_and_read_as_next_step():
    env = TorchVectorEnv(make_vector_env("CartPole-v1", 4))
    assert type(env.env).__name__ == "CartPoleVectorEnv"
    assert env.mode is AutoresetMode.NEXT_STEP


def test_make_vector_env_rejects_unknown_vectorization():
    with pytest.raises(ValueError, match="vectorization"):
        make_vector_env("CartPole-v1", 2, vectorization="threads")
