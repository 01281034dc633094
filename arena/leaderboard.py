"""A local leaderboard: the match log in SQLite (stdlib, WAL) under ``leaderboards/<board>/board.sqlite``.

The log is the only truth: every finished match is written in one transaction under its deterministic id,
so a killed tournament loses at most the matches in flight and never stores one twice; ratings and tables
are always recomputed from the log.
"""

from __future__ import annotations

import json
import math
import os
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, replace
from datetime import datetime, timezone
from pathlib import Path

from arena.results import MatchResult, Participant, Status

DEFAULT_ROOT = Path("leaderboards")
BOARD_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS scenarios (
    hash TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, source TEXT NOT NULL,
    spec_json TEXT NOT NULL, added_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS agents (
    label TEXT PRIMARY KEY, source TEXT NOT NULL, version TEXT, content_hash TEXT, added_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS matches (
    match_id TEXT PRIMARY KEY, scenario_hash TEXT NOT NULL REFERENCES scenarios(hash), env_id TEXT NOT NULL,
    seed INTEGER NOT NULL, duration_s REAL NOT NULL, forfeited INTEGER NOT NULL, extra_json TEXT NOT NULL,
    finished_at TEXT NOT NULL, position INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS participants (
    match_id TEXT NOT NULL REFERENCES matches(match_id), seat TEXT NOT NULL, agent TEXT NOT NULL,
    team TEXT NOT NULL, rank INTEGER NOT NULL, score REAL, status TEXT NOT NULL, reason TEXT NOT NULL,
    PRIMARY KEY (match_id, seat)
);
CREATE INDEX IF NOT EXISTS matches_by_scenario ON matches(scenario_hash, position);
"""


def board_path(board: str, root: str | Path | None = None) -> Path:
    """``<root>/<board>/board.sqlite``, where root is $PG_ARENA_HOME or ./leaderboards."""
    if not BOARD_NAME.match(board):
        raise ValueError(
            f"board={board!r} must be 1-64 letters, digits, '_', '-' or '.', starting alphanumeric"
        )
    root = Path(root or os.environ.get("PG_ARENA_HOME", DEFAULT_ROOT))
    return root / board / "board.sqlite"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Board:
    """One leaderboard's SQLite database. Opened per process; each write is its own transaction."""

    def __init__(self, board: str, root: str | Path | None = None):
        self.name = board
        self.path = board_path(board, root)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Board:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def add_scenario(self, hash: str, name: str, kind: str, source: str, spec: dict) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO scenarios VALUES (?, ?, ?, ?, ?, ?)",
                (hash, name, kind, source, json.dumps(spec, sort_keys=True), _now()),
            )

    def add_agent(
        self, label: str, source: str, version: str | None = None, content_hash: str | None = None
    ) -> None:
        """Record an agent; a label already stored with different content is refused (ValueError)."""
        with self._transaction() as db:
            row = db.execute("SELECT content_hash FROM agents WHERE label = ?", (label,)).fetchone()
            if row is not None and row[0] != content_hash:
                raise ValueError(
                    f"agent {label!r} is already on board {self.name!r} with other content "
                    f"({row[0]} != {content_hash}); bump its version"
                )
            db.execute(
                "INSERT OR IGNORE INTO agents VALUES (?, ?, ?, ?, ?)",
                (label, source, version, content_hash, _now()),
            )

    def agents(self) -> list[dict]:
        rows = self._db.execute(
            "SELECT label, source, version, content_hash, added_at FROM agents ORDER BY label"
        )
        return [
            dict(zip(("label", "source", "version", "content_hash", "added_at"), r, strict=True))
            for r in rows
        ]

    def scenarios(self) -> list[dict]:
        rows = self._db.execute(
            "SELECT hash, name, kind, source, spec_json FROM scenarios ORDER BY added_at, name"
        )
        return [
            {"hash": h, "name": n, "kind": k, "source": s, "spec": json.loads(spec)}
            for h, n, k, s, spec in rows
        ]

    def record(self, result: MatchResult) -> bool:
        """Store a finished match in one transaction; False, writing nothing, if its id is already stored."""
        with self._transaction() as db:
            if db.execute("SELECT 1 FROM matches WHERE match_id = ?", (result.match_id,)).fetchone():
                return False
            position = db.execute("SELECT COALESCE(MAX(position), -1) + 1 FROM matches").fetchone()[0]
            db.execute(
                "INSERT INTO matches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    result.match_id,
                    result.scenario,
                    result.env_id,
                    result.seed,
                    result.duration_s,
                    int(result.forfeited),
                    json.dumps(result.extra, sort_keys=True),
                    _now(),
                    position,
                ),
            )
            db.executemany(
                "INSERT INTO participants VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (result.match_id, p.seat, p.agent, p.team, p.rank, p.score, p.status.value, p.reason)
                    for p in result.participants
                ],
            )
        return True

    def match_ids(self, scenario_hash: str) -> set[str]:
        rows = self._db.execute("SELECT match_id FROM matches WHERE scenario_hash = ?", (scenario_hash,))
        return {r[0] for r in rows}

    def results(self, scenario_hash: str | None = None) -> list[MatchResult]:
        """The stored matches (of one scenario, or all) in the order they were stored."""
        where, args = ("WHERE m.scenario_hash = ?", (scenario_hash,)) if scenario_hash else ("", ())
        rows = self._db.execute(
            "SELECT m.match_id, m.scenario_hash, m.env_id, m.seed, m.duration_s, m.extra_json, "
            "p.agent, p.seat, p.team, p.rank, p.score, p.status, p.reason "
            f"FROM matches m JOIN participants p USING (match_id) {where} ORDER BY m.position, p.rowid",
            args,
        )
        grouped: dict[str, tuple[tuple, list[Participant]]] = {}
        for match_id, scenario, env_id, seed, duration, extra, *participant in rows:
            agent, seat, team, rank, score, status, reason = participant
            _, seats = grouped.setdefault(match_id, ((scenario, env_id, seed, duration, extra), []))
            seats.append(Participant(agent, seat, team, rank, score, Status(status), reason))
        return [
            MatchResult(match_id, scenario, env_id, seed, tuple(seats), duration, json.loads(extra))
            for match_id, ((scenario, env_id, seed, duration, extra), seats) in grouped.items()
        ]


def scenario_table(board: Board, scenario: dict) -> list[dict]:
    """The ranked rows of one stored scenario, recomputed from its match log.

    Match scenarios: Bradley–Terry ratings with bootstrap intervals (and OpenSkill's mu/sigma). Task suites:
    normalised scores per env and overall; a forfeited episode scores the worst return any agent had on that
    env and seed, so failing early never pays.
    """
    from arena.ratings import bradley_terry, suite_scores

    # A canonical order (by match id), so that resumed and uninterrupted runs give identical tables.
    results = sorted(board.results(scenario["hash"]), key=lambda r: r.match_id)
    if not results:
        return []
    if scenario["kind"] == "match":
        rows = bradley_terry(results)
    else:
        header = scenario["spec"]["scenario"]
        try:
            rows = suite_scores(
                _penalise_forfeits(results),
                low_ref=header["low_reference"],
                high_ref=header["high_reference"],
            )
        except ValueError:  # the references have not played every task yet (a suite in progress)
            return []
    # Unbounded intervals (too few games) and undefined means become None: null in JSON, blank in CSV.
    return [
        {"scenario": scenario["name"], **{k: _finite_or_none(v) for k, v in asdict(row).items()}}
        for row in rows
    ]


def _finite_or_none(value):
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _penalise_forfeits(results: list[MatchResult]) -> list[MatchResult]:
    worst: dict[tuple[str, int], float] = {}
    for result in results:
        key = (result.env_id, result.seed)
        worst[key] = min([worst.get(key, float("inf")), *(p.score for p in result.participants)])
    return [
        replace(
            result,
            participants=tuple(
                p if p.status is Status.OK else replace(p, score=worst[(result.env_id, result.seed)])
                for p in result.participants
            ),
        )
        for result in results
    ]
