"""``arena bench arena``: matches/s in-process vs sandboxed, and sequential vs process pool vs Ray.

All on Werewolf games between random agents, 15 players with 3 discussion rounds so that a game takes about
50 ms: the sandboxed roster is the same random agent loaded as an agent package, so every seat runs in its
own process. The executors must store identical
matches (their boards share one secret, so they play the same seeds); the benchmark checks it and prints the
speed-ups.
"""

from __future__ import annotations

import json
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from arena.bench.sandbox import cpu_name, run_sandbox_bench
from arena.leaderboard import Board
from arena.scenario import load_scenario
from arena.seeding import SECRET_BYTES
from arena.tournament import run_tournament

SCENARIO = """
[scenario]
name = "bench"
kind = "match"
env = "werewolf"
env_kwargs = {{ num_players = 15, num_werewolves = 4, discussion_rounds = 3 }}
games_per_pairing = {games}

[[agents]]
{first}
[[agents]]
{second}
"""
RANDOM_PACKAGE = (
    'name = "random-pkg"\nversion = "1"\nentry_point = "agents.base:RandomAgent"\nenvs = ["werewolf"]\n'
)


def _timed_run(
    scenario_path: Path, root: Path, board: str, workers: int, backend: str, secret: bytes
) -> tuple[float, list]:
    scenario = load_scenario(scenario_path)
    with Board(board, root=root, secret=secret) as store:
        start = time.perf_counter()
        run_tournament(scenario, store, workers=workers, backend=backend)
        elapsed = time.perf_counter() - start
        return elapsed, sorted((r.match_id, r.participants) for r in store.results())


def run_arena_bench(
    *,
    games: int = 200,
    sandboxed_games: int = 10,
    moves: int = 2000,
    out_dir: Path = Path("results/bench"),
    console: Console | None = None,
) -> dict[str, Any]:
    """Time ``games`` Werewolf games per executor (``sandboxed_games`` with sandboxed seats, which start a
    process per seat and match); print a table naming the CPU; write arena.json. Ray's start-up is timed
    apart from its games, as a long tournament pays it once."""
    for field, value in (("games", games), ("sandboxed_games", sandboxed_games)):
        if value < 2 or value % 2:
            raise ValueError(f"{field}={value} must be an even number >= 2")
    console = console or Console()
    results: dict[str, Any] = {"cpu": cpu_name(), "games": games}
    secret = secrets.token_bytes(SECRET_BYTES)  # one for every board, so that all play the same seeds
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "random-pkg").mkdir()
        (root / "random-pkg" / "agent.toml").write_text(RANDOM_PACKAGE)
        builtin = root / "builtin.toml"
        builtin.write_text(
            SCENARIO.format(
                games=games, first='name = "random"', second='name = "random"\nlabel = "random-b"'
            )
        )
        sandboxed = root / "sandboxed.toml"
        sandboxed.write_text(
            SCENARIO.format(
                games=sandboxed_games, first='name = "random"', second=f'path = "{root / "random-pkg"}"'
            )
        )
        timings = {
            "in-process, sequential": _timed_run(builtin, root, "seq", 1, "local", secret),
            "sandboxed, sequential": _timed_run(sandboxed, root, "sandboxed", 1, "local", secret),
            "in-process, pool of 2": _timed_run(builtin, root, "pool", 2, "local", secret),
        }
        try:
            import ray

            start = time.perf_counter()
            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
            results["ray_init_s"] = time.perf_counter() - start
            timings["in-process, Ray (2 CPUs)"] = _timed_run(builtin, root, "ray", 2, "ray", secret)
            ray.shutdown()
        except ModuleNotFoundError:
            console.print("ray is not installed (pip install -e '.[ray]'): Ray timings skipped")
    sequential = timings["in-process, sequential"]
    played = {name: sandboxed_games if name.startswith("sandboxed") else games for name in timings}
    results["runs"] = {
        name: {
            "seconds": seconds,
            "matches_per_s": played[name] / seconds,
            "speedup_vs_sequential": played[name] / seconds / (games / sequential[0]),
        }
        for name, (seconds, _) in timings.items()
    }
    results["identical_results"] = all(
        outcome == sequential[1] for name, (_, outcome) in timings.items() if name.startswith("in-process")
    )
    table = Table(title=f"arena: Werewolf games between random agents, on {results['cpu']}")
    for column in ("configuration", "wall s", "matches/s", "speed-up"):
        table.add_column(column, justify="left" if column == "configuration" else "right")
    for name, run in results["runs"].items():
        table.add_row(
            name,
            f"{run['seconds']:.2f}",
            f"{run['matches_per_s']:.1f}",
            f"{run['speedup_vs_sequential']:.2f}x",
        )
    console.print(table)
    console.print(f"executors stored identical matches: {results['identical_results']}")
    if "ray_init_s" in results:
        console.print(f"Ray start-up (not in its row): {results['ray_init_s']:.1f} s")
    results["sandbox"] = run_sandbox_bench(moves=moves, out_dir=out_dir, console=console)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "arena.json").write_text(json.dumps(results, indent=2))
    return results
