"""Outlive: leaves processes behind that should keep running after its match is over.

At its first move it starts three processes whose command lines end with ``pg-arena-attack-<token>`` (so the
test can find them in ``/proc``), each of which sleeps 60 s and, from its 3rd second on, tries to connect to
the test's loopback server: a daemon (double fork and ``setsid``: a new session, reparented to init), a child
in a process group of its own that ignores SIGTERM and SIGHUP, and a plain child. Then it plays random legal
moves.
"""

import contextlib
import os
import subprocess
import sys

from agents.base import RandomAgent

LINGER = """
import signal, socket, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
signal.signal(signal.SIGHUP, signal.SIG_IGN)
time.sleep(3)
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1)
except OSError:
    pass
time.sleep(60)
"""


def linger_argv(port: int, token: str) -> list[str]:
    return [sys.executable, "-c", LINGER, str(port), f"pg-arena-attack-{token}"]


def daemon(argv: list[str]) -> None:
    if os.fork() == 0:  # child: new session, fork again, exit, so that the grandchild is an orphan
        try:
            os.setsid()
            if os.fork() == 0:
                os.execv(argv[0], argv)
        finally:
            os._exit(0)
    os.wait()


class Outlive(RandomAgent):
    name = "outlive"

    def __init__(self, spaces, token: str, port: int):
        super().__init__(spaces)
        self.argv, self.started = linger_argv(port, token), False

    def act(self, observation, info):
        if not self.started:
            self.started = True
            for start in (
                lambda: daemon(self.argv),
                lambda: subprocess.Popen(self.argv, preexec_fn=os.setpgrp),
                lambda: subprocess.Popen(self.argv),
            ):
                with contextlib.suppress(OSError):
                    start()
        return super().act(observation, info)


def make(spaces, **kwargs):
    return Outlive(spaces, **kwargs)
