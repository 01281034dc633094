"""The loop every on-policy learner shares: build the env and the net, collect, estimate, update, log, save.

An algorithm (``agents.pg.ppo``, ``a2c``, ``reinforce``) supplies a config dataclass derived from
:class:`LearnerConfig` and an ``update(learner, rollout) -> dict`` function, named together in an
:class:`Algorithm`; :class:`Learner` does the rest, and :meth:`Algorithm.learn` is every learner's ``learn``.
A Learner can be trained in pieces (``learner.train(steps)`` again and again), which population-based
training uses to exploit and explore between pieces.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import gymnasium as gym
import torch
from gymnasium.vector import VectorEnv
from torch import nn

from agents.pg.logger import TrainingLogger
from agents.pg.normalization import RewardScaler
from agents.pg.policy import DEFAULT_NETWORK, ActorCritic, PolicyAgent, PolicyArch, network_reference, save
from agents.pg.rollout import Rollout, TorchVectorEnv, collect, make_vector_env
from envs import resolve_device


@dataclass
class LearnerConfig:
    """Settings every learner shares: the env batch, the network, the optimiser's base, the compute."""

    num_envs: int = 4
    num_steps: int = 128  # rollout length per env between updates
    learning_rate: float = 2.5e-4
    anneal_lr: bool = True  # linearly to 0 over total_steps
    gamma: float = 0.99
    hidden: tuple[int, ...] = (64, 64)
    activation: str = "tanh"
    log_std_init: float = 0.0  # Box actions: initial log standard deviation
    action_bound: str = "clip"  # Box actions: "clip" to the bounds or squash with "tanh"
    normalize_obs: bool = False  # running observation standardisation, saved with the policy
    normalize_reward: bool = False  # rewards scaled by the running std of the discounted return
    network: str | Callable[..., nn.Module] = DEFAULT_NETWORK  # actor/critic factory (policy.network_factory)
    compile: bool = False  # torch.compile the actor and the critic (compilation counts in the wall time)
    vectorization: str = "auto"  # "auto" | "vector_entry_point" | "sync" | "async"
    optimizer: str = (
        "adam"  # "adam" (eps 1e-5, as PPO's reference code) or "rmsprop" (alpha 0.99, eps 1e-5, A2C)
    )
    torch_threads: int | None = None  # None: half the cores, 1 to 4 (small nets lose to spinning threads)

    def validate(self) -> None:
        """Raise ValueError naming the first field outside its allowed range."""
        check_positive_ints(self, "num_envs", "num_steps")
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be > 0, got {self.learning_rate}")
        check_unit_interval(self, "gamma")
        if self.optimizer not in ("adam", "rmsprop"):
            raise ValueError(f"optimizer={self.optimizer!r} is not one of 'adam', 'rmsprop'")
        if self.torch_threads is not None and self.torch_threads < 1:
            raise ValueError(f"torch_threads must be >= 1 or None, got {self.torch_threads}")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_positive_ints(config, *names: str) -> None:
    """Raise ValueError naming the first of the config's fields ``names`` that is not an integer >= 1."""
    for name in names:
        value = getattr(config, name)
        if not (isinstance(value, int) and value >= 1):
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")


def check_unit_interval(config, *names: str) -> None:
    """Raise ValueError naming the first of the config's fields ``names`` outside [0, 1]."""
    for name in names:
        if not 0.0 <= getattr(config, name) <= 1.0:
            raise ValueError(f"{name} must be in [0, 1], got {getattr(config, name)}")


def check_non_negative(config, *names: str) -> None:
    """Raise ValueError naming the first of the config's fields ``names`` that is negative."""
    for name in names:
        if getattr(config, name) < 0:
            raise ValueError(f"{name} must be >= 0, got {getattr(config, name)}")


def make_optimizer(name: str, parameters, learning_rate: float) -> torch.optim.Optimizer:
    """``"adam"`` (eps 1e-5, as PPO's reference code) or ``"rmsprop"`` (alpha 0.99, eps 1e-5, as A2C's).

    Adam is torch's fused kernel and RMSprop its multi-tensor one, on the CPU as on a GPU: the small nets of
    these learners take many cheap steps, and the per-parameter loop that torch otherwise runs on the CPU
    took more of a PPO update than the forward and backward passes together.
    """
    if name == "adam":
        return torch.optim.Adam(parameters, lr=learning_rate, eps=1e-5, fused=True)
    return torch.optim.RMSprop(parameters, lr=learning_rate, alpha=0.99, eps=1e-5, foreach=True)


def clip_gradients(parameters, max_norm: float) -> None:
    """Scale the gradients of ``parameters`` to a total 2-norm of at most ``max_norm`` (one multi-tensor
    kernel, on any device)."""
    torch.nn.utils.clip_grad_norm_(parameters, max_norm, foreach=True)


@contextmanager
def torch_threads(threads: int | None):
    """Run with ``threads`` intra-op threads, restoring the previous setting.

    The default, half the cores between 1 and 4, leaves a core to the envs and to other work: the small
    matrices of MLP policies gain little from more threads and lose much when threads spin on busy cores.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(threads or max(1, min(4, (os.cpu_count() or 1) // 2)))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


UpdateFn = Callable[["Learner", Rollout], dict[str, float]]


class Learner:
    """One on-policy learner: env batch, actor-critic, optimiser, generator; ``train(steps)`` continues it."""

    def __init__(
        self,
        algo: str,
        update: UpdateFn,
        env: str | gym.Env | VectorEnv,
        config: LearnerConfig,
        *,
        total_steps: int,
        seed: int,
        device: str | torch.device = "auto",
        env_kwargs: dict | None = None,
        log_dir: str | Path | None = None,
        progress: bool = False,
        console=None,
    ):
        config.validate()
        config = replace(config, network=network_reference(config.network))
        if total_steps < config.num_envs * config.num_steps:
            raise ValueError(
                f"total_steps must be >= num_envs * num_steps = {config.num_envs * config.num_steps} "
                f"(one update), got {total_steps}"
            )
        self.algo, self.update, self.config, self.seed = algo, update, config, seed
        self.total_steps = total_steps
        self.device = resolve_device(device)
        self.env_id = env if isinstance(env, str) else (env.spec.id if env.spec else None)
        self.env_kwargs = dict(env_kwargs or {})
        with torch_threads(config.torch_threads):
            self.env = TorchVectorEnv(
                make_vector_env(
                    env,
                    config.num_envs,
                    device=self.device,
                    env_kwargs=env_kwargs,
                    vectorization=config.vectorization,
                ),
                self.device,
                config.action_bound,
            )
            arch = PolicyArch(
                obs_dim=self.env.obs_dim,
                action=self.env.action,
                hidden=tuple(config.hidden),
                activation=config.activation,
                log_std_init=config.log_std_init,
                normalize_obs=config.normalize_obs,
                network=config.network,
            )
            self.policy = ActorCritic(arch, generator=torch.Generator().manual_seed(seed)).to(self.device)
            if config.compile:  # in place: the state dict keeps its keys
                self.policy.actor.compile()
                self.policy.critic.compile()
            self.reward_scaler = (
                RewardScaler(config.num_envs, config.gamma, self.device) if config.normalize_reward else None
            )
            self.optimizer = make_optimizer(config.optimizer, self.policy.parameters(), config.learning_rate)
            self.generator = torch.Generator(device=self.device).manual_seed(seed)
            self.rollout = Rollout(config.num_steps, self.env)
            self._obs, self._mask = self.env.reset(seed=seed)
        self.global_step = 0
        self.train_time_s = 0.0  # wall time spent collecting and updating
        self.logger = TrainingLogger(
            log_dir, total_steps, progress=progress, description=algo, console=console
        )

    @property
    def steps_per_update(self) -> int:
        return self.config.num_envs * self.config.num_steps

    def train(self, steps: int | None = None) -> list[dict[str, float]]:
        """Train for ``steps`` more env steps (default: up to ``total_steps``), in whole updates (rounded
        down); returns the new log rows."""
        target = self.total_steps if steps is None else self.global_step + steps
        first_row = len(self.logger.rows)
        with torch_threads(self.config.torch_threads):
            while self.global_step + self.steps_per_update <= target:
                self._iteration()
        return self.logger.rows[first_row:]

    def _iteration(self) -> None:
        config, start = self.config, time.perf_counter()
        if config.anneal_lr:
            fraction = min(1.0, self.global_step / self.total_steps)
            self.set_learning_rate(config.learning_rate * (1.0 - fraction))
        self._obs, self._mask = collect(
            self.env, self.policy, self.rollout, self._obs, self._mask, self.generator
        )
        self.global_step += self.steps_per_update
        if self.reward_scaler is not None:
            rollout = self.rollout
            done = rollout.terminated | rollout.truncated
            self.reward_scaler.scale_(rollout.rewards, done, rollout.valid_mask)
        stats = self.update(self, self.rollout)
        if self.policy.obs_norm is not None:
            self.policy.obs_norm.update(self.rollout.valid_rows(self.rollout.obs))
        elapsed = time.perf_counter() - start
        self.train_time_s += elapsed
        returns, lengths = self.rollout.finished_episodes()
        self.logger.log(
            self.global_step,
            {
                "charts/episodic_return": _mean(returns),
                "charts/episodic_length": _mean(lengths),
                "charts/episodes": float(len(returns)),
                "charts/learning_rate": self.optimizer.param_groups[0]["lr"],
                "charts/SPS": self.steps_per_update / elapsed,
                "charts/time_s": self.train_time_s,
                **stats,
            },
        )

    def set_learning_rate(self, lr: float) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    def agent(self, *, deterministic: bool = False) -> PolicyAgent:
        """The current policy as an Agent (a CPU copy: training can go on)."""
        policy = ActorCritic(self.policy.arch)
        policy.load_state_dict({k: v.detach().cpu() for k, v in self.policy.state_dict().items()})
        spaces = self.env.env.single_action_space
        return PolicyAgent(policy, spaces, name=f"{self.algo}-{self.env_id}", deterministic=deterministic)

    def save(self, directory: str | Path, *, metadata: dict | None = None) -> Path:
        """Save the policy as an agent package that ``agents.load_agent(directory)`` loads."""
        return save(
            self.policy,
            directory,
            name=f"{self.algo}-{(self.env_id or 'env').replace('/', '-')}-seed{self.seed}",
            env_id=self.env_id or "unknown",
            env_kwargs=self.env_kwargs,
            metadata={
                "algo": self.algo,
                "env_id": self.env_id,
                "seed": self.seed,
                "total_steps": self.global_step,
                "device": str(self.device),
                "env_kwargs": self.env_kwargs,
                "config": self.config.as_dict(),
                **(metadata or {}),
            },
        )

    def close(self) -> None:
        self.logger.close()
        self.env.close()


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else math.nan


@dataclass(frozen=True, kw_only=True)
class Algorithm:
    """An on-policy learner: its name (in logs and saved packages), its config class (whose defaults are the
    paper's) and its update. Each algorithm module defines one and exposes its :meth:`learn` as ``learn``."""

    name: str
    config: type[LearnerConfig]
    update: UpdateFn

    def learn(
        self,
        env: str | gym.Env | VectorEnv,
        *,
        total_steps: int,
        seed: int,
        device: str | torch.device = "auto",
        config: LearnerConfig | None = None,
        out: str | Path | None = None,
        env_kwargs: dict | None = None,
        progress: bool = False,
        console=None,
    ) -> PolicyAgent:
        """Train on ``env`` (an id, an env or a vector env) for ``total_steps`` env steps; return the Agent.

        ``config`` defaults to the algorithm's paper defaults. With ``out``, writes the CSV/TensorBoard logs
        there and saves an agent package that ``agents.load_agent(out)`` loads.
        """
        learner = Learner(
            self.name,
            self.update,
            env,
            config or self.config(),
            total_steps=total_steps,
            seed=seed,
            device=device,
            env_kwargs=env_kwargs,
            log_dir=out,
            progress=progress,
            console=console,
        )
        try:
            learner.train()
            if out is not None:
                learner.save(out)
            return learner.agent()
        finally:
            learner.close()
