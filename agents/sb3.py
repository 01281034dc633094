"""A trained Stable-Baselines3 model as an :class:`agents.base.Agent`, and as an agent package.

Our envs pass SB3's ``check_env``, so SB3 trains on them unchanged (``PPO("MlpPolicy", gym.make(id))``);
this adapter brings the result back into the arena. ``save`` writes ``model.zip`` and an ``agent.toml`` whose
entry point is this module's :func:`load`.
"""

from __future__ import annotations

import importlib
import inspect
import json
from pathlib import Path
from typing import Any

import numpy as np

from agents.base import EnvSpaces

MODEL = "model.zip"


class SB3Agent:
    """Plays an SB3 model: ``model.predict`` on each observation (masks passed to maskable models).

    Deterministic by default; stochastic prediction draws from SB3's own (global torch) generator, so
    ``reset(seed)`` seeds that generator.
    """

    def __init__(
        self, model, spaces: EnvSpaces | None = None, *, name: str = "sb3", deterministic: bool = True
    ):
        self.name = name
        self.model = model
        self.deterministic = deterministic
        self._space = spaces.action_space if spaces is not None else model.action_space
        self._maskable = "action_masks" in inspect.signature(model.predict).parameters

    def reset(self, seed: int | None = None) -> None:
        if seed is not None and not self.deterministic:
            self.model.set_random_seed(seed)

    def act(self, observation: Any, info: dict) -> Any:
        kwargs = {}
        if self._maskable and "action_mask" in info:
            kwargs["action_masks"] = np.asarray(info["action_mask"])
        action, _ = self.model.predict(observation, deterministic=self.deterministic, **kwargs)
        if np.ndim(action) == 0:
            return int(action)
        return np.asarray(action, dtype=self._space.dtype)


def save(model, directory: str | Path, *, env_id: str, name: str | None = None) -> Path:
    """Write ``model.zip`` and ``agent.toml`` so that ``agents.load_agent(directory)`` gives an SB3Agent."""
    directory = Path(directory).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    model.save(directory / MODEL)
    algo = f"{type(model).__module__}:{type(model).__name__}"
    name = name or f"sb3-{type(model).__name__.lower()}-{env_id.replace('/', '-')}"
    (directory / "agent.toml").write_text(
        "\n".join(
            [
                f"name = {json.dumps(name)}",
                'version = "1"',
                'entry_point = "agents.sb3:load"',
                f"envs = [{json.dumps(env_id)}]",
                f'weights = "{MODEL}"',
                "",
                "[kwargs]",
                f"algo = {json.dumps(algo)}",
                "deterministic = true",
                "",
            ]
        )
    )
    return directory


def load(spaces: EnvSpaces, *, agent_dir: str, algo: str, deterministic: bool = True) -> SB3Agent:
    """Agent-package factory: the SB3 model in ``agent_dir`` (``algo`` is ``"module:Class"``, e.g. PPO's)."""
    module_name, class_name = algo.split(":")
    model_class = getattr(importlib.import_module(module_name), class_name)
    model = model_class.load(Path(agent_dir) / MODEL, device="cpu")
    if model.observation_space.shape != spaces.observation_space.shape:
        raise ValueError(
            f"observation_space: the model in {agent_dir} takes shape {model.observation_space.shape}, "
            f"the env gives {spaces.observation_space.shape}"
        )
    return SB3Agent(model, spaces, name=Path(agent_dir).name, deterministic=deterministic)
