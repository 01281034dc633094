"""``arena bench iot``: how fast the IoT scheduling env decides, and how every scheduler does on it.

Measured in one run, on one CPU core: decisions/s of ``arena/IoTScheduling-v0`` (default cluster) driven by
minimum completion time and by a PG policy (the one in ``policy_dir``, or an untrained network of the
learner's default shape: the speed does not depend on the weights), best of three timing windows; then
every ``iot/*`` scheduler (and ``iot/pg_aco`` where ``policy_dir``'s policy fits the cluster) on the
scenarios of :data:`SCENARIOS` over ``seeds`` episodes: mean and p99 response time (s), mean power (W),
energy per task (J), SLA misses per 1000 tasks, cluster utilisation. Writes ``iot.json``, ``iot.csv`` and
``iot_energy_latency.png`` (mean power against mean response time, one point per scheduler and scenario).
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

from arena.cli import output
from arena.episodes import play_episodes
from benchmarks import BenchOut, benchmark
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


def evaluate(env: gym.Env, agent, seeds: range) -> dict[str, float]:
    """The metrics of one scheduler on ``env``, averaged over one episode per seed (consecutive seeds)."""
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

    play_episodes(env, agent, episodes=len(seeds), seed=seeds[0], on_episode=record)
    return {key: float(np.mean([r[key] for r in rows])) for key in rows[0]}


def run_iot_bench(
    *,
    tasks: int = 1000,
    seeds: int = 3,
    decisions: int = 30_000,
    policy_dir: str | Path | None = None,
    out_dir: Path = Path("results/bench"),
    console: Console | None = None,
) -> dict[str, Any]:
    """Time the env and compare every scheduler (see the module docstring); print, write files, return."""
    import agents
    import envs  # noqa: F401  (registers the ids)
    from agents.registry import list_agents

    console = console or Console()
    if tasks < 1 or seeds < 1 or decisions < 3:
        raise ValueError(
            f"tasks and seeds must be >= 1 and decisions >= 3, got {tasks}, {seeds}, {decisions}"
        )
    torch.set_num_threads(1)
    env = gym.make(ENV_ID, num_tasks=tasks)
    results: dict[str, Any] = {
        "cpu": cpu_name(),
        "tasks": tasks,
        "seeds": seeds,
        "decisions_per_s": {
            "iot/mct": decisions_per_s(env, agents.make("iot/mct", env), decisions),
            "pg": decisions_per_s(env, _pg_agent(env, policy_dir), decisions),
        },
        "scenarios": {},
    }
    names = [r.name for r in list_agents("iot") if r.name != "iot/pg_aco"]
    for scenario, kwargs in SCENARIOS.items():
        env = gym.make(ENV_ID, num_tasks=tasks, **kwargs)
        roster = {name: agents.make(name, env) for name in names}
        if policy_dir is not None:
            try:
                roster["iot/pg_aco"] = agents.make("iot/pg_aco", env, agent_dir=str(policy_dir))
            except ValueError as error:  # a policy trained for another cluster's spaces
                console.print(f"[yellow]{scenario}: no iot/pg_aco ({error})[/yellow]")
        results["scenarios"][scenario] = {
            name: evaluate(env, agent, range(seeds)) for name, agent in roster.items()
        }
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
        table = Table(title=f"{scenario}: {results['tasks']} tasks x {results['seeds']} seeds")
        for column in (
            "scheduler",
            "mean resp (s)",
            "p99 resp (s)",
            "power (W)",
            "J/task",
            "SLA/1000",
            "util",
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
            )
        console.print(table)


@benchmark("iot")
def iot_command(
    tasks: Annotated[int, typer.Option(min=10, help="Tasks per episode in the scheduler table.")] = 1000,
    seeds: Annotated[int, typer.Option(min=1, help="Seeds per scheduler and scenario.")] = 3,
    decisions: Annotated[int, typer.Option(min=100, help="Decisions timed for decisions/s.")] = 30_000,
    policy: Annotated[Path | None, typer.Option(help="A trained PG scheduler package to include.")] = None,
    out: BenchOut = Path("results/bench"),
) -> None:
    """IoT scheduling: decisions/s under a heuristic and the PG policy, every scheduler on the standard
    scenarios (mean/p99 response, energy, SLA misses, utilisation) as CSV, and the energy-latency plot.

    Example: [bold]arena bench iot --seeds 3[/]
    """
    run_iot_bench(
        tasks=tasks, seeds=seeds, decisions=decisions, policy_dir=policy, out_dir=out, console=output.console
    )
