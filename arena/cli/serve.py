"""``arena serve``: a board's leaderboard page on localhost, live while a tournament runs."""

from __future__ import annotations

from typing import Annotated

import typer

from arena.cli.options import BoardOption, check_board
from arena.cli.output import console


def serve_command(
    board: BoardOption = "default",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port on 127.0.0.1 (0: any free port).")] = 8000,
    refresh: Annotated[int, typer.Option(min=1, help="Seconds between the page's reloads.")] = 5,
) -> None:
    """Serve a board's leaderboard page on localhost, rebuilt from the match log on every request, and
    reloading itself: leave it open while a tournament runs.

    Example: [bold]arena serve --board default --port 8000[/]
    """
    from arena.serve import serve_board

    check_board(board)
    serve_board(
        board,
        port=port,
        refresh_s=refresh,
        on_listen=lambda bound: console.print(
            f"serving board {board!r} on http://127.0.0.1:{bound}/ (Ctrl-C to stop)"
        ),
    )
