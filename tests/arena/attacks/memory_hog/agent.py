"""Memory hog: uses more memory, disk or log than its limits allow, in ways that per-process limits miss.

``mode`` picks the attack, made at its first move:

- ``children``: two child processes each fill 600 MiB (under ``memory_mb=1024`` each fits a per-process
  address-space limit; together they break a limit on the whole process tree). It waits up to 20 s for
  both to report, ignores their fate, and plays on: only the arena can make it forfeit.
- ``big-file``: writes 2 GiB to ``/tmp/pg-arena-attack-<token>.bin``, then 2 GiB to its working directory; if
  any write fails, it raises (and forfeits).
- ``flood``: writes 50 MiB to stdout and 50 MiB to stderr without a newline, then raises an exception with a
  1 MB message.

Otherwise it plays random legal moves.
"""

import os
import subprocess
import sys
import time

from agents.base import RandomAgent

FILL = "import sys; block = b'x' * (600 << 20); print('full', flush=True); sys.stdin.read()"


def children() -> None:
    kids = [
        subprocess.Popen([sys.executable, "-c", FILL], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        for _ in range(2)
    ]
    deadline = time.monotonic() + 20
    for kid in kids:
        while time.monotonic() < deadline and kid.poll() is None:
            if kid.stdout.readline():  # "full", or b"" once it died
                break


def big_file(token: str) -> None:
    chunk = b"\0" * (8 << 20)
    for path in (f"/tmp/pg-arena-attack-{token}.bin", "big.bin"):
        with open(path, "wb") as handle:
            for _ in range((2 << 30) // len(chunk)):
                handle.write(chunk)


def flood() -> None:
    block = b"y" * (1 << 20)
    for _ in range(50):
        os.write(1, block)
        os.write(2, block)
    raise RuntimeError("z" * 1_000_000)


class MemoryHog(RandomAgent):
    name = "memory-hog"

    def __init__(self, spaces, mode: str, token: str = ""):
        super().__init__(spaces)
        self.mode, self.token, self.attacked = mode, token, False

    def act(self, observation, info):
        if not self.attacked:
            self.attacked = True
            if self.mode == "children":
                children()
            elif self.mode == "big-file":
                big_file(self.token)
            else:
                flood()
        return super().act(observation, info)


def make(spaces, **kwargs):
    return MemoryHog(spaces, **kwargs)
