"""What the commands print and write: the consoles, one-line errors, tables, progress bars, JSON and CSV.

Every command (and every benchmark) goes through here, so that a table, a progress bar or a results file looks
the same whichever command made it.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NoReturn, TextIO

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn
from rich.table import Table

console = Console()
errors = Console(stderr=True)


def fail(message: str) -> NoReturn:
    """Print one line to stderr and exit with status 2 (bad input)."""
    errors.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def table(title: str, columns: Iterable[str], **column_options: Any) -> Table:
    """A rich table with these columns, each added with the same ``column_options`` (justify, overflow...)."""
    result = Table(title=title)
    for column in columns:
        result.add_column(column, **column_options)
    return result


def progress(*columns: ProgressColumn) -> Progress:
    """A progress bar on the console: description, bar, done/total, then ``columns``."""
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), *columns, console=console
    )


def say_layers(trust_agents: bool) -> None:
    """One line on the sandbox's layers, printed before agent packages may run."""
    from arena.isolation import layers

    missing = [layer.name for layer in layers() if not layer.active]
    if not missing:
        console.print(f"sandbox for agent packages: all {len(layers())} layers active (`arena doctor`)")
    else:
        action = "runs them anyway (--trust-agents)" if trust_agents else "refuses them unless --trust-agents"
        console.print(f"[yellow]sandbox for agent packages: missing {', '.join(missing)}; {action}[/]")


def write_json(data: Any, path: Path) -> Path:
    """Write ``data`` as indented JSON to ``path`` (its folder created if needed); returns ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2))
    return path


def print_json(data: Any) -> None:
    """``data`` as indented JSON on stdout, unstyled (for pipes)."""
    print(json.dumps(data, indent=2))


def write_csv(rows: list[dict[str, Any]], target: Path | TextIO | None = None) -> None:
    """``rows`` as CSV to a file (``Path``), a text stream, or stdout (``None``). The columns are every key of
    every row: ``scenario`` and ``agent`` first, then the others alphabetically."""
    fields = sorted({key for row in rows for key in row}, key=lambda k: (k != "scenario", k != "agent", k))
    if isinstance(target, Path):
        with target.open("w", newline="") as handle:
            _write_rows(rows, fields, handle)
    else:
        _write_rows(rows, fields, target or sys.stdout)


def _write_rows(rows: list[dict[str, Any]], fields: list[str], handle: TextIO) -> None:
    writer = csv.DictWriter(handle, fieldnames=fields)
    writer.writeheader()
    writer.writerows(rows)
