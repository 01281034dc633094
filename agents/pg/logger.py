"""Training logs: a CSV row per update, TensorBoard scalars when ``tensorboard`` is installed, a progress bar.

Quantities keep the names of PPO's reference implementation (``charts/episodic_return``,
``losses/approx_kl``, ``losses/clipfrac``, ``losses/explained_variance``, ...).
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn


class TrainingLogger:
    """Writes ``progress.csv`` (and ``tb/`` events) under ``directory``; shows a bar when ``progress``, with
    the latest value of the scalar ``headline`` beside it (name, label)."""

    def __init__(
        self,
        directory: str | Path | None,
        total_steps: int,
        *,
        progress: bool = False,
        description: str = "training",
        headline: tuple[str, str] = ("charts/episodic_return", "return"),
        console: Console | None = None,
    ):
        self._headline = headline[0]
        self.rows: list[dict[str, float]] = []
        self._csv_path = Path(directory) / "progress.csv" if directory is not None else None
        self._columns: list[str] | None = None
        self._tb = _tensorboard_writer(Path(directory) / "tb") if directory is not None else None
        self._bar = None
        if progress:
            self._bar = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn(headline[1] + " {task.fields[ret]}"),
                TimeRemainingColumn(),
                console=console,
                transient=False,
            )
            self._task = self._bar.add_task(description, total=total_steps, ret="-")
            self._bar.start()

    def log(self, global_step: int, scalars: dict[str, float]) -> None:
        row = {"global_step": global_step, **scalars}
        self.rows.append(row)
        if self._csv_path is not None:
            self._write_csv(row)
        if self._tb is not None:
            for key, value in scalars.items():
                if not math.isnan(value):
                    self._tb.add_scalar(key, value, global_step)
        if self._bar is not None:
            ret = scalars.get(self._headline, math.nan)
            self._bar.update(self._task, completed=global_step, ret="-" if math.isnan(ret) else f"{ret:.1f}")

    def close(self) -> None:
        if self._tb is not None:
            self._tb.close()
        if self._bar is not None:
            self._bar.stop()

    def _write_csv(self, row: dict) -> None:
        self._csv_path.parent.mkdir(parents=True, exist_ok=True)
        if self._columns is None:
            self._columns = list(row)
            with self._csv_path.open("w", newline="") as file:
                csv.DictWriter(file, self._columns).writeheader()
        with self._csv_path.open("a", newline="") as file:
            csv.DictWriter(file, self._columns, extrasaction="ignore").writerow(row)


def _tensorboard_writer(directory: Path):
    """A SummaryWriter when ``tensorboard`` is importable, else None (the CSV still has everything)."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        return None
    return SummaryWriter(str(directory))
