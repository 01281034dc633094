"""Conformance checks every registered env must pass (``tests/test_conformance.py`` runs them on all ids).

Single-agent: Gymnasium's ``check_env`` on the unwrapped env, Stable-Baselines3's ``check_env``, the
declared space kinds, and seed determinism with instances stepped interleaved. Multi-agent: PettingZoo's
``api_test``, ``parallel_api_test``, ``seed_test`` and ``parallel_seed_test``. Each check raises
``AssertionError`` (or the library's own error) on the first failure.
"""

from __future__ import annotations

import copy
import random
import sys
import warnings
from typing import Any

import gymnasium as gym
import numpy as np

from envs._core.registry import get_record, make_multi
from envs._core.spaces import mask_for_space


def check_gymnasium_api(env_id: str) -> None:
    """Gymnasium's own env checker on the unwrapped env (render check skipped)."""
    from gymnasium.utils.env_checker import check_env

    env = gym.make(env_id)
    try:
        check_env(env.unwrapped, skip_render_check=True)
    finally:
        env.close()


def check_sb3_api(env_id: str) -> None:
    """Stable-Baselines3's env checker: the env trains with SB3 unchanged."""
    from stable_baselines3.common.env_checker import check_env

    env = gym.make(env_id)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # SB3's style advice; errors still raise
            check_env(env, warn=True)
    finally:
        env.close()


def check_declared_kinds(env_id: str) -> None:
    """The action/observation kinds in the registry are those of the real spaces."""
    record = get_record(env_id)
    if record.multi_agent:
        env = make_multi(env_id)
        env.reset(seed=0)
        agent = env.possible_agents[0]
        action_space, observation_space = env.action_space(agent), env.observation_space(agent)
    else:
        env = gym.make(env_id)
        action_space, observation_space = env.action_space, env.observation_space
    env.close()
    assert type(action_space).__name__ == record.action_kind, (
        f"{env_id}: registered action_kind={record.action_kind!r}, space is {type(action_space).__name__}"
    )
    assert type(observation_space).__name__ == record.observation_kind, (
        f"{env_id}: registered observation_kind={record.observation_kind!r}, "
        f"space is {type(observation_space).__name__}"
    )


def check_seed_determinism(env_id: str, seed: int = 0, steps: int = 300) -> None:
    """Same seed, same episodes, whatever else runs in the process.

    Two instances reset with the same seed take the same actions and must give identical observations,
    rewards, end flags and masks, across several episodes (later resets unseeded, so each instance's own
    generator carries on). Between their steps a third instance with another seed steps, and the global
    ``random``, ``numpy`` and (when imported) ``torch`` generators are re-seeded differently, so an env that
    uses any global RNG fails.
    """
    first, second, other = (gym.make(env_id) for _ in range(3))
    sampler = copy.deepcopy(first.action_space)
    sampler.seed(seed)
    other_sampler = copy.deepcopy(other.action_space)
    other_sampler.seed(seed + 1)
    saved_np, saved_py = np.random.get_state(), random.getstate()  # noqa: NPY002
    torch = sys.modules.get("torch")
    saved_torch = torch.get_rng_state() if torch else None
    try:
        obs_a, info_a = first.reset(seed=seed)
        obs_b, info_b = second.reset(seed=seed)
        _, other_info = other.reset(seed=seed + 1)
        _assert_same(obs_a, obs_b, f"{env_id} reset observation")
        _assert_same(info_a.get("action_mask"), info_b.get("action_mask"), f"{env_id} reset action_mask")
        for t in range(steps):
            action = sampler.sample(mask=mask_for_space(sampler, info_a.get("action_mask")))
            _reseed_globals(1_000 + t)
            step_a = first.step(action)
            other_action = other_sampler.sample(
                mask=mask_for_space(other_sampler, other_info.get("action_mask"))
            )
            *_, other_done, other_cut, other_info = other.step(other_action)
            if other_done or other_cut:
                _, other_info = other.reset()
            _reseed_globals(9_000 + t)
            step_b = second.step(action)
            where = f"{env_id} step {t}"
            for name, a, b in zip(
                ("observation", "reward", "terminated", "truncated"), step_a, step_b, strict=False
            ):
                _assert_same(a, b, f"{where} {name}")
            info_a, info_b = step_a[4], step_b[4]
            _assert_same(info_a.get("action_mask"), info_b.get("action_mask"), f"{where} action_mask")
            if step_a[2] or step_a[3]:
                obs_a, info_a = first.reset()
                obs_b, info_b = second.reset()
                _assert_same(obs_a, obs_b, f"{where} reset observation")
    finally:
        np.random.set_state(saved_np)  # noqa: NPY002
        random.setstate(saved_py)
        if torch:
            torch.set_rng_state(saved_torch)
        for env in (first, second, other):
            env.close()


def check_pettingzoo_api(name: str, num_cycles: int = 200) -> None:
    """PettingZoo's api_test (AEC) and parallel_api_test."""
    from pettingzoo.test import api_test, parallel_api_test

    api_test(make_multi(name), num_cycles=num_cycles)
    parallel_api_test(make_multi(name, parallel=True), num_cycles=num_cycles)


def check_pettingzoo_seeding(name: str, num_cycles: int = 200) -> None:
    """PettingZoo's seed_test and parallel_seed_test."""
    from pettingzoo.test import parallel_seed_test, seed_test

    seed_test(lambda: make_multi(name), num_cycles=num_cycles)
    parallel_seed_test(lambda: make_multi(name, parallel=True), num_cycles=num_cycles)


def _reseed_globals(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002  (deliberately disturbs the global generator)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed)


def _assert_same(a: Any, b: Any, where: str) -> None:
    """Exact equality of (nested) observations: arrays, dicts, tuples, strings, numbers."""
    if isinstance(a, dict) or isinstance(b, dict):
        assert isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys(), f"{where}: keys differ"
        for key in a:
            _assert_same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, (tuple, list)) and not isinstance(a, str):
        assert isinstance(b, (tuple, list)) and len(a) == len(b), f"{where}: lengths differ"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, str) or a is None:
        assert a == b, f"{where}: {a!r} != {b!r}"
    else:
        x, y = np.asarray(a), np.asarray(b)
        assert x.shape == y.shape and np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), (
            f"{where}: differs for the same seed (max |diff| "
            f"{np.max(np.abs(x.astype(float) - y.astype(float))) if x.shape == y.shape else 'shape'})"
        )
