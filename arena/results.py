"""What a match produces: one :class:`Participant` per seat, and how agents are named in results.

These records are what the leaderboard stores and what ratings are computed from; they carry no objects, only
names and numbers, so they survive a crash and round-trip through SQLite and JSON.

A result may also carry its *replay* (what the leaderboard page shows of how the match went, recorded by
:mod:`arena.match` after the match: only what every player saw and what the end revealed), stored in
``extra["replay"]`` as zlib-compressed JSON in base64 text (:func:`pack_replay`). Results stored before
replays were recorded have none.
"""

from __future__ import annotations

import base64
import json
import zlib
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

REPLAY_KEY = "replay"  # where a result's ``extra`` holds its packed replay
MAX_REPLAY_BYTES = 1_000_000  # a stored replay that decompresses to more JSON than this is not read back


class Status(str, Enum):
    """How a participant's match ended. Anything but OK is a forfeit: the offender loses the match."""

    OK = "OK"
    ERROR = "ERROR"  # raised, crashed, exited, exceeded memory, broke the protocol
    TIMEOUT = "TIMEOUT"  # a move or the whole match took longer than its limit
    INVALID = "INVALID"  # returned an action outside the action space (or its mask)


@dataclass(frozen=True, kw_only=True)
class Participant:
    """One seat of one match (built with keyword arguments only).

    ``team`` groups seats that win or lose together (each seat is its own team in a free-for-all or a
    two-player game; "wolves"/"village" in Werewolf). ``rank`` is 0 for the best team, ties share a rank.
    ``score`` is the seat's return in the env's units.
    """

    agent: str
    seat: str
    team: str
    rank: int
    score: float
    status: Status = Status.OK
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class MatchResult:
    """A finished match (multi-agent game) or episode (task suite): its id, the participants and timings
    (built with keyword arguments only).

    ``env_id`` is the game's id, or a suite entry's task name (its env id unless the suite names it).
    """

    match_id: str
    scenario: str
    env_id: str
    seed: int
    participants: tuple[Participant, ...]
    duration_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def forfeited(self) -> bool:
        return any(p.status is not Status.OK for p in self.participants)

    @property
    def replay(self) -> dict[str, Any] | None:
        """The match's replay (see the module docstring), or None when it has none or it cannot be read."""
        packed = self.extra.get(REPLAY_KEY)
        return unpack_replay(packed) if isinstance(packed, str) else None


def pack_replay(replay: dict[str, Any]) -> str:
    """``replay`` (plain JSON data) as a result stores it: JSON, zlib-compressed, as base64 text."""
    data = json.dumps(replay, separators=(",", ":"), sort_keys=True).encode()
    return base64.b64encode(zlib.compress(data, 9)).decode("ascii")


def unpack_replay(packed: str) -> dict[str, Any] | None:
    """The replay :func:`pack_replay` packed; None when ``packed`` is not one, or decompresses to more than
    ``MAX_REPLAY_BYTES`` (so that a damaged or hand-made row cannot stop the page or fill the memory)."""
    try:
        inflate = zlib.decompressobj()
        data = inflate.decompress(base64.b64decode(packed, validate=True), MAX_REPLAY_BYTES)
        if inflate.unconsumed_tail or not inflate.eof:
            return None
        replay = json.loads(data)
    except (zlib.error, ValueError):  # base64, UTF-8 and JSON errors are ValueErrors
        return None
    return replay if isinstance(replay, dict) else None
