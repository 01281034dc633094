"""What the sandbox costs: per-move round trip of a sandboxed agent against the same agent in-process, and
how long a sandboxed player takes to start and to close (once per match in a tournament).

The agent is the built-in random agent and the env Gymnasium's CartPole-v1, both so cheap that the timings
are the players' own overhead. Only ``act`` is timed; the env step between moves is not.
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from rich.console import Console
from rich.table import Table

from agents.base import EnvSpaces
from arena import isolation
from arena.sandbox import AgentRef, start_player

ENV_ID = "CartPole-v1"
GOAL_ROUND_TRIP_MS = 0.1  # median per-move round trip, with every isolation layer active
GOAL_STARTUP_S = 0.3  # median spawn-to-built time of one seat
TOGETHER = 4  # players started at once, as in a multi-agent match


def cpu_name() -> str:
    """The CPU's model name (from /proc/cpuinfo on Linux) and its logical core count."""
    name = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    return f"{name} ({os.cpu_count()} logical cores)"


def _act_times_s(sandbox: bool, moves: int) -> list[float]:
    """Wall time of each of ``moves`` ``act`` calls of a random agent playing CartPole episodes."""
    env = gym.make(ENV_ID)
    times = []
    with start_player(AgentRef("random", builtin="random"), EnvSpaces.of(env), sandbox=sandbox) as player:
        observation, info = env.reset(seed=0)
        player.reset(0)
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
    out_dir: Path = Path("results/bench"),
    console: Console | None = None,
) -> dict[str, Any]:
    """Time ``moves`` moves sandboxed and in-process and ``starts`` sandbox start-ups; print a table and write
    ``out_dir/sandbox.json``. Round trips in milliseconds, start-up in seconds, close in milliseconds."""
    if moves < 1:
        raise ValueError(f"moves={moves} must be >= 1")
    if starts < 1:
        raise ValueError(f"starts={starts} must be >= 1")
    console = console or Console()
    in_process = _summary(_act_times_s(sandbox=False, moves=moves), 1e3)
    sandboxed = _summary(_act_times_s(sandbox=True, moves=moves), 1e3)
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
