"""``arena bench iot``: how fast the IoT scheduling env decides, and how every scheduler does on it.

Measured in one run, on one CPU core: decisions/s of ``arena/IoTScheduling-v0`` (default cluster) driven by
minimum completion time and by a PG policy (the one in ``policy_dir``, or an untrained network of the
learner's default shape: the speed does not depend on the weights), best of three timing windows; then
every ``iot/*`` scheduler (and ``iot/pg_aco`` where ``policy_dir``'s policy fits the cluster) on the
scenarios of :data:`SCENARIOS`, one episode per seed of ``--seeds`` (default 10-19): mean and p99 response
time (s), mean power (W), energy per task (J), SLA misses per 1000 tasks, cluster utilisation, each averaged
over the seeds. Per scenario, the scheduler with the lowest mean response time is compared with every other
one, paired by seed on the episode's mean response time (:func:`agents.stats.paired_comparison`: wins out of
the seeds, sign test and Wilcoxon p, mean difference with its 95 % t interval). Writes ``iot.json`` (with the
per-seed values and the comparisons), ``iot.csv`` and ``iot_energy_latency.png`` (mean power against mean
response time, one point per scheduler and scenario).

Measured with the defaults (1000 tasks, seeds 10-19) on an Intel Xeon with 2 logical cores shared with other
work (load about 7): 4,190 decisions/s under MCT, 1,272 under the PG policy. Best mean response per scenario,
and how it fares against the others, paired by seed (sign test p / Wilcoxon p):

* heterogeneous: ``least_loaded`` 0.848 s, not told apart from ``heft``, ``mct``, ``min_min`` and ``max_min``
  (identical decisions here, 0.851 s: better on 5/10 seeds, p = 1 / 0.56) nor clearly from ``aco`` (0.870 s:
  7/10, p = 0.34 / 0.027); better than each of the others on 10/10 seeds (p = 0.002 / 0.002).
* edge_fog_cloud: ``heft`` = ``mct`` = ``min_min`` = ``max_min`` 0.650 s (identical on every seed); better
  than ``aco`` (0.667 s) on 9/10 seeds (p = 0.021 / 0.0039) and than the rest on 10/10.
* bursty_pareto: ``aco`` 1.987 s, a tie with ``heft``/``mct``/``min_min``/``max_min`` (1.988 s: 4/10,
  p = 0.75 / 0.92); better than ``least_work_left`` and ``least_loaded`` on 8/10 seeds (p = 0.11 / 0.084 and
  0.049), ``edf`` and ``sjf`` on 9/10, the rest on 10/10.
* dag: ``mct`` 1.065 s, better than ``min_min`` (1.080 s) on 9/10 seeds (p = 0.021 / 0.0039), ``aco``
  (1.090 s) on 8/10 (p = 0.11 / 0.014), ``heft`` (1.099 s) and the rest on 10/10 (p = 0.002 / 0.002).
"""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path
from typing import Annotated, Any

import gymnasium as gym
import numpy as np
import torch
import typer
from rich.console import Console
from rich.table import Table

from agents.stats import paired_comparison
from agents.trained import SHIPPED
from arena.cli import output
from arena.episodes import play_episodes
from benchmarks import BenchOut, Seeds, benchmark, parse_seeds, seeds_text
from benchmarks._machine import cpu_name

ENV_ID = "arena/IoTScheduling-v0"
SCENARIOS: dict[str, dict[str, Any]] = {
    "heterogeneous": {},
    "edge_fog_cloud": dict(
        network="standard",
        arrival_rate=14.7,
        mean_data_mb=0.5,
        private_fraction=0.2,
        max_task_memory_mb=400.0,
    ),
    "bursty_pareto": dict(arrival="mmpp", arrival_rate=5.6, task_size="pareto"),
    "dag": dict(network="standard", arrival_rate=12.6, job="dag", tasks_per_job=5, mean_data_mb=0.5),
}


def _pg_agent(env: gym.Env, policy_dir: str | Path | None):
    from agents.base import EnvSpaces
    from agents.pg.distributions import ActionKind
    from agents.pg.policy import ActorCritic, PolicyAgent, PolicyArch, load

    if policy_dir is not None:
        return load(EnvSpaces.of(env), agent_dir=str(policy_dir), deterministic=True)
    arch = PolicyArch(
        int(np.prod(env.observation_space.shape)), ActionKind.of(env.action_space), normalize_obs=True
    )
    policy = ActorCritic(arch, generator=torch.Generator().manual_seed(0))
    return PolicyAgent(policy, env.action_space, name="pg-untrained", deterministic=True)


def decisions_per_s(env: gym.Env, agent, decisions: int, seed: int = 0, windows: int = 3) -> float:
    """Env steps per second (agent's act included) over ``decisions`` steps: the best of ``windows``."""
    observation, info = env.reset(seed=seed)
    agent.reset(seed)
    best = 0.0
    for _ in range(windows):
        start = time.perf_counter()
        for _ in range(decisions // windows):
            observation, _, done, _, info = env.step(agent.act(observation, info))
            if done:
                observation, info = env.reset()
        best = max(best, (decisions // windows) / (time.perf_counter() - start))
    return best


def evaluate(env: gym.Env, agent, seeds) -> dict[str, list[float]]:
    """The metrics of one scheduler on ``env``, one episode per seed: metric -> its values in seed order."""
    rows = []

    def record(_, info: dict) -> None:
        response = info["response_times"]
        rows.append(
            {
                "mean_response_s": float(response.mean()),
                "p99_response_s": float(np.quantile(response, 0.99)),
                "mean_power_w": float(info["mean_power_w"]),
                "energy_per_task_j": float(info["energy_j"] / len(response)),
                "sla_misses_per_1000": 1000.0 * info["sla_misses"] / len(response),
                "utilisation": float(info["cluster_utilisation"]),
            }
        )

    for seed in seeds:
        play_episodes(env, agent, episodes=1, seed=seed, on_episode=record)
    return {key: [row[key] for row in rows] for key in rows[0]}


def compare_with_best(per_seed: dict[str, dict[str, list[float]]]) -> dict[str, Any]:
    """The scheduler with the lowest mean response time (averaged over the seeds) against each other one,
    paired by seed on the episode's mean response time (s; lower is better)."""
    responses = {name: metrics["mean_response_s"] for name, metrics in per_seed.items()}
    best = min(responses, key=lambda name: np.mean(responses[name]))
    against = {}
    for name, values in responses.items():
        if name != best:
            comparison = paired_comparison(responses[best], values, higher_is_better=False)
            against[name] = {**comparison.as_dict(), "summary": comparison.summary(best, name)}
    return {"best": best, "metric": "mean_response_s", "against": against}


def run_iot_bench(
    *,
    tasks: int = 1000,
    seeds="10-19",
    decisions: int = 30_000,
    policy_dir: str | Path | None = None,
    out_dir: Path = Path("results/bench"),
    console: Console | None = None,
) -> dict[str, Any]:
    """Time the env and compare every scheduler on ``seeds`` (e.g. ``"10-19"``; the comparisons need two or
    more), see the module docstring; print, write files, return."""
    import agents
    import envs  # noqa: F401  (registers the ids)
    from agents.registry import list_agents

    seeds = parse_seeds(seeds)
    console = console or Console()
    if tasks < 1 or not seeds or decisions < 3:
        raise ValueError(
            f"tasks must be >= 1, seeds not empty and decisions >= 3, got {tasks}, {seeds}, {decisions}"
        )
    torch.set_num_threads(1)
    env = gym.make(ENV_ID, num_tasks=tasks)
    results: dict[str, Any] = {
        "cpu": cpu_name(),
        "tasks": tasks,
        "seeds": list(seeds),
        "decisions_per_s": {
            "iot/mct": decisions_per_s(env, agents.make("iot/mct", env), decisions, seed=seeds[0]),
            "pg": decisions_per_s(env, _pg_agent(env, policy_dir), decisions, seed=seeds[0]),
        },
        "scenarios": {},
        "per_seed": {},
        "comparisons": {},
    }
    names = [r.name for r in list_agents("iot") if r.name != "iot/pg_aco" and r.name not in SHIPPED]
    for scenario, kwargs in SCENARIOS.items():
        env = gym.make(ENV_ID, num_tasks=tasks, **kwargs)
        roster = {name: agents.make(name, env) for name in names}
        if policy_dir is not None:
            try:
                roster["iot/pg_aco"] = agents.make("iot/pg_aco", env, agent_dir=str(policy_dir))
            except ValueError as error:  # a policy trained for another cluster's spaces
                console.print(f"[yellow]{scenario}: no iot/pg_aco ({error})[/yellow]")
        per_seed = {name: evaluate(env, agent, seeds) for name, agent in roster.items()}
        results["per_seed"][scenario] = per_seed
        results["scenarios"][scenario] = {
            name: {key: float(np.mean(values)) for key, values in metrics.items()}
            for name, metrics in per_seed.items()
        }
        if len(seeds) >= 2:
            results["comparisons"][scenario] = compare_with_best(per_seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "iot.json").write_text(json.dumps(results, indent=2) + "\n")
    _write_csv(results, out_dir / "iot.csv")
    _plot(results, out_dir / "iot_energy_latency.png")
    _print(results, console)
    return results


def _write_csv(results: dict[str, Any], path: Path) -> None:
    with path.open("w", newline="") as handle:
        writer = None
        for scenario, rows in results["scenarios"].items():
            for name, metrics in rows.items():
                if writer is None:
                    writer = csv.DictWriter(handle, ["scenario", "scheduler", *metrics])
                    writer.writeheader()
                writer.writerow({"scenario": scenario, "scheduler": name, **metrics})


def _plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scenarios = results["scenarios"]
    fig, axes = plt.subplots(1, len(scenarios), figsize=(5 * len(scenarios), 4.5))
    for ax, (scenario, rows) in zip(np.atleast_1d(axes), scenarios.items(), strict=True):
        for name, metrics in rows.items():
            ax.scatter(metrics["mean_response_s"], metrics["mean_power_w"])
            ax.annotate(
                name.removeprefix("iot/"), (metrics["mean_response_s"], metrics["mean_power_w"]), fontsize=7
            )
        ax.set_xscale("log")
        ax.set_xlabel("mean response time (s)")
        ax.set_ylabel("mean power (W)")
        ax.set_title(scenario)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _print(results: dict[str, Any], console: Console) -> None:
    speed = results["decisions_per_s"]
    console.print(
        f"IoT env on {results['cpu']}, one core: {speed['iot/mct']:,.0f} decisions/s under MCT, "
        f"{speed['pg']:,.0f} under the PG policy"
    )
    for scenario, rows in results["scenarios"].items():
        seeds = results["seeds"]
        comparison = results["comparisons"].get(scenario)
        table = Table(
            title=f"{scenario}: {results['tasks']} tasks x seeds {seeds_text(seeds)} (mean over the seeds)"
            + (f"; vs best: {comparison['best']} paired on mean response per seed" if comparison else "")
        )
        for column in (
            "scheduler",
            "mean resp (s)",
            "p99 resp (s)",
            "power (W)",
            "J/task",
            "SLA/1000",
            "util",
            *(("best wins", "sign p", "Wilcoxon p", "best - it (s) [95 % CI]") if comparison else ()),
        ):
            table.add_column(column, justify="left" if column == "scheduler" else "right", no_wrap=True)
        for name, m in sorted(rows.items(), key=lambda item: item[1]["mean_response_s"]):
            table.add_row(
                name,
                f"{m['mean_response_s']:.3f}",
                f"{m['p99_response_s']:.3f}",
                f"{m['mean_power_w']:.1f}",
                f"{m['energy_per_task_j']:.1f}",
                f"{m['sla_misses_per_1000']:.1f}",
                f"{m['utilisation']:.3f}",
                *(_versus_best(comparison, name, len(seeds)) if comparison else ()),
            )
        console.print(table)


def _versus_best(comparison: dict[str, Any], name: str, seeds: int) -> tuple[str, ...]:
    """The table cells of the best scheduler's paired comparison with ``name`` (blank for the best)."""
    if name == comparison["best"]:
        return ("best", "", "", "")
    c = comparison["against"][name]
    low, high = c["interval"]
    return (
        f"{c['wins']}/{seeds}" + (f" ({c['ties']} tied)" if c["ties"] else ""),
        f"{c['sign_test_p']:.2g}",
        f"{c['wilcoxon_p']:.2g}",
        f"{c['mean_difference']:+.3f} [{low:+.3f}, {high:+.3f}]",
    )


@benchmark("iot")
def iot_command(
    tasks: Annotated[int, typer.Option(min=10, help="Tasks per episode in the scheduler table.")] = 1000,
    seeds: Seeds = "10-19",
    decisions: Annotated[int, typer.Option(min=100, help="Decisions timed for decisions/s.")] = 30_000,
    policy: Annotated[Path | None, typer.Option(help="A trained PG scheduler package to include.")] = None,
    out: BenchOut = Path("results/bench"),
) -> None:
    """IoT scheduling: decisions/s under a heuristic and the PG policy, every scheduler on the standard
    scenarios (mean/p99 response, energy, SLA misses, utilisation) as CSV, and the energy-latency plot.

    Example: [bold]arena bench iot --seeds 10-19[/]
    """
    run_iot_bench(
        tasks=tasks, seeds=seeds, decisions=decisions, policy_dir=policy, out_dir=out, console=output.console
    )
