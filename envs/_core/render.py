"""Rendering shared by the env families: the render-mode check and off-screen matplotlib strip charts.

Matplotlib is imported only when a figure is first drawn, so an env made without a ``render_mode`` pays
nothing for rendering. Figures use matplotlib's object API with the Agg canvas (never pyplot): no window, no
global figure list, and the same state always gives the same pixels.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium import logger

DPI = 100


def check_render_mode(render_mode: str | None, metadata: Mapping[str, Any]) -> str | None:
    """``render_mode`` when it is None or one of ``metadata["render_modes"]``; else ValueError naming them."""
    allowed = metadata.get("render_modes", [])
    if render_mode is not None and render_mode not in allowed:
        raise ValueError(
            f"render_mode={render_mode!r} is not supported; allowed: None, {', '.join(map(repr, allowed))}"
        )
    return render_mode


def warn_without_render_mode(metadata: Mapping[str, Any]) -> None:
    """Gymnasium's warning for ``render()`` on an env made without a ``render_mode``."""
    modes = ", ".join(map(repr, metadata.get("render_modes", [])))
    logger.warn(f"render() called on an env made without a render_mode; make it with render_mode in {modes}")


class AggFigure:
    """One matplotlib figure of ``rows`` stacked axes, drawn off-screen; :meth:`to_rgb` gives its pixels."""

    def __init__(
        self, rows: int, width: int = 640, height: int = 480, height_ratios: Sequence[float] | None = None
    ):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.figure = Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
        self.figure.subplots_adjust(left=0.12, right=0.97, top=0.94, bottom=0.1, hspace=0.3)
        self.canvas = FigureCanvasAgg(self.figure)
        self.axes = list(self.figure.subplots(rows, 1, squeeze=False, height_ratios=height_ratios)[:, 0])

    def to_rgb(self) -> np.ndarray:
        """The figure as a fresh (height, width, 3) uint8 array."""
        self.canvas.draw()
        return np.asarray(self.canvas.buffer_rgba())[..., :3].copy()


@dataclass(frozen=True)
class Panel:
    """One axes of a :class:`StripChart`: its y label and the legend names of its series; the series named
    in ``dashed`` (references, targets) are drawn dashed."""

    ylabel: str
    series: tuple[str, ...]
    dashed: tuple[str, ...] = ()


class StripChart:
    """The last ``window`` samples of each panel's series, as lines over a shared x axis (time or step).

    :meth:`append` records one sample per panel; :meth:`draw` updates the lines' data and rescales the axes.
    The lines are made once, on the first draw, on the axes given.
    """

    def __init__(self, panels: Sequence[Panel], window: int, xlabel: str, steps: bool = False):
        self.panels, self.xlabel, self.steps = tuple(panels), xlabel, steps
        self._x: deque[float] = deque(maxlen=window)
        self._y = [deque(maxlen=window) for _ in self.panels]
        self._lines: list[list[Any]] | None = None

    def clear(self) -> None:
        """Forget every sample (a new episode)."""
        self._x.clear()
        for values in self._y:
            values.clear()

    def append(self, x: float, *values: Sequence[float]) -> None:
        """One sample at ``x``: a sequence per panel, one value per series."""
        self._x.append(float(x))
        for history, panel, row in zip(self._y, self.panels, values, strict=True):
            if len(row) != len(panel.series):
                raise ValueError(
                    f"panel {panel.ylabel!r} has {len(panel.series)} series, got {len(row)} values"
                )
            history.append(np.asarray(row, dtype=float))

    def draw(self, axes: Sequence[Any]) -> None:
        """Show the recorded samples on ``axes`` (one per panel; the lines are made on the first call)."""
        if self._lines is None:
            self._lines = [self._make_lines(ax, panel) for ax, panel in zip(axes, self.panels, strict=True)]
            axes[-1].set_xlabel(self.xlabel)
        x = np.fromiter(self._x, float)
        for ax, lines, history in zip(axes, self._lines, self._y, strict=True):
            y = np.array(history).reshape(len(x), len(lines))
            for k, line in enumerate(lines):
                line.set_data(x, y[:, k])
            ax.relim()
            ax.autoscale_view()

    def _make_lines(self, ax: Any, panel: Panel) -> list[Any]:
        style = {"drawstyle": "steps-post"} if self.steps else {}
        lines: list[Any] = []
        for name in panel.series:
            dashed = name in panel.dashed
            color = lines[-1].get_color() if dashed and lines else None  # a reference: its quantity's colour
            lines.append(ax.plot([], [], "--" if dashed else "-", label=name, color=color, **style)[0])
        ax.set_ylabel(panel.ylabel)
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper left", fontsize="x-small", ncols=min(len(lines), 4))
        return lines
