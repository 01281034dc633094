"""``arena bench qd``: MAP-Elites, PGA-ME and DCG-ME side by side on one QD task at equal evaluations.

Each algorithm runs ``evals`` evaluations per seed with :func:`agents.qd.cpu_config` (the same batch sizes, so
the same evaluation count). Writes ``qd_<task>.json`` (per algorithm and seed: final qd_score, coverage,
max_fitness, evaluations, wall time; per algorithm: the means) and ``qd_<task>_curves.png`` (QD-score
against evaluations, mean over seeds with min-max band) to ``out_dir``, or the JSON to ``json_out``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.console import Console
from rich.table import Table

from arena.bench.sandbox import cpu_name

ALGORITHMS = ("me", "pga_me", "dcg_me")


def run_qd_bench(
    task: str = "pointmaze",
    evals: int = 2000,
    seeds: int = 3,
    algorithms=ALGORITHMS,
    json_out: Path | None = None,
    out_dir: Path = Path("results/bench"),
    console: Console | None = None,
    episode_length: int | None = None,
) -> dict[str, Any]:
    """Run every algorithm for seeds 0..seeds-1; print the table, write the JSON and the curves plot."""
    from agents.qd import run_qd

    if seeds < 1:
        raise ValueError(f"seeds={seeds} must be >= 1")
    unknown = set(algorithms) - set(ALGORITHMS)
    if unknown:
        raise ValueError(f"algorithms {sorted(unknown)} not among {list(ALGORITHMS)}")
    console = console or Console()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    runs: dict[str, list[dict[str, Any]]] = {}
    curves: dict[str, list[tuple[list[int], list[float]]]] = {}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small batched matmuls: one thread is much faster than two on a busy CPU
    try:
        for name in algorithms:
            runs[name], curves[name] = [], []
            for seed in range(seeds):
                run = run_qd(
                    name, task, evals, seed, episode_length=episode_length, progress=True, console=console
                )
                last = run.rows[-1]
                keys = ("qd_score", "coverage", "max_fitness", "evaluations", "wall_time_s")
                runs[name].append({"seed": seed, **{k: last[k] for k in keys}})
                curves[name].append(([r["evaluations"] for r in run.rows], [r["qd_score"] for r in run.rows]))
    finally:
        torch.set_num_threads(threads)
    results: dict[str, Any] = {
        "task": task,
        "evals": evals,
        "seeds": seeds,
        "episode_length": episode_length,
        "cpu": cpu_name(),
        "torch_threads": 1,
        "runs": runs,
        "mean": {
            name: {
                k: float(np.mean([r[k] for r in rows]))
                for k in ("qd_score", "coverage", "max_fitness", "wall_time_s")
            }
            for name, rows in runs.items()
        },
    }
    _curves_plot(curves, task, out_dir / f"qd_{task}_curves.png")
    json_path = Path(json_out) if json_out is not None else out_dir / f"qd_{task}.json"
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(results, indent=2))
    _print(console, results)
    return results


def _curves_plot(curves: dict[str, list[tuple[list[int], list[float]]]], task: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, per_seed in curves.items():
        x = per_seed[0][0]
        y = np.array([scores for _, scores in per_seed])
        ax.plot(x, y.mean(axis=0), label=name)
        ax.fill_between(x, y.min(axis=0), y.max(axis=0), alpha=0.2)
    ax.set(xlabel="evaluations", ylabel="QD-score", title=f"QD-score on {task}")
    ax.legend()
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def _print(console: Console, results: dict[str, Any]) -> None:
    table = Table(
        title=f"QD on {results['task']}, {results['evals']} evaluations x {results['seeds']} seeds, "
        f"{results['cpu']}"
    )
    for column in ("algorithm", "QD-score", "coverage", "max fitness", "wall time (s)"):
        table.add_column(column, justify="left" if column == "algorithm" else "right")
    for name, mean in results["mean"].items():
        table.add_row(
            name,
            f"{mean['qd_score']:,.0f}",
            f"{mean['coverage']:.3f}",
            f"{mean['max_fitness']:.1f}",
            f"{mean['wall_time_s']:.0f}",
        )
    console.print(table)
