"""Control groups for sandboxed agents: memory, process-count and CPU limits that cover a whole process tree.

One :class:`AgentCgroup` per sandboxed agent. Each controller is taken from the hierarchy that carries it:
cgroup v2 (the unified hierarchy, when its root lists the controller in ``cgroup.controllers``) or cgroup v1
(a hierarchy mounted with that controller), so machines with either, or a mix, are covered. Groups are made
under ``<hierarchy root>/pg-arena/``; making them needs write access there (root, or a delegated tree).

Limits: memory (``memory.max`` / ``memory.limit_in_bytes``, and swap held to the same total), processes and
threads (``pids.max``), CPU (``cpu.max`` / ``cpu.cfs_quota_us`` per ``cpu.cfs_period_us``). :meth:`kill`
SIGKILLs every member until the group is empty (``cgroup.kill`` in v2), so nothing an agent started outlives
its match; :meth:`oom_killed` says whether the kernel killed a member for memory.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from dataclasses import dataclass
from functools import cache
from pathlib import Path

CONTROLLERS = ("memory", "pids", "cpu")
PARENT = "pg-arena"
CPU_PERIOD_US = 100_000


@dataclass(frozen=True)
class Hierarchy:
    """Where one controller lives: the mount point of its hierarchy and whether it is cgroup v2."""

    root: Path
    v2: bool


@cache
def hierarchies() -> dict[str, Hierarchy]:
    """The hierarchy of each controller in :data:`CONTROLLERS` that this process can make groups in."""
    found: dict[str, Hierarchy] = {}
    for root, fstype, options in _cgroup_mounts():
        if fstype == "cgroup2":
            try:
                listed = (root / "cgroup.controllers").read_text().split()
            except OSError:
                continue
            for controller in CONTROLLERS:
                if controller in listed:
                    found[controller] = Hierarchy(root=root, v2=True)
        else:
            for controller in CONTROLLERS:
                if controller in options and controller not in found:
                    found[controller] = Hierarchy(root=root, v2=False)
    usable = {c: h for c, h in found.items() if _prepare_parent(c, h)}
    for hierarchy in set(usable.values()):
        _remove_orphans(hierarchy.root / PARENT)
    return usable


def _owner() -> str:
    """This process as a group-name tag: its pid and start time (clock ticks after boot), so that a group
    whose arena has died can be told from one whose pid was reused."""
    return f"{os.getpid()}.{_start_time(os.getpid())}"


def _start_time(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def _remove_orphans(parent: Path) -> None:
    """Kill what is left in, and remove, the groups of arenas that died without closing their agents (a
    SIGKILLed arena cannot; its agents' watchdogs end them, but the groups stay)."""
    for group in parent.glob("agent-*"):
        pid, _, start = group.name.split("-")[1].partition(".")
        if pid.isdigit() and start and _start_time(int(pid)) != start:
            with contextlib.suppress(OSError):
                for member in (group / "cgroup.procs").read_text().split():
                    os.kill(int(member), signal.SIGKILL)
                group.rmdir()


def _cgroup_mounts() -> list[tuple[Path, str, set[str]]]:
    """(mount point, fstype, super options) of every cgroup mount, from /proc/self/mountinfo."""
    mounts = []
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return mounts
    for line in lines:
        fields, _, rest = line.partition(" - ")
        parts, tail = fields.split(), rest.split()
        if len(parts) >= 5 and len(tail) >= 3 and tail[0] in ("cgroup", "cgroup2"):
            mounts.append((Path(parts[4]), tail[0], set(tail[2].split(","))))
    return mounts


def _prepare_parent(controller: str, hierarchy: Hierarchy) -> bool:
    """Make ``pg-arena/`` in the hierarchy and, in v2, enable the controller for the groups below it."""
    parent = hierarchy.root / PARENT
    try:
        parent.mkdir(exist_ok=True)
        if hierarchy.v2:
            for directory in (hierarchy.root, parent):
                enabled = (directory / "cgroup.subtree_control").read_text().split()
                if controller not in enabled:
                    (directory / "cgroup.subtree_control").write_text(f"+{controller}")
        probe = parent / f"probe-{uuid.uuid4().hex[:8]}"
        probe.mkdir()
        probe.rmdir()
    except OSError:
        return False
    return True


class AgentCgroup:
    """The groups of one sandboxed agent, one per controller's hierarchy (shared where they coincide)."""

    def __init__(self, memory_mb: int, max_processes: int, cpus: float):
        found = hierarchies()
        missing = [c for c in CONTROLLERS if c not in found]
        if missing:
            raise OSError(f"no writable cgroup hierarchy for {', '.join(missing)}")
        name = f"agent-{_owner()}-{uuid.uuid4().hex[:12]}"
        self._groups: dict[str, Path] = {c: found[c].root / PARENT / name for c in CONTROLLERS}
        self._v2 = {c: found[c].v2 for c in CONTROLLERS}
        self._memory_events = -1
        try:
            for group in set(self._groups.values()):
                group.mkdir()
            self._limit(memory_mb * 1024 * 1024, max_processes, cpus)
            events = "memory.events" if self._v2["memory"] else "memory.oom_control"
            self._memory_events = os.open(self._groups["memory"] / events, os.O_RDONLY)
        except OSError:
            self.remove()
            raise

    def _limit(self, memory_bytes: int, max_processes: int, cpus: float) -> None:
        memory, pids, cpu = (self._groups[c] for c in CONTROLLERS)
        quota = max(1000, round(cpus * CPU_PERIOD_US))
        if self._v2["memory"]:
            (memory / "memory.max").write_text(str(memory_bytes))
            _write_if_present(memory / "memory.swap.max", "0")
        else:
            (memory / "memory.limit_in_bytes").write_text(str(memory_bytes))
            _write_if_present(memory / "memory.memsw.limit_in_bytes", str(memory_bytes))
        (pids / "pids.max").write_text(str(max_processes))
        if self._v2["cpu"]:
            (cpu / "cpu.max").write_text(f"{quota} {CPU_PERIOD_US}")
        else:
            (cpu / "cpu.cfs_period_us").write_text(str(CPU_PERIOD_US))
            (cpu / "cpu.cfs_quota_us").write_text(str(quota))

    def attach(self, pid: int) -> None:
        """Move process ``pid`` (all its threads) into every group; its later children are born there."""
        for group in set(self._groups.values()):
            (group / "cgroup.procs").write_text(str(pid))

    def members(self) -> set[int]:
        pids: set[int] = set()
        for group in set(self._groups.values()):
            with contextlib.suppress(OSError):
                pids.update(int(p) for p in (group / "cgroup.procs").read_text().split())
        return pids

    def oom_killed(self) -> bool:
        """True once the kernel has killed a member for exceeding the memory limit (read at every move, so
        it is one pread of an open file)."""
        try:
            data = os.pread(self._memory_events, 4096, 0).decode()
        except OSError:
            return False
        counts = dict(line.split() for line in data.splitlines() if line.count(" ") == 1)
        return int(counts.get("oom_kill", 0)) > 0

    def kill(self, timeout_s: float = 2.0) -> None:
        """SIGKILL every member, again until the group is empty (a fork in flight joins it late)."""
        for group, v2 in ((g, self._v2[c]) for c, g in self._groups.items()):
            if v2 and (group / "cgroup.kill").exists():
                with contextlib.suppress(OSError):
                    (group / "cgroup.kill").write_text("1")
        deadline = time.monotonic() + timeout_s
        while (pids := self.members()) and time.monotonic() < deadline:
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.001)

    def remove(self) -> None:
        """Remove the (empty) groups; members still dying are waited for briefly."""
        if self._memory_events >= 0:
            os.close(self._memory_events)
            self._memory_events = -1
        for group in set(self._groups.values()):
            for _ in range(200):
                try:
                    group.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.005)


def _write_if_present(path: Path, value: str) -> None:
    if path.exists():
        path.write_text(value)
