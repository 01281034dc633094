"""The agent's side of the sandbox: one agent in its own process, answering the arena over two pipes.

Started by :mod:`arena.sandbox` as ``python -m arena.sandbox_worker LIMITS_JSON`` (inside the layers of
:mod:`arena.isolation`), with the request pipe on fd 0, the reply pipe on fd 1 and its log pipe on fd 2.
Before anything else it locks itself in:

1. It keeps the reply pipe on a private descriptor and points fd 1 and ``sys.stdout`` at the log, so
   nothing the agent prints (``print`` or ``os.write(1, ...)``) can reach the protocol channel.
2. Resource limits (:func:`apply_limits`): address space, processes and threads of its uid, size of any
   file it writes, CPU seconds, open files, and no core dumps. They hold for every process it starts.
3. A watchdog thread ends the process and everything it started when the arena is gone (its request pipe
   hangs up), even while the agent's code is busy: a killed arena leaves no agent running.

Only then does it import the agent's code. Requests are pickled tuples (the agent trusts the arena):
``("build", spec)``, ``("reset", seed)``, ``("act", observation, info)``. Every request gets one reply, a
JSON object ``{"ok": value}`` or ``{"error": {...}}`` (the arena never unpickles what an agent sends).
Frames are a 4-byte big-endian length followed by the payload.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import resource
import select
import shutil
import signal
import struct
import sys
import threading
import traceback

HEADER = struct.Struct(">I")
OUT_OF_MEMORY = (
    "MemoryError",
    "bad_alloc",
    "can't allocate memory",
    "Cannot allocate memory",
    "out of memory",
)


def read_frame(fd: int) -> bytes | None:
    """One frame from ``fd`` (blocking); ``None`` when the arena closed the pipe."""
    header = _read_exactly(fd, HEADER.size)
    if header is None:
        return None
    return _read_exactly(fd, HEADER.unpack(header)[0])


def _read_exactly(fd: int, size: int) -> bytes | None:
    chunks, missing = [], size
    while missing:
        chunk = os.read(fd, missing)
        if not chunk:
            return None
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)


def write_frame(fd: int, payload: bytes) -> None:
    view = memoryview(HEADER.pack(len(payload)) + payload)
    while view:
        view = view[os.write(fd, view) :]


def apply_limits(limits: dict[str, int]) -> None:
    """Set the soft and hard rlimits named in ``limits`` (never above an existing hard limit).

    Keys: ``memory_mb`` (RLIMIT_AS), ``processes`` (RLIMIT_NPROC: processes and threads of this uid),
    ``file_mb`` (RLIMIT_FSIZE), ``cpu_s`` (RLIMIT_CPU), ``open_files`` (RLIMIT_NOFILE); RLIMIT_CORE is 0.
    """
    wanted = {
        resource.RLIMIT_AS: limits["memory_mb"] << 20,
        resource.RLIMIT_NPROC: limits["processes"],
        resource.RLIMIT_FSIZE: limits["file_mb"] << 20,
        resource.RLIMIT_CPU: limits["cpu_s"],
        resource.RLIMIT_NOFILE: limits["open_files"],
        resource.RLIMIT_CORE: 0,
    }
    for kind, value in wanted.items():
        _, hard = resource.getrlimit(kind)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(kind, (value, value))


def watch_arena(request_fd: int, workdir: str) -> None:
    """End this process and its process group, removing its working directory, once the arena is gone: the
    request pipe hangs up when the last writer (the arena) exits, however it died, even while the agent's
    own code is busy in the main thread."""

    def watch() -> None:
        hangup = select.poll()
        hangup.register(request_fd, 0)  # no events asked: poll returns only on POLLHUP / POLLERR
        while not hangup.poll():
            pass
        shutil.rmtree(workdir, ignore_errors=True)
        with contextlib.suppress(OSError):  # PID 1 of a namespace has no process group to signal
            os.killpg(os.getpgrp(), signal.SIGKILL)  # the worker leads its session: all it started there
        os._exit(1)  # as PID 1 of its namespace it ignores its own SIGKILL; its exit ends the namespace

    threading.Thread(target=watch, name="arena-watchdog", daemon=True).start()


def encode(value):
    """A JSON-ready copy of an action: numpy arrays and scalars become tagged objects."""
    import numpy as np

    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if isinstance(value, np.generic):
        return {"__npscalar__": value.dtype.str, "value": value.item()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError("an action dict must have string keys")
        return {k: encode(v) for k, v in value.items()}
    if hasattr(value, "__array__"):  # numpy arrays, and tensors that convert to them
        array = np.asarray(value)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"an action array must be numeric, got dtype {array.dtype}")
        return {"__ndarray__": array.dtype.str, "shape": list(array.shape), "data": array.ravel().tolist()}
    raise TypeError(f"an action of type {type(value).__name__} cannot be sent to the arena")


def describe(error: BaseException) -> dict:
    """The type, message and innermost source line of an exception raised by the agent, and whether it is a
    refused allocation (``MemoryError``, or a library's message such as torch's "can't allocate memory")."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename != __file__]  # not our hook
    where = (
        f"{os.path.basename(frames[-1].filename)}:{frames[-1].lineno} in {frames[-1].name}" if frames else ""
    )
    return {
        "type": type(error).__name__,
        "message": str(error)[:500],
        "where": where,
        "memory": isinstance(error, MemoryError) or any(words in str(error) for words in OUT_OF_MEMORY),
    }


def build(spec: dict):
    """Build the agent of a built-in name or an agent package directory for the given spaces."""
    import agents

    if spec["builtin"] is not None:
        return agents.make(spec["builtin"], spec["spaces"], **spec["kwargs"])
    return agents.load_agent(spec["path"], spec["spaces"], **spec["kwargs"])


def serve(request_fd: int, reply_fd: int) -> None:
    """Answer requests until the arena closes the request pipe."""
    agent = None
    while (frame := read_frame(request_fd)) is not None:
        request = pickle.loads(frame)
        try:
            if request[0] == "build":
                agent = build(request[1])
                reply = {"ok": None}
            elif request[0] == "reset":
                agent.reset(request[1])
                reply = {"ok": None}
            else:
                action = agent.act(request[1], request[2])
                try:
                    reply = {"ok": encode(action)}
                except (TypeError, ValueError) as error:
                    reply = {"error": {**describe(error), "unencodable": True}}
        except BaseException as error:  # the agent's failure, whatever it is, is reported, not fatal here
            reply = {"error": describe(error)}
        write_frame(reply_fd, json.dumps(reply, separators=(",", ":")).encode())


def main() -> None:
    limits = json.loads(sys.argv[1])
    request_fd, reply_fd = os.dup(0), os.dup(1)
    os.dup2(2, 1)  # the agent's writes to fd 1 land in the log
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    sys.stdout = sys.stderr
    apply_limits(limits)
    workdir = os.getcwd()  # a private tmpfs in the sandbox, else made by the arena, which removes it
    watch_arena(request_fd, workdir)
    serve(request_fd, reply_fd)
    shutil.rmtree(workdir, ignore_errors=True)  # the request pipe closed without a close: the arena is gone


if __name__ == "__main__":
    main()
