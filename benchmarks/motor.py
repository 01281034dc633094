"""``arena bench motor``: the motor simulator's speed, single and batched, against gym-electric-motor.

One experiment throughout: GEM's default permanently excited DC motor on a continuous 4-quadrant converter
(60 V, tau = 1e-4 s) against a viscous load (b = 0.05 N m s, j_load = 1e-4 kg m^2), driven by the same
small, varying duty cycle. Measured in one run: our single env's steps per second, the batched torch env's
env-steps per second at each batch size on the chosen device, and, when ``gym_electric_motor`` imports
(an optional extra), GEM's single env and how far its trajectory is from ours for the same voltages.
Writes ``motor.json`` (the numbers) and ``motor_step_response.png`` (a PI-controlled speed step) to out_dir.
"""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import torch
import typer
from rich.console import Console
from rich.table import Table

from arena.cli import output
from benchmarks import BenchOut, benchmark
from benchmarks._machine import device_name

EXPERIMENT = {"motor": "permanent", "converter": "cont_4qc", "load_params": {"b": 0.05, "j_load": 1e-4}}


def _duty(steps: int) -> np.ndarray:
    """The benchmark's duty cycle: small enough never to reach the current limit, varying every step."""
    k = np.arange(steps)
    return (0.02 + 0.01 * np.sin(k / 40.0)).astype(np.float32)


def _best_rate(step, steps: int, items: int, device: torch.device, windows: int = 3) -> float:
    """Items per second of ``step(k)`` for k in range(steps): the best of ``windows`` consecutive timing
    windows, so that other processes on a busy machine disturb the result less."""
    best, bounds = 0.0, np.linspace(0, steps, windows + 1).astype(int)
    for low, high in itertools.pairwise(bounds):
        if high == low:
            continue
        _synchronize(device)
        start = time.perf_counter()
        for k in range(low, high):
            step(k)
        _synchronize(device)
        best = max(best, items * (high - low) / (time.perf_counter() - start))
    return best


def _single_env_rate(steps: int) -> tuple[float, dict[str, np.ndarray]]:
    """Our single env's steps/s, and its omega and i_a trajectory."""
    import gymnasium as gym

    import envs  # noqa: F401  (registers the ids)

    env = gym.make("arena/DCMotorSpeed-v0", **EXPERIMENT)
    duty = _duty(steps)
    env.reset(seed=0)
    omega, current = [], []

    def step(k):
        *_, terminated, truncated, info = env.step(duty[k : k + 1])
        omega.append(info["omega"])
        current.append(info["i_a"])
        if terminated or truncated:
            env.reset()

    rate = _best_rate(step, steps, 1, torch.device("cpu"))
    return rate, {"omega": np.array(omega), "i_a": np.array(current)}


def _batched_rate(n: int, steps: int, device: torch.device) -> float:
    """Env-steps/s of the batched env with ``n`` envs."""
    from envs.motor.vector_env import MotorVectorEnv

    env = MotorVectorEnv(num_envs=n, device=device, max_episode_steps=10_000, **EXPERIMENT)
    env.reset(seed=0)
    duty = torch.as_tensor(_duty(steps + 10), device=device)
    actions = [duty[k].expand(n, 1) for k in range(steps + 10)]
    for k in range(10):  # warm-up (allocator, kernels)
        env.step(actions[k])
    return _best_rate(lambda k: env.step(actions[k + 10]), steps, n, device)


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _gem(steps: int) -> tuple[float, dict[str, np.ndarray]] | None:
    """GEM's steps/s and trajectory on the same experiment, or None when it is not installed."""
    try:
        import gym_electric_motor as gem
        from gym_electric_motor.physical_systems import PolynomialStaticLoad
    except ImportError:
        return None
    load = PolynomialStaticLoad(load_parameter={"a": 0.0, "b": 0.05, "c": 0.0, "j_load": 1e-4})
    env = gem.make("Cont-SC-PermExDc-v0", load=load)
    names = list(env.unwrapped.physical_system.state_names)
    limits = np.asarray(env.unwrapped.physical_system.limits)
    duty = _duty(steps)
    env.reset(seed=0)
    omega, current = [], []

    def step(k):
        (state, _), _, terminated, truncated, _ = env.step(duty[k : k + 1].astype(np.float64))
        physical = np.asarray(state) * limits
        omega.append(physical[names.index("omega")])
        current.append(physical[names.index("i")])
        if terminated or truncated:
            env.reset()

    rate = _best_rate(step, steps, 1, torch.device("cpu"))
    return rate, {"omega": np.array(omega), "i_a": np.array(current)}


def _step_response(path: Path) -> None:
    """Plot a PI-controlled speed step (speed, reference, current) of the experiment's motor to ``path``."""
    import gymnasium as gym
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import agents

    reference = {"kind": "step", "initial": 0.0, "final": 0.4, "t_step": 0.01}
    env = gym.make("arena/DCMotorSpeed-v0", reference=reference, **EXPERIMENT)
    pi = agents.make("motor/pi", env)
    obs, info = env.reset(seed=0)
    rows = []
    for k in range(2_000):
        obs, *_, info = env.step(pi.act(obs, info))
        rows.append(
            ((k + 1) * env.unwrapped.task.tau, info["omega"], info["reference"]["omega"], info["i_a"])
        )
    t, omega, omega_ref, current = np.array(rows).T
    figure, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(7, 5))
    top.plot(t, omega, label="omega")
    top.plot(t, omega_ref, "--", label="reference")
    top.set_ylabel("speed (rad/s)")
    top.legend()
    bottom.plot(t, current, color="tab:red")
    bottom.set_ylabel("armature current (A)")
    bottom.set_xlabel("time (s)")
    figure.suptitle("PM DC motor, motor/pi speed step")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def run_motor_bench(
    device: str = "auto",
    steps: int = 2000,
    batch_sizes=(1, 64, 1024, 16384),
    out_dir: Path = Path("results/bench"),
    console: Console | None = None,
) -> dict[str, Any]:
    """Measure and print the table; write motor.json and motor_step_response.png to ``out_dir``.

    Batched runs time ``min(steps, max(60, 2_000_000 // n))`` steps, so the largest batches stay short.
    Each rate is the best of three consecutive timing windows. Returns the numbers written to the JSON.
    """
    from envs._core.torch_vector import resolve_device

    if steps < 1:
        raise ValueError(f"steps={steps} must be >= 1")
    console = console or Console()
    torch_device = resolve_device(device)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    single_rate, ours = _single_env_rate(steps)
    batched = {}
    for n in batch_sizes:
        batched[n] = _batched_rate(n, min(steps, max(60, 2_000_000 // n)), torch_device)
    gem = _gem(steps)
    results: dict[str, Any] = {
        "device": str(torch_device),
        "device_name": device_name(torch_device),
        "cpu": device_name(torch.device("cpu")),
        "torch_threads": torch.get_num_threads(),
        "experiment": EXPERIMENT,
        "steps": steps,
        "single_env_steps_per_s": single_rate,
        "batched_env_steps_per_s": {str(n): rate for n, rate in batched.items()},
    }
    if gem is not None:
        gem_rate, theirs = gem
        scale = {q: np.abs(theirs[q]).max() for q in ("omega", "i_a")}
        results["gem_single_env_steps_per_s"] = gem_rate
        results["ratio_single_vs_gem"] = single_rate / gem_rate
        results["ratio_batched_vs_gem"] = {str(n): rate / gem_rate for n, rate in batched.items()}
        results["max_error_vs_gem_relative_to_peak"] = {
            q: float(np.abs(ours[q] - theirs[q]).max() / scale[q]) for q in ("omega", "i_a")
        }
    _step_response(out_dir / "motor_step_response.png")
    (out_dir / "motor.json").write_text(json.dumps(results, indent=2))
    _print(console, results, batched)
    return results


def _print(console: Console, results: dict[str, Any], batched: dict[int, float]) -> None:
    gem_rate = results.get("gem_single_env_steps_per_s")
    table = Table(title=f"Motor simulator on {results['device_name']} ({results['device']})")
    table.add_column("simulator")
    table.add_column("env-steps/s", justify="right")
    table.add_column("x GEM single env", justify="right")

    def ratio(rate: float) -> str:
        return f"{rate / gem_rate:,.1f}" if gem_rate else "-"

    table.add_row(
        "ours, single env (float64)",
        f"{results['single_env_steps_per_s']:,.0f}",
        ratio(results["single_env_steps_per_s"]),
    )
    for n, rate in batched.items():
        table.add_row(f"ours, batched n={n} ({results['device']})", f"{rate:,.0f}", ratio(rate))
    if gem_rate:
        table.add_row("gym-electric-motor, single env", f"{gem_rate:,.0f}", "1.0")
    else:
        table.add_row("gym-electric-motor", "not installed", "-")
    console.print(table)
    if "max_error_vs_gem_relative_to_peak" in results:
        errors = results["max_error_vs_gem_relative_to_peak"]
        console.print(
            f"trajectory vs GEM, max error / peak: omega {errors['omega']:.2e}, i_a {errors['i_a']:.2e}"
        )


@benchmark("motor")
def motor_command(
    device: Annotated[str, typer.Option(help="'cpu', 'cuda' or 'auto'.")] = "auto",
    steps: Annotated[int, typer.Option(min=10, help="Steps timed per configuration.")] = 2000,
    out: BenchOut = Path("results/bench"),
) -> None:
    """Motor simulation: single env and batched steps/s (batch 1 to 16384), against gym-electric-motor when
    it is installed, plus a step-response plot.

    Example: [bold]arena bench motor --device auto[/]
    """
    run_motor_bench(device=device, steps=steps, out_dir=out, console=output.console)
