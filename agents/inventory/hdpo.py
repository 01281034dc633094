"""Hindsight Differentiable Policy Optimization (HDPO; Alvo, Russo & Kanoria, 2023) on inventory networks.

A deterministic policy is rolled through the differentiable batched simulator over sampled demand
scenarios; the mean cost per period (after ``warm_up`` periods, which are ignored) is minimised by
backpropagation through the whole trajectory with Adam and gradient clipping. Every ``eval_every`` steps the
policy is scored on a fixed dev set of scenarios and the best weights are kept; training stops early after
``patience`` evaluations without improvement, at ``steps``, or at ``time_budget_s``. With
``train_scenarios`` set, training reuses that fixed set of demand paths (the data-limited setting); otherwise
each step draws ``batch`` fresh ones.

As the ``hdpo`` learner of ``arena train``, :func:`train_package` trains on one env id and its kwargs and
writes an agent package whose factory, :func:`load`, rebuilds the policy for the env it is asked to play.

Measured (``arena bench inventory``): on one store with Poisson(5) demand, L = 2, p = 9, an MLP reaches a
0.63 % gap in 160 steps of 256 scenarios, 9 s on one CPU thread; on one warehouse and 3, 10, 20 lost-sales
stores trained from 16 scenarios, the GNN policy is 6.2 %, 2.2 %, 1.3 % above a per-store lower bound on
fresh scenarios, the MLP 9.5 %, 13 %, 37 %.
"""

from __future__ import annotations

import copy
import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

import envs
from agents.base import AgentManifest, EnvSpaces, write_manifest
from agents.inventory.policies import GNNPolicy, MLPPolicy
from agents.pg import TrainingLogger, torch_threads
from agents.pg.policy import weights_version
from envs import resolve_device
from envs.inventory import InventorySimulator, State, make_simulator

POLICIES = ("mlp", "gnn")


@dataclass
class HDPOConfig:
    policy: str = "mlp"  # one of POLICIES
    hidden: tuple[int, ...] = (32, 32)  # MLP
    gnn_width: int = 32
    gnn_rounds: int | None = None  # None: the network's depth, at least 2 (see GNNPolicy)
    batch: int = 512  # scenarios per gradient step
    train_scenarios: int | None = None  # a fixed training set of this many scenarios, or fresh ones each step
    periods: int = 50  # per scenario, including the warm-up
    warm_up: int = 15
    learning_rate: float = 3e-3
    max_grad_norm: float = 1.0
    steps: int = 600
    eval_every: int = 20
    dev_scenarios: int = 2048
    dev_periods: int = 200
    patience: int = 8
    time_budget_s: float | None = None
    torch_threads: int = 1

    def validate(self) -> None:
        if self.policy not in POLICIES:
            raise ValueError(f"policy={self.policy!r} is not allowed; allowed: {', '.join(POLICIES)}")
        for name in ("batch", "periods", "steps", "eval_every", "dev_scenarios", "dev_periods", "patience"):
            if not (isinstance(getattr(self, name), int) and getattr(self, name) >= 1):
                raise ValueError(f"{name} must be an int >= 1, got {getattr(self, name)!r}")
        if not 0 <= self.warm_up < self.periods:
            raise ValueError(f"warm_up must be in [0, periods), got {self.warm_up}")
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be > 0, got {self.learning_rate}")
        if self.gnn_rounds is not None and not (isinstance(self.gnn_rounds, int) and self.gnn_rounds >= 1):
            raise ValueError(f"gnn_rounds must be None or an int >= 1, got {self.gnn_rounds!r}")
        if not (isinstance(self.torch_threads, int) and self.torch_threads >= 1):
            raise ValueError(f"torch_threads must be an int >= 1, got {self.torch_threads!r}")
        if self.train_scenarios is not None and not (
            isinstance(self.train_scenarios, int) and self.train_scenarios >= 1
        ):
            raise ValueError(f"train_scenarios must be None or an int >= 1, got {self.train_scenarios!r}")


@dataclass
class HDPOResult:
    """The trained policy, its dev cost per period, and the log (step, time_s, train_cost, dev_cost)."""

    policy: torch.nn.Module
    simulator: InventorySimulator
    dev_cost: float
    wall_time_s: float
    steps: int
    log: list[dict[str, float]] = field(default_factory=list)


def rollout_cost(
    policy, simulator: InventorySimulator, demand: torch.Tensor, warm_up: int, start: State | None = None
) -> torch.Tensor:
    """Mean cost per period and scenario of ``policy`` over ``demand`` (batch, periods, stores), the
    first ``warm_up`` periods excluded; differentiable in the policy's weights."""
    batch, periods, _ = demand.shape
    state = start or simulator.initial_state(batch)
    total = torch.zeros((), device=demand.device, dtype=simulator.dtype)
    for t in range(periods):
        state, reward, _ = simulator.step(state, policy(simulator, state).to(simulator.dtype), demand[:, t])
        if t >= warm_up:
            total = total - reward.mean()
    return total / (periods - warm_up)


def make_policy(config: HDPOConfig, simulator: InventorySimulator, seed: int) -> torch.nn.Module:
    generator = torch.Generator().manual_seed(seed)
    if config.policy == "gnn":
        return GNNPolicy(simulator, config.gnn_width, config.gnn_rounds, generator=generator)
    return MLPPolicy(simulator, config.hidden, generator=generator)


def train_hdpo(
    env_kwargs: dict[str, Any] | None = None,
    config: HDPOConfig | None = None,
    *,
    seed: int = 0,
    device: str = "cpu",
    target_cost: float | None = None,
    on_evaluation: Callable[[dict[str, float]], None] | None = None,
) -> HDPOResult:
    """Train a policy with HDPO on the simulator of the envs' keyword arguments ``env_kwargs``.

    ``target_cost``: stop as soon as the dev cost is at most this (for time-to-gap measurements).
    ``on_evaluation``: called with each row of the log as it is written.
    """
    config = config or HDPOConfig()
    config.validate()
    with torch_threads(config.torch_threads):
        simulator = make_simulator(**(env_kwargs or {}), device=resolve_device(device), dtype=torch.float32)
        generator = torch.Generator(device=simulator.device).manual_seed(seed)
        policy = make_policy(config, simulator, seed).to(simulator.device)
        optimizer = torch.optim.Adam(policy.parameters(), lr=config.learning_rate)
        dev_demand = simulator.sample_demand(
            config.dev_scenarios,
            config.dev_periods,
            generator,
            simulator.sample_start(config.dev_scenarios, generator),
        )
        fixed = None
        if config.train_scenarios is not None:
            fixed = simulator.sample_demand(
                config.train_scenarios,
                config.periods,
                generator,
                simulator.sample_start(config.train_scenarios, generator),
            )
        best_cost, best_weights, stale, log = math.inf, copy.deepcopy(policy.state_dict()), 0, []
        start = time.perf_counter()
        step = 0
        for step in range(1, config.steps + 1):
            demand = fixed
            if demand is None:
                demand = simulator.sample_demand(
                    config.batch, config.periods, generator, simulator.sample_start(config.batch, generator)
                )
            loss = rollout_cost(policy, simulator, demand, config.warm_up)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(policy.parameters(), config.max_grad_norm)
            optimizer.step()
            if step % config.eval_every and step != config.steps:
                continue
            with torch.no_grad():
                dev_cost = float(rollout_cost(policy, simulator, dev_demand, config.warm_up))
            elapsed = time.perf_counter() - start
            log.append({"step": step, "time_s": elapsed, "train_cost": loss.item(), "dev_cost": dev_cost})
            if on_evaluation is not None:
                on_evaluation(log[-1])
            if dev_cost < best_cost:
                best_cost, best_weights, stale = dev_cost, copy.deepcopy(policy.state_dict()), 0
            else:
                stale += 1
            if stale >= config.patience or (target_cost is not None and best_cost <= target_cost):
                break
            if config.time_budget_s is not None and elapsed >= config.time_budget_s:
                break
        policy.load_state_dict(best_weights)
        return HDPOResult(policy, simulator, best_cost, time.perf_counter() - start, step, log)


def evaluate_cost(
    policy,
    env_kwargs: dict[str, Any],
    *,
    scenarios: int = 4096,
    periods: int = 300,
    warm_up: int = 50,
    seed: int = 1,
) -> float:
    """Mean cost per period of a policy (a module as trained here, or any ``f(simulator, state)``) on fresh
    scenarios of the simulator, after a warm-up; on one thread of the CPU, like training, whatever device
    the module was trained on (so the same policy always gets the same number)."""
    if isinstance(policy, torch.nn.Module):
        policy = copy.deepcopy(policy).cpu()
    simulator = make_simulator(**env_kwargs, dtype=torch.float32)
    generator = torch.Generator().manual_seed(seed)
    demand = simulator.sample_demand(
        scenarios, periods, generator, simulator.sample_start(scenarios, generator)
    )
    with torch.no_grad(), torch_threads(1):
        return float(rollout_cost(policy, simulator, demand, warm_up))


class HDPOAgent:
    """Plays a trained policy in an env through the Agent protocol: the observation is read back into the
    simulator's state (on-hand, then the pipeline), as documented by the env, and the orders are cut to
    ``[0, order_capacity]`` per edge, as the simulator cuts them in training (so they lie in the env's
    action space)."""

    def __init__(self, policy: torch.nn.Module, simulator: InventorySimulator, name: str = "inventory/hdpo"):
        self.policy, self.simulator, self.name = policy.cpu().eval(), simulator, name
        self.expected_cost = None

    def reset(self, seed: int | None = None) -> None:
        pass

    @torch.no_grad()
    def act(self, observation, info: dict) -> np.ndarray:
        sim = self.simulator
        obs = torch.as_tensor(np.asarray(observation, dtype=np.float32)).reshape(1, -1).to(sim.dtype)
        n = sim.num_nodes
        state = State(obs[:, :n], obs[:, n:].reshape(1, n, sim.max_lead))
        orders = torch.minimum(self.policy(sim, state)[0].clamp_min(0.0), sim.capacity.to(sim.dtype))
        return orders.numpy().astype(np.float32)


ENV_ONLY_KWARGS = ("max_episode_steps", "reward_scale", "render_mode")  # the env's, not the simulator's
WEIGHTS = "policy.pt"
_OPTIONS = tuple(f.name for f in fields(HDPOConfig) if f.name != "steps")  # train_package's options


def simulator_kwargs(env_id: str | None, env_kwargs: dict[str, Any]) -> dict[str, Any]:
    """The simulator's keyword arguments for the env ``env_id`` made with ``env_kwargs``: the id's registered
    kwargs updated by ``env_kwargs``, less those only the env takes (:data:`ENV_ONLY_KWARGS`: episode length,
    reward scale, rendering). ValueError unless ``env_id`` is a registered inventory env."""
    inventory = [record.id for record in envs.list_envs("inventory")]
    if env_id not in inventory:
        raise ValueError(f"env_id={env_id!r} is not an inventory env; HDPO plays: {', '.join(inventory)}")
    merged = {**gym.spec(env_id).kwargs, **env_kwargs}
    return {key: value for key, value in merged.items() if key not in ENV_ONLY_KWARGS}


def train_package(
    env_id: str,
    env_kwargs: dict[str, Any],
    *,
    out: str | Path,
    steps: int,
    seed: int,
    device: str,
    progress: bool = True,
    console=None,
    policy: str = "mlp",
    **options: Any,
) -> Path:
    """The ``hdpo`` learner: train an HDPO policy (``policy``: "mlp" or "gnn") on ``env_id`` made with
    ``env_kwargs`` for at most ``steps`` gradient steps (fewer when early stopping ends it, see
    :class:`HDPOConfig`) and write its agent package to ``out``; returns ``out``.

    ``options`` are :class:`HDPOConfig` fields (``batch``, ``learning_rate``, ...); any other name raises
    ValueError naming the allowed ones. The package holds ``policy.pt`` (the architecture, plain data, and
    the best dev weights as tensors), ``agent.toml`` (factory :func:`load`, version a hash of the weights),
    ``training.json`` and ``progress.csv``: one row per dev evaluation with ``time_s`` since training started,
    ``train_loss`` and ``dev_loss`` (named as in the HDPO reference code, which divides them by the number of
    stores): the mean cost per period of the whole network, warm-up periods excluded, on that step's training
    batch and on the fixed dev scenarios.
    """
    unknown = sorted(set(options) - set(_OPTIONS))
    if unknown:
        raise ValueError(f"unknown hdpo option {unknown[0]!r}; allowed: {', '.join(_OPTIONS)}")
    if "hidden" in options:
        options["hidden"] = tuple(options["hidden"])
    config = HDPOConfig(policy=policy, steps=steps, **options)
    config.validate()
    kwargs = simulator_kwargs(env_id, env_kwargs)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    logger = TrainingLogger(
        out,
        steps,
        progress=progress,
        description=f"hdpo-{policy} {env_id}",
        headline=("dev_loss", "dev cost/period"),
        console=console,
    )

    def log(row: dict[str, float]) -> None:
        scalars = {"time_s": row["time_s"], "train_loss": row["train_cost"], "dev_loss": row["dev_cost"]}
        logger.log(int(row["step"]), scalars)

    try:
        result = train_hdpo(kwargs, config, seed=seed, device=device, on_evaluation=log)
    finally:
        logger.close()
    state = {key: value.detach().cpu() for key, value in result.policy.state_dict().items()}
    arch = {  # what rebuilds the policy before its weights are loaded
        "policy": policy,
        "hidden": list(config.hidden),
        "gnn_width": config.gnn_width,
        "gnn_rounds": getattr(result.policy, "rounds", None),  # the GNN's, the default resolved
    }
    torch.save({"arch": arch, "state_dict": state}, out / WEIGHTS)
    manifest = AgentManifest(
        name=f"hdpo-{policy}",
        version=weights_version(state),
        entry_point="agents.inventory.hdpo:load",
        envs=[env_id],
        weights=WEIGHTS,
    )
    write_manifest(out, manifest)
    training = {
        "algo": "hdpo",
        "env_id": env_id,
        "env_kwargs": env_kwargs,
        "simulator_kwargs": kwargs,
        "seed": seed,
        "steps": steps,
        "steps_run": result.steps,
        "device": device,
        "config": asdict(config),
        "dev_loss": result.dev_cost,
        "wall_time_s": round(result.wall_time_s, 2),
    }
    (out / "training.json").write_text(json.dumps(training, indent=2, default=str) + "\n")
    return out


def load_policy(agent_dir: str | Path, simulator: InventorySimulator) -> torch.nn.Module:
    """The policy saved in ``agent_dir`` by :func:`train_package`, on CPU, built for ``simulator``'s network;
    ValueError naming both shapes when the network is not the one it was trained on."""
    saved = torch.load(Path(agent_dir) / WEIGHTS, map_location="cpu", weights_only=True)
    arch = {**saved["arch"], "hidden": tuple(saved["arch"]["hidden"])}
    policy = make_policy(HDPOConfig(**arch), simulator, seed=0)
    shapes = {key: tuple(value.shape) for key, value in policy.state_dict().items()}
    trained = {key: tuple(value.shape) for key, value in saved["state_dict"].items()}
    differ = [key for key in sorted(shapes.keys() | trained.keys()) if shapes.get(key) != trained.get(key)]
    if differ:
        raise ValueError(
            f"env: the {arch['policy']} policy in {agent_dir} was trained on a network of another shape than "
            f"this env's ({simulator.num_nodes} nodes, {simulator.num_edges} edges, lead times up to "
            f"{simulator.max_lead}): its {differ[0]} is {trained.get(differ[0])}, this network needs "
            f"{shapes.get(differ[0])}"
        )
    policy.load_state_dict(saved["state_dict"])
    return policy


def load(spaces: EnvSpaces, *, agent_dir: str, name: str | None = None) -> HDPOAgent:
    """Agent-package factory of :func:`train_package`'s packages: the saved policy, playing the simulator of
    ``spaces``' env id and kwargs."""
    simulator = make_simulator(
        **simulator_kwargs(spaces.env_id, dict(spaces.env_kwargs)), dtype=torch.float32
    )
    policy = load_policy(agent_dir, simulator)
    return HDPOAgent(policy, simulator, name=name or Path(agent_dir).name)


def hdpo(spaces: EnvSpaces, *, seed: int = 0, **config: Any) -> HDPOAgent:
    """``inventory/hdpo``: train with HDPO for the env's kwargs (``config``: :class:`HDPOConfig` fields) and
    return the agent."""
    kwargs = simulator_kwargs(spaces.env_id, dict(spaces.env_kwargs))
    result = train_hdpo(kwargs, HDPOConfig(**config), seed=seed)
    return HDPOAgent(result.policy, make_simulator(**kwargs, dtype=torch.float32))
