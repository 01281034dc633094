"""``arena bench arena``: matches/s in-process vs sandboxed, and sequential vs process pool vs Ray.

All on Werewolf games between random agents, 15 players with 3 discussion rounds so that a game takes about
50 ms: the sandboxed roster is the same random agent loaded as an agent package, so every seat runs in its
own process. The executors must store identical matches (for each seed of ``--seeds`` their boards share
one secret, so they play the same matches); the benchmark checks it and prints the speed-ups.

Then :func:`run_sandbox_bench`, what the sandbox costs: the per-move round trip of a sandboxed agent against
the same agent in-process, and how long a sandboxed player takes to start and to close (once per match in a
tournament). There the agent is the built-in random agent and the env Gymnasium's CartPole-v1, both so cheap
that the timings are the players' own overhead. Only ``act`` is timed; the env step between moves is not.
"""

from __future__ import annotations

import hashlib
import json
import platform
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import gymnasium as gym
import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from agents.base import EnvSpaces
from arena import isolation
from arena.cli import output
from arena.launch import start_player
from arena.leaderboard import Board
from arena.players import AgentRef
from arena.scenario import load_scenario
from arena.seeding import SECRET_BYTES
from arena.tournament import run_tournament
from benchmarks import BenchOut, Seeds, benchmark, seeds_text
from benchmarks._machine import cpu_name

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


SEQUENTIAL = "in-process, sequential"


def _timed_run(
    scenario_path: Path, root: Path, board: str, workers: int, backend: str, secret: bytes
) -> tuple[float, list]:
    scenario = load_scenario(scenario_path)
    with Board(board, root=root, secret=secret) as store:
        start = time.perf_counter()
        run_tournament(scenario, store, workers=workers, backend=backend)
        elapsed = time.perf_counter() - start
        return elapsed, sorted((r.match_id, r.participants) for r in store.results())


def bench_secret(seed: int) -> bytes:
    """The board secret of ``seed``: every executor's board gets it, so all play the same matches, and the
    same seed replays them."""
    return hashlib.sha256(f"arena bench seed {seed}".encode()).digest()[:SECRET_BYTES]


def run_arena_bench(
    *,
    games: int = 200,
    sandboxed_games: int = 10,
    moves: int = 2000,
    seeds: Sequence[int] = (10,),
    out_dir: Path = Path("results/bench"),
    console: Console | None = None,
) -> dict[str, Any]:
    """Time ``games`` Werewolf games per executor and seed (``sandboxed_games`` with sandboxed seats, which
    start a process per seat and match); print a table naming the CPU; write arena.json. A seed fixes the
    matches every executor plays (:func:`bench_secret`). Ray's start-up is timed apart from its games, as a
    long tournament pays it once."""
    for field, value in (("games", games), ("sandboxed_games", sandboxed_games)):
        if value < 2 or value % 2:
            raise ValueError(f"{field}={value} must be an even number >= 2")
    if not seeds:
        raise ValueError("seeds: give at least one seed")
    console = console or Console()
    results: dict[str, Any] = {"cpu": cpu_name(), "games": games, "seeds": list(seeds)}
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
        configurations = {
            "in-process, sequential": (builtin, 1, "local"),
            "sandboxed, sequential": (sandboxed, 1, "local"),
            "in-process, pool of 2": (builtin, 2, "local"),
        }
        try:
            import ray

            start = time.perf_counter()
            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, _node_ip_address="127.0.0.1")
            results["ray_init_s"] = time.perf_counter() - start
            configurations["in-process, Ray (2 CPUs)"] = (builtin, 2, "ray")
        except ModuleNotFoundError:
            console.print("ray is not installed (pip install -e '.[ray]'): Ray timings skipped")
        timings: dict[str, tuple[float, list]] = {name: (0.0, []) for name in configurations}
        for seed in seeds:
            for name, (scenario, workers, backend) in configurations.items():
                board = f"{name.split(',')[0]}-{workers}-{backend}-{seed}".replace(" ", "")
                seconds, outcome = _timed_run(scenario, root, board, workers, backend, bench_secret(seed))
                timings[name] = (timings[name][0] + seconds, [*timings[name][1], outcome])
        if "ray_init_s" in results:
            ray.shutdown()
    sequential = timings[SEQUENTIAL]
    played = {
        name: len(seeds) * (sandboxed_games if name.startswith("sandboxed") else games) for name in timings
    }
    results["runs"] = {
        name: {
            "seconds": seconds,
            "matches_per_s": played[name] / seconds,
            "speedup_vs_sequential": played[name] / seconds / (played[SEQUENTIAL] / sequential[0]),
        }
        for name, (seconds, _) in timings.items()
    }
    results["identical_results"] = all(
        outcome == sequential[1] for name, (_, outcome) in timings.items() if name.startswith("in-process")
    )
    table = Table(
        title=f"arena: Werewolf games between random agents, seeds {seeds_text(seeds)}, on {results['cpu']}"
    )
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
    results["sandbox"] = run_sandbox_bench(moves=moves, seed=seeds[0], out_dir=out_dir, console=console)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "arena.json").write_text(json.dumps(results, indent=2))
    return results


# ----- the sandbox's cost per move and per seat

ENV_ID = "CartPole-v1"
GOAL_ROUND_TRIP_MS = 0.1  # median per-move round trip, with every isolation layer active
GOAL_STARTUP_S = 0.3  # median spawn-to-built time of one seat
TOGETHER = 4  # players started at once, as in a multi-agent match


def _act_times_s(sandbox: bool, moves: int, seed: int) -> list[float]:
    """Wall time of each of ``moves`` ``act`` calls of a random agent playing CartPole episodes."""
    env = gym.make(ENV_ID)
    times = []
    with start_player(AgentRef("random", builtin="random"), EnvSpaces.of(env), sandbox=sandbox) as player:
        observation, info = env.reset(seed=seed)
        player.reset(seed)
        for _ in range(moves):
            start = time.perf_counter()
            action = player.act(observation, info)
            times.append(time.perf_counter() - start)
            observation, _, terminated, truncated, info = env.step(action)
            if terminated or truncated:
                observation, info = env.reset()
    env.close()
    return times


def _startup_and_close_s(starts: int) -> tuple[list[float], list[float]]:
    """Seconds from ``start_player`` to a built agent, and to close the player, for ``starts`` players."""
    env = gym.make(ENV_ID)
    spaces = EnvSpaces.of(env)
    env.close()
    startup, close = [], []
    for _ in range(starts):
        start = time.perf_counter()
        player = start_player(AgentRef("random", builtin="random"), spaces, sandbox=True)
        player.ready()
        startup.append(time.perf_counter() - start)
        start = time.perf_counter()
        player.close()
        close.append(time.perf_counter() - start)
    return startup, close


def _together_s(players: int) -> float:
    """Seconds from starting ``players`` sandboxed players at once (as a match does) to all of them built."""
    env = gym.make(ENV_ID)
    spaces = EnvSpaces.of(env)
    env.close()
    start = time.perf_counter()
    started = [
        start_player(AgentRef(f"random{i}", builtin="random"), spaces, sandbox=True) for i in range(players)
    ]
    for player in started:
        player.ready()
    elapsed = time.perf_counter() - start
    for player in started:
        player.close()
    return elapsed


def _summary(times_s: list[float], scale: float) -> dict[str, float]:
    values = np.asarray(times_s) * scale
    return {
        "median": float(np.median(values)),
        "p95": float(np.percentile(values, 95)),
        "max": float(values.max()),
        "n": len(values),
    }


def run_sandbox_bench(
    *,
    moves: int = 2000,
    starts: int = 5,
    seed: int = 10,
    out_dir: Path = Path("results/bench"),
    console: Console | None = None,
) -> dict[str, Any]:
    """Time ``moves`` moves sandboxed and in-process and ``starts`` sandbox start-ups; print a table and write
    ``out_dir/sandbox.json``; ``seed`` seeds the CartPole episodes played. Round trips in milliseconds,
    start-up in seconds, close in milliseconds."""
    if moves < 1:
        raise ValueError(f"moves={moves} must be >= 1")
    if starts < 1:
        raise ValueError(f"starts={starts} must be >= 1")
    console = console or Console()
    in_process = _summary(_act_times_s(sandbox=False, moves=moves, seed=seed), 1e3)
    sandboxed = _summary(_act_times_s(sandbox=True, moves=moves, seed=seed), 1e3)
    startup, close = _startup_and_close_s(starts)
    startup_median = float(np.median(startup))
    together = _together_s(TOGETHER)
    result = {
        "cpu": cpu_name(),
        "python": platform.python_version(),
        "env": ENV_ID,
        "agent": "random",
        "in_process_act_ms": in_process,
        "sandbox_round_trip_ms": sandboxed,
        "sandbox_startup_s": _summary(startup, 1.0),
        "sandbox_close_ms": _summary(close, 1e3),
        f"sandbox_startup_{TOGETHER}_together_s": together,
        "overhead_per_move_ms": sandboxed["median"] - in_process["median"],
        "goal_round_trip_ms": GOAL_ROUND_TRIP_MS,
        "goal_startup_s": GOAL_STARTUP_S,
        "isolation_layers": {layer.name: layer.active for layer in isolation.layers()},
        "meets_goal": sandboxed["median"] <= GOAL_ROUND_TRIP_MS and startup_median <= GOAL_STARTUP_S,
    }

    table = Table(title=f"Sandbox cost on {result['cpu']} ({ENV_ID}, random agent)")
    for column in ("measure", "median", "p95", "max", "n"):
        table.add_column(column, justify="left" if column == "measure" else "right")
    for label, key, unit in [
        ("act in-process", "in_process_act_ms", "ms"),
        ("act sandboxed (round trip)", "sandbox_round_trip_ms", "ms"),
        ("sandbox start-up (spawn to built)", "sandbox_startup_s", "s"),
        ("sandbox close (kill and reap)", "sandbox_close_ms", "ms"),
    ]:
        row = result[key]
        table.add_row(label, *(f"{row[k]:.3f} {unit}" for k in ("median", "p95", "max")), str(row["n"]))
    console.print(table)
    console.print(
        f"{TOGETHER} sandboxed players started together are all built after {together:.3f} s "
        f"({together / TOGETHER:.3f} s per player)"
    )
    verdict = "meet" if result["meets_goal"] else "miss"
    layers = ", ".join(name for name, active in result["isolation_layers"].items() if active) or "none"
    console.print(
        f"median round trip {sandboxed['median']:.3f} ms and start-up {startup_median:.3f} s {verdict} the "
        f"goals of <= {GOAL_ROUND_TRIP_MS:g} ms and <= {GOAL_STARTUP_S:g} s; overhead per move "
        f"{result['overhead_per_move_ms']:.3f} ms; isolation layers active: {layers}"
    )

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "sandbox.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    console.print(f"wrote {path}")
    return result


@benchmark("arena")
def arena_command(
    games: Annotated[int, typer.Option(min=2, help="Games per in-process configuration (even).")] = 200,
    sandboxed_games: Annotated[int, typer.Option(min=2, help="Games with sandboxed seats (even).")] = 10,
    moves: Annotated[int, typer.Option(min=1, help="Moves timed for the sandbox round trip.")] = 2000,
    seeds: Seeds = "10",
    out: BenchOut = Path("results/bench"),
) -> None:
    """The arena: matches/s in-process vs sandboxed, sequential vs process pool vs Ray, and the sandbox's
    per-move round trip.

    Example: [bold]arena bench arena --games 200 --seeds 10-12[/]
    """
    try:
        run_arena_bench(
            games=games,
            sandboxed_games=sandboxed_games,
            moves=moves,
            seeds=seeds,
            out_dir=out,
            console=output.console,
        )
    except ValueError as error:
        output.fail(str(error))
