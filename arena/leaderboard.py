"""A local leaderboard: the match log in SQLite (stdlib, WAL) at ``<home>/<board>/board.sqlite``, where the
home is ``$PG_ARENA_HOME``, else ``./leaderboards`` in a source checkout, else the user's data directory
(:func:`boards_home`).

The log is the only truth: every finished match is written in one transaction under its deterministic id,
so a killed tournament loses at most the matches in flight and never stores one twice; ratings and tables
are always recomputed from the log.

Each match row also stores the versions of the env and agents that produced it (:mod:`arena.versions`; NULL,
read as "unknown", in rows stored before versions were recorded), so that a tournament replays a match whose
code has changed. A board also holds its secret (``meta`` table), the key of every seed its matches are played
with (:mod:`arena.seeding`); nothing reads it out except :attr:`Board.secret`, and no table or page shows it.

A forfeited match is stored as the match runner ranked it (the offender last, every other seat sharing first
place); :mod:`arena.ratings` reads it as the offender's losses only, so matches stored before that reading
need no change.
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, replace
from datetime import datetime, timezone
from pathlib import Path

import platformdirs

from arena.results import MatchResult, Participant, Status
from arena.seeding import SECRET_BYTES
from arena.versions import UNKNOWN, MatchVersions

CHECKOUT_HOME = Path("leaderboards")  # a source checkout's boards, relative to the current directory
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
    finished_at TEXT NOT NULL, position INTEGER NOT NULL, env_version TEXT, agent_versions_json TEXT
);
CREATE TABLE IF NOT EXISTS participants (
    match_id TEXT NOT NULL REFERENCES matches(match_id), seat TEXT NOT NULL, agent TEXT NOT NULL,
    team TEXT NOT NULL, rank INTEGER NOT NULL, score REAL, status TEXT NOT NULL, reason TEXT NOT NULL,
    PRIMARY KEY (match_id, seat)
);
CREATE INDEX IF NOT EXISTS matches_by_scenario ON matches(scenario_hash, position);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
"""
# Columns added to a table after its first release: (table, column, type), added in place to older boards.
_ADDED_COLUMNS = (("matches", "env_version", "TEXT"), ("matches", "agent_versions_json", "TEXT"))
_MATCH_COLUMNS = (
    "match_id, scenario_hash, env_id, seed, duration_s, forfeited, extra_json, finished_at, position, "
    "env_version, agent_versions_json"
)


def boards_home() -> Path:
    """The folder that holds every board: ``$PG_ARENA_HOME`` when set; else ``./leaderboards`` when the
    current directory has one (a source checkout); else the user's data directory
    (``platformdirs.user_data_dir("pg-arena")``: ``~/.local/share/pg-arena`` on Linux, or under
    ``$XDG_DATA_HOME``)."""
    if os.environ.get("PG_ARENA_HOME"):
        return Path(os.environ["PG_ARENA_HOME"])
    if CHECKOUT_HOME.is_dir():
        return CHECKOUT_HOME
    return Path(platformdirs.user_data_dir("pg-arena"))


def board_path(board: str, root: str | Path | None = None) -> Path:
    """``<root>/<board>/board.sqlite``, where root defaults to :func:`boards_home`."""
    if not BOARD_NAME.match(board):
        raise ValueError(
            f"board={board!r} must be 1-64 letters, digits, '_', '-' or '.', starting alphanumeric"
        )
    return Path(root or boards_home()) / board / "board.sqlite"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Board:
    """One leaderboard's SQLite database. Opened per process; each write is its own transaction.

    A new board gets a secret of 32 random bytes; ``secret`` gives a new board that one instead (for runs that
    must play identical seeds on several boards, such as comparing executors), and is refused (ValueError) by
    a board that already has another.
    """

    def __init__(self, board: str, root: str | Path | None = None, *, secret: bytes | None = None):
        self.name = board
        self.path = board_path(board, root)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)
        self._migrate()
        self._secret = self._keep_secret(secret)

    @property
    def secret(self) -> bytes:
        """The key of the board's env and agent seeds (arena.seeding). Never print or export it."""
        return self._secret

    def _migrate(self) -> None:
        """Add the columns a board stored by an older version lacks (existing rows get NULL)."""
        with self._transaction() as db:
            for table, column, kind in _ADDED_COLUMNS:
                present = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
                if column not in present:
                    db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")

    def _keep_secret(self, wanted: bytes | None) -> bytes:
        if wanted is not None and len(wanted) < SECRET_BYTES:
            raise ValueError(f"secret has {len(wanted)} bytes; at least {SECRET_BYTES} are needed")
        with self._transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO meta VALUES ('secret', ?)",
                (wanted or secrets.token_bytes(SECRET_BYTES),),
            )
            (stored,) = db.execute("SELECT value FROM meta WHERE key = 'secret'").fetchone()
        if wanted is not None and bytes(stored) != wanted:
            raise ValueError(f"board {self.name!r} already has another secret")
        return bytes(stored)

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
        self,
        label: str,
        source: str,
        version: str | None = None,
        content_hash: str | None = None,
        *,
        then: Callable[[], None] | None = None,
    ) -> None:
        """Record an agent; a label already stored with different content is refused (ValueError).

        ``then`` runs inside the transaction, after the row is written: if it raises, the row is not stored
        (submit moves the agent's files into place there, so that row and files appear together)."""
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
            if then is not None:
                then()

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

    def record(
        self, result: MatchResult, versions: MatchVersions | None = None, *, overwrite: bool = False
    ) -> bool:
        """Store a finished match in one transaction, with the versions that produced it (None: unknown).

        A match id already stored is left as it is and False returned, unless ``overwrite``: then the stored
        match is deleted and this one stored in its place (at the end of the log), in the same transaction.
        """
        with self._transaction() as db:
            if db.execute("SELECT 1 FROM matches WHERE match_id = ?", (result.match_id,)).fetchone():
                if not overwrite:
                    return False
                db.execute("DELETE FROM participants WHERE match_id = ?", (result.match_id,))
                db.execute("DELETE FROM matches WHERE match_id = ?", (result.match_id,))
            position = db.execute("SELECT COALESCE(MAX(position), -1) + 1 FROM matches").fetchone()[0]
            db.execute(
                f"INSERT INTO matches ({_MATCH_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                    versions.env if versions else None,
                    json.dumps(versions.agents, sort_keys=True) if versions else None,
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

    def match_versions(self, scenario_hash: str) -> dict[str, MatchVersions]:
        """The versions each stored match of a scenario was played with, by match id."""
        rows = self._db.execute(
            "SELECT match_id, env_version, agent_versions_json FROM matches WHERE scenario_hash = ?",
            (scenario_hash,),
        )
        return {
            match_id: MatchVersions(env=env or UNKNOWN, agents=json.loads(agents) if agents else {})
            for match_id, env, agents in rows
        }

    def versions_played(self, scenario_hash: str) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
        """The versions a scenario's stored matches were played with: each env's (by env id, or task name in
        a suite) and each agent's (by label), sorted; "unknown" for matches stored without them."""
        rows = self._db.execute(
            "SELECT DISTINCT m.env_id, m.env_version, m.agent_versions_json, p.agent "
            "FROM matches m JOIN participants p USING (match_id) WHERE m.scenario_hash = ?",
            (scenario_hash,),
        )
        env_versions: dict[str, set[str]] = {}
        agent_versions: dict[str, set[str]] = {}
        for env_id, env, agents, label in rows:
            env_versions.setdefault(env_id, set()).add(env or UNKNOWN)
            version = json.loads(agents).get(label, UNKNOWN) if agents else UNKNOWN
            agent_versions.setdefault(label, set()).add(version)
        return _sorted_sets(env_versions), _sorted_sets(agent_versions)

    def results(self, scenario_hash: str | None = None) -> list[MatchResult]:
        """The stored matches (of one scenario, or all) in the order they were stored."""
        where, args = ("WHERE m.scenario_hash = ?", (scenario_hash,)) if scenario_hash else ("", ())
        rows = self._db.execute(
            "SELECT m.match_id, m.scenario_hash, m.env_id, m.seed, m.duration_s, m.extra_json, "
            "p.agent, p.seat, p.team, p.rank, p.score, p.status, p.reason "
            f"FROM matches m JOIN participants p USING (match_id) {where} ORDER BY m.position, p.rowid",
            args,
        )
        matches: dict[str, dict] = {}  # match id -> its MatchResult's fields, the participants in a list
        for match_id, scenario, env_id, seed, duration, extra, *participant in rows:
            agent, seat, team, rank, score, status, reason = participant
            if match_id not in matches:
                matches[match_id] = dict(
                    match_id=match_id,
                    scenario=scenario,
                    env_id=env_id,
                    seed=seed,
                    duration_s=duration,
                    extra=json.loads(extra),
                    participants=[],
                )
            matches[match_id]["participants"].append(
                Participant(
                    agent=agent,
                    seat=seat,
                    team=team,
                    rank=rank,
                    score=score,
                    status=Status(status),
                    reason=reason,
                )
            )
        return [
            MatchResult(**{**fields, "participants": tuple(fields["participants"])})
            for fields in matches.values()
        ]


def _sorted_sets(found: dict[str, set[str]]) -> dict[str, list[str]]:
    return {key: sorted(values) for key, values in sorted(found.items())}


def scenario_table(board: Board, scenario: dict) -> list[dict]:
    """The ranked rows of one stored scenario, recomputed from its match log.

    Match scenarios: Bradley–Terry ratings with studentised bootstrap intervals (and OpenSkill's mu/sigma),
    a forfeited match counting only as the offender's loss to each other agent. Task suites:
    normalised scores per env and overall, with each agent's forfeited episodes counted; a forfeited episode
    scores the worst return any agent had on that env and seed, so failing early never pays.
    """
    from arena.ratings import bradley_terry
    from arena.suite_scores import suite_scores

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
