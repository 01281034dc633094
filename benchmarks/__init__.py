"""Benchmarks behind ``arena bench``: each compares implementations measured in the same run and prints the
device it ran on.

One module per family. A module adds its command with :func:`benchmark`; :data:`app`, the ``arena bench``
group (the ``bench`` entry point of ``pg_arena.commands``), finds every module of this package whose name does
not start with ``_``, so a new family needs no other file touched. The modules are imported only when the
group is listed or run, so that other ``arena`` commands never pay for them.

Seeds: every benchmark takes the seeds it runs with ``--seeds`` (:data:`Seeds`, e.g. ``--seeds 10-19``).
Hyperparameters and presets are tuned on :data:`TUNING_SEEDS` only, and the reported runs use
:data:`EVALUATION_SEEDS` (disjoint from them) unless told otherwise; docs/claims.md states the claims so.
"""

from __future__ import annotations

import importlib
import itertools
import pkgutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

BenchOut = Annotated[Path, typer.Option(help="Folder for the JSON results and plots.")]

TUNING_SEEDS = range(0, 10)
"""The seeds that hyperparameters and presets may be tuned on; never those of a reported comparison."""

EVALUATION_SEEDS = range(10, 20)
"""The seeds a benchmark runs unless ``--seeds`` says otherwise: fresh for every tuned preset."""


class SeedList(tuple):
    """The seeds a benchmark runs, in the order given, without repeats."""


def parse_seeds(text: str | SeedList) -> SeedList:
    """Seeds from ``"10-19"``, ``"3"`` or ``"0-4,10,12-13"`` (ranges inclusive); a clear ValueError names
    the part that is not a seed or a range of seeds."""
    if isinstance(text, SeedList):
        return text
    seeds: list[int] = []
    for part in str(text).replace(" ", "").split(","):
        low, dash, high = part.partition("-")
        if not (low.isdigit() and (high.isdigit() if dash else True)):
            raise ValueError(
                f"seeds: {part!r} is not a seed or a range like 10-19 (integers >= 0, comma-separated)"
            )
        first, last = int(low), int(high) if dash else int(low)
        if last < first:
            raise ValueError(f"seeds: the range {part!r} ends before it starts")
        seeds.extend(seed for seed in range(first, last + 1) if seed not in seeds)
    return SeedList(seeds)


def seeds_text(seeds: Iterable[int]) -> str:
    """``seeds`` written as :func:`parse_seeds` reads them, runs of consecutive seeds as ranges."""
    runs = [
        [seed for _, seed in run]
        for _, run in itertools.groupby(enumerate(seeds), key=lambda pair: pair[1] - pair[0])
    ]
    return ",".join(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]) for run in runs)


Seeds = Annotated[
    SeedList, typer.Option(parser=parse_seeds, metavar="SEEDS", help="Seeds to run, e.g. 10-19 or 0-4,12.")
]
"""The ``--seeds`` option of a benchmark command; its default is a string, e.g. ``seeds: Seeds = "10-19"``."""


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
