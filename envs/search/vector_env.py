"""Many search-QA episodes at once, each on its own question, with batched observations and masks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium.vector.utils import batch_space, concatenate, create_empty_array

from envs._core.privacy import public_info
from envs._core.render import check_render_mode
from envs.search.env import SearchQAEnv


class SearchQAVectorEnv(gym.vector.VectorEnv):
    """``num_envs`` :class:`SearchQAEnv` copies sharing one corpus, stepped together (same-step autoreset).

    The corpus and its BM25 index are built once per process and shared, so a copy costs only its episode
    state. Observations are batched as Gymnasium batches the single space (a ``Dict`` of arrays with a
    leading env axis; a tuple of transcripts for the text interface); ``infos`` follow Gymnasium's vector
    convention (``infos["action_mask"]`` is ``[num_envs, n]``, ``infos["em"]`` with its ``"_em"`` mask, ...).
    An env that ends is reset in the same step: its last observation and info are in ``infos["final_obs"]``
    and ``infos["final_info"]``. ``reset(seed=s)`` seeds copy i with ``s + i``; ``options={"question": q}``
    gives copy i the question index ``q[i]`` (or ``q`` to all), so a group of copies can answer the same
    question. Copy i follows, step for step, a single env given the same keywords, seed and actions.

    Privileged info: as the single env, ``infos["gold"]`` (:attr:`privileged_info_keys`); ``final_info``
    holds only the public keys of the ending info (the ended episode's gold chain was in the previous step's
    ``infos["gold"]``), so dropping the top-level privileged keys is all the filtering an agent needs.

    ``render_mode="ansi"``: :meth:`render` returns each copy's episode so far as text (a tuple, as
    Gymnasium's ``SyncVectorEnv`` does).
    """

    metadata = {"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP, "render_modes": ["ansi"]}
    privileged_info_keys: ClassVar[frozenset[str]] = SearchQAEnv.privileged_info_keys

    def __init__(self, num_envs: int = 1, max_episode_steps: int | None = None, **kwargs: Any):
        if not (isinstance(num_envs, int) and num_envs >= 1):
            raise ValueError(f"num_envs={num_envs!r} must be an int >= 1")
        if max_episode_steps is not None and not (
            isinstance(max_episode_steps, int) and max_episode_steps >= 1
        ):
            raise ValueError(f"max_episode_steps={max_episode_steps!r} must be None or an int >= 1")
        self.render_mode = check_render_mode(kwargs.get("render_mode"), self.metadata)
        self.envs = [SearchQAEnv(**kwargs) for _ in range(num_envs)]
        self.num_envs, self.max_episode_steps = num_envs, max_episode_steps
        self.single_observation_space = self.envs[0].observation_space
        self.single_action_space = self.envs[0].action_space
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self._steps = np.zeros(num_envs, dtype=np.int64)

    def reset(self, *, seed: int | Sequence[int] | None = None, options: dict | None = None):
        seeds = _per_env("seed", seed, self.num_envs, offset=True)
        questions = _per_env("options['question']", (options or {}).get("question"), self.num_envs)
        observations, infos = [], {}
        for i, env in enumerate(self.envs):
            chosen = None if questions[i] is None else {"question": int(questions[i])}
            observation, info = env.reset(seed=seeds[i], options=chosen)
            observations.append(observation)
            infos = self._add_info(infos, info, i)
        self._steps[:] = 0
        return self._batch(observations), infos

    def step(self, actions):
        observations, infos = [], {}
        rewards = np.zeros(self.num_envs, dtype=np.float64)
        terminated = np.zeros(self.num_envs, dtype=bool)
        truncated = np.zeros(self.num_envs, dtype=bool)
        for i, env in enumerate(self.envs):
            observation, rewards[i], terminated[i], truncated[i], info = env.step(actions[i])
            self._steps[i] += 1
            if self.max_episode_steps is not None and self._steps[i] >= self.max_episode_steps:
                truncated[i] = truncated[i] or not terminated[i]
            if terminated[i] or truncated[i]:
                final_obs, final_info = observation, info
                observation, info = env.reset()
                self._steps[i] = 0
                public = public_info(final_info, self.privileged_info_keys)
                info = {**info, "final_obs": final_obs, "final_info": public}
            observations.append(observation)
            infos = self._add_info(infos, info, i)
        return self._batch(observations), rewards, terminated, truncated, infos

    def render(self) -> tuple[str, ...] | None:
        """Each copy's episode so far as text (``"ansi"``); None without a render mode."""
        if self.render_mode is None:
            return None
        return tuple(env.render() for env in self.envs)

    def action_masks(self) -> np.ndarray:
        """``[num_envs, n]``: each copy's legal actions."""
        return np.stack([env.action_masks() for env in self.envs])

    def _batch(self, observations: list):
        out = create_empty_array(self.single_observation_space, self.num_envs)
        return concatenate(self.single_observation_space, observations, out)


def _per_env(name: str, value, n: int, offset: bool = False) -> list:
    """A scalar (seeds: ``s + i``), a sequence of n values, or None, as one value per env."""
    if value is None:
        return [None] * n
    if np.ndim(value) == 0:
        return [int(value) + i if offset else int(value) for i in range(n)]
    if len(value) != n:
        raise ValueError(f"{name} must have one value per env ({n}), got {len(value)}")
    return list(value)
