"""Source writer: plants code in the project that the arena imports, so that its next run serves the attacker.

Through the paths its own imports reveal (``arena.__file__``, ``agents.base.__file__``, ...) it appends a line
to each module, makes it world-writable, replaces it by rename, and drops a new module next to them; it also
drops a ``.pth`` file (a comment only, so harmless if it lands) into every site-packages directory of the
interpreter. Every attempt is independent; then it plays random legal moves.
"""

import contextlib
import os
import site
import sys

import agents.base
import arena
import arena.match
import arena.sandbox
import envs
from agents.base import RandomAgent


def append(path: str, line: str) -> None:
    with open(path, "a") as handle:
        handle.write(line)


def replace(path: str, line: str) -> None:
    with open(path) as old, open(path + ".new", "w") as new:
        new.write(old.read() + line)
    os.replace(path + ".new", path)


def plant(token: str, venv: bool) -> None:
    line = f"\n# planted by {token}\n"
    modules = [arena, arena.match, arena.sandbox, agents.base, envs]
    for path in (os.path.realpath(m.__file__) for m in modules):
        for attempt in (append, lambda p, _: os.chmod(p, 0o666), replace):
            with contextlib.suppress(OSError):
                attempt(path, line)
    directories = {os.path.dirname(os.path.realpath(m.__file__)) for m in modules}
    if venv:
        directories |= {*site.getsitepackages(), *(p for p in sys.path if p.endswith("-packages"))}
    for directory in directories:
        suffix = ".pth" if directory.endswith("-packages") else ".py"
        with contextlib.suppress(OSError):
            append(os.path.join(directory, f"planted_{token}{suffix}"), line)


class SourceWriter(RandomAgent):
    name = "source-writer"

    def __init__(self, spaces, token: str, venv: bool = True):
        super().__init__(spaces)
        self.token, self.venv, self.planted = token, venv, False

    def act(self, observation, info):
        if not self.planted:
            self.planted = True
            plant(self.token, self.venv)
        return super().act(observation, info)


def make(spaces, **kwargs):
    return SourceWriter(spaces, **kwargs)
