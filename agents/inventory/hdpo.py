"""Hindsight Differentiable Policy Optimization (HDPO; Alvo, Russo & Kanoria, 2023) on inventory networks.

A deterministic policy is rolled through the differentiable batched simulator over sampled demand
scenarios; the mean cost per period (after ``warm_up`` periods, which are ignored) is minimised by
backpropagation through the whole trajectory with Adam and gradient clipping. Every ``eval_every`` steps the
policy is scored on a fixed dev set of scenarios and the best weights are kept; training stops early after
``patience`` evaluations without improvement, at ``steps``, or at ``time_budget_s``. With
``train_scenarios`` set, training reuses that fixed set of demand paths (the data-limited setting); otherwise
each step draws ``batch`` fresh ones.

Measured (``arena bench inventory``): on one store with Poisson(5) demand, L = 2, p = 9, an MLP reaches a
0.63 % gap in 160 steps of 256 scenarios, 9 s on one CPU thread; on one warehouse and 3, 10, 20 lost-sales
stores trained from 16 scenarios, the GNN policy is 6.2 %, 2.2 %, 1.3 % above a per-store lower bound on
fresh scenarios, the MLP 9.5 %, 13 %, 37 %.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from agents.base import EnvSpaces
from agents.inventory.policies import GNNPolicy, MLPPolicy
from agents.pg import torch_threads
from envs import resolve_device
from envs.inventory import InventorySimulator, State, make_simulator


@dataclass
class HDPOConfig:
    policy: str = "mlp"  # "mlp" or "gnn"
    hidden: tuple[int, ...] = (32, 32)  # MLP
    gnn_width: int = 32
    gnn_rounds: int = 2
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
        if self.policy not in ("mlp", "gnn"):
            raise ValueError(f"policy={self.policy!r} must be 'mlp' or 'gnn'")
        for name in ("batch", "periods", "steps", "eval_every", "dev_scenarios", "dev_periods", "patience"):
            if not (isinstance(getattr(self, name), int) and getattr(self, name) >= 1):
                raise ValueError(f"{name} must be an int >= 1, got {getattr(self, name)!r}")
        if not 0 <= self.warm_up < self.periods:
            raise ValueError(f"warm_up must be in [0, periods), got {self.warm_up}")
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be > 0, got {self.learning_rate}")
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
) -> HDPOResult:
    """Train a policy with HDPO on the simulator of the envs' keyword arguments ``env_kwargs``.

    ``target_cost``: stop as soon as the dev cost is at most this (for time-to-gap measurements).
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
    simulator's state (on-hand, then the pipeline), as documented by the env."""

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
        return self.policy(sim, state)[0].numpy().astype(np.float32)


def hdpo(spaces: EnvSpaces, *, seed: int = 0, **config: Any) -> HDPOAgent:
    """``inventory/hdpo``: train with HDPO for the env's kwargs (``config``: :class:`HDPOConfig` fields) and
    return the agent."""
    result = train_hdpo(dict(spaces.env_kwargs), HDPOConfig(**config), seed=seed)
    simulator = make_simulator(**spaces.env_kwargs, dtype=torch.float32)
    return HDPOAgent(result.policy, simulator)
