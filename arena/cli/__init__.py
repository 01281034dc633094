"""The ``arena`` command line: envs and agents, playing episodes, tournaments, leaderboards, submissions.

One module per group of commands (:mod:`~arena.cli.catalogue`, :mod:`~arena.cli.play`,
:mod:`~arena.cli.tournament`, :mod:`~arena.cli.serve`), all printing and writing through
:mod:`arena.cli.output`. Command groups that live above the arena (``arena bench``) join through the
``pg_arena.commands`` entry point group: each entry point names a typer app, added under the entry point's
name, so the arena never imports them by name.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Annotated

import typer

import arena
from arena.cli import catalogue, play, serve, tournament
from arena.cli.output import console

COMMAND_GROUPS = "pg_arena.commands"

app = typer.Typer(
    help="pg-arena: RL tasks, policy-gradient agents and an arena that ranks them.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        console.print(f"pg-arena {arena.__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """pg-arena: RL tasks, policy-gradient agents and an arena that ranks them."""


COMMANDS = {
    "envs": catalogue.list_envs_command,
    "agents": catalogue.list_agents_command,
    "play": play.play_command,
    "train": play.train_command,
    "learners": catalogue.list_learners_command,
    "eval": play.eval_command,
    "qd": play.qd_command,
    "scenarios": catalogue.list_scenarios_command,
    "tournament": tournament.tournament_command,
    "leaderboard": tournament.leaderboard_command,
    "submit": tournament.submit_command,
    "doctor": catalogue.doctor_command,
    "serve": serve.serve_command,
}


def _register() -> None:
    """The arena's own commands in the order of ``arena --help``, then every entry point's command group."""
    for name, command in COMMANDS.items():
        app.command(name)(command)
    for entry in entry_points(group=COMMAND_GROUPS):
        app.add_typer(entry.load(), name=entry.name)


_register()
