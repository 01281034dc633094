"""Players: agents as a match sees them, run in-process (trusted built-ins) or in a sandboxed subprocess.

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

A sandboxed player (:class:`SandboxPlayer`) is a fresh ``python -m arena.sandbox_worker`` process (spawned,
never forked from the arena) inside every layer of :mod:`arena.isolation`: its own namespaces, a fresh
unprivileged uid, seccomp, a cgroup for its whole process tree, rlimits, a read-only view of the interpreter
and the project's packages, its package at ``/agent`` and a private tmpfs home, none of the arena's
environment variables and one BLAS/OpenMP thread. ``Limits(confined=False)`` (the user's ``--trust-agents``)
runs the same worker as a plain child process with only its rlimits. Requests are pickled; replies are JSON,
decoded and validated here, so nothing the agent sends is ever unpickled. Its log (stdout and stderr) comes
back over a pipe of which only the last :data:`LOG_TAIL_BYTES` are kept. Every wait has a deadline (poll on
the pipes), so a limit is enforced within milliseconds of its expiry; on any failure the agent's whole
process tree is killed and reaped. An in-process player (:class:`InProcessPlayer`) checks exceptions, times
and actions after the fact: it cannot pre-empt a slow move, only forfeit it, and it has no memory limit.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import pickle
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import gymnasium as gym
import numpy as np

import agents
from agents.base import MANIFEST, AgentPackageError, EnvSpaces, read_manifest
from agents.labels import validate_label
from arena import isolation
from arena.cgroups import AgentCgroup
from arena.results import Status
from arena.sandbox_worker import HEADER, OUT_OF_MEMORY, describe
from envs._core.spaces import mask_for_space

MAX_REPLY_BYTES = 16 * 1024 * 1024
LOG_TAIL_BYTES = 2048
FILE_MB = 64  # RLIMIT_FSIZE: the largest file an agent may write
OPEN_FILES = 1024
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
PASSED_ENVIRONMENT = ("LANG", "LC_ALL", "LC_CTYPE", "TZ")


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


def start_player(
    ref: AgentRef, spaces: EnvSpaces, limits: Limits = DEFAULT_LIMITS, *, sandbox: bool | None = None
) -> Player:
    """A player for ``ref``: in-process for a trusted built-in unless ``sandbox=True``, else sandboxed.

    A sandboxed player returns at once and builds the agent in the background (several players of a match
    start in parallel); a failure to build surfaces at its first ``reset``/``act``.
    """
    spaces = EnvSpaces.of(spaces)
    if sandbox is False and not ref.trusted:
        raise ValueError(
            f"sandbox=False: agent {ref.label!r} comes from a directory and always runs sandboxed"
        )
    if sandbox or not ref.trusted:
        return SandboxPlayer(ref, spaces, limits)
    return InProcessPlayer(ref, spaces, limits)


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
        raise AgentFailure(Status.INVALID, f"action {_show(action)} is not in {space}: {error}") from None
    if not space.contains(cast):
        raise AgentFailure(Status.INVALID, f"action {_show(action)} is not in {space}")
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


def _show(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _raised(what: str, error: Mapping[str, Any], limits: Limits) -> AgentFailure:
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


class _Clock:
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
        self._clock = _Clock(limits)
        self._failure: AgentFailure | None = None
        start = time.monotonic()
        try:
            self._agent = _build(ref, spaces)
        except Exception as error:
            raise _raised("building the agent", describe(error), limits) from error
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
                raise _raised(what, describe(error), self.limits) from error
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


class SandboxPlayer:
    """An agent in its own process, talked to over pipes with a deadline on every exchange.

    The process starts in the constructor (which, when confined, also moves it into its cgroup before any
    agent code runs) and builds the agent while the caller does other work; :meth:`ready` (called by the
    first ``reset``/``act``) waits for it until ``startup_time_s`` after the spawn.
    """

    uses_privileged_info = False  # never: what crosses into a sandbox is the public part of info only

    @property
    def name(self) -> str:
        """The label, so that a player can stand where an agent is expected (``arena play``)."""
        return self.label

    def __init__(self, ref: AgentRef, spaces: EnvSpaces, limits: Limits = DEFAULT_LIMITS):
        self.label, self.spaces, self.limits = ref.label, spaces, limits
        self._clock = _Clock(limits)
        self._failure: AgentFailure | None = None
        self._ready = False
        self._log = _LogTail()
        self._cgroup: AgentCgroup | None = None
        self._workdir: str | None = None
        self._ready_by = time.monotonic() + limits.startup_time_s
        if limits.confined:
            missing = isolation.missing_layers()
            if missing:
                raise RuntimeError(
                    f"agent {ref.label!r}: isolation layers missing on this machine: {', '.join(missing)} "
                    "(see `arena doctor`); only agents you trust may run without them (--trust-agents)"
                )
            isolation.harden_arena()
            self._cgroup = AgentCgroup(limits.memory_mb, limits.max_processes, limits.cpus)
        try:
            self._process = self._spawn(ref)
        except BaseException:
            self._remove_cgroup()
            raise
        if self._failure is not None:
            return
        spec = {
            "builtin": ref.builtin,
            "path": isolation.AGENT_MOUNT if (ref.path and limits.confined) else ref.path,
            "kwargs": ref.kwargs,
            "spaces": spaces,
        }
        try:
            self._sent_build = self._send(("build", spec), self._ready_by)
        except AgentFailure as failure:  # died at once; ready() reports it
            self._fail(failure)

    def _spawn(self, ref: AgentRef) -> subprocess.Popen:
        """Start the worker (inside bubblewrap when confined) with its three pipes; when confined, move it
        into its cgroup before it can read the build request."""
        request_read, self._requests = os.pipe()
        self._replies, reply_write = os.pipe()
        log_read, log_write = os.pipe()
        child_ends, launch = [request_read, reply_write, log_write], None
        worker_args = [json.dumps(self.limits.rlimits())]
        try:
            if self.limits.confined:
                launch = isolation.bwrap_command(
                    worker_args, _sandbox_environment("/tmp"), package=ref.path, gpu=self.limits.gpu
                )
                argv, pass_fds, cwd, env = launch.argv, launch.pass_fds, None, {"PATH": os.defpath}
                child_ends += launch.close_after_spawn
            else:
                self._workdir = tempfile.mkdtemp(prefix="arena-agent-")
                argv = [sys.executable, "-m", "arena.sandbox_worker", *worker_args]
                pass_fds, cwd, env = (), self._workdir, _sandbox_environment(self._workdir)
            process = subprocess.Popen(
                argv,
                stdin=request_read,
                stdout=reply_write,
                stderr=log_write,
                cwd=cwd,
                env=env,
                pass_fds=pass_fds,
                start_new_session=True,
            )
        except BaseException:
            for fd in (self._requests, self._replies, log_read):
                os.close(fd)
            if launch is not None:
                os.close(launch.info_fd)
            self._remove_workdir()
            raise
        finally:
            for fd in child_ends:
                os.close(fd)
        self._log.fd = log_read
        os.set_blocking(self._requests, False)
        os.set_blocking(log_read, False)
        self._can_read, self._can_write = select.poll(), select.poll()
        self._can_read.register(self._replies, select.POLLIN)
        self._can_read.register(log_read, select.POLLIN)
        self._can_write.register(self._requests, select.POLLOUT)
        if launch is not None:
            self._attach(process, launch.info_fd)
        return process

    def _attach(self, process: subprocess.Popen, info_fd: int) -> None:
        """Read the worker's host pid from bubblewrap and move the worker into its cgroup."""
        info = bytearray()
        try:
            poller = select.poll()
            poller.register(info_fd, select.POLLIN)
            while poller.poll(_ms_until(self._ready_by)) and (chunk := os.read(info_fd, 4096)):
                info += chunk
        finally:
            os.close(info_fd)
        try:
            self._cgroup.attach(int(json.loads(info)["child-pid"]))
        except (ValueError, KeyError, TypeError, OSError) as error:  # no agent code has run: kill, report
            self._process = process
            self._fail(
                AgentFailure(Status.ERROR, f"the sandbox did not start ({error}); {self._died().reason}")
            )

    def ready(self) -> None:
        """Wait until the agent is built; AgentFailure (ERROR or TIMEOUT) if it cannot be."""
        if self._ready:
            return
        self._guard()
        try:
            reply = self._receive(self._ready_by) if self._sent_build else None
            if reply is None:
                raise AgentFailure(
                    Status.TIMEOUT,
                    f"starting the agent took longer than startup_time_s={self.limits.startup_time_s:g} s",
                )
            self._check_memory("building the agent")
            if "error" in reply:
                raise _raised("building the agent", reply["error"], self.limits)
        except AgentFailure as failure:
            raise self._fail(failure) from None
        self._ready = True

    def reset(self, seed: int | None) -> None:
        self._call("reset", ("reset", seed))

    def act(self, observation: Any, info: dict) -> Any:
        action = self._call("act", ("act", observation, info))
        try:
            return check_action(action, self.spaces.action_space, info)
        except AgentFailure as failure:
            raise self._fail(failure) from None

    def processes(self) -> set[int]:
        """Host pids of the agent's processes: its cgroup's members (confined), else the worker's pid."""
        if self._process is None:
            return set()
        return self._cgroup.members() if self._cgroup is not None else {self._process.pid}

    def close(self) -> None:
        """Kill the agent's whole process tree, reap it, and release its pipes, cgroup and any working
        directory (idempotent)."""
        if self._process is None:
            return
        self._kill()
        for fd in (self._requests, self._replies, self._log.fd):
            os.close(fd)
        self._remove_cgroup()
        self._remove_workdir()
        self._process = None

    def __enter__(self) -> SandboxPlayer:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _guard(self) -> None:
        if self._failure is not None:
            raise self._failure
        if self._process is None:
            raise RuntimeError(f"player {self.label!r} is closed")

    def _call(self, what: str, request: tuple) -> Any:
        self.ready()
        self._guard()
        start = time.monotonic()
        deadline = start + self._clock.budget_s()
        try:
            reply = self._receive(deadline) if self._send(request, deadline) else None
            self._clock.charge(what, time.monotonic() - start, stopped=reply is None)
            self._check_memory(what)
            if "error" in reply:
                raise _raised(what, reply["error"], self.limits)
        except AgentFailure as failure:
            raise self._fail(failure) from None
        return reply["ok"]

    def _check_memory(self, what: str) -> None:
        """ERROR if the kernel killed any of the agent's processes for memory (a child counts too)."""
        if self._cgroup is not None and self._cgroup.oom_killed():
            raise AgentFailure(
                Status.ERROR,
                f"{what}: the agent's processes exceeded the memory limit (memory_mb={self.limits.memory_mb})"
                " and the kernel killed one of them",
            )

    def _fail(self, failure: AgentFailure) -> AgentFailure:
        """Record the failure and kill the process: a forfeited agent plays no more."""
        self._failure = failure
        self._kill()
        return failure

    def _kill(self) -> None:
        """SIGKILL everything the agent started (its cgroup, or its process group), then reap the worker."""
        if self._cgroup is not None:
            self._cgroup.kill()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._process.pid, signal.SIGKILL)
        self._process.wait()

    def _remove_cgroup(self) -> None:
        if self._cgroup is not None:
            self._cgroup.kill()
            self._cgroup.remove()
            self._cgroup = None

    def _remove_workdir(self) -> None:
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def _send(self, request: tuple, deadline: float) -> bool:
        """Write one request frame; False if the deadline passed first."""
        payload = pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL)
        view = memoryview(HEADER.pack(len(payload)) + payload)
        while view:
            try:
                view = view[os.write(self._requests, view) :]
            except BlockingIOError:
                if not self._can_write.poll(_ms_until(deadline)):
                    return False
            except BrokenPipeError:
                raise self._died() from None
        return True

    def _receive(self, deadline: float) -> dict | None:
        """Read and validate one reply; None if the deadline passed first."""
        header = self._read(HEADER.size, deadline)
        if header is None:
            return None
        size = HEADER.unpack(header)[0]
        if size > MAX_REPLY_BYTES:
            raise self._broken(f"a reply announced {size} bytes (more than {MAX_REPLY_BYTES})", header)
        payload = self._read(size, deadline)
        if payload is None:
            return None
        try:
            reply = json.loads(payload, object_hook=_decode_numpy)
        except (ValueError, TypeError, RecursionError) as error:
            raise self._broken(f"a reply is not valid JSON ({error})", header + payload) from None
        if not (isinstance(reply, dict) and len(reply) == 1 and ("ok" in reply or "error" in reply)):
            raise self._broken("a reply is not {'ok': ...} or {'error': ...}", header + payload)
        if "error" in reply and not isinstance(reply["error"], dict):
            raise self._broken("an error reply is not an object", header + payload)
        return reply

    def _read(self, size: int, deadline: float) -> bytes | None:
        """``size`` bytes of the reply pipe, draining the log pipe meanwhile; None at the deadline."""
        data = bytearray()
        while len(data) < size:
            events = dict(self._can_read.poll(_ms_until(deadline)))
            if not events:
                return None
            if self._log.fd in events and not self._log.drain():
                self._can_read.unregister(self._log.fd)  # the log closed; replies may still come
            if self._replies in events:
                chunk = os.read(self._replies, size - len(data))
                if not chunk:
                    raise self._died(bytes(data))
                data += chunk
        return bytes(data)

    def _broken(self, problem: str, data: bytes) -> AgentFailure:
        return AgentFailure(Status.ERROR, f"protocol error: {problem}; read {_show(data, 60)}")

    def _died(self, partial: bytes = b"") -> AgentFailure:
        """The failure for a process that closed its reply pipe: how it ended, and the tail of its log."""
        try:
            code = self._process.wait(timeout=1.0)
            if self.limits.confined and code > 128:  # bubblewrap exits 128 + N for a worker killed by N
                code = 128 - code
            how = (
                f"the agent's process was killed by signal {_signal_name(-code)}"
                if code < 0
                else f"the agent's process exited with code {code}"
            )
        except subprocess.TimeoutExpired:
            how = "the agent's process closed its reply channel"
        if partial:
            how += f" after {_show(partial, 40)}"
        tail = self._log.drain_and_tail()
        if any(words in tail for words in OUT_OF_MEMORY) or (self._cgroup and self._cgroup.oom_killed()):
            how += f" (out of memory: memory_mb={self.limits.memory_mb})"
        return AgentFailure(Status.ERROR, f"{how}; log: {tail}" if tail else how)


class _LogTail:
    """The agent's log pipe, of which only the last :data:`LOG_TAIL_BYTES` are kept (however much it
    prints, the arena's memory does not grow)."""

    def __init__(self) -> None:
        self.fd = -1
        self._tail: deque[bytes] = deque()
        self._size = 0

    def drain(self) -> bool:
        """Read what is waiting; False once the writer has closed the pipe."""
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except BlockingIOError:
                return True
            except OSError:
                return False
            if not chunk:
                return False
            self._tail.append(chunk[-LOG_TAIL_BYTES:])
            self._size += len(self._tail[-1])
            while self._size - len(self._tail[0]) >= LOG_TAIL_BYTES:
                self._size -= len(self._tail.popleft())

    def drain_and_tail(self) -> str:
        """The last three non-empty lines of the log, at most 400 characters."""
        self.drain()
        data = b"".join(self._tail)[-LOG_TAIL_BYTES:]
        lines = [line.strip() for line in data.decode("utf-8", "replace").splitlines() if line.strip()]
        return " | ".join(lines[-3:])[-400:]


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


def _sandbox_environment(home: str) -> dict[str, str]:
    """The worker's environment: none of the arena's variables (they may hold secrets that an error message
    would carry into the results) beyond locale; home and temp in ``home``; one BLAS/OpenMP thread; no
    ``.pyc`` files written into the agent's package; the packages' parents on PYTHONPATH."""
    roots = dict.fromkeys(str(root.parent) for root in isolation.package_roots())
    passed = {name: os.environ[name] for name in PASSED_ENVIRONMENT if name in os.environ}
    return {
        **passed,
        **ONE_THREAD,
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "PYTHONPATH": os.pathsep.join(roots),
        "PYTHONDONTWRITEBYTECODE": "1",
        "HOME": home,
        "TMPDIR": home,
        "PG_ARENA_SANDBOXED": "1",
    }


def _ms_until(deadline: float) -> int:
    return max(0, math.ceil((deadline - time.monotonic()) * 1000))


def _decode_numpy(obj: dict) -> Any:
    """Turn the worker's tagged objects back into numpy values, accepting only numeric dtypes."""
    if "__ndarray__" in obj:
        if set(obj) != {"__ndarray__", "shape", "data"}:
            raise ValueError("a tagged array needs exactly __ndarray__, shape and data")
        dtype, shape = _numeric_dtype(obj["__ndarray__"]), obj["shape"]
        if not (isinstance(shape, list) and all(isinstance(n, int) and n >= 0 for n in shape)):
            raise ValueError(f"bad array shape {shape!r}")
        data = np.array(obj["data"], dtype=dtype)
        if data.ndim != 1 or data.size != math.prod(shape):
            raise ValueError(f"array data does not fill shape {shape}")
        return data.reshape(shape)
    if "__npscalar__" in obj:
        if set(obj) != {"__npscalar__", "value"} or not isinstance(obj["value"], (bool, int, float)):
            raise ValueError("a tagged scalar needs exactly __npscalar__ and a numeric value")
        return _numeric_dtype(obj["__npscalar__"]).type(obj["value"])
    return obj


def _numeric_dtype(name: Any) -> np.dtype:
    dtype = np.dtype(name) if isinstance(name, str) else None
    if dtype is None or dtype.kind not in "biuf":
        raise ValueError(f"dtype {name!r} is not numeric")
    return dtype


def package_player(
    directory: str | Path,
    env: gym.Env,
    kwargs: dict | None = None,
    *,
    trust_agents: bool = False,
    limits: Limits = DEFAULT_LIMITS,
) -> SandboxPlayer:
    """A sandboxed player for an agent package played outside a tournament (``arena play``, ``arena eval``):
    it has an agent's ``reset``/``act`` and a ``name`` (the manifest's), and must be closed. Raises
    AgentPackageError for a bad manifest and ValueError where a sandbox layer is missing and the user does
    not trust the agent (see :func:`arena.isolation.confine_packages`)."""
    directory = Path(directory).resolve()
    name = read_manifest(directory).name
    confined = isolation.confine_packages([name], trust_agents)
    ref = AgentRef(label=name, path=str(directory), kwargs=dict(kwargs or {}))
    return SandboxPlayer(ref, EnvSpaces.of(env), replace(limits, confined=confined))


def probe_agent(
    path: str | Path, env_ids: list[str] | None = None, limits: Limits = DEFAULT_LIMITS
) -> list[str]:
    """Check a submission: its ``agent.toml``, then, in a sandbox per env, that the agent builds, resets and
    answers the env's first observation (``reset(seed=0)``) with a valid action within ``limits``.

    Probes the manifest's ``envs`` (or ``env_ids``); a multi-agent id is probed with the first seat's
    observation and spaces. Returns the ids probed. Raises :class:`AgentPackageError` for a package that
    cannot be loaded (manifest, unknown env, import) and :class:`AgentFailure` for an agent that misbehaves;
    both messages start with the env id.
    """
    directory = Path(path).resolve()
    manifest = read_manifest(directory)
    ids = list(manifest.envs if env_ids is None else env_ids)
    ref = AgentRef(label=manifest.name, path=str(directory))
    for env_id in ids:
        spaces, observation, info = _first_observation(env_id, directory)
        try:
            with SandboxPlayer(ref, spaces, limits) as player:
                player.reset(0)
                player.act(observation, info)
        except AgentFailure as failure:
            if failure.error_type == AgentPackageError.__name__:
                raise AgentPackageError(f"{env_id}: {failure.reason}") from None
            raise AgentFailure(failure.status, f"{env_id}: {failure.reason}", failure.error_type) from None
    return ids


def _first_observation(env_id: str, directory: Path) -> tuple[EnvSpaces, Any, dict]:
    """The spaces, first observation and info of ``env_id`` after ``reset(seed=0)`` (first seat if multi)."""
    import envs

    if env_id in {record.id for record in envs.list_envs(kind="multi")}:
        env = envs.make_multi(env_id)
        env.reset(seed=0)
        seat = env.agents[0]
        spaces = EnvSpaces(env.observation_space(seat), env.action_space(seat), env_id=env_id)
        result = spaces, env.observe(seat), envs.public_info(env.infos[seat], envs.privileged_info_keys(env))
    elif env_id in gym.registry:
        env = gym.make(env_id)
        observation, info = env.reset(seed=0)
        result = EnvSpaces.of(env), observation, envs.public_info(info, envs.privileged_info_keys(env))
    else:
        raise AgentPackageError(
            f"{directory / MANIFEST}: field 'envs': {env_id!r} is not a registered env "
            "(see `arena envs` for the ids)"
        )
    env.close()
    return result
