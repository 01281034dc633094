"""Options several commands share, and the checks of their input that end in a one-line error."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from arena.cli.output import fail
from envs import unknown_message

TrustOption = Annotated[
    bool,
    typer.Option(
        "--trust-agents",
        help="Run agent packages even where a sandbox layer is missing (see `arena doctor`): only for code "
        "you trust.",
    ),
]
BoardOption = Annotated[
    str,
    typer.Option(
        "--board",
        help="Leaderboard name: a folder under $PG_ARENA_HOME, else ./leaderboards when there is one, else "
        "the user's data directory (~/.local/share/pg-arena on Linux).",
    ),
]


def parse_kwargs(pairs: list[str], option: str) -> dict[str, Any]:
    """``["k=v", ...]`` to a dict; each value is parsed as JSON when it parses, else kept as a string."""
    kwargs = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.isidentifier():
            fail(f"{option} {pair!r} must look like key=value (e.g. {option} tau=1e-4)")
        try:
            kwargs[key] = json.loads(raw)
        except json.JSONDecodeError:
            kwargs[key] = raw
    return kwargs


def check_board(board: str) -> None:
    """Exit with one line if ``board`` is not a valid board name or has no database yet."""
    from arena.leaderboard import board_path

    try:
        if not board_path(board).is_file():
            fail(f"no board {board!r} at {board_path(board)}; run a tournament first")
    except ValueError as error:
        fail(str(error))


def check_qd_task(task: str) -> None:
    """Exit with one line if ``task`` is not a QD task, or needs MuJoCo and MuJoCo is not installed."""
    import importlib.util

    from envs.qd import TASKS

    if task not in TASKS:
        fail(unknown_message("QD task", task, list(TASKS)))
    if TASKS[task].needs_mujoco and importlib.util.find_spec("mujoco") is None:
        fail(f"task {task!r} needs MuJoCo: pip install 'pg-arena[mujoco]'")
