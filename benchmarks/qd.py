"""``arena bench qd``: MAP-Elites, PGA-ME and DCG-ME side by side on one QD task at equal evaluations.

Each algorithm runs once per seed of ``--seeds`` (default 10-19, fresh: the presets of
:func:`agents.qd.cpu_config` were tuned on seeds 0-9) up to the largest budget of ``--evals`` (default 2000
and 4000 evaluations); the same batch sizes give every algorithm the same evaluation count, and a budget's
numbers are those of the archive at the first iteration boundary at or past it (2016 and 4000 evaluations).
At each budget, per pair (PGA-ME vs ME, DCG-ME vs ME, DCG-ME vs PGA-ME) :func:`agents.stats.paired_comparison`
of the final QD-scores, paired by seed: wins out of the seeds, sign and Wilcoxon tests, mean difference with
its 95 % interval. Writes ``qd_<task>.json`` (per budget: per algorithm and seed the final qd_score,
coverage, max_fitness, evaluations and wall time, the means, the comparisons) and ``qd_<task>_curves.png``
(QD-score against evaluations, mean over seeds with min-max band) to ``out_dir``, or the JSON to ``json_out``.

Measured (``arena bench qd --seeds 20-39 --evals 2000``: the point maze, 100-step episodes, 2016
evaluations; Intel(R) Xeon(R) Processor, 2 logical cores, shared; one torch thread; ME and PGA-ME are those
of the run before the DCG-ME change below, their code unchanged and every run deterministic per seed), means
over the 20 seeds:

=========  ===================  ========
algorithm  QD-score (sd)        coverage
=========  ===================  ========
ME         26,532 (1,270)       0.331
PGA-ME     27,552 (1,137)       0.334
DCG-ME     27,302 (3,061)       0.318
=========  ===================  ========

* PGA-ME beats ME on 15/20 seeds (sign test p = 0.041, Wilcoxon p = 0.011); mean difference +1020
  [+280, +1760] (95 % t interval);
* DCG-ME beats ME on 13/20 seeds (sign test p = 0.26, Wilcoxon p = 0.33); mean difference +770
  [-935, +2475];
* DCG-ME beats PGA-ME on 9/20 seeds (sign test p = 0.82, Wilcoxon p = 0.70); mean difference -250
  [-1733, +1232].

So on fresh seeds at this budget PGA-ME's lead over MAP-Elites holds, DCG-ME's is not significant, and the
papers' order DCG-ME > PGA-ME is not seen. With the earlier DCG-ME preset (before it took the reference
implementation's actor injection, lengthscale and critic replay ratio; see agents.qd.cpu_config) DCG-ME
scored 27,561 (2,946), coverage 0.325: 13/20 against ME (+1028 [-446, +2502]), 10/20 against PGA-ME
(+8 [-1431, +1448]).

At 4000 evaluations (``arena bench qd --seeds 20-29`` and ``--seeds 30-39``, same machine, after the DCG-ME
change), means over the same 20 seeds: ME 30,700, PGA-ME 33,044, DCG-ME 38,511 (coverage 0.365, 0.378,
0.403):

* PGA-ME beats ME on 17/20 seeds (sign test p = 0.0026, Wilcoxon p = 0.0049); +2344 [+914, +3774];
* DCG-ME beats ME on 18/20 seeds (p = 0.0004, 2.7e-5); +7811 [+5299, +10320];
* DCG-ME beats PGA-ME on 17/20 seeds (p = 0.0026, 2.7e-5); +5466 [+3531, +7402].

So at twice the budget the papers' order DCG-ME > PGA-ME > ME holds on fresh seeds. The earlier DCG-ME preset
was run at this budget on seeds 20-24 only: 35,526 against the new preset's 37,653 there, 5/5 against ME
and 2/5 against PGA-ME (the new one 5/5 and 4/5).

Then (unless ``--no-throughput``) :func:`run_qd_eval_bench`: the QD evaluator's throughput against raw
MuJoCo and a Gymnasium vector env. One experiment per run: ``batch`` episodes of ``task`` (``episode_length``
steps at most), all with the same open-loop random actions (uniform in [-1, 1], seeded). Timed on the same
machine, in the same process:

* ``evaluator``: :class:`envs.qd.evaluator.BatchEvaluator` with those actions (``evaluate_agent``);
* ``raw``: the bare physics of exactly those episodes: the same start states (set the same way), the same
  actions, each episode stopped where the evaluator's stopped, as ``data.ctrl[:] = a`` then
  ``mj_step(model, data, nstep=frame_skip)`` on B ``MjData`` (for the ant also ``mj_rnePostConstraint``, which
  its observation and contact cost need, as in Gymnasium; for the point maze: the batched ``maze_step``).
  ``overhead = evaluator time / raw time - 1`` is what the evaluator adds to the simulator (observations,
  rewards, health checks, contacts, book-keeping);
* ``evaluator_mlp``: the evaluator with the default MLP policy (64, 64) instead of the open-loop actions, so
  the policy's batched forward is included;
* ``gym_sync_vector``: Gymnasium's ``SyncVectorEnv`` of the plain Gymnasium v5 env (or our point-maze env)
  with ``batch`` copies stepped ``episode_length`` times with the same actions (autoreset), the usual Python
  loop.

torch runs single-threaded here (``agents.pg.trainer.torch_threads(1)`` for the run, restored after): the
policy's small batched matrix products gain nothing from threads, and on a busy machine threads make them far
slower.
Evaluator and raw times are the best of ``repeats`` runs. Writes ``qd_eval_<task>.json`` to ``out_dir``.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import torch
import typer
from rich.console import Console
from rich.table import Table

from agents.pg.trainer import torch_threads
from agents.stats import paired_comparison
from arena.cli import output
from arena.cli.options import check_qd_task
from benchmarks import EVALUATION_SEEDS, BenchOut, Seeds, benchmark, seeds_text
from benchmarks._machine import cpu_name

ALGORITHMS = ("me", "pga_me", "dcg_me")
LABELS = {"me": "ME", "pga_me": "PGA-ME", "dcg_me": "DCG-ME"}
PAIRS = (("pga_me", "me"), ("dcg_me", "me"), ("dcg_me", "pga_me"))  # (A, B): does A beat B
METRICS = ("qd_score", "coverage", "max_fitness", "evaluations", "wall_time_s")


def run_qd_bench(
    task: str = "pointmaze",
    evals: Sequence[int] = (2000, 4000),
    seeds: Sequence[int] = EVALUATION_SEEDS,
    algorithms=ALGORITHMS,
    json_out: Path | None = None,
    out_dir: Path = Path("results/bench"),
    console: Console | None = None,
    episode_length: int | None = None,
) -> dict[str, Any]:
    """Run every algorithm once per seed up to the largest budget of ``evals`` and report each budget (the
    archive at the first iteration boundary at or past it); print the tables, write the JSON and the plot."""
    from agents.qd import run_qd

    budgets = sorted(set(evals))
    if not budgets or budgets[0] < 1:
        raise ValueError(f"evals={list(evals)} must be one or more budgets >= 1")
    if len(seeds) < 2:
        raise ValueError(f"seeds: a paired comparison needs at least 2 seeds, got {len(seeds)}")
    unknown = set(algorithms) - set(ALGORITHMS)
    if unknown:
        raise ValueError(f"algorithms {sorted(unknown)} not among {list(ALGORITHMS)}")
    console = console or Console()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows: dict[str, list[list[dict[str, float]]]] = {}
    with torch_threads(1):  # small batched matmuls: one thread is much faster than two on a busy CPU
        for name in algorithms:
            rows[name] = [
                run_qd(
                    name,
                    task,
                    budgets[-1],
                    seed,
                    episode_length=episode_length,
                    progress=True,
                    console=console,
                ).rows
                for seed in seeds
            ]
    results: dict[str, Any] = {
        "task": task,
        "seeds": list(seeds),
        "episode_length": episode_length,
        "cpu": cpu_name(),
        "torch_threads": 1,
        "budgets": [_budget_results(rows, budget, seeds) for budget in budgets],
    }
    _curves_plot(rows, task, out_dir / f"qd_{task}_curves.png")
    json_path = Path(json_out) if json_out is not None else out_dir / f"qd_{task}.json"
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(results, indent=2))
    for budget in results["budgets"]:
        _print_comparison(console, results, budget)
    return results


def _budget_results(
    rows: dict[str, list[list[dict[str, float]]]], budget: int, seeds: Sequence[int]
) -> dict[str, Any]:
    """Per algorithm and seed the first row at or past ``budget`` evaluations, the means over the seeds and
    the paired comparison of the final QD-scores for each pair of :data:`PAIRS` that ran."""
    runs = {
        name: [
            {
                "seed": seed,
                **{k: next(r for r in seed_rows if r["evaluations"] >= budget)[k] for k in METRICS},
            }
            for seed, seed_rows in zip(seeds, per_seed, strict=True)
        ]
        for name, per_seed in rows.items()
    }
    comparisons = {}
    for a, b in PAIRS:
        if a in runs and b in runs:
            scores = ([r["qd_score"] for r in runs[a]], [r["qd_score"] for r in runs[b]])
            comparison = paired_comparison(*scores)
            comparisons[f"{a}_vs_{b}"] = {
                **comparison.as_dict(),
                "summary": comparison.summary(LABELS[a], LABELS[b]),
            }
    return {
        "evals": budget,
        "runs": runs,
        "mean": {
            name: {k: float(np.mean([r[k] for r in per_seed])) for k in METRICS}
            for name, per_seed in runs.items()
        },
        "comparisons": comparisons,
    }


def _curves_plot(rows: dict[str, list[list[dict[str, float]]]], task: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, per_seed in rows.items():
        x = [r["evaluations"] for r in per_seed[0]]
        y = np.array([[r["qd_score"] for r in seed_rows] for seed_rows in per_seed])
        ax.plot(x, y.mean(axis=0), label=LABELS[name])
        ax.fill_between(x, y.min(axis=0), y.max(axis=0), alpha=0.2)
    ax.set(xlabel="evaluations", ylabel="QD-score", title=f"QD-score on {task}")
    ax.legend()
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def _print_comparison(console: Console, results: dict[str, Any], budget: dict[str, Any]) -> None:
    table = Table(
        title=f"QD on {results['task']}, {budget['evals']} evaluations, "
        f"seeds {seeds_text(results['seeds'])}, {results['cpu']}"
    )
    for column in ("algorithm", "QD-score", "coverage", "max fitness", "wall time (s)"):
        table.add_column(column, justify="left" if column == "algorithm" else "right")
    for name, mean in budget["mean"].items():
        table.add_row(
            LABELS[name],
            f"{mean['qd_score']:,.0f}",
            f"{mean['coverage']:.3f}",
            f"{mean['max_fitness']:.1f}",
            f"{mean['wall_time_s']:.0f}",
        )
    console.print(table)
    for comparison in budget["comparisons"].values():
        console.print(f"QD-score: {comparison['summary']}")


# ----- the evaluator's throughput


def _open_loop(actions: np.ndarray):
    """A batched act that ignores the observation and plays ``actions[t]`` [B, A] at its t-th call."""
    t = 0

    def act(obs: torch.Tensor) -> torch.Tensor:
        nonlocal t
        a = torch.as_tensor(actions[min(t, len(actions) - 1)], device=obs.device)
        t += 1
        return a

    return act


def _raw_s(task: str, actions: np.ndarray, lengths: np.ndarray, seed: int) -> float:
    """Seconds the bare simulator takes for the episodes the evaluator ran: the same start states (set as the
    evaluator sets them, included in the time as the evaluator's are), actions and episode lengths."""
    from envs.qd.evaluator import make_simulator
    from envs.qd.tasks import get_task

    sim = make_simulator(get_task(task), torch.device("cpu"))
    start = time.perf_counter()
    sim.reset(np.random.default_rng(seed), len(lengths))
    if task == "pointmaze":
        from envs.qd.pointmaze import maze_step

        position, steps = sim.position, torch.as_tensor(actions)
        for t in range(int(lengths.max())):
            position, _, _ = maze_step(position, steps[t])
        return time.perf_counter() - start
    import mujoco

    model, datas, frame_skip = sim.model, sim.data[: len(lengths)], sim.frame_skip
    forces = task.startswith("ant")  # the ant's observation and contact cost need cfrc_ext after each step
    for t in range(int(lengths.max())):
        for i in np.flatnonzero(lengths > t):
            datas[i].ctrl[:] = actions[t, i]
            mujoco.mj_step(model, datas[i], nstep=frame_skip)
            if forces:
                mujoco.mj_rnePostConstraint(model, datas[i])
    return time.perf_counter() - start


def _gym_vector_s(env_id: str, actions: np.ndarray, seed: int) -> float:
    """Seconds a Gymnasium SyncVectorEnv of ``batch`` envs takes for ``len(actions)`` steps (autoreset)."""
    import gymnasium as gym

    vector = gym.vector.SyncVectorEnv([lambda: gym.make(env_id) for _ in range(actions.shape[1])])
    vector.reset(seed=seed)
    start = time.perf_counter()
    for step_actions in actions:
        vector.step(step_actions)
    elapsed = time.perf_counter() - start
    vector.close()
    return elapsed


def run_qd_eval_bench(
    task: str = "walker2d_uni",
    batch: int = 64,
    out_dir: Path = Path("results/bench"),
    console: Console | None = None,
    *,
    episode_length: int = 200,
    seed: int = 0,
    repeats: int = 3,
) -> dict[str, Any]:
    """Measure, print the table and write ``qd_eval_<task>.json``; returns the numbers written."""
    import envs  # noqa: F401  (registers the ids)
    from envs.qd.evaluator import BatchEvaluator
    from envs.qd.tasks import get_task

    qd_task = get_task(task)
    if batch < 1:
        raise ValueError(f"batch={batch} must be >= 1")
    if episode_length < 1:
        raise ValueError(f"episode_length={episode_length} must be >= 1")
    if repeats < 1:
        raise ValueError(f"repeats={repeats} must be >= 1")
    console = console or Console()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    actions = np.random.default_rng(seed).uniform(-1, 1, (episode_length, batch, qd_task.action_dim))
    actions = actions.astype(np.float32)
    with torch_threads(1):
        evaluator_s, raw_s = math.inf, math.inf
        for _ in range(repeats):  # the best of ``repeats`` runs: a busy machine disturbs the best one least
            evaluator = BatchEvaluator(qd_task, episode_length=episode_length, seed=seed)
            start = time.perf_counter()
            result = evaluator.evaluate_agent(_open_loop(actions), batch)
            evaluator_s = min(evaluator_s, time.perf_counter() - start)
            raw_s = min(raw_s, _raw_s(task, actions, result.lengths, seed))
        env_steps = int(result.lengths.sum())
        mlp = BatchEvaluator(qd_task, episode_length=episode_length, seed=seed)
        params = mlp.policy.init(batch, torch.Generator().manual_seed(seed))
        start = time.perf_counter()
        mlp.evaluate(params)
        mlp_s = time.perf_counter() - start
        if task == "pointmaze":
            gym_id = qd_task.env_id
        else:
            from envs.qd.locomotion import MORPHOLOGIES

            gym_id = MORPHOLOGIES[task].gym_id
        gym_s = _gym_vector_s(gym_id, actions, seed)
    results: dict[str, Any] = {
        "task": task,
        "cpu": cpu_name(),
        "device": "cpu",
        "torch_threads": 1,
        "batch": batch,
        "episode_length": episode_length,
        "repeats": repeats,
        "evaluator": {
            "evaluations_per_s": batch / evaluator_s,
            "env_steps_per_s": env_steps / evaluator_s,
            "env_steps": env_steps,
        },
        "raw": {"env_steps_per_s": env_steps / raw_s, "evaluations_per_s": batch / raw_s},
        "overhead": evaluator_s / raw_s - 1.0,
        "evaluator_mlp": {
            "evaluations_per_s": batch / mlp_s,
            "env_steps_per_s": mlp.env_steps / mlp_s,
            "env_steps": mlp.env_steps,
        },
        "gym_sync_vector": {"env_id": gym_id, "env_steps_per_s": batch * episode_length / gym_s},
    }
    (out_dir / f"qd_eval_{task}.json").write_text(json.dumps(results, indent=2))
    _print_throughput(console, results)
    return results


def _print_throughput(console: Console, results: dict[str, Any]) -> None:
    table = Table(
        title=f"QD evaluator, {results['task']}, batch {results['batch']}, {results['episode_length']} steps "
        f"on {results['cpu']}"
    )
    table.add_column("loop")
    table.add_column("env-steps/s", justify="right")
    table.add_column("evaluations/s", justify="right")
    for label, key in (
        ("raw simulator (same episodes)", "raw"),
        ("BatchEvaluator, open-loop actions", "evaluator"),
        ("BatchEvaluator, MLP policy", "evaluator_mlp"),
        (f"Gymnasium SyncVectorEnv ({results['gym_sync_vector']['env_id']})", "gym_sync_vector"),
    ):
        row = results[key]
        evals = row.get("evaluations_per_s")
        table.add_row(label, f"{row['env_steps_per_s']:,.0f}", f"{evals:,.2f}" if evals else "-")
    console.print(table)
    console.print(f"evaluator overhead over the raw simulator: {100 * results['overhead']:.1f} %")


@benchmark("qd")
def qd_command(
    task: Annotated[
        str, typer.Option(help="pointmaze, or a MuJoCo task such as walker2d_uni.")
    ] = "pointmaze",
    evals: Annotated[
        list[int],
        typer.Option(min=1, help="Budgets (evaluations per algorithm and seed) to compare at; repeatable."),
    ] = [2000, 4000],  # noqa: B006 (typer reads the default, nothing mutates it)
    seeds: Seeds = "10-19",
    episode_length: Annotated[
        int | None, typer.Option(min=1, help="Steps per episode (default: the task's literature length).")
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the results JSON here.")] = None,
    throughput: Annotated[
        bool, typer.Option(help="Also time the batched evaluator against the bare simulator loop.")
    ] = True,
    batch: Annotated[int, typer.Option(min=1, help="Policies per batch for the throughput part.")] = 128,
    out: BenchOut = Path("results/bench"),
) -> None:
    """Quality diversity: MAP-Elites, PGA-ME and DCG-ME at equal evaluations (final QD-score, coverage and max
    fitness per seed, QD-score curves in one plot), then the batched evaluator's evaluations/s against the
    bare simulator loop (raw MuJoCo steps) and a Gymnasium vector env on the same task.

    Example: [bold]arena bench qd --seeds 20-39 --evals 2000 --evals 4000[/]
    """
    check_qd_task(task)
    try:
        run_qd_bench(
            task=task,
            evals=evals,
            seeds=seeds,
            json_out=json_out,
            out_dir=out,
            console=output.console,
            episode_length=episode_length,
        )
        if throughput:
            run_qd_eval_bench(
                task=task,
                batch=batch,
                out_dir=out,
                console=output.console,
                episode_length=episode_length or 200,
            )
    except ValueError as error:
        output.fail(str(error))
