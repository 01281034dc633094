"""``arena bench motor``: the motor simulator against gym-electric-motor, on every motor id, and its speed.

Agreement: when ``gym_electric_motor`` imports (the optional ``gem`` extra), every registered motor id
(``arena/DCMotorSpeed-v0``, ``-Current``, ``-Torque``, ``arena/PMSMCurrent-v0``, ``arena/PMSMSpeed-v0``) and
the DC motor types no id uses by default (externally excited, shunt, series, on ``arena/DCMotorSpeed-v0``) run
beside GEM's env of the same motor, parameters, converter, supply, load and tau, driven by the same random
full-range actions (uniform in [-1, 1] per converter channel, one sequence per seed of ``--seeds``, limits not
enforced). GEM integrates with its scipy ``dopri5`` at rtol = atol = 1e-11, so the difference is our RK4's.
For each quantity the env observes (speed omega, torque, currents, voltages, the PMSM's angle epsilon) the
largest absolute difference over the steps is divided by GEM's peak magnitude of that quantity (pi for
epsilon, whose difference is taken modulo 2 pi); a row reports the largest of these over seeds and quantities.

Measured with the defaults (2000 steps, 0.2 s, per seed; seeds 10-19), largest error / peak: DCMotorSpeed
2.8e-7 (torque and i_a), DCMotorCurrent and DCMotorTorque 2.2e-7 (i_a), PMSMCurrent 6.2e-8 (torque), the
externally excited, shunt and series motors 1.6e-6, 7.8e-6 and 5.3e-10 (omega). PMSMSpeed, whose speed is
free against Coulomb friction (a = 0.01 N m), differs by up to 1.5e-3 of peak torque (seed 16; omega 8.8e-4,
epsilon 5.2e-4 of pi); without the Coulomb term (row ``a=0``) by 3.4e-5, so the term's kink at standstill
(RK4 takes a fixed step across it, GEM's dopri5 adapts its step) seeds most of the difference, and the
free-running motor under random voltages amplifies it over the run (seed 16: 2.2e-6 after 500 steps, 3.7e-5
after 1000, 1.4e-3 after 2000).

Speed: on one experiment (GEM's default permanently excited DC motor on a continuous 4-quadrant converter,
60 V, tau = 1e-4 s, against a viscous load b = 0.05 N m s, j_load = 1e-4 kg m^2, driven by a small varying
duty cycle) our single env's steps per second, the batched torch env's env-steps per second at each batch
size on the chosen device, and GEM's single env. Writes ``motor.json`` (the numbers) and
``motor_step_response.png`` (a PI-controlled speed step) to out_dir.
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
from benchmarks import BenchOut, Seeds, benchmark, parse_seeds, seeds_text
from benchmarks._machine import device_name

EXPERIMENT = {"motor": "permanent", "converter": "cont_4qc", "load_params": {"b": 0.05, "j_load": 1e-4}}

COMPARED: dict[str, tuple[str, dict[str, Any]]] = {
    **{
        env_id: (env_id, {})
        for env_id in (
            "arena/DCMotorSpeed-v0",
            "arena/DCMotorCurrent-v0",
            "arena/DCMotorTorque-v0",
            "arena/PMSMCurrent-v0",
            "arena/PMSMSpeed-v0",
        )
    },
    "arena/PMSMSpeed-v0 a=0": ("arena/PMSMSpeed-v0", {"load_params": {"a": 0.0, "b": 0.01, "j_load": 1e-5}}),
    **{
        f"arena/DCMotorSpeed-v0 motor={motor}": ("arena/DCMotorSpeed-v0", {"motor": motor})
        for motor in ("externally_excited", "shunt", "series")
    },
}
"""Row name -> (env id, extra keyword arguments): every registered motor id, ``PMSMSpeed`` without its
Coulomb friction, then the DC motor types that no id uses by default."""

_GEM_IDS = {
    "permanent": "Cont-SC-PermExDc-v0",
    "externally_excited": "Cont-SC-ExtExDc-v0",
    "shunt": "Cont-SC-ShuntDc-v0",
    "series": "Cont-SC-SeriesDc-v0",
    "pmsm": "Cont-SC-PMSM-v0",
}
# Our quantity names in GEM's state names where they differ, per motor.
_GEM_NAMES = {
    "permanent": {"i_a": "i", "u_a": "u"},
    "series": {"i_a": "i", "u_a": "u"},
    "shunt": {"u_a": "u", "u_e": "u"},
    "externally_excited": {},
    "pmsm": {"i_d": "i_sd", "i_q": "i_sq", "u_d": "u_sd", "u_q": "u_sq"},
}
GEM_TOLERANCE = 1e-11  # rtol and atol of GEM's dopri5 in the comparison


def _duty(steps: int) -> np.ndarray:
    """The speed experiment's duty cycle: too small to reach the current limit, varying every step."""
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


def _single_env_rate(steps: int) -> float:
    """Our single env's steps/s on the speed experiment."""
    import gymnasium as gym

    import envs  # noqa: F401  (registers the ids)

    env = gym.make("arena/DCMotorSpeed-v0", **EXPERIMENT)
    duty = _duty(steps)
    env.reset(seed=0)

    def step(k):
        *_, terminated, truncated, _ = env.step(duty[k : k + 1])
        if terminated or truncated:
            env.reset()

    return _best_rate(step, steps, 1, torch.device("cpu"))


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


def gem_installed() -> bool:
    """Whether gym-electric-motor (the optional ``gem`` extra) imports."""
    try:
        import gym_electric_motor  # noqa: F401
    except ImportError:
        return False
    return True


def _gem_rate(steps: int) -> float:
    """GEM's single env's steps/s on the speed experiment (its default solver, as a GEM user runs it)."""
    import gym_electric_motor as gem
    from gym_electric_motor.physical_systems import PolynomialStaticLoad

    load = PolynomialStaticLoad(load_parameter={"a": 0.0, "b": 0.05, "c": 0.0, "j_load": 1e-4})
    env = gem.make("Cont-SC-PermExDc-v0", load=load)
    duty = _duty(steps)
    env.reset(seed=0)

    def step(k):
        *_, terminated, truncated, _ = env.step(duty[k : k + 1].astype(np.float64))
        if terminated or truncated:
            env.reset()

    return _best_rate(step, steps, 1, torch.device("cpu"))


def _gem_env(task):
    """GEM's env of ``task``'s motor, parameters, converter (continuous 4-quadrant per DC channel, B6
    bridge), supply (V), load and tau (s), with no constraints (no episode end) and a tight dopri5."""
    import gym_electric_motor as gem
    from gym_electric_motor import physical_systems as ps

    params = task.load_params
    if task.load == "constant_speed":
        load = ps.ConstantSpeedLoad(omega_fixed=params["omega_fixed"])
    elif task.load == "polynomial":
        load = ps.PolynomialStaticLoad(load_parameter={k: params[k] for k in ("a", "b", "c", "j_load")})
    else:
        raise ValueError(f"load={task.load!r}: GEM has no load to compare with")
    if task.converter.name not in ("cont_4qc", "cont_b6"):
        raise ValueError(f"converter={task.converter.name!r}: compared are cont_4qc and cont_b6 only")
    kwargs: dict[str, Any] = {}
    if task.motor.name != "pmsm":
        four_quadrant = [ps.ContFourQuadrantConverter() for _ in range(task.motor.channels)]
        kwargs["converter"] = (
            ps.ContMultiConverter(subconverters=four_quadrant) if len(four_quadrant) > 1 else four_quadrant[0]
        )
    return gem.make(
        _GEM_IDS[task.motor.name],
        motor={"motor_parameter": dict(task.params)},
        supply={"u_nominal": task.u_supply},
        load=load,
        tau=task.tau,
        constraints=(),
        visualization=(),
        ode_solver=ps.ScipyOdeSolver(rtol=GEM_TOLERANCE, atol=GEM_TOLERANCE),
        **kwargs,
    ).unwrapped


def compare_with_gem(env_id: str, seed: int, steps: int, **env_kwargs: Any) -> dict[str, dict[str, float]]:
    """Run ``env_id`` (with ``env_kwargs``, limits not enforced) and GEM's env of the same plant on the same
    ``steps`` random actions, uniform in [-1, 1] per channel from ``seed``.

    Returns, per observed quantity, ``max_error`` (largest absolute difference, SI units; for epsilon taken
    modulo 2 pi), ``peak`` (GEM's largest magnitude; pi for epsilon) and ``relative`` (their ratio).
    """
    import gymnasium as gym

    import envs  # noqa: F401  (registers the ids)

    ours = gym.make(env_id, terminate_on_limit=False, **env_kwargs)
    task = ours.unwrapped.task
    theirs = _gem_env(task)
    names = list(theirs.physical_system.state_names)
    limits = np.asarray(theirs.physical_system.limits, dtype=float)
    renamed = _GEM_NAMES[task.motor.name]
    columns = [names.index(renamed.get(q, q)) for q in task.motor.observed]
    actions = np.random.default_rng(seed).uniform(-1.0, 1.0, (steps, task.motor.channels)).astype(np.float32)
    ours.reset(seed=seed)
    theirs.reset(seed=seed)
    ours_rows, gem_rows = [], []
    for action in actions:
        *_, info = ours.step(action)
        (state, _), *_ = theirs.step(action.astype(np.float64))
        ours_rows.append([info[q] for q in task.motor.observed])
        gem_rows.append((np.asarray(state) * limits)[columns])
    ours_values, gem_values = np.array(ours_rows), np.array(gem_rows)
    result = {}
    for j, quantity in enumerate(task.motor.observed):
        difference = ours_values[:, j] - gem_values[:, j]
        peak = float(np.abs(gem_values[:, j]).max())
        if quantity == "epsilon":
            difference, peak = (difference + np.pi) % (2 * np.pi) - np.pi, np.pi
        error = float(np.abs(difference).max())
        result[quantity] = {"max_error": error, "peak": peak, "relative": error / peak if peak else error}
    return result


def gem_agreement(seeds, steps: int, rows=tuple(COMPARED)) -> dict[str, dict[str, Any]]:
    """:func:`compare_with_gem` for each row of :data:`COMPARED` in ``rows`` and each seed: per row the
    largest error relative to peak over seeds and quantities, the quantity and seed it came from, and per
    quantity its largest relative error over the seeds."""
    agreement = {}
    for row in rows:
        env_id, env_kwargs = COMPARED[row]
        runs = {seed: compare_with_gem(env_id, seed, steps, **env_kwargs) for seed in seeds}
        quantities = next(iter(runs.values()))
        per_quantity = {q: max(run[q]["relative"] for run in runs.values()) for q in quantities}
        worst_seed, worst_quantity = max(
            ((seed, q) for seed, run in runs.items() for q in run),
            key=lambda sq: runs[sq[0]][sq[1]]["relative"],
        )
        agreement[row] = {
            "max_relative_error": per_quantity[worst_quantity],
            "quantity": worst_quantity,
            "seed": worst_seed,
            "relative_error_per_quantity": per_quantity,
        }
    return agreement


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
    seeds="10-19",
    compared=tuple(COMPARED),
    out_dir: Path = Path("results/bench"),
    console: Console | None = None,
) -> dict[str, Any]:
    """Measure and print the tables; write motor.json and motor_step_response.png to ``out_dir``.

    ``steps`` are timed per configuration and compared with GEM per seed and row of ``compared``. Batched runs
    time ``min(steps, max(60, 2_000_000 // n))`` steps, so the largest batches stay short. Each rate is the
    best of three consecutive timing windows. Returns the numbers written to the JSON.
    """
    from envs._core.torch_vector import resolve_device

    if steps < 1:
        raise ValueError(f"steps={steps} must be >= 1")
    seeds = parse_seeds(seeds)
    console = console or Console()
    torch_device = resolve_device(device)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    single_rate = _single_env_rate(steps)
    batched = {}
    for n in batch_sizes:
        batched[n] = _batched_rate(n, min(steps, max(60, 2_000_000 // n)), torch_device)
    results: dict[str, Any] = {
        "device": str(torch_device),
        "device_name": device_name(torch_device),
        "cpu": device_name(torch.device("cpu")),
        "torch_threads": torch.get_num_threads(),
        "experiment": EXPERIMENT,
        "steps": steps,
        "seeds": list(seeds),
        "single_env_steps_per_s": single_rate,
        "batched_env_steps_per_s": {str(n): rate for n, rate in batched.items()},
    }
    if gem_installed():
        gem_rate = _gem_rate(steps)
        results["gem_single_env_steps_per_s"] = gem_rate
        results["ratio_single_vs_gem"] = single_rate / gem_rate
        results["ratio_batched_vs_gem"] = {str(n): rate / gem_rate for n, rate in batched.items()}
        results["gem_agreement"] = {
            "actions": "uniform in [-1, 1] per converter channel, one sequence per seed; limits not enforced",
            "gem_solver": f"scipy dopri5, rtol = atol = {GEM_TOLERANCE:g}",
            "error": "max |ours - GEM| over the steps / GEM's peak |value| (epsilon: modulo 2 pi, over pi)",
            "rows": gem_agreement(seeds, steps, compared),
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
        table.add_row("gym-electric-motor", "not installed (pip install '.[gem]')", "-")
    console.print(table)
    if "gem_agreement" not in results:
        return
    agreement = Table(
        title="Agreement with gym-electric-motor: random full-range actions, "
        f"{results['steps']} steps x seeds {seeds_text(results['seeds'])}; max |ours - GEM| / GEM's peak"
    )
    agreement.add_column("motor id", no_wrap=True)
    agreement.add_column("max error / peak", justify="right")
    agreement.add_column("quantity (seed)")
    agreement.add_column("per quantity")
    for row, numbers in results["gem_agreement"]["rows"].items():
        agreement.add_row(
            row,
            f"{numbers['max_relative_error']:.2e}",
            f"{numbers['quantity']} ({numbers['seed']})",
            ", ".join(f"{q} {e:.1e}" for q, e in numbers["relative_error_per_quantity"].items()),
        )
    console.print(agreement)


@benchmark("motor")
def motor_command(
    device: Annotated[str, typer.Option(help="'cpu', 'cuda' or 'auto'.")] = "auto",
    steps: Annotated[
        int, typer.Option(min=10, help="Steps timed per configuration, and compared with GEM per seed.")
    ] = 2000,
    seeds: Seeds = "10-19",
    out: BenchOut = Path("results/bench"),
) -> None:
    """Motor simulation against gym-electric-motor (when installed) on every motor id with random
    full-range actions (largest error relative to peak, per id), single env and batched steps/s (batch 1 to
    16384), and a step-response plot.

    Example: [bold]arena bench motor --device auto --seeds 10-19[/]
    """
    run_motor_bench(device=device, steps=steps, seeds=seeds, out_dir=out, console=output.console)
