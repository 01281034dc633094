"""A trained Stable-Baselines3 model as an :class:`agents.base.Agent`, and as an agent package.

Our envs pass SB3's ``check_env``, so SB3 trains on them unchanged (``PPO("MlpPolicy", gym.make(id))``);
this adapter brings the result back into the arena. ``save`` writes ``model.zip`` and an ``agent.toml`` whose
entry point is this module's :func:`load`.

Loading runs code: an SB3 ``model.zip`` stores the policy class, the spaces and the schedules cloudpickled,
and unpickling them can run anything the file's author wrote. So :func:`load` unpickles only inside the
arena's sandbox, the process ``python -m arena.sandbox_worker`` that builds and plays an agent package
locked away from the network, the arena's memory and its files; the sandbox sets the environment variable
``PG_ARENA_SANDBOXED=1``, and without it :func:`load` raises :class:`agents.base.AgentPackageError` before
reading the file. Submit or play an SB3 model as an agent package (the arena builds it in the sandbox); do
not call ``load`` (or ``agents.load_agent`` on an SB3 package) in the arena's own process.

Inside the sandbox, SB3's loader is used with the safety it offers: its tensors (``*.pth``) are read with
``torch.load(..., weights_only=True)`` by SB3 itself, and ``custom_objects`` replaces the entries that only
training needs (schedules, buffer classes, the train frequency) so that they are never unpickled. What
playing needs (the policy class, its kwargs, the spaces) is still unpickled, hence the sandbox. The loaded
model plays; it is not fit to continue training.
"""

from __future__ import annotations

import importlib
import inspect
import os
from pathlib import Path
from typing import Any

import numpy as np

from agents.base import AgentManifest, AgentPackageError, EnvSpaces, write_manifest

MODEL = "model.zip"
SANDBOX_VARIABLE = "PG_ARENA_SANDBOXED"  # set to "1" by the arena's sandbox worker, and only there
REFUSED = (
    "SB3 model files are unpickled only inside the arena's sandbox: submit or play it as an agent package"
)
# Entries of an SB3 model's data that only training uses, given instead of unpickled from the file. The
# learning-rate, clip-range and exploration schedules are rebuilt by the model's setup; buffer classes of
# None mean SB3's defaults.
PLAY_ONLY_OBJECTS: dict[str, Any] = {
    "learning_rate": 0.0,
    "lr_schedule": None,
    "clip_range": 0.2,
    "clip_range_vf": None,
    "exploration_schedule": None,
    "rollout_buffer_class": None,
    "replay_buffer_class": None,
    "train_freq": (1, "step"),
}


def sandboxed() -> bool:
    """True inside the arena's sandbox worker (the only process that sets ``PG_ARENA_SANDBOXED=1``)."""
    return os.environ.get(SANDBOX_VARIABLE) == "1"


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
    manifest = AgentManifest(
        name=name,
        version="1",
        entry_point="agents.sb3:load",
        envs=[env_id],
        weights=MODEL,
        kwargs={"algo": algo, "deterministic": True},
    )
    write_manifest(directory, manifest)
    return directory


def load(spaces: EnvSpaces, *, agent_dir: str, algo: str, deterministic: bool = True) -> SB3Agent:
    """Agent-package factory: the SB3 model in ``agent_dir`` (``algo`` is ``"module:Class"``, e.g. PPO's).

    Only inside the arena's sandbox (see the module docstring); elsewhere raises AgentPackageError."""
    if not sandboxed():
        raise AgentPackageError(
            f"{Path(agent_dir) / MODEL}: {REFUSED} (unpickling it runs code stored in the file; "
            f"the sandbox sets {SANDBOX_VARIABLE}=1)"
        )
    module_name, class_name = algo.split(":")
    model_class = getattr(importlib.import_module(module_name), class_name)
    model = model_class.load(Path(agent_dir) / MODEL, device="cpu", custom_objects=dict(PLAY_ONLY_OBJECTS))
    if model.observation_space.shape != spaces.observation_space.shape:
        raise ValueError(
            f"observation_space: the model in {agent_dir} takes shape {model.observation_space.shape}, "
            f"the env gives {spaces.observation_space.shape}"
        )
    return SB3Agent(model, spaces, name=Path(agent_dir).name, deterministic=deterministic)
