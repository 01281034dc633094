"""Benchmarks behind ``arena bench``: each compares implementations measured in the same run and prints the
device it ran on.

One module per family. A module adds its command with :func:`benchmark`; :data:`app`, the ``arena bench``
group (the ``bench`` entry point of ``pg_arena.commands``), finds every module of this package whose name does
not start with ``_``, so a new family needs no other file touched. The modules are imported only when the
group is listed or run, so that other ``arena`` commands never pay for them.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

BenchOut = Annotated[Path, typer.Option(help="Folder for the JSON results and plots.")]


def benchmark(name: str, *, help: str | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the decorated function as ``arena bench <name>`` (its docstring is the help unless ``help``
    is given); the function is returned unchanged."""

    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        app.command(name, help=help)(function)
        return function

    return register


def families() -> list[str]:
    """The benchmark modules of this package, by name."""
    return sorted(info.name for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_"))


class _Families(TyperGroup):
    """The ``arena bench`` group: on first use it imports every family module, whose :func:`benchmark`
    decorators register their commands, and takes those commands in; it lists them alphabetically."""

    discovered = False

    def _discover(self) -> None:
        if not self.discovered:
            for family in families():
                importlib.import_module(f"{__name__}.{family}")
            self.commands.update(typer.main.get_group(app).commands)
            self.discovered = True

    def list_commands(self, ctx) -> list[str]:
        self._discover()
        return sorted(self.commands)

    def get_command(self, ctx, cmd_name: str):
        self._discover()
        return super().get_command(ctx, cmd_name)


app = typer.Typer(
    cls=_Families,
    help="Benchmarks: each compares implementations in the same run and prints the device it ran on.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
