"""Small envs used only by tests of the registry, the conformance checks and the arena.

They are never registered by ``envs``: :func:`register` adds them for a test (or a test's subprocess) and
:func:`unregister` removes them.
"""

from __future__ import annotations

from typing import ClassVar

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.envs.classic_control.cartpole import CartPoleEnv
from pettingzoo import ParallelEnv
from pettingzoo.utils import parallel_to_aec, wrappers


class CartPole(CartPoleEnv):
    """Gymnasium's CartPole, declaring that its info (always empty) holds nothing privileged."""

    privileged_info_keys: ClassVar[frozenset[str]] = frozenset()


class GlobalRngCartPole(CartPole):
    """CartPole whose start state comes from numpy's global generator: what the determinism check catches."""

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.state = np.random.uniform(-0.05, 0.05, size=4)  # noqa: NPY002  (the bug under test)
        return np.array(self.state, dtype=np.float32), {}


class MaskedChoice(gym.Env):
    """Pick one of 5 arms; only the arms in info["action_mask"] are legal, and an illegal pick is an error."""

    observation_space = spaces.Box(0.0, 1.0, (5,), np.float32)
    action_space = spaces.Discrete(5)
    privileged_info_keys: ClassVar[frozenset[str]] = frozenset()  # the mask is public

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return self._observe(), {"action_mask": self._mask}

    def step(self, action):
        if not self._mask[action]:
            raise ValueError(f"action {action} is masked")
        reward = float(action)
        obs = self._observe()
        return obs, reward, False, False, {"action_mask": self._mask}

    def _observe(self):
        self._mask = self.np_random.random(5) < 0.5
        self._mask[self.np_random.integers(5)] = True
        return self._mask.astype(np.float32)


class MatchingPenniesParallel(ParallelEnv):
    """Matching pennies, repeated: 'even' wins +1 when the coins match, 'odd' when they differ (zero sum).

    Each player observes the opponent's previous coin (0 none, 1 heads, 2 tails). The game is truncated
    after ``rounds`` rounds. Its value is 0 and the mixed equilibrium is 50/50.
    """

    metadata = {"name": "matching_pennies_v0", "render_modes": []}
    privileged_info_keys: ClassVar[frozenset[str]] = frozenset()  # infos are empty

    def __init__(self, rounds: int = 10):
        self.possible_agents = ["even", "odd"]
        self.rounds = rounds
        self._observation_space, self._action_space = spaces.Discrete(3), spaces.Discrete(2)

    def observation_space(self, agent):
        return self._observation_space

    def action_space(self, agent):
        return self._action_space

    def reset(self, seed=None, options=None):
        self.agents = list(self.possible_agents)
        self.round = 0
        return {a: np.int64(0) for a in self.agents}, {a: {} for a in self.agents}

    def step(self, actions):
        match = actions["even"] == actions["odd"]
        rewards = {"even": 1.0 if match else -1.0, "odd": -1.0 if match else 1.0}
        self.round += 1
        done = self.round >= self.rounds
        observations = {"even": np.int64(actions["odd"] + 1), "odd": np.int64(actions["even"] + 1)}
        infos = {a: {} for a in self.agents}
        terminations = {a: False for a in self.agents}
        truncations = {a: done for a in self.agents}
        if done:
            self.agents = []
        return observations, rewards, terminations, truncations, infos


def parallel_env(**kwargs):
    return MatchingPenniesParallel(**kwargs)


def env(**kwargs):
    aec = parallel_to_aec(parallel_env(**kwargs))
    return wrappers.OrderEnforcingWrapper(wrappers.AssertOutOfBoundsWrapper(aec))


# A two-agent match scenario on the pennies game: random against itself under a second label.
PENNIES_SCENARIO = """
[scenario]
name = "pennies"
kind = "match"
env = "test_matching_pennies"
games_per_pairing = 2

[[agents]]
name = "random"
[[agents]]
name = "random"
label = "random-b"
"""

IDS = {
    "cartpole": "arena/TestCartPole-v0",
    "global_rng": "arena/TestGlobalRng-v0",
    "masked": "arena/TestMaskedChoice-v0",
    "pennies": "test_matching_pennies",
}


def register() -> dict[str, str]:
    """Register the test envs; returns their ids by short name."""
    import envs

    common = dict(domain="test", summary="test only", max_episode_steps=50)
    cartpole = "fixture_envs:CartPole"
    envs.register_single(IDS["cartpole"], cartpole, action_kind="Discrete", observation_kind="Box", **common)
    envs.register_single(
        IDS["global_rng"],
        "fixture_envs:GlobalRngCartPole",
        action_kind="Discrete",
        observation_kind="Box",
        **common,
    )
    envs.register_single(
        IDS["masked"], "fixture_envs:MaskedChoice", action_kind="Discrete", observation_kind="Box", **common
    )
    envs.register_multi(
        IDS["pennies"],
        "fixture_envs",
        domain="test",
        summary="matching pennies",
        action_kind="Discrete",
        observation_kind="Discrete",
    )
    return dict(IDS)


def unregister() -> None:
    import envs

    for env_id in IDS.values():
        envs.unregister(env_id)
