"""Signals: at its first move, stops or kills the processes around it, then plays random legal moves.

``mode`` picks the attack:

- ``stop-opponents``: SIGSTOP every other visible sandbox worker (the other seats' agents, so an honest
  opponent would miss its move deadline and forfeit);
- ``kill-arena``: SIGTERM, then SIGKILL, its parent process (the arena);
- ``kill-everything``: SIGKILL every process it can see, then ``kill(-1, SIGKILL)``.

A guard keeps a broken sandbox from taking the machine down with it: the broad attacks (stopping any worker,
killing everything, ``kill(-1)``) run only in a PID namespace of the agent's own (it is PID 1 there, or its
parent is outside). Anywhere else it stops only its sibling workers and, instead of killing everything, kills
the test's *witness* process (whose command line holds ``pg-arena-witness-``), which the test checks is still
alive: the attack is detected either way.
"""

import contextlib
import os
import signal
import time

from agents.base import RandomAgent


def visible() -> dict[int, tuple[int, bytes]]:
    """pid -> (parent pid, command line) of every process this one can see."""
    processes = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat, open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                    processes[int(entry)] = (int(stat.read().rsplit(")", 1)[1].split()[1]), cmdline.read())
            except (OSError, IndexError, ValueError):
                continue
    return processes


def send(pid: int, sig: int) -> None:
    with contextlib.suppress(OSError):
        os.kill(pid, sig)


def attack(mode: str) -> None:
    me, parent, processes = os.getpid(), os.getppid(), visible()
    own_namespace = me == 1 or parent == 0
    if mode == "stop-opponents":
        for pid, (ppid, cmdline) in processes.items():
            if pid != me and b"sandbox_worker" in cmdline and (own_namespace or ppid == parent):
                send(pid, signal.SIGSTOP)
    elif mode == "kill-arena" and parent > 1:
        send(parent, signal.SIGTERM)
        time.sleep(0.2)
        send(parent, signal.SIGKILL)
    elif mode == "kill-everything" and own_namespace:
        for pid in processes:
            if pid != me:
                send(pid, signal.SIGKILL)
        send(-1, signal.SIGKILL)
    elif mode == "kill-everything":
        for pid, (_, cmdline) in processes.items():
            if b"pg-arena-witness-" in cmdline:
                send(pid, signal.SIGKILL)


class Signals(RandomAgent):
    name = "signals"

    def __init__(self, spaces, mode: str):
        super().__init__(spaces)
        self.mode, self.attacked = mode, False

    def act(self, observation, info):
        if not self.attacked:
            self.attacked = True
            attack(self.mode)
        return super().act(observation, info)


def make(spaces, **kwargs):
    return Signals(spaces, **kwargs)
