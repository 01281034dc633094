"""Attacks on the arena: each is an agent package that plays a real match and tries to get out of its sandbox.

The packages live in ``tests/arena/attacks/<name>/``; each one's docstring says what it tries. Each test plays
a real match or a small tournament on a ``tmp_path`` board, with the attacker and honest agents, and then
checks through something the test controls and the sandbox cannot reach that the attack achieved nothing: the
board's rows and schema, hashes of files, a loopback server that counts connections, ``/proc`` of the host
(processes left behind), a witness process, the arena process's exit code and memory, the stored reasons
(where a leaked secret would land), the results (the honest agents never forfeit). Each test also checks that
the attacker got as far as its first move, so that an attack cannot pass by failing to start.

An attack that succeeds may damage what it reaches, so the attackers aim only at this test's own things:
the board that lists the attacker, a copy of the project's packages, a witness process the test started.

These tests need every isolation layer (:mod:`arena.isolation`): where one is missing they are skipped, and in
CI (the ``CI`` environment variable set) they fail.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import re
import secrets
import select
import shutil
import signal
import site
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import fields
from pathlib import Path

import pytest
from typer.testing import CliRunner

import arena.tournament
import envs
from arena.cli import app
from arena.leaderboard import Board
from arena.match import MatchSpec, play
from arena.players import AgentRef, Limits
from arena.results import MatchResult, Status
from arena.scenario import load_scenario
from arena.tournament import run_tournament

ATTACKS = Path(__file__).resolve().parent / "attacks"
TESTS = Path(__file__).resolve().parents[1]
ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("arena", "agents", "envs")
BOOT = "import fixture_envs; fixture_envs.register(); from arena.cli import app; app()"
STARTED = re.compile(r"building the agent|starting the agent|sandbox did not start")


@functools.cache
def missing_layers() -> tuple[str, ...]:
    try:
        from arena.isolation import missing_layers as missing
    except ImportError as error:
        return (f"arena.isolation ({error})",)
    return tuple(missing())


@pytest.fixture(autouse=True)
def every_layer_active():
    """Attacks run only against the full sandbox; in CI a missing layer fails every one of them."""
    missing = missing_layers()
    if missing:
        why = f"sandbox layers missing on this machine: {', '.join(missing)}"
        if os.environ.get("CI"):
            pytest.fail(f"{why} (in CI every attack must run)")
        pytest.skip(why)


# ---- scenarios, tournaments and boards


def agent_entry(
    *, path: Path | None = None, name: str | None = None, label: str | None = None, **kwargs
) -> str:
    """One ``[[agents]]`` table of a scenario file."""
    lines = ["[[agents]]"]
    lines += [f"path = {json.dumps(str(path))}"] if path else [f"name = {json.dumps(name)}"]
    if label:
        lines.append(f"label = {json.dumps(label)}")
    if kwargs:
        lines.append("kwargs = { " + ", ".join(f"{k} = {json.dumps(v)}" for k, v in kwargs.items()) + " }")
    return "\n".join(lines) + "\n"


def match_scenario(
    directory: Path,
    name: str,
    env: str,
    agents: list[str],
    *,
    games: int = 2,
    move_time_s: float = 10.0,
    **kw,
) -> Path:
    """A round-robin scenario file in ``directory``; ``kw`` are the env's kwargs."""
    env_kwargs = ", ".join(f"{k} = {json.dumps(v)}" for k, v in kw.items())
    path = directory / f"{name}.toml"
    path.write_text(
        f'[scenario]\nname = "{name}"\nkind = "match"\nenv = "{env}"\nenv_kwargs = {{ {env_kwargs} }}\n'
        f"games_per_pairing = {games}\nmove_time_s = {move_time_s}\n\n" + "".join(agents)
    )
    return path


def tournament(path: Path, root: Path) -> tuple[list[MatchResult], list[MatchResult]]:
    """Play a scenario file in this process on board ``b`` under ``root``: (results as played, as stored)."""
    scenario, played = load_scenario(path), []
    with Board("b", root=root) as board:
        summary = run_tournament(scenario, board, on_result=played.append)
        stored = board.results(scenario.hash)
    assert summary.played == summary.scheduled, f"only {summary.played} of {summary.scheduled} matches stored"
    return played, stored


def arena_environment(root: Path, env: dict | None = None, path: tuple[Path, ...] = ()) -> dict[str, str]:
    """The environment of an arena subprocess: boards under ``root``, ``path`` first on its import path, then
    the project and the tests' helpers."""
    pythonpath = os.pathsep.join(map(str, [*path, ROOT, TESTS]))
    return {**os.environ, "PYTHONPATH": pythonpath, "PG_ARENA_HOME": str(root), **(env or {})}


def cli(*args: str, root: Path, env: dict | None = None, path: tuple[Path, ...] = ()) -> subprocess.Popen:
    """``arena ARGS`` in a subprocess (with the test envs registered), boards under ``root``."""
    return subprocess.Popen(
        [sys.executable, "-c", BOOT, *args],
        cwd=root,  # not the repository, which ``python -c`` would put first on the import path
        env=arena_environment(root, env, path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finished(process: subprocess.Popen, timeout_s: float = 90.0) -> str:
    """Wait for an arena subprocess; its output. Fails unless it exited with code 0."""
    try:
        out, err = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        raise AssertionError(f"the arena did not finish within {timeout_s:g} s: {err[-2000:]}") from None
    assert process.returncode == 0, f"the arena exited with {process.returncode}: {err[-2000:]}"
    return out + err


def stored_results(root: Path) -> list[MatchResult]:
    with Board("b", root=root) as board:
        return board.results()


def snapshot(path: Path) -> dict[str, list]:
    """The schema (tables, indexes, triggers) and every row of every table of a board's SQLite file."""
    with contextlib.closing(sqlite3.connect(path, timeout=30)) as db:
        schema = sorted(db.execute("SELECT type, name, COALESCE(sql, '') FROM sqlite_master"))
        rows = {
            name: sorted(map(repr, db.execute(f'SELECT * FROM "{name}"')))
            for kind, name, _ in schema
            if kind == "table"
        }
    return {"schema": schema, **rows}


def assert_fair(results: list[MatchResult], attacker: str) -> None:
    """Every honest seat played to the end (status OK), and the attacker got as far as its first move."""
    assert any(p.agent == attacker for result in results for p in result.participants), (
        "the attacker never played"
    )
    for result in results:
        for p in result.participants:
            if p.agent == attacker:
                assert not STARTED.search(p.reason), f"the attacker never ran: {p.reason}"
            else:
                assert p.status is Status.OK, f"honest {p.agent} on {p.seat}: {p.status.value} {p.reason}"


def token() -> str:
    return secrets.token_hex(8)


# ---- the host's processes


def commands() -> dict[int, bytes]:
    """pid -> command line of every process on the host."""
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                found[int(entry)] = Path(f"/proc/{entry}/cmdline").read_bytes()
    return found


def running(marker: str) -> list[int]:
    """Live (not zombie) processes whose command line contains ``marker``."""
    return [pid for pid, command in commands().items() if marker.encode() in command and not is_gone(pid)]


def is_gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (FileNotFoundError, IndexError):
        return True


def none_left(marker: str, within_s: float = 2.0) -> list[int]:
    """The processes marked ``marker`` still running ``within_s`` seconds from now (at the first moment none
    runs, an empty list)."""
    deadline = time.monotonic() + within_s
    while (left := running(marker)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def kill_marked(marker: str) -> None:
    """Clean up after an attack that succeeded: SIGKILL what it left (processes this test caused)."""
    for pid in running(marker):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def descendants(root_pid: int) -> set[int]:
    """Every process started, directly or not, by ``root_pid`` (and not yet reparented)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                parents[int(entry)] = int(
                    Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1]
                )
    found, frontier = set(), {root_pid}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


class Loopback:
    """A TCP and a UDP socket on 127.0.0.1 and an abstract Unix socket, recording whatever reaches them."""

    def __init__(self):
        self.unix_name = f"pg-arena-attack-{token()}"
        self.tcp = socket.create_server(("127.0.0.1", 0))
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.unix.bind("\0" + self.unix_name)
        self.unix.listen()
        self.port, self.udp_port = self.tcp.getsockname()[1], self.udp.getsockname()[1]
        self.hits: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self.tcp, self.udp, self.unix], [], [], 0.05)
            for sock in ready:
                if sock is self.udp:
                    self.hits.append(f"udp {sock.recv(64)!r}")
                else:
                    connection, _ = sock.accept()
                    self.hits.append("tcp" if sock is self.tcp else "unix")
                    connection.close()

    def close(self) -> list[str]:
        self._stop.set()
        self._thread.join()
        for sock in (self.tcp, self.udp, self.unix):
            sock.close()
        return self.hits

    def __enter__(self) -> Loopback:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# ---- 1. the board


@pytest.mark.timeout(90)
def test_an_agent_can_neither_read_nor_rewrite_the_board_it_plays_for(tmp_path, registered_test_envs):
    """board_writer hunts for the SQLite board (open files and cwd of the arena, /proc, the project's
    leaderboards/, /tmp), rewrites it, and forfeits with the board's secret in its reason if it could read
    it. Afterwards the board holds exactly what it held before the tournament plus the matches the arena
    played, row for row (no row changed, no fake match, no trigger), and the secret is in no stored reason."""
    pennies = registered_test_envs["pennies"]
    warmup = match_scenario(
        tmp_path,
        "warmup",
        pennies,
        [agent_entry(name="random"), agent_entry(name="random", label="random-b")],
    )
    tournament(warmup, tmp_path)
    board = tmp_path / "b" / "board.sqlite"
    before = snapshot(board)
    attack = match_scenario(
        tmp_path,
        "attack",
        pennies,
        [agent_entry(name="random"), agent_entry(path=ATTACKS / "board_writer")],
        games=4,
    )
    played, stored = tournament(attack, tmp_path)
    after = snapshot(board)
    assert_fair(played, "board-writer@1")
    assert after["schema"] == before["schema"], "the board's schema changed (a table or trigger was added)"
    assert after.get("meta") == before.get("meta")
    for table in ("matches", "participants", "scenarios", "agents"):
        assert set(before[table]) <= set(after[table]), f"rows of {table} stored before the attack changed"
    new_matches = len(after["matches"]) - len(before["matches"])
    assert new_matches == len(played), "the board holds matches the arena did not play"
    assert sorted(stored, key=lambda r: r.match_id) == sorted(played, key=lambda r: r.match_id)
    with Board("b", root=tmp_path) as opened:
        secret = opened.secret.hex()
    assert not [p.reason for r in played for p in r.participants if secret in p.reason], "the board was read"


# ---- 2. the project's code


def tree_hashes(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


@pytest.mark.timeout(120)
@pytest.mark.slow
def test_an_agent_cannot_change_the_code_the_arena_imports(tmp_path, request):
    """source_writer appends to the arena's modules (found through ``arena.__file__`` and friends), replaces
    them by rename, adds modules next to them and a .pth file to site-packages. The arena runs from a copy of
    the project's packages (so a successful attack damages only the copy): afterwards every file of the copy
    has its old hash, no file was added, and no site-packages directory holds the .pth file.

    The copy is made under /var/tmp, not in ``tmp_path``: the sandbox mounts a private /tmp over the host's,
    which hides packages that live under /tmp."""
    source = Path(tempfile.mkdtemp(prefix="pg-arena-attack-src-", dir="/var/tmp"))
    request.addfinalizer(lambda: shutil.rmtree(source, ignore_errors=True))
    for package in PACKAGES:
        shutil.copytree(ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    before = tree_hashes(source)
    secret = token()
    planted = [
        Path(d) / f"planted_{secret}.pth" for d in {*site.getsitepackages(), site.getusersitepackages()}
    ]
    imported = subprocess.run(
        [sys.executable, "-c", "import arena; print(arena.__file__)"],
        cwd=tmp_path,
        env=arena_environment(tmp_path, path=(source,)),
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(imported.stdout.strip()).is_relative_to(source), "the arena would not run from the copy"
    scenario = match_scenario(
        tmp_path,
        "attack",
        "test_matching_pennies",
        [
            agent_entry(path=ATTACKS / "honest_random"),
            agent_entry(path=ATTACKS / "source_writer", token=secret),
        ],
    )
    try:
        finished(cli("tournament", str(scenario), "--board", "b", root=tmp_path, path=(source,)))
        assert_fair(stored_results(tmp_path), "source-writer@1")
        assert tree_hashes(source) == before, "the attacker changed or added files of the arena's packages"
        assert not [p for p in planted if p.exists()], "the attacker wrote into site-packages"
    finally:
        for path in planted:
            path.unlink(missing_ok=True)


# ---- 3. secrets


def board_bytes(root: Path) -> bytes:
    """Everything a board's directory holds: the database (with its WAL), tables, the page, the plots."""
    return b"".join(path.read_bytes() for path in sorted((root / "b").rglob("*")) if path.is_file())


@pytest.mark.timeout(120)
def test_secrets_of_the_arena_its_home_and_other_agents_never_reach_the_board(tmp_path):
    """Three secrets: in the arena's environment (``ARENA_TEST_SECRET``, hence in its memory too), in its
    home directory (``~/.netrc``) and in the other agent's package. secret_reader greps for them everywhere it
    can (/proc/<arena>/environ and mem, homes, /tmp, other packages) and would put what it finds in the
    message of an exception, that is in its stored forfeit reason. None of them appears anywhere in the
    board's directory (database, WAL, tables, page) or in the arena's output."""
    found = {place: f"pgarena-secret-{token()}" for place in ("environment", "home", "package")}
    home = tmp_path / "home"
    home.mkdir()
    (home / ".netrc").write_text(f"machine example.org login arena password {found['home']}\n")
    other = tmp_path / "other"
    shutil.copytree(ATTACKS / "honest_random", other)
    (other / "secret.txt").write_text(found["package"] + "\n")
    scenario = match_scenario(
        tmp_path,
        "attack",
        "test_matching_pennies",
        [agent_entry(path=other), agent_entry(path=ATTACKS / "secret_reader")],
    )
    environment = {"ARENA_TEST_SECRET": found["environment"], "HOME": str(home)}
    output = finished(cli("tournament", str(scenario), "--board", "b", root=tmp_path, env=environment))
    assert_fair(stored_results(tmp_path), "secret-reader@1")
    page = board_bytes(tmp_path)
    leaked = {place for place, secret in found.items() if secret.encode() in page or secret in output}
    assert not leaked, f"secrets leaked from: {', '.join(sorted(leaked))}"


# ---- 4. the network


@pytest.mark.timeout(90)
def test_an_agent_reaches_no_server_on_the_loopback_interface(tmp_path, registered_test_envs):
    """network tries Python sockets, a ``python -c`` and a ``bash`` child, libc through ctypes, ``setns``
    into the arena's network namespace (and every visible one), UDP and an abstract Unix socket. The test's
    server on 127.0.0.1 and its abstract socket record nothing."""
    with Loopback() as server:
        target = {"port": server.port, "udp_port": server.udp_port, "unix_name": server.unix_name}
        scenario = match_scenario(
            tmp_path,
            "attack",
            registered_test_envs["pennies"],
            [agent_entry(name="random"), agent_entry(path=ATTACKS / "network", **target)],
        )
        played, _ = tournament(scenario, tmp_path)
        time.sleep(0.2)  # anything in flight arrives
        hits = server.close()
    assert_fair(played, "network@1")
    assert hits == [], f"the attacker reached the test's server: {hits}"


# ---- 5. processes that outlive their match


@pytest.mark.timeout(90)
def test_nothing_an_agent_starts_outlives_its_match(tmp_path, registered_test_envs):
    """outlive starts a daemon (double fork and setsid), a child in its own process group that ignores
    SIGTERM and SIGHUP, and a plain child, all sleeping 60 s with a marked command line and trying to reach
    the test's server from their 3rd second on. Within 2 s of the tournament's end no marked process runs."""
    secret = token()
    marker = f"pg-arena-attack-{secret}"
    try:
        with Loopback() as server:
            scenario = match_scenario(
                tmp_path,
                "attack",
                registered_test_envs["pennies"],
                [
                    agent_entry(name="random"),
                    agent_entry(path=ATTACKS / "outlive", token=secret, port=server.port),
                ],
            )
            played, _ = tournament(scenario, tmp_path)
            left = none_left(marker, within_s=2.0)
            hits = server.close()
        assert_fair(played, "outlive@1")
        assert not left, f"{len(left)} processes the attacker started outlived the tournament: {left}"
        assert hits == []
    finally:
        kill_marked(marker)


# ---- 6. signals


@pytest.mark.timeout(120)
@pytest.mark.parametrize("mode", ["stop-opponents", "kill-arena", "kill-everything"])
@pytest.mark.slow
def test_signals_from_an_agent_reach_neither_the_arena_nor_its_opponents(tmp_path, mode):
    """signals, in a Werewolf tournament whose honest opponent is sandboxed too (so it has a process to
    stop), SIGSTOPs the other agents' workers, kills its parent (the arena), or kills every process it sees
    and then ``kill(-1)``. The arena (a subprocess of the test) finishes the tournament with exit code 0,
    the honest agent never forfeits, and the test's witness process is still alive."""
    witness = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(300)", f"pg-arena-witness-{token()}"]
    )
    scenario = match_scenario(
        tmp_path,
        "attack",
        "werewolf",
        [agent_entry(path=ATTACKS / "honest_random"), agent_entry(path=ATTACKS / "signals", mode=mode)],
        num_players=4,
        num_werewolves=1,
    )
    try:
        finished(cli("tournament", str(scenario), "--board", "b", root=tmp_path))
        assert witness.poll() is None, f"the witness process was killed ({witness.returncode})"
        results = stored_results(tmp_path)
        assert len(results) == 2
        assert_fair(results, "signals@1")
    finally:
        witness.kill()
        witness.wait()


# ---- 7. replaying the deal of a game

WEREWOLF_16 = {"num_players": 16, "num_werewolves": 4}  # 240,240 deals: a chance match is negligible


def deal(seed: int) -> str:
    """The roles of a 16-player Werewolf game reset with ``seed``, as one initial per seat."""
    game = envs.make_multi("werewolf", **WEREWOLF_16)
    game.reset(seed=seed)
    return "".join(game.infos[seat]["role"][0].upper() for seat in game.possible_agents)


@pytest.mark.timeout(120)
@pytest.mark.slow
def test_no_seed_an_agent_can_derive_replays_the_deal_of_its_game(tmp_path, monkeypatch):
    """replay_deal deals Werewolf games from seeds derived from its own (s, s // 1000, s - seat, ...) and from
    small integers, keeps those consistent with what its seat knows, and reports them in its forfeit reason.

    The assertion is exact rather than statistical: the test records the seeds the arena really used (it
    wraps the tournament's ``play``), deals the true game of each match, and checks that (a) no deal the
    attacker reported is the true one, and (b) for every seat the attacker played, no candidate seed derived
    from that seat's own seed, nor any small integer, deals the true game. A win-rate comparison (replaying
    versus honest play over some games) would need many games and could still flake. Here a false alarm needs
    a wrong seed to deal the true game by chance: 1 in 240,240 per seed, and about 100 seeds are tried per
    run, so about 1 run in 2,500.
    """
    specs: dict[str, MatchSpec] = {}

    def recording(spec: MatchSpec) -> MatchResult:
        specs[spec.match_id] = spec
        return play(spec)

    monkeypatch.setattr(arena.tournament, "play", recording)
    scenario = match_scenario(
        tmp_path,
        "attack",
        "werewolf",
        [agent_entry(name="random"), agent_entry(path=ATTACKS / "replay_deal")],
        **WEREWOLF_16,
    )
    played, _ = tournament(scenario, tmp_path)
    assert_fair(played, "replay-deal@1")
    for result in played:
        spec = specs[result.match_id]
        true = deal(getattr(spec, "env_seed", spec.seed))
        teams = {p.seat: p.team for p in result.participants}
        assert all((teams[f"player_{i}"] == "werewolves") == (role == "W") for i, role in enumerate(true)), (
            "the recorded env seed does not deal the game that was played"
        )
        (report,) = [p.reason for p in result.participants if p.status is not Status.OK]
        assert "replay seed=" in report, report
        reported = re.findall(r"\d+:([WVSD]{16})", report)
        assert true not in reported, f"the attacker rebuilt the deal of match {result.match_id}: {report}"
        seeds = getattr(spec, "agent_seeds", None) or {}
        for seat in (p.seat for p in result.participants if p.agent == "replay-deal@1"):
            index = int(seat.removeprefix("player_"))
            own = seeds.get(seat, spec.seed * 1000 + index)
            guesses = {own, own // 1000, own - index, (own - index) // 1000, *range(16)}
            assert true not in {deal(g) for g in guesses if g >= 0}, (
                f"seat {seat}'s seed {own} replays the deal"
            )


# ---- 8. privileged info


@pytest.mark.timeout(120)
def test_an_agent_answering_from_privileged_info_scores_nothing(tmp_path):
    """gold_reader answers search questions without searching, from ``info["gold"]`` (the gold chain) or an
    answer-like info key, else with "unknown" (as an agent with no information would). Over three one-hop
    questions it answers every time (status OK) and never right (exact match 0 each), exactly as the
    no-information answer scores."""
    path = tmp_path / "search.toml"
    path.write_text(
        '[scenario]\nname = "search"\nkind = "suite"\nepisodes = 3\nmove_time_s = 20.0\n'
        'low_reference = "search/random"\nhigh_reference = "search/retrieve_once"\n\n'
        '[[envs]]\nid = "arena/SearchQAText-v0"\nkwargs = { hops = 1, split = "test" }\n\n'
        + agent_entry(name="search/random")
        + agent_entry(name="search/retrieve_once")
        + agent_entry(path=ATTACKS / "gold_reader")
    )
    played, _ = tournament(path, tmp_path)
    assert_fair(played, "gold-reader@1")
    attacker = [p for result in played for p in result.participants if p.agent == "gold-reader@1"]
    assert len(attacker) == 3 and all(p.status is Status.OK for p in attacker), attacker
    assert [p.score for p in attacker] == [0.0, 0.0, 0.0], "the attacker answered from what it must not see"


# ---- 9. memory, disk and log


def episode(package: str, limits: Limits, env_id: str, **kwargs) -> MatchSpec:
    """One episode of a single-agent env for the package, with the given limits, for the match layer
    directly (the fields this version of MatchSpec has)."""
    ref = AgentRef(f"{package}@1", path=str(ATTACKS / package), kwargs=kwargs)
    values = {
        "match_id": "attack",
        "scenario": "attack",
        "env_id": env_id,
        "roster": (ref,),
        "seed": 0,
        "env_seed": 12345,
        "agent_seeds": {"agent": 67890},
        "multi_agent": False,
        "limits": limits,
    }
    names = {f.name for f in fields(MatchSpec)}
    return MatchSpec(**{name: value for name, value in values.items() if name in names})


def play_watching_memory(spec: MatchSpec) -> tuple[MatchResult, float]:
    """Play ``spec`` in this process: the result, and how far this process's RSS rose above its start."""
    baseline, peak, done = rss_mb(), [0.0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss_mb())
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        result = play(spec)
    finally:
        done.set()
        sampler.join()
    return result, max(peak[0], rss_mb()) - baseline


@pytest.mark.timeout(120)
@pytest.mark.parametrize("mode", ["children", "big-file", "flood"])
def test_memory_disk_and_log_limits_hold_for_the_whole_process_tree(tmp_path, registered_test_envs, mode):
    """memory_hog under ``memory_mb=1024``: two children of 600 MiB each (each within a per-process limit,
    together over the tree's) make it forfeit with a memory or kill reason; writing 2 GiB to /tmp (then to
    its working directory) fails, so it forfeits, and leaves no file on the host's /tmp; 100 MB of stdout and
    stderr and a 1 MB exception message leave a short reason. The arena's memory never grows by 100 MB."""
    secret = token()
    limits = Limits(memory_mb=1024, move_time_s=30.0, match_time_s=120.0)
    spec = episode("memory_hog", limits, registered_test_envs["cartpole"], mode=mode, token=secret)
    try:
        result, growth_mb = play_watching_memory(spec)
        (hog,) = result.participants
        assert not STARTED.search(hog.reason), f"the attacker never ran: {hog.reason}"
        assert growth_mb < 100, f"the arena's memory grew by {growth_mb:.0f} MB"
        assert hog.status is not Status.OK, f"the attacker got away with it ({mode})"
        assert len(hog.reason) < 2000, f"a reason of {len(hog.reason)} characters"
        if mode == "children":
            assert re.search(r"memory|killed|SIGKILL", hog.reason, re.IGNORECASE), hog.reason
        assert not list(Path("/tmp").glob(f"pg-arena-attack-{secret}*")), (
            "the attacker wrote to the host's /tmp"
        )
    finally:
        for path in Path("/tmp").glob(f"pg-arena-attack-{secret}*"):
            path.unlink()


# ---- 10. names that break a page or a terminal

runner = CliRunner()


def invoke(args: list[str]):
    """``arena ARGS`` in this process (the test envs are registered here)."""
    return runner.invoke(app, args)


def suite(tmp_path: Path, env_id: str, name: str, *extra: str) -> Path:
    """A two-episode suite of ``env_id`` with random (low) and balancer (high) and ``extra`` entries."""
    path = tmp_path / f"{name}.toml"
    path.write_text(
        f'[scenario]\nname = "{name}"\nkind = "suite"\nepisodes = 2\nlow_reference = "random"\n'
        f'high_reference = "balancer@1"\n\n[[envs]]\nid = "{env_id}"\n\n'
        + agent_entry(name="random")
        + agent_entry(path=ATTACKS / "balancer")
        + "".join(extra)
    )
    return path


def board_labels(root: Path) -> set[str]:
    with Board("t", root=root) as board:
        return {agent["label"] for agent in board.agents()}


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("how", "field", "value"),
    [
        ("submit", "version", "1$\\frac{1}{0}$"),
        ("submit", "name", "bot\u202egnp.exe"),
        ("tournament", "label", "\u202egnp.exe"),
        ("tournament", "label", "$\\frac{1}{0}$"),
    ],
    ids=["mathtext-version", "bidi-name", "bidi-label", "mathtext-label"],
)
def test_a_name_that_could_break_the_page_is_refused_or_shown_harmlessly(
    tmp_path, monkeypatch, registered_test_envs, how, field, value
):
    """A package version with matplotlib mathtext (``$\\frac{1}{0}$``, which fails to render), or a name or
    label with a right-to-left override (U+202E, which shows ``bot<U+202E>gnp.exe`` as ``botexe.png``), is
    either refused with an error naming the field (exit code 2, the control character not echoed, nothing
    stored), or stored and then shown harmlessly: ``arena leaderboard --html`` succeeds and the page holds no
    raw U+202E."""
    root = tmp_path / "boards"
    monkeypatch.setenv("PG_ARENA_HOME", str(root))
    env_id = registered_test_envs["cartpole"]
    setup = invoke(["tournament", str(suite(tmp_path, env_id, "base")), "--board", "t"])
    assert setup.exit_code == 0, setup.output
    before = board_labels(root)
    if how == "submit":
        package = tmp_path / "package"
        shutil.copytree(ATTACKS / "honest_random", package)
        manifest = {"name": "plain", "version": "1", "entry_point": "agents.base:RandomAgent", field: value}
        (package / "agent.toml").write_text(
            "".join(f"{k} = {json.dumps(v)}\n" for k, v in manifest.items())
            + f"envs = [{json.dumps(env_id)}]\n"
        )
        outcome = invoke(["submit", str(package), "--board", "t"])
    else:
        scenario = suite(tmp_path, env_id, "named", agent_entry(path=ATTACKS / "honest_random", label=value))
        outcome = invoke(["tournament", str(scenario), "--board", "t"])
    if outcome.exit_code != 0:
        assert outcome.exit_code == 2, outcome.output
        assert field in outcome.stderr, f"the error does not name the field {field!r}: {outcome.stderr}"
        assert "\u202e" not in outcome.output + outcome.stderr, "the error echoes the control character"
        assert board_labels(root) == before, "a refused name was stored"
        return
    page = tmp_path / "page.html"
    shown = invoke(["leaderboard", "--board", "t", "--html", str(page)])
    assert shown.exit_code == 0, shown.output
    assert "\u202e" not in page.read_text() + shown.output + outcome.output


# ---- 11. stale state


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    "breakage", ["traversing-version", "undecodable-file-name", "symlink", "failing-probe"]
)
def test_a_refused_submission_leaves_no_row_and_no_file(
    tmp_path, monkeypatch, registered_test_envs, breakage
):
    """Submissions refused after their manifest is read: a version that climbs out of the board's directory
    (``1/../../../escape-<token>``), a file whose name is not UTF-8, a symbolic link to a secret, an agent
    that fails its probe. Each is refused with exit code 2 and leaves the board's agents, its agents/
    directory (no partial copy) and everything outside the board exactly as they were."""
    root = tmp_path / "boards"
    monkeypatch.setenv("PG_ARENA_HOME", str(root))
    env_id = registered_test_envs["cartpole"]
    assert invoke(["tournament", str(suite(tmp_path, env_id, "base")), "--board", "t"]).exit_code == 0
    package, secret = tmp_path / "package", token()
    shutil.copytree(ATTACKS / "balancer", package)
    version = f"1/../../../escape-{secret}" if breakage == "traversing-version" else "1"
    (package / "agent.toml").write_text(
        f'name = "refused"\nversion = {json.dumps(version)}\nentry_point = "agent:make"\n'
        f"envs = [{json.dumps(env_id)}]\n"
    )
    if breakage == "undecodable-file-name":
        (package / os.fsdecode(b"data-\xff.bin")).write_bytes(b"x")
    elif breakage == "symlink":
        (tmp_path / "key").write_text(secret)
        (package / "key").symlink_to(tmp_path / "key")
    elif breakage == "failing-probe":
        (package / "agent.py").write_text(
            (package / "agent.py").read_text().replace("return int(", "return 7 + int(")
        )
    before_labels, before_files = (
        board_labels(root),
        sorted(p for p in tmp_path.rglob("*") if package not in p.parents),
    )
    outcome = invoke(["submit", str(package), "--board", "t"])
    assert outcome.exit_code == 2, f"the submission was not refused: {outcome.output}"
    assert board_labels(root) == before_labels, "a refused submission left a row on the board"
    after_files = sorted(p for p in tmp_path.rglob("*") if package not in p.parents)
    added = sorted(set(after_files) - set(before_files))
    assert not [p for p in added if not p.is_relative_to(root / "t") or "agents" in p.parts], f"left: {added}"
    assert secret not in "".join(str(p) for p in after_files)


def cgroups_of(pids: set[int]) -> set[Path]:
    """The arena's cgroup directories (``pg-arena/...``, in every hierarchy) that hold any of ``pids`` now."""
    groups = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
                relative = line.split(":", 2)[2].strip("/")
                if "pg-arena" in relative.split("/"):
                    groups.update(p for p in Path("/sys/fs/cgroup").glob(f"*/{relative}") if p.is_dir())
                    groups.update(p for p in [Path("/sys/fs/cgroup", relative)] if p.is_dir())
    return groups


@pytest.mark.timeout(150)
@pytest.mark.slow
def test_an_arena_killed_mid_move_leaves_no_agent_process_directory_or_cgroup(tmp_path):
    """An arena subprocess plays orphan (which ignores SIGTERM and SIGHUP, starts a child that ignores them
    too, and then sleeps inside its move) against a sandboxed honest agent, and is SIGKILLed while it waits
    on that move. Within 3 s no process it started runs (the sandboxes, the agents, the orphan's child), and
    no ``arena-agent-*`` directory is left in its temporary directory; after the next arena run, none of the
    killed arena's cgroups is left either."""
    secret, temporary = token(), tmp_path / "tmp"
    temporary.mkdir()
    marker = f"pg-arena-attack-{secret}"
    scenario = match_scenario(
        tmp_path,
        "attack",
        "test_matching_pennies",
        [agent_entry(path=ATTACKS / "honest_random"), agent_entry(path=ATTACKS / "orphan", token=secret)],
        move_time_s=300.0,
    )
    environment, groups = {"TMPDIR": str(temporary)}, set()
    process = cli("tournament", str(scenario), "--board", "b", root=tmp_path, env=environment)
    try:
        deadline = time.monotonic() + 60
        while not running(marker) and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert running(marker), f"the orphan never started its child: {process.poll()}"
        started = descendants(process.pid)
        groups = cgroups_of(started)
        process.kill()
        process.wait()
        left = none_left(marker, within_s=3.0)
        deadline = time.monotonic() + 3.0
        while [p for p in started if not is_gone(p)] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not left, f"the orphan's child outlived the arena: {left}"
        assert not [p for p in started if not is_gone(p)], "processes of the killed arena are still running"
        assert not list(temporary.glob("arena-agent-*")), "the killed arena left its agents' directories"
        honest = match_scenario(
            tmp_path,
            "honest",
            "test_matching_pennies",
            [agent_entry(name="random"), agent_entry(path=ATTACKS / "honest_random")],
        )
        finished(cli("tournament", str(honest), "--board", "b", root=tmp_path, env=environment))
        assert not [g for g in groups if g.exists()], (
            f"cgroups of the killed arena are left: {sorted(groups)}"
        )
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        kill_marked(marker)
        for group in groups:  # what this test's arena left (empty by now)
            with contextlib.suppress(OSError):
                group.rmdir()


# ---- 12. fork bomb and busy threads


@pytest.mark.timeout(120)
def test_a_fork_bomb_and_spinning_threads_are_contained(tmp_path, registered_test_envs):
    """fork_bomb starts two threads that spin forever and grows a tree of up to 2,046 marked processes. The
    tournament finishes, the honest agent never forfeits, the marked processes never number more than the
    agent's process limit, and within 2 s of the end none is left."""
    secret = token()
    marker = f"pg-arena-bomb-{secret}"
    peak, done = [0], threading.Event()

    def count() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], len(running(marker)))
            time.sleep(0.02)

    counter = threading.Thread(target=count, daemon=True)
    counter.start()
    scenario = match_scenario(
        tmp_path,
        "attack",
        registered_test_envs["pennies"],
        [agent_entry(name="random"), agent_entry(path=ATTACKS / "fork_bomb", token=secret)],
    )
    try:
        played, _ = tournament(scenario, tmp_path)
        left = none_left(marker, within_s=2.0)
        done.set()
        counter.join()
        assert_fair(played, "fork-bomb@1")
        limit = getattr(Limits(), "max_processes", 512)
        assert peak[0] <= limit, f"{peak[0]} processes of the bomb ran at once, more than {limit}"
        assert not left, f"{len(left)} processes of the bomb outlived the tournament"
    finally:
        done.set()
        kill_marked(marker)
