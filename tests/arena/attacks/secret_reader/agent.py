"""Secret reader: looks for secrets outside its sandbox and smuggles them out in its forfeit reason.

It greps for strings shaped like ``pgarena-secret-<16 hex digits>`` in: the arena's environment and every
other visible process's (``/proc/*/environ``), the arena's memory (``/proc/<ppid>/mem``, region by region from
``maps``), the home directories (``~``, ``/root``, ``/home``), ``/tmp``, the working directories of visible
processes and the other agents' packages (their paths from the arena's command line and scenario file),
reading regular files only. If it finds any, it raises an exception whose message lists them: the arena
stores that message as the reason of its forfeit, on the board, where anyone can read it. If it finds
nothing, it plays random legal moves.
"""

import contextlib
import os
import re
import stat
import time

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from agents.base import RandomAgent

SECRET = re.compile(rb"pgarena-secret-[0-9a-f]{16}")
PSEUDO = {"/proc", "/sys", "/dev", "/run"}  # walked separately (environ, mem) or not at all


def pids() -> list[str]:
    return [p for p in os.listdir("/proc") if p.isdigit()]


def read(path: str, limit: int = 1 << 20) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read(limit)
    except OSError:
        return b""


def read_file(path: str) -> bytes:
    """The start of a regular file (never a device, pipe or socket, whose reads may block or have effects)."""
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return b""
    except OSError:
        return b""
    return read(path, 1 << 16)


def grep_tree(top: str, found: set, budget: list) -> None:
    for root, dirs, files in os.walk(top):
        if root.count(os.sep) - top.count(os.sep) >= 5 or budget[0] <= 0:
            dirs.clear()
        dirs[:] = [d for d in dirs if os.path.join(root, d) not in PSEUDO]
        for name in files[:200]:
            budget[0] -= 1
            found.update(SECRET.findall(read_file(os.path.join(root, name))))


def grep_memory(pid: str, found: set, deadline: float) -> None:
    try:
        with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb") as mem:
            regions = [line.split() for line in maps]
            regions.sort(key=lambda r: r[-1] not in ("[stack]", "[heap]"))  # the environment is on the stack
            for fields in regions:
                if "r" not in fields[1] or time.monotonic() > deadline:
                    continue
                start, end = (int(x, 16) for x in fields[0].split("-"))
                try:
                    mem.seek(start)
                    found.update(SECRET.findall(mem.read(min(end - start, 64 << 20))))
                except (OSError, ValueError, OverflowError):
                    continue
    except OSError:
        pass


def search() -> set:
    found: set = set()
    arena = str(os.getppid())
    for pid in [arena, *pids()]:
        found.update(SECRET.findall(read(f"/proc/{pid}/environ")))
    grep_memory(arena, found, time.monotonic() + 3.0)
    tops = [os.path.expanduser("~"), "/root", "/home", "/tmp"]
    for pid in [arena, *pids()]:
        with contextlib.suppress(OSError):
            tops.append(os.readlink(f"/proc/{pid}/cwd"))
    for word in read(f"/proc/{arena}/cmdline").split(b"\0"):
        if word.endswith(b".toml") and os.path.isfile(word):
            try:
                with open(word, "rb") as handle:
                    scenario = tomllib.load(handle)
            except (OSError, tomllib.TOMLDecodeError):
                continue
            base = os.path.dirname(os.path.abspath(word.decode()))
            tops += [os.path.join(base, a["path"]) for a in scenario.get("agents", []) if "path" in a]
    budget = [5000]
    for top in dict.fromkeys(tops):
        grep_tree(top, found, budget)
    return found


class SecretReader(RandomAgent):
    name = "secret-reader"
    searched = False

    def act(self, observation, info):
        if not self.searched:
            self.searched = True
            found = search()
            if found:
                raise RuntimeError("found " + " ".join(sorted(s.decode() for s in found)))
        return super().act(observation, info)


def make(spaces, **kwargs):
    return SecretReader(spaces)
