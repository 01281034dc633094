"""Players: agents as a match sees them, and the one way they fail.

A match talks to every agent through a :class:`Player` (``reset``, ``act``, ``close``). Whatever goes wrong
with an agent comes out as one exception, :class:`AgentFailure`, whose ``status`` says how the agent
forfeits (:class:`arena.results.Status`) and whose ``reason`` says why:

- ERROR: it raised (the exception's type, message and innermost source line), crashed, exited, was killed
  by a signal, broke the protocol (what was read is quoted), or exceeded its memory limit (named);
- TIMEOUT: one ``reset``/``act`` took longer than ``move_time_s``, its thinking time in the match passed
  ``match_time_s``, or building it took longer than ``startup_time_s``;
- INVALID: its action is not in the action space (after the cast :func:`check_action` describes) or is
  masked out by ``info["action_mask"]``.

A failed player stays failed: every later call raises the same failure.

This module holds what every player shares (:class:`AgentRef`, :class:`Limits`, :class:`AgentFailure`,
:func:`check_action`, the thinking-time :class:`Clock`) and the in-process player
(:class:`InProcessPlayer`) for trusted built-ins: it checks exceptions, times and actions after the fact, so
it cannot pre-empt a slow move, only forfeit it, and it has no memory limit. The sandboxed player is in
:mod:`arena.sandbox`; :mod:`arena.launch` chooses between them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import gymnasium as gym
import numpy as np

import agents
from agents import AgentPackageError, EnvSpaces, validate_label
from arena.results import Status
from arena.sandbox_worker import describe
from envs import mask_for_space

FILE_MB = 64  # RLIMIT_FSIZE: the largest file an agent may write
OPEN_FILES = 1024


@dataclass(frozen=True)
class AgentRef:
    """How to build an agent: a built-in name (``agents.make``) or an agent package directory
    (``agents.load_agent``), with keyword arguments for its factory. ``label`` names it in results."""

    label: str
    builtin: str | None = None
    path: str | None = None
    kwargs: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.label, str) or not self.label:
            raise ValueError(f"label={self.label!r} must be a non-empty string")
        validate_label(self.label, "label")
        if (self.builtin is None) == (self.path is None):
            raise ValueError(
                f"agent {self.label!r}: give exactly one of builtin (a built-in agent name) or path (an "
                f"agent package directory); got builtin={self.builtin!r}, path={self.path!r}"
            )
        if self.path is not None:
            object.__setattr__(self, "path", str(self.path))
        if not isinstance(self.kwargs, dict):
            raise ValueError(f"agent {self.label!r}: kwargs must be a dict, got {type(self.kwargs).__name__}")

    @property
    def trusted(self) -> bool:
        """Built-ins are the project's own code and may run in-process; directories never are."""
        return self.builtin is not None


@dataclass(frozen=True)
class Limits:
    """What one agent may use in one match. Times in seconds (wall clock), memory in MiB of address space."""

    move_time_s: float = 5.0  # per reset()/act() call
    match_time_s: float = 600.0  # total thinking time of one agent in one match
    memory_mb: int = 4096  # per process (RLIMIT_AS) and for the whole tree (cgroup); torch needs ~700 MiB
    startup_time_s: float = 60.0  # spawning + importing + building the agent
    max_processes: int = 64  # processes and threads of the agent's tree (cgroup pids, RLIMIT_NPROC)
    cpus: float = 1.0  # CPU bandwidth of the agent's tree, in cores (cgroup cpu)
    gpu: bool = False  # GPU device nodes inside the sandbox
    confined: bool = True  # every isolation layer; False only for agents the user trusts (--trust-agents)

    def __post_init__(self) -> None:
        for name in ("move_time_s", "match_time_s", "startup_time_s"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name}={value!r} must be a finite number of seconds > 0")
        if not isinstance(self.memory_mb, int) or self.memory_mb < 256:
            raise ValueError(
                f"memory_mb={self.memory_mb!r} must be an integer >= 256 (a sandbox needs ~200 MiB)"
            )
        if not isinstance(self.max_processes, int) or not 8 <= self.max_processes <= 4096:
            raise ValueError(f"max_processes={self.max_processes!r} must be an integer in [8, 4096]")
        if not (isinstance(self.cpus, (int, float)) and 0.05 <= self.cpus <= 256):
            raise ValueError(f"cpus={self.cpus!r} must be a number of cores in [0.05, 256]")

    def rlimits(self) -> dict[str, int]:
        """What the worker sets with :func:`arena.sandbox_worker.apply_limits`: CPU seconds cover building
        and every move, with a second of slack."""
        cpu_s = math.ceil(self.startup_time_s + self.match_time_s) + 1
        return {
            "memory_mb": self.memory_mb,
            "processes": self.max_processes,
            "file_mb": FILE_MB,
            "cpu_s": cpu_s,
            "open_files": OPEN_FILES,
        }


DEFAULT_LIMITS = Limits()


class AgentFailure(Exception):
    """An agent forfeits: ``status`` (ERROR, TIMEOUT or INVALID) and a one-line ``reason``.

    ``error_type`` is the name of the exception the agent's code raised, when it raised one.
    """

    def __init__(self, status: Status, reason: str, error_type: str = ""):
        super().__init__(status, reason, error_type)
        self.status, self.reason, self.error_type = status, reason, error_type

    def __str__(self) -> str:
        return f"{self.status.value}: {self.reason}"


class Player(Protocol):
    """What a match talks to. ``act`` returns a valid action (cast to the space's types) or raises
    :class:`AgentFailure`; so do ``reset`` and, for in-process players, building it."""

    label: str

    def reset(self, seed: int | None) -> None: ...

    def act(self, observation: Any, info: dict) -> Any: ...

    def close(self) -> None: ...


def check_action(action: Any, space: gym.Space, info: Mapping | None = None) -> Any:
    """``action`` cast to ``space``'s types, or :class:`AgentFailure` (INVALID) saying what is wrong.

    Discrete: one integer (an integral float counts) to ``int``; Box, MultiDiscrete, MultiBinary: an array of
    exactly the space's shape, cast to its dtype (integral values for an integer dtype); Dict and Tuple: the
    same keys / length, element-wise; Text: a string. The cast action must be in the space, and for Discrete
    and one-dimensional MultiDiscrete spaces it must be allowed by ``info["action_mask"]`` when there is one.
    """
    try:
        cast = _cast(action, space)
    except (TypeError, ValueError, OverflowError) as error:
        raise AgentFailure(Status.INVALID, f"action {show(action)} is not in {space}: {error}") from None
    if not space.contains(cast):
        raise AgentFailure(Status.INVALID, f"action {show(action)} is not in {space}")
    mask = None if info is None else info.get("action_mask")
    if mask is not None and isinstance(space, gym.spaces.Discrete):
        if not mask_for_space(space, mask)[cast - int(space.start)]:
            raise AgentFailure(Status.INVALID, f"action {cast} is masked out by info['action_mask']")
    elif mask is not None and isinstance(space, gym.spaces.MultiDiscrete) and space.nvec.ndim == 1:
        masks = mask_for_space(space, mask)
        if not all(m[a - s] for m, a, s in zip(masks, cast, space.start, strict=True)):
            raise AgentFailure(Status.INVALID, f"action {cast.tolist()} is masked out by info['action_mask']")
    return cast


def _cast(action: Any, space: gym.Space) -> Any:
    if isinstance(space, gym.spaces.Discrete):
        value = np.asarray(action)
        if value.shape != () or value.dtype.kind not in "iuf" or value != np.floor(value):
            raise ValueError("a Discrete action must be one integer")
        return int(value)
    if isinstance(space, (gym.spaces.Box, gym.spaces.MultiDiscrete, gym.spaces.MultiBinary)):
        value = np.asarray(action)
        if value.dtype.kind not in "biuf":
            raise ValueError(f"expected numbers, got dtype {value.dtype}")
        if value.shape != space.shape:
            raise ValueError(f"shape {value.shape}, expected {space.shape}")
        if space.dtype.kind in "iu" and np.any(value != np.floor(value)):
            raise ValueError("expected integers")
        return value.astype(space.dtype)
    if isinstance(space, gym.spaces.Dict):
        if not isinstance(action, Mapping) or set(action) != set(space.spaces):
            raise ValueError(f"expected a dict with keys {sorted(space.spaces)}")
        return {key: _cast(action[key], sub) for key, sub in space.spaces.items()}
    if isinstance(space, gym.spaces.Tuple):
        if not isinstance(action, Sequence) or isinstance(action, str) or len(action) != len(space.spaces):
            raise ValueError(f"expected a sequence of {len(space.spaces)} actions")
        return tuple(_cast(a, sub) for a, sub in zip(action, space.spaces, strict=True))
    if isinstance(space, gym.spaces.Text) and not isinstance(action, str):
        raise ValueError("expected a string")
    return action


def show(value: Any, limit: int = 80) -> str:
    """``repr(value)``, cut to ``limit`` characters for a reason."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def raised(what: str, error: Mapping[str, Any], limits: Limits) -> AgentFailure:
    """The failure for an exception the agent raised in ``what``, from its :func:`describe` record."""
    kind, message, where = (str(error.get(k, "")) for k in ("type", "message", "where"))
    if error.get("unencodable"):
        return AgentFailure(Status.INVALID, f"{what} returned an action that cannot be sent: {message}", kind)
    text = f"{kind}: {message}" if message else kind
    if where and kind != AgentPackageError.__name__:  # a package error's message already names the file
        text += f" (at {where})"
    if error.get("memory"):
        return AgentFailure(
            Status.ERROR, f"{what} exceeded the memory limit (memory_mb={limits.memory_mb}): {text}", kind
        )
    return AgentFailure(Status.ERROR, f"{what} raised {text}", kind)


class Clock:
    """The thinking time of one agent in one match, against ``move_time_s`` and ``match_time_s``."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.used_s = 0.0

    def budget_s(self) -> float:
        """How long the next call may take."""
        return min(self.limits.move_time_s, self.limits.match_time_s - self.used_s)

    def charge(self, what: str, elapsed_s: float, *, stopped: bool = False) -> None:
        """Add one call's time; TIMEOUT if it broke a limit (``stopped``: it was cut off at the budget)."""
        move_bound = self.limits.move_time_s <= self.limits.match_time_s - self.used_s
        self.used_s += elapsed_s
        if elapsed_s > self.limits.move_time_s or (stopped and move_bound):
            raise AgentFailure(
                Status.TIMEOUT,
                f"{what} took {elapsed_s:.2f} s, more than move_time_s={self.limits.move_time_s:g} s",
            )
        if stopped or self.used_s > self.limits.match_time_s:
            raise AgentFailure(
                Status.TIMEOUT,
                f"thinking time in this match reached {self.used_s:.2f} s during {what}, more than "
                f"match_time_s={self.limits.match_time_s:g} s",
            )


class InProcessPlayer:
    """A trusted agent called directly; failures, slow moves and invalid actions are judged after the call."""

    def __init__(self, ref: AgentRef, spaces: EnvSpaces, limits: Limits = DEFAULT_LIMITS):
        self.label, self.spaces, self.limits = ref.label, spaces, limits
        self._clock = Clock(limits)
        self._failure: AgentFailure | None = None
        start = time.monotonic()
        try:
            self._agent = _build(ref, spaces)
        except Exception as error:
            raise raised("building the agent", describe(error), limits) from error
        # The one path to privileged info (e.g. search/oracle's gold chain): a trusted built-in that asks.
        self.uses_privileged_info = bool(getattr(self._agent, "uses_privileged_info", False))
        elapsed = time.monotonic() - start
        if elapsed > limits.startup_time_s:
            raise AgentFailure(
                Status.TIMEOUT,
                f"building the agent took {elapsed:.2f} s, "
                f"more than startup_time_s={limits.startup_time_s:g} s",
            )

    def reset(self, seed: int | None) -> None:
        self._call("reset", self._agent.reset, seed)

    def act(self, observation: Any, info: dict) -> Any:
        action = self._call("act", self._agent.act, observation, info)
        try:
            return check_action(action, self.spaces.action_space, info)
        except AgentFailure as failure:
            self._failure = failure
            raise

    def _call(self, what: str, method, *args) -> Any:
        if self._failure is not None:
            raise self._failure
        start = time.monotonic()
        try:
            try:
                result = method(*args)
            except Exception as error:
                raise raised(what, describe(error), self.limits) from error
            self._clock.charge(what, time.monotonic() - start)
        except AgentFailure as failure:
            self._failure = failure
            raise
        return result

    def close(self) -> None:
        self._agent = None

    def __enter__(self) -> InProcessPlayer:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def _build(ref: AgentRef, spaces: EnvSpaces):
    if ref.builtin is not None:
        return agents.make(ref.builtin, spaces, **ref.kwargs)
    return agents.load_agent(ref.path, spaces, **ref.kwargs)
