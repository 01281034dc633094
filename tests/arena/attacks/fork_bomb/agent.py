"""Fork bomb: multiplies its processes and spins the CPU, hoping to starve the arena and its opponent.

At its first move it starts two threads that loop forever, then grows a binary tree of processes ``depth``
levels deep (2 ** (depth + 1) - 2 processes, 2046 by default: bounded, so an unconfined run does not take a
machine down): each process forks two children, which do the same, and then becomes ``sleep 30`` with a
command line holding ``pg-arena-bomb-<token>``, so the test can count them. A refused fork ends that
branch. Then it plays random legal moves.
"""

import os
import threading

from agents.base import RandomAgent


def spin() -> None:
    while True:
        pass


def grow(depth: int, marker: str) -> None:
    """Fork two children that grow the tree further; the caller then becomes a marked sleep."""
    for _ in range(2):
        try:
            pid = os.fork()
        except OSError:
            return
        if pid == 0:
            if depth > 1:
                grow(depth - 1, marker)
            try:
                os.execv("/bin/sleep", [marker, "30"])
            finally:
                os._exit(0)


class ForkBomb(RandomAgent):
    name = "fork-bomb"

    def __init__(self, spaces, token: str, depth: int = 10):
        super().__init__(spaces)
        self.marker, self.depth, self.exploded = f"pg-arena-bomb-{token}", depth, False

    def act(self, observation, info):
        if not self.exploded:
            self.exploded = True
            for _ in range(2):
                threading.Thread(target=spin, daemon=True).start()
            grow(self.depth, self.marker)
        return super().act(observation, info)


def make(spaces, **kwargs):
    return ForkBomb(spaces, **kwargs)
