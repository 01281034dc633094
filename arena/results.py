"""What a match produces: one :class:`Participant` per seat, and how agents are named in results.

These records are what the leaderboard stores and what ratings are computed from; they carry no objects, only
names and numbers, so they survive a crash and round-trip through SQLite and JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any


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
