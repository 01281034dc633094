"""The agent's side of the sandbox: one agent in its own process, answering the arena over two pipes.

Started by :mod:`arena.sandbox` as ``python -m arena.sandbox_worker MEMORY_MB`` with the request pipe on
fd 0, the reply pipe on fd 1 and a log file on fd 2. Before anything else it locks itself in:

1. It keeps the reply pipe on a private descriptor and points fd 1 and ``sys.stdout`` at the log, so
   nothing the agent prints (``print`` or ``os.write(1, ...)``) can reach the protocol channel.
2. Network: on Linux it moves into a new, empty network namespace (``unshare(CLONE_NEWNET)``, or together
   with ``CLONE_NEWUSER`` when it lacks the privilege), where no address, not even 127.0.0.1, is reachable.
   Everywhere, and also when the kernel refuses the namespace, an audit hook makes every Python socket
   creation and name lookup raise ``PermissionError``; code that calls libc through ``ctypes`` gets past
   the hook, so only the namespace stops it. The build reply says which of the two applies.
3. Memory: ``RLIMIT_AS`` is set to ``MEMORY_MB`` mebibytes, so a larger allocation raises ``MemoryError``.
4. A watchdog thread ends the process when the arena that started it is gone, so a killed arena leaves no
   agent running (and no working directory behind).

Only then does it import the agent's code. Requests are pickled tuples (the agent trusts the arena):
``("build", spec)``, ``("reset", seed)``, ``("act", observation, info)``. Every request gets one reply, a
JSON object ``{"ok": value}`` or ``{"error": {...}}`` (the arena never unpickles what an agent sends).
Frames are a 4-byte big-endian length followed by the payload.
"""

from __future__ import annotations

import ctypes
import json
import os
import pickle
import resource
import shutil
import struct
import sys
import threading
import time
import traceback

HEADER = struct.Struct(">I")
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
BLOCKED_EVENTS = frozenset({"socket.__new__", "socket.getaddrinfo", "socket.gethostbyname"})
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


def isolate_network() -> str:
    """Enter a new network namespace when the kernel allows it; always install the socket guard.

    Returns ``"namespace"`` or ``"guard"`` (which protection stops code that bypasses Python's socket
    module). Must run while the process has a single thread (the kernel refuses a user namespace otherwise).
    """
    isolation = "guard"
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.unshare(CLONE_NEWNET) == 0 or libc.unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0:
                isolation = "namespace"
        except (OSError, AttributeError):
            pass
    sys.addaudithook(_refuse_network)
    return isolation


def _refuse_network(event: str, args: tuple) -> None:
    if event in BLOCKED_EVENTS:
        raise PermissionError("network access is disabled in the arena's sandbox")


def limit_memory(memory_mb: int) -> None:
    """Cap the address space at ``memory_mb`` MiB (``RLIMIT_AS``), never above an existing hard limit."""
    size = memory_mb * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        size = min(size, hard)
    resource.setrlimit(resource.RLIMIT_AS, (size, hard))


def watch_parent(workdir: str, interval_s: float = 0.5) -> None:
    """End this process, removing its working directory, once the process that started it has exited."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval_s)
        shutil.rmtree(workdir, ignore_errors=True)
        os._exit(1)

    threading.Thread(target=watch, name="arena-parent-watchdog", daemon=True).start()


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


def serve(request_fd: int, reply_fd: int, isolation: str) -> None:
    """Answer requests until the arena closes the request pipe."""
    agent = None
    while (frame := read_frame(request_fd)) is not None:
        request = pickle.loads(frame)
        try:
            if request[0] == "build":
                agent = build(request[1])
                reply = {"ok": {"network": isolation}}
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
    memory_mb = int(sys.argv[1])
    request_fd, reply_fd = os.dup(0), os.dup(1)
    os.dup2(2, 1)  # the agent's writes to fd 1 land in the log
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    sys.stdout = sys.stderr
    isolation = isolate_network()
    limit_memory(memory_mb)
    workdir = os.getcwd()  # made for this process by the arena, which removes it on close
    watch_parent(workdir)
    serve(request_fd, reply_fd, isolation)
    shutil.rmtree(workdir, ignore_errors=True)  # the request pipe closed without a close: the arena is gone


if __name__ == "__main__":
    main()
