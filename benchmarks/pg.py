"""``arena bench pg``: our PPO on the batched env against Stable-Baselines3's PPO, same env, same budget.

In one run: our PPO on the id's batched env (torch tensors on the device, no numpy round trip per step when
the env has a torch ``vector_entry_point``) and SB3's PPO on 8 copies of the single env in a
``DummyVecEnv``, both for ``steps`` env steps. Both make identical PPO updates: the same samples per update
(``batch``; ours collects them as ``num_envs`` envs x ``batch / num_envs`` steps, SB3 as 8 envs x
``batch / 8`` steps), minibatches, epochs, learning rate (annealed to 0), gamma, lambda, clip ranges,
entropy coefficient and network. Measured: training steps per second (both with the same torch intra-op
threads) and the training wall time until the return (mean of the last 100 episodes) first reaches the
threshold. Both sides run once per seed of ``--seeds``; per seed pair the bench compares (with
:func:`agents.stats.paired_comparison`) the throughput, the training return at half the budget and at the
whole budget (read from the same runs' curves), and the time to the threshold where both reached it.
Printed with the device; written to ``pg_<env>.json`` and a learning-curve ``pg_<env>.png`` (the first seed)
in ``out_dir``.
"""

from __future__ import annotations

import json
import math
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import torch
import typer
from rich.console import Console
from rich.table import Table

from agents.stats import paired_comparison
from arena.cli import output
from benchmarks import EVALUATION_SEEDS, BenchOut, Seeds, benchmark, seeds_text

# Per env: our batch of envs, the PPO update both sides share, env kwargs and the return threshold.
BENCH: dict[str, dict[str, Any]] = {
    "CartPole-v1": {
        "num_envs": 64,
        "batch": 2048,
        "ppo": dict(
            num_minibatches=4, update_epochs=10, gamma=0.98, gae_lambda=0.8, ent_coef=0.0, learning_rate=1e-3
        ),
        "env_kwargs": {},
        "threshold": 200.0,  # mean of the last 100 training episodes (475 counts as solved)
    },
    "arena/DCMotorCurrent-v0": {
        "num_envs": 256,
        "batch": 2048,
        "ppo": dict(
            num_minibatches=4,
            update_epochs=10,
            gamma=0.99,
            gae_lambda=0.95,
            ent_coef=0.0,
            learning_rate=1e-3,
            log_std_init=-0.5,
        ),
        # 20 ms episodes (one reference step each) without termination at the current limit; the threshold is
        # on the training (stochastic) episodes' return: random play scores about -1,900.
        "env_kwargs": {"terminate_on_limit": False, "max_episode_steps": 200},
        "threshold": -20.0,
    },
}
SB3_ENVS = 8


def run_pg_bench(
    env_id: str,
    *,
    steps: int,
    seeds: Sequence[int] = EVALUATION_SEEDS,
    device: str = "auto",
    out_dir: Path = Path("results/bench"),
    console: Console | None = None,
) -> dict[str, Any]:
    """Train both PPOs for ``steps`` env steps on ``env_id`` once per seed; print and write the comparison."""
    from benchmarks._machine import device_name
    from envs._core.torch_vector import resolve_device

    if env_id not in BENCH:
        raise ValueError(f"env_id={env_id!r} has no benchmark settings; known: {', '.join(BENCH)}")
    if len(seeds) < 2:
        raise ValueError(f"seeds: a paired comparison needs at least 2 seeds, got {len(seeds)}")
    console = console or Console()
    setting = BENCH[env_id]
    torch_device = resolve_device(device)
    console.print(
        f"[bold]arena bench pg[/] {env_id}: {steps} steps per side and seed, seeds {seeds_text(seeds)}, "
        f"on {device_name(torch_device)}"
    )
    runs = []
    for seed in seeds:
        ours = _ours(env_id, setting, steps, torch_device, seed)
        sb3 = _sb3(env_id, setting, steps, torch_device, seed)
        console.print(
            f"  seed {seed}: ours {ours['steps_per_s']:.0f} steps/s, SB3 {sb3['steps_per_s']:.0f} steps/s"
        )
        runs.append({"seed": seed, "ours": ours, "sb3": sb3})
    results = {
        "env_id": env_id,
        "steps": steps,
        "seeds": list(seeds),
        "device": str(torch_device),
        "device_name": device_name(torch_device),
        "threshold": setting["threshold"],
        "runs": runs,
        "comparisons": _comparisons(runs, steps),
    }
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"pg_{env_id.replace('/', '_')}"
    (out_dir / f"{stem}.json").write_text(json.dumps(results, indent=2) + "\n")
    _plot(results, out_dir / f"{stem}.png")
    _print(console, results)
    return results


def _comparisons(runs: list[dict], steps: int) -> dict[str, dict]:
    """Ours against SB3, paired by seed: throughput, training return at half and at all of the budget, and
    time to the threshold over the seeds where both reached it (with how many did). Each comparison holds
    :meth:`PairedComparison.as_dict` and its ``summary`` line."""

    def compare(score, higher_is_better: bool = True, among: list[dict] = runs) -> dict:
        comparison = paired_comparison(
            [score(run["ours"]) for run in among],
            [score(run["sb3"]) for run in among],
            higher_is_better=higher_is_better,
        )
        return {"summary": comparison.summary("ours", "SB3"), **comparison.as_dict()}

    comparisons = {"steps_per_s": compare(lambda side: side["steps_per_s"])}
    for budget in (steps // 2, steps):
        comparisons[f"return_at_{budget}_steps"] = compare(
            lambda side, budget=budget: _return_at(side, budget)
        )
    timing = {
        name: sum(run[name]["time_to_threshold_s"] is not None for run in runs) for name in ("ours", "sb3")
    }
    both = [
        run
        for run in runs
        if None not in (run["ours"]["time_to_threshold_s"], run["sb3"]["time_to_threshold_s"])
    ]
    if len(both) >= 2:
        timing |= compare(lambda side: side["time_to_threshold_s"], higher_is_better=False, among=both)
    comparisons["time_to_threshold_s"] = timing
    return comparisons


def _return_at(run: dict, step: int) -> float:
    """The training return (mean of the last 100 episodes) at the last curve point not past ``step``."""
    returns = [
        point["return"] for point in run["curve"] if point["step"] <= step and not math.isnan(point["return"])
    ]
    if not returns:
        raise ValueError(f"steps: no training episode ended within {step} steps; give more steps")
    return returns[-1]


def _ours(env_id: str, setting: dict, steps: int, device: torch.device, seed: int) -> dict[str, Any]:
    from agents.pg import ppo
    from agents.pg.trainer import Learner

    num_envs = setting["num_envs"]
    config = ppo.PPOConfig(num_envs=num_envs, num_steps=setting["batch"] // num_envs, **setting["ppo"])
    learner = Learner(
        "ppo",
        ppo.update,
        env_id,
        config,
        total_steps=steps,
        seed=seed,
        device=device,
        env_kwargs=setting["env_kwargs"],
    )
    try:
        recent: deque[tuple[float, float]] = deque()  # (mean return, episodes) of recent updates
        curve = []
        for row in learner.train():
            if not math.isnan(row["charts/episodic_return"]):
                recent.append((row["charts/episodic_return"], row["charts/episodes"]))
                while sum(n for _, n in recent) - recent[0][1] >= 100:
                    recent.popleft()
            curve.append((row["global_step"], row["charts/time_s"], _weighted(recent)))
        return _summary(
            curve, learner.train_time_s, learner.global_step, setting["threshold"], config.num_envs
        )
    finally:
        learner.close()


def _sb3(env_id: str, setting: dict, steps: int, device: torch.device, seed: int) -> dict[str, Any]:
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import DummyVecEnv

    import envs  # noqa: F401  (registers our ids)
    from agents.pg.trainer import torch_threads

    shared = setting["ppo"]
    env = make_vec_env(
        env_id, n_envs=SB3_ENVS, seed=seed, vec_env_cls=DummyVecEnv, env_kwargs=setting["env_kwargs"]
    )
    model = PPO(
        "MlpPolicy",
        env,
        n_steps=setting["batch"] // SB3_ENVS,
        batch_size=setting["batch"] // shared["num_minibatches"],
        n_epochs=shared["update_epochs"],
        learning_rate=lambda fraction: shared["learning_rate"] * fraction,  # annealed to 0, as ours
        gamma=shared["gamma"],
        gae_lambda=shared["gae_lambda"],
        ent_coef=shared["ent_coef"],
        clip_range=0.2,
        clip_range_vf=0.2,
        max_grad_norm=0.5,
        policy_kwargs=dict(
            net_arch=dict(pi=[64, 64], vf=[64, 64]),
            activation_fn=torch.nn.Tanh,
            log_std_init=shared.get("log_std_init", 0.0),
        ),
        seed=seed,
        device=device,
    )
    curve: list[tuple[int, float, float]] = []

    class Curve(BaseCallback):
        def _on_training_start(self) -> None:
            self.start = time.perf_counter()

        def _on_rollout_end(self) -> None:
            returns = [info["r"] for info in self.model.ep_info_buffer]
            mean = sum(returns) / len(returns) if returns else math.nan
            curve.append((self.num_timesteps, time.perf_counter() - self.start, mean))

        def _on_step(self) -> bool:
            return True

    start = time.perf_counter()
    with torch_threads(None):  # the same intra-op threads as ours
        model.learn(total_timesteps=steps, callback=Curve())
    wall = time.perf_counter() - start
    env.close()
    return _summary(curve, wall, model.num_timesteps, setting["threshold"], SB3_ENVS)


def _weighted(recent) -> float:
    episodes = sum(n for _, n in recent)
    return sum(r * n for r, n in recent) / episodes if episodes else math.nan


def _summary(curve, wall_s: float, steps: int, threshold: float, num_envs: int) -> dict[str, Any]:
    reached = next(((s, t) for s, t, r in curve if not math.isnan(r) and r >= threshold), None)
    return {
        "num_envs": num_envs,
        "steps": steps,
        "wall_s": wall_s,
        "steps_per_s": steps / wall_s,
        "steps_to_threshold": reached[0] if reached else None,
        "time_to_threshold_s": reached[1] if reached else None,
        "final_return": curve[-1][2] if curve else math.nan,
        "curve": [{"step": s, "time_s": t, "return": r} for s, t, r in curve],
    }


def _plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    first = results["runs"][0]
    for side, label in (("ours", "ours (batched)"), ("sb3", f"SB3 PPO ({SB3_ENVS} envs, DummyVecEnv)")):
        points = [p for p in first[side]["curve"] if not math.isnan(p["return"])]
        axes[0].plot([p["step"] for p in points], [p["return"] for p in points], label=label)
        axes[1].plot([p["time_s"] for p in points], [p["return"] for p in points], label=label)
    for axis, xlabel in zip(axes, ("env steps", "training wall time (s)"), strict=True):
        axis.axhline(results["threshold"], color="grey", linestyle=":", label="threshold")
        axis.set_xlabel(xlabel)
        axis.set_ylabel("mean return (last 100 episodes)")
        axis.legend()
    axes[1].set_xscale("log")
    fig.suptitle(f"PPO on {results['env_id']}, seed {first['seed']} ({results['device_name']})")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _print(console: Console, results: dict) -> None:
    table = Table(
        title=f"PPO on {results['env_id']}, {results['steps']} steps, seeds {seeds_text(results['seeds'])}, "
        f"{results['device_name']}"
    )
    for column in ("", "steps/s", "wall (s)", "time to threshold (s)", "final return"):
        table.add_column(column, justify="right")
    for run in results["runs"]:
        for side, label in (("ours", "ours"), ("sb3", "SB3")):
            r = run[side]
            to_threshold = "-" if r["time_to_threshold_s"] is None else f"{r['time_to_threshold_s']:.1f}"
            table.add_row(
                f"seed {run['seed']} {label}",
                f"{r['steps_per_s']:.0f}",
                f"{r['wall_s']:.1f}",
                to_threshold,
                f"{r['final_return']:.1f}",
            )
    console.print(table)
    for name, comparison in results["comparisons"].items():
        if "wins" in comparison:
            console.print(f"{name}: {comparison['summary']}")
    timing = results["comparisons"]["time_to_threshold_s"]
    console.print(
        f"threshold {results['threshold']} reached by ours on {timing['ours']} and SB3 on "
        f"{timing['sb3']} of {len(results['runs'])} seeds; device {results['device']} "
        f"({results['device_name']})"
    )


@benchmark("pg")
def pg_command(
    env_id: Annotated[str, typer.Argument(help="CartPole-v1 or arena/DCMotorCurrent-v0.")] = "CartPole-v1",
    steps: Annotated[int, typer.Option(min=1000, help="Training steps for each side.")] = 150_000,
    device: Annotated[str, typer.Option(help="'cpu', 'cuda' or 'auto'.")] = "auto",
    seeds: Seeds = "10-19",
    out: BenchOut = Path("results/bench"),
) -> None:
    """Our PPO on the batched env against Stable-Baselines3's PPO (8 envs) with identical updates: training
    steps/s and wall time to a return threshold, with a learning-curve plot.

    Example: [bold]arena bench pg CartPole-v1 --steps 150000 --seeds 10-19[/]
    """
    try:
        run_pg_bench(env_id, steps=steps, seeds=seeds, device=device, out_dir=out, console=output.console)
    except ValueError as error:
        output.fail(str(error))
