"""The sandboxed player: an agent in its own process, talked to over pipes with a deadline on every exchange.

A :class:`SandboxPlayer` is a fresh ``python -m arena.sandbox_worker`` process (spawned, never forked from
the arena) inside every layer of :mod:`arena.isolation`: its own namespaces, a fresh unprivileged uid,
seccomp, a cgroup for its whole process tree, rlimits, a read-only view of the interpreter and the project's
packages, its package at ``/agent`` and a private tmpfs home, none of the arena's environment variables and
one BLAS/OpenMP thread. ``Limits(confined=False)`` (the user's ``--trust-agents``) runs the same worker as a
plain child process with only its rlimits. Requests are pickled; replies are JSON, decoded and validated
here, so nothing the agent sends is ever unpickled. Its log (stdout and stderr) comes back over a pipe of
which only the last :data:`LOG_TAIL_BYTES` are kept. Every wait has a deadline (poll on the pipes), so a
limit is enforced within milliseconds of its expiry; on any failure the agent's whole process tree is killed
and reaped. Failures are :class:`arena.players.AgentFailure`, as for every player.
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
from typing import Any

import numpy as np

from agents import AgentPackageError, EnvSpaces
from arena import isolation
from arena.cgroups import AgentCgroup
from arena.players import DEFAULT_LIMITS, AgentFailure, AgentRef, Clock, Limits, check_action, raised, show
from arena.results import Status
from arena.sandbox_worker import HEADER, OUT_OF_MEMORY

MAX_REPLY_BYTES = 16 * 1024 * 1024
LOG_TAIL_BYTES = 2048
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
PASSED_ENVIRONMENT = ("LANG", "LC_ALL", "LC_CTYPE", "TZ")


def _check_readable(ref: AgentRef) -> None:
    """As root, the agent runs under a fresh uid: its package must be readable by others (ERROR if not,
    naming the entry and the fix)."""
    unreadable = ref.path and isolation.running_as_root() and isolation.unreadable_by_others(ref.path)
    if unreadable:
        mode = oct(unreadable.lstat().st_mode & 0o777)[2:]
        raise AgentFailure(
            Status.ERROR,
            f"{unreadable} (mode {mode}) is not readable by other users, and the sandbox plays the agent as "
            f"a user of its own; make the package readable: chmod -R a+rX {ref.path}",
            AgentPackageError.__name__,
        )


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
        self._clock = Clock(limits)
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
            _check_readable(ref)
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
                    worker_args,
                    _sandbox_environment(isolation.HOME, isolation.MODELS_MOUNT),
                    package=ref.path,
                    gpu=self.limits.gpu,
                )
                argv, pass_fds, cwd, env = launch.argv, launch.pass_fds, None, {"PATH": os.defpath}
                child_ends += launch.close_after_spawn
            else:
                self._workdir = tempfile.mkdtemp(prefix="arena-agent-")
                argv = [sys.executable, "-m", "arena.sandbox_worker", *worker_args]
                from agents.language import converted_models_dir  # imports torch: only when an agent starts

                models = str(converted_models_dir())
                pass_fds, cwd, env = (), self._workdir, _sandbox_environment(self._workdir, models)
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
                raise raised("building the agent", reply["error"], self.limits)
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
                raise raised(what, reply["error"], self.limits)
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
        return AgentFailure(Status.ERROR, f"protocol error: {problem}; read {show(data, 60)}")

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
            how += f" after {show(partial, 40)}"
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


def _sandbox_environment(home: str, models: str) -> dict[str, str]:
    """The worker's environment: none of the arena's variables (they may hold secrets that an error message
    would carry into the results) beyond locale; home and temp in ``home``; the language-model cache at
    ``models``; one BLAS/OpenMP thread; no ``.pyc`` files written into the agent's package; the packages'
    parents on PYTHONPATH."""
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
        "PG_ARENA_MODELS": models,
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
