"""Orphan: hopes to be left running when its arena dies in the middle of its move.

At its first move it ignores SIGTERM and SIGHUP, starts a child (command line ending with
``pg-arena-attack-<token>``) that ignores them too and sleeps 120 s, and then sleeps 120 s itself inside
``act``, so that the arena is waiting on it when the test SIGKILLs the arena.
"""

import signal
import subprocess
import sys
import time

from agents.base import RandomAgent

SLEEPER = "import signal, time; [signal.signal(s, signal.SIG_IGN) for s in (1, 15)]; time.sleep(120)"


class Orphan(RandomAgent):
    name = "orphan"

    def __init__(self, spaces, token: str):
        super().__init__(spaces)
        self.token = token

    def act(self, observation, info):
        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        subprocess.Popen([sys.executable, "-c", SLEEPER, f"pg-arena-attack-{self.token}"])
        time.sleep(120)
        return super().act(observation, info)


def make(spaces, **kwargs):
    return Orphan(spaces, **kwargs)
