"""Helpers for Gymnasium spaces shared by envs, agents and the arena."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np


def mask_for_space(space: gym.Space, mask: Any) -> Any:
    """Turn an ``info["action_mask"]`` into the form ``space.sample(mask=...)`` takes.

    Discrete: a boolean/0-1 vector of length n. MultiDiscrete: a tuple of per-dimension vectors, or one flat
    vector of length sum(nvec) (as MaskablePPO uses). Dict: a dict of masks for its sub-spaces.
    """
    if mask is None:
        return None
    if isinstance(space, gym.spaces.Discrete):
        return np.asarray(mask, dtype=np.int8)
    if isinstance(space, gym.spaces.MultiDiscrete):
        if not isinstance(mask, (tuple, list)):
            mask = np.split(np.asarray(mask), np.cumsum(space.nvec.ravel())[:-1])
        return tuple(np.asarray(m, dtype=np.int8) for m in mask)
    if isinstance(space, gym.spaces.Dict):
        return {key: mask_for_space(space[key], mask.get(key)) for key in space.spaces}
    return mask
