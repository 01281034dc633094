"""``arena bench pg``: time to solve a classic-control task, our PPO on tensors against Stable-Baselines3's.

Per seed of ``--seeds``, in one run, three learners train from scratch until the mean return of their last
100 training episodes reaches the task's threshold (CartPole-v1: 475, Gymnasium's reward threshold;
Pendulum-v1: -200):

- **ours**: PPO (:mod:`agents.pg`) on the id's batched torch simulator (``arena/CartPole-v1``, ...), rollout,
  update and env on the device, with the tuned preset of :mod:`agents.pg.presets`;
- **SB3 zoo**: Stable-Baselines3's PPO on Gymnasium's env with rl-baselines3-zoo's tuned hyperparameters
  (its ``ppo.yml``), for the zoo's number of steps;
- **SB3, same updates** (``--same-updates``): SB3's PPO making our preset's updates (samples per update,
  minibatches, epochs, learning rate, gamma, lambda, clipping, network), on 8 envs.

Time to solve is the wall time from building the learner (env and network; torch.compile included when the
preset compiles) to the end of the update after which the return first reached the threshold. Ours is
checked after each update, SB3 after each vector step. A learner that does not solve within ``--budget-s``
seconds, or within its steps (ours: the task's step budget, over which the preset anneals its learning rate;
SB3: the zoo's), is charged the budget, and the table says so. Per seed, the ratio is SB3's
time over ours; the bench reports the median ratio, and the paired comparison of the charged times
(:func:`agents.stats.paired_comparison`: wins, sign test and Wilcoxon signed-rank test). Printed with the
device; written to ``pg_<task>.json`` with every run's learning curve, and ``pg_<task>.png``.
"""

from __future__ import annotations

import json
import math
import statistics
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import torch
import typer
from rich.console import Console
from rich.table import Table

from agents.stats import paired_comparison
from arena.cli import output
from benchmarks import EVALUATION_SEEDS, BenchOut, Seeds, benchmark, seeds_text


@dataclass(frozen=True)
class Task:
    """One bench task: our env id, Gymnasium's, the threshold and the zoo's PPO settings for it."""

    ours: str
    gymnasium: str
    threshold: float
    zoo: dict[str, Any]  # SB3 PPO keyword arguments as the zoo's ppo.yml gives them, plus n_envs
    zoo_steps: int  # the zoo's n_timesteps
    ours_steps: int  # our step budget (at least MIN_UPDATES updates), over which our preset anneals its lr


def _linear(initial: float) -> Callable[[float], float]:
    """The zoo's ``lin_<initial>`` schedule: ``initial`` times the fraction of training left."""
    return lambda remaining: remaining * initial


# rl-baselines3-zoo, hyperparams/ppo.yml ("Tuned" entries).
TASKS: dict[str, Task] = {
    "CartPole-v1": Task(
        ours="arena/CartPole-v1",
        gymnasium="CartPole-v1",
        threshold=475.0,
        zoo=dict(
            n_envs=8,
            n_steps=32,
            batch_size=256,
            gae_lambda=0.8,
            gamma=0.98,
            n_epochs=20,
            ent_coef=0.0,
            learning_rate=_linear(1e-3),
            clip_range=_linear(0.2),
        ),
        zoo_steps=100_000,
        ours_steps=600_000,
    ),
    "Pendulum-v1": Task(
        ours="arena/Pendulum-v1",
        gymnasium="Pendulum-v1",
        threshold=-200.0,
        zoo=dict(
            n_envs=4,
            n_steps=1024,
            gae_lambda=0.95,
            gamma=0.9,
            n_epochs=10,
            ent_coef=0.0,
            learning_rate=1e-3,
            clip_range=0.2,
            use_sde=True,
            sde_sample_freq=4,
        ),
        zoo_steps=100_000,
        ours_steps=600_000,
    ),
}
SAME_UPDATES_ENVS = 8
MIN_UPDATES = 100  # ours may make at least this many updates, whatever its batch (--num-envs)
SIDES = {"ours": "ours", "zoo": "SB3 zoo", "same_updates": "SB3 same updates"}


def run_pg_bench(
    task_name: str,
    *,
    seeds: Sequence[int] = EVALUATION_SEEDS,
    budget_s: float = 120.0,
    device: str = "auto",
    num_envs: int | None = None,
    references: Sequence[str] = ("zoo", "same_updates"),
    out_dir: Path = Path("results/bench"),
    console: Console | None = None,
) -> dict[str, Any]:
    """Train each side once per seed until solved or out of budget; print and write the comparison."""
    from agents.pg import config_for
    from benchmarks._machine import device_name
    from envs._core.torch_vector import resolve_device

    if task_name not in TASKS:
        raise ValueError(f"task={task_name!r} has no benchmark settings; known: {', '.join(TASKS)}")
    unknown = sorted(set(references) - {"zoo", "same_updates"})
    if unknown:
        raise ValueError(f"references: {unknown} unknown; allowed: zoo, same_updates (or none)")
    if references and len(seeds) < 2:
        raise ValueError(f"seeds: a paired comparison needs at least 2 seeds, got {len(seeds)}")
    if not budget_s > 0:
        raise ValueError(f"budget_s must be > 0, got {budget_s}")
    # torch's optimisers import torch._dynamo when the first one is built (1-2 s, once per process): import it
    # now, so that no side's timing includes it.
    import torch._dynamo

    console = console or Console()
    task = TASKS[task_name]
    torch_device = resolve_device(device)
    overrides = {} if num_envs is None else {"num_envs": num_envs}
    config = config_for("ppo", task.ours, **overrides)
    sides = ["ours", *(side for side in ("zoo", "same_updates") if side in references)]
    per_update = config.num_envs * config.num_steps
    steps = max(task.ours_steps // per_update, MIN_UPDATES) * per_update  # our budget, in whole updates
    console.print(
        f"[bold]arena bench pg[/] {task_name}: time until the mean of the last 100 training returns "
        f"reaches {task.threshold:g}, budget {budget_s:g} s, seeds {seeds_text(seeds)}, "
        f"on {device_name(torch_device)}"
    )
    runs = []
    for seed in seeds:
        run = {"seed": seed, "ours": _ours(task, config, steps, seed, budget_s, torch_device)}
        if "zoo" in sides:
            run["zoo"] = _sb3(task, task.zoo, task.zoo_steps, seed, budget_s)
        if "same_updates" in sides:  # our step budget too, so that the learning rate anneals alike
            run["same_updates"] = _sb3(task, _same_updates(config), steps, seed, budget_s)
        console.print(
            f"  seed {seed}: "
            + ", ".join(f"{SIDES[side]} {_time_text(run[side], budget_s)}" for side in sides)
        )
        runs.append(run)
    results = {
        "task": task_name,
        "env_ids": {"ours": task.ours, "sb3": task.gymnasium},
        "threshold": task.threshold,
        "budget_s": budget_s,
        "step_budgets": {"ours": steps, "zoo": task.zoo_steps, "same_updates": steps},
        "seeds": list(seeds),
        "device": str(torch_device),
        "device_name": device_name(torch_device),
        "torch_threads": torch.get_num_threads(),
        "ours_config": {k: v for k, v in config.as_dict().items() if not callable(v)},
        "runs": runs,
        "comparisons": {side: _compare(runs, side, budget_s) for side in sides[1:]},
    }
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"pg_{task_name.replace('/', '_')}"
    (out_dir / f"{stem}.json").write_text(json.dumps(results, indent=2) + "\n")
    _plot(results, sides, out_dir / f"{stem}.png")
    _print(console, results, sides)
    return results


def charged_time(side: dict, budget_s: float) -> float:
    """A run's time to solve, or the budget where it did not solve."""
    return budget_s if side["time_to_solve_s"] is None else side["time_to_solve_s"]


def _compare(runs: list[dict], reference: str, budget_s: float) -> dict[str, Any]:
    """Ours against ``reference``, paired by seed on the charged times to solve (lower is better): the
    per-seed ratios (reference over ours), their median, how many each solved, and the paired tests."""
    ours = [charged_time(run["ours"], budget_s) for run in runs]
    theirs = [charged_time(run[reference], budget_s) for run in runs]
    ratios = [t / o for o, t in zip(ours, theirs, strict=True)]
    comparison = paired_comparison(ours, theirs, higher_is_better=False)
    return {
        "ratios": ratios,
        "median_ratio": statistics.median(ratios),
        "solved": {
            "ours": sum(run["ours"]["time_to_solve_s"] is not None for run in runs),
            reference: sum(run[reference]["time_to_solve_s"] is not None for run in runs),
        },
        "summary": comparison.summary("ours", SIDES[reference]),
        **comparison.as_dict(),
    }


class _Solved:
    """The mean of the last 100 finished training episodes, and the first time it reached a threshold."""

    def __init__(self, threshold: float):
        self.threshold = threshold
        self.returns: deque[float] = deque(maxlen=100)

    def add(self, returns: Sequence[float]) -> bool:
        self.returns.extend(returns)
        return len(self.returns) == 100 and self.mean() >= self.threshold

    def mean(self) -> float:
        return sum(self.returns) / len(self.returns) if self.returns else math.nan


def _ours(task: Task, config, steps: int, seed: int, budget_s: float, device: torch.device) -> dict[str, Any]:
    from agents.pg import Learner, ppo

    start = time.perf_counter()
    learner = Learner("ppo", ppo.update, task.ours, config, total_steps=steps, seed=seed, device=device)
    solved, curve, solve_time = _Solved(task.threshold), [], None
    try:
        while time.perf_counter() - start < budget_s and learner.global_step < steps:
            learner.train(learner.steps_per_update)
            reached = solved.add(learner.rollout.finished_episodes()[0])
            elapsed = time.perf_counter() - start
            curve.append((learner.global_step, elapsed, solved.mean()))
            if reached:
                solve_time = elapsed
                break
        if not curve:  # out of time before the first update ended
            curve.append((0, time.perf_counter() - start, math.nan))
        summary = _summary(curve, learner.global_step, solve_time, config.num_envs)
        # Collection and updates alone: the loop's throughput, without building the env and the network.
        training = learner.global_step / learner.train_time_s if learner.train_time_s else math.nan
        return summary | {"train_steps_per_s": training}
    finally:
        learner.close()


def _same_updates(config) -> dict[str, Any]:
    """SB3 PPO keyword arguments making our ``config``'s updates, on ``SAME_UPDATES_ENVS`` envs."""
    batch = config.num_envs * config.num_steps
    learning_rate = _linear(config.learning_rate) if config.anneal_lr else config.learning_rate
    return dict(
        n_envs=SAME_UPDATES_ENVS,
        n_steps=batch // SAME_UPDATES_ENVS,
        batch_size=batch // config.num_minibatches,
        n_epochs=config.update_epochs,
        learning_rate=learning_rate,
        gamma=config.gamma,
        gae_lambda=config.gae_lambda,
        ent_coef=config.ent_coef,
        vf_coef=config.vf_coef,
        clip_range=config.clip_coef,
        clip_range_vf=config.clip_coef if config.clip_vloss else None,
        max_grad_norm=config.max_grad_norm,
        target_kl=config.target_kl,
        normalize=dict(norm_obs=config.normalize_obs, norm_reward=config.normalize_reward),
        policy_kwargs=dict(
            net_arch=dict(pi=list(config.hidden), vf=list(config.hidden)),
            activation_fn={"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU}[config.activation],
            log_std_init=config.log_std_init,
        ),
    )


def _sb3(task: Task, settings: dict, steps: int, seed: int, budget_s: float) -> dict[str, Any]:
    """SB3's PPO on the CPU (where its MLP policies run fastest, as its documentation advises)."""
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

    from agents.pg import torch_threads

    settings = dict(settings)
    n_envs, normalize = settings.pop("n_envs"), settings.pop("normalize", None)
    start = time.perf_counter()
    env = make_vec_env(task.gymnasium, n_envs=n_envs, seed=seed, vec_env_cls=DummyVecEnv)
    if normalize and any(normalize.values()):
        env = VecNormalize(env, gamma=settings["gamma"], **normalize)
    model = PPO("MlpPolicy", env, seed=seed, device="cpu", **settings)
    solved, curve, solve_time = _Solved(task.threshold), [], []

    class Watch(BaseCallback):
        """Stops training when solved or out of time, and records the curve after each rollout."""

        def _on_step(self) -> bool:
            infos = [info["episode"]["r"] for info in self.locals["infos"] if "episode" in info]
            if infos and solved.add(infos):
                solve_time.append(time.perf_counter() - start)
                return False
            return time.perf_counter() - start < budget_s

        def _on_rollout_end(self) -> None:
            curve.append((self.num_timesteps, time.perf_counter() - start, solved.mean()))

    try:
        with torch_threads(None):  # the same intra-op threads as ours
            model.learn(total_timesteps=steps, callback=Watch())
        curve.append((model.num_timesteps, time.perf_counter() - start, solved.mean()))
        return _summary(curve, model.num_timesteps, solve_time[0] if solve_time else None, n_envs)
    finally:
        env.close()


def _summary(curve, steps: int, solve_time: float | None, num_envs: int) -> dict[str, Any]:
    """A run's figures from its curve (never empty: its last point is where it stopped); ``steps_per_s``
    counts the whole wall time, building and updates included."""
    wall = curve[-1][1]
    return {
        "num_envs": num_envs,
        "steps": steps,
        "wall_s": wall,
        "steps_per_s": steps / wall,
        "time_to_solve_s": solve_time,
        "final_return": curve[-1][2],
        "curve": [{"step": s, "time_s": t, "return": r} for s, t, r in curve],
    }


def _time_text(side: dict, budget_s: float) -> str:
    if side["time_to_solve_s"] is None:
        return f"not solved (charged {budget_s:g} s)"
    return f"{side['time_to_solve_s']:.1f} s"


def _plot(results: dict, sides: list[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    colours = dict(zip(sides, ("tab:blue", "tab:orange", "tab:green"), strict=False))
    for run in results["runs"]:
        for side in sides:
            points = [p for p in run[side]["curve"] if not math.isnan(p["return"])]
            label = SIDES[side] if run is results["runs"][0] else None
            style = dict(color=colours[side], alpha=0.6, label=label)
            axes[0].plot([p["step"] for p in points], [p["return"] for p in points], **style)
            axes[1].plot([p["time_s"] for p in points], [p["return"] for p in points], **style)
    for axis, xlabel in zip(axes, ("env steps", "wall time (s)"), strict=True):
        axis.axhline(results["threshold"], color="grey", linestyle=":", label="threshold")
        axis.set_xlabel(xlabel)
        axis.set_ylabel("mean return (last 100 training episodes)")
        axis.set_xscale("log")
    axes[0].legend()
    fig.suptitle(f"PPO on {results['task']}, seeds {seeds_text(results['seeds'])} ({results['device_name']})")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _print(console: Console, results: dict, sides: list[str]) -> None:
    budget = results["budget_s"]
    table = Table(
        title=f"Time to solve {results['task']} (return {results['threshold']:g}), seconds; "
        f"{results['device_name']}, {results['torch_threads']} torch thread(s)"
    )
    table.add_column("seed", justify="right")
    for side in sides:
        table.add_column(SIDES[side], justify="right")
        table.add_column("steps/s", justify="right")
    for run in results["runs"]:
        cells = [str(run["seed"])]
        for side in sides:
            cells += [_time_text(run[side], budget), f"{run[side]['steps_per_s']:.0f}"]
        table.add_row(*cells)
    console.print(table)
    for reference, comparison in results["comparisons"].items():
        solved = comparison["solved"]
        console.print(
            f"ours vs {SIDES[reference]}: median ratio {comparison['median_ratio']:.1f}x; solved: ours "
            f"{solved['ours']}, {SIDES[reference]} {solved[reference]} of {len(results['runs'])}; "
            f"{comparison['summary']}"
        )
    console.print(f"device {results['device']} ({results['device_name']})")


@benchmark("pg")
def pg_command(
    task: Annotated[str, typer.Argument(help="CartPole-v1 or Pendulum-v1.")] = "CartPole-v1",
    budget_s: Annotated[
        float, typer.Option(min=1, help="Seconds each learner may train; unsolved runs are charged this.")
    ] = 120.0,
    device: Annotated[
        str, typer.Option(help="Ours: 'cpu', 'cuda' or 'auto' (SB3 runs on the CPU).")
    ] = "auto",
    num_envs: Annotated[
        int | None, typer.Option(min=1, help="Our batch of envs (default: the preset's).")
    ] = None,
    references: Annotated[
        str,
        typer.Option(help="SB3 sides to run: 'zoo' (its tuned settings), 'same_updates' (ours), or 'none'."),
    ] = "zoo,same_updates",
    seeds: Seeds = "10-19",
    out: BenchOut = Path("results/bench"),
) -> None:
    """Time to solve a classic-control task: our PPO on the batched torch simulator against
    Stable-Baselines3's PPO with the zoo's hyperparameters (and with our updates), paired by seed.

    Example: [bold]arena bench pg CartPole-v1 --seeds 10-19 --budget-s 120[/]; on a GPU, ours alone at 16k
    envs: [bold]arena bench pg CartPole-v1 --device cuda --num-envs 16384 --references none[/]
    """
    try:
        run_pg_bench(
            task,
            seeds=seeds,
            budget_s=budget_s,
            device=device,
            num_envs=num_envs,
            references=[]
            if references == "none"
            else [r.strip() for r in references.split(",") if r.strip()],
            out_dir=out,
            console=output.console,
        )
    except ValueError as error:
        output.fail(str(error))
