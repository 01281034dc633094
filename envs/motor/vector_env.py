"""The batched electric-drive simulator: many motor envs as torch tensors on one device."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium.vector.utils import batch_space

from envs._core.torch_vector import check_vector_args, resolve_device
from envs.motor.ops import TORCH_OPS
from envs.motor.task import OBSERVATION_BOUND, make_task


class _TorchSampler:
    """Random numbers for references and loads, one per env, from the vector env's own generator."""

    def __init__(self, generator: torch.Generator, n: int, device: torch.device, dtype: torch.dtype):
        self.generator, self._like = generator, {"device": device, "dtype": dtype}
        self._n = n

    def uniform(self, low: float, high: float) -> torch.Tensor:
        return low + (high - low) * torch.rand(self._n, generator=self.generator, **self._like)

    def normal(self) -> torch.Tensor:
        return torch.randn(self._n, generator=self.generator, **self._like)

    def zero(self) -> torch.Tensor:
        return torch.zeros(self._n, **self._like)


class MotorVectorEnv(gym.vector.VectorEnv):
    """``num_envs`` copies of :class:`envs.motor.env.MotorEnv` stepped together as torch tensors.

    Takes the same keyword arguments as the single env, plus ``num_envs``, ``device`` (``"cpu"``, ``"cuda"``,
    ``"auto"`` = CUDA when available), ``dtype`` (``torch.float32`` default, or ``torch.float64``; also as
    strings) and ``max_episode_steps`` (truncation; ``gym.make_vec`` passes the id's). Values in
    ``motor_params`` and ``load_params`` may be sequences of ``num_envs`` numbers: per-env parameters.

    ``step``/``reset`` return torch tensors on the device: observations (n, obs_dim) in ``dtype``, rewards
    (n,), terminated/truncated bool (n,). Actions may be a tensor or a numpy array. Autoreset is same-step:
    when an env ends, its returned observation is already the next episode's first one, and
    ``info["final_obs"]`` (n, obs_dim) holds the last observation where ``info["_final_obs"]`` is True.
    ``info`` also holds the physical states (n,) by name, after the step and before any reset.

    Seeding: ``reset(seed=s)`` seeds this env's own ``torch.Generator`` with ``s``; random references and the
    stochastic load draw from it. With deterministic references and loads each env follows, step for step,
    the single env given the same keywords and actions (reset when it ends; any seed).
    """

    metadata = {"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP, "render_modes": []}

    def __init__(
        self,
        num_envs: int = 1,
        device: str | torch.device = "auto",
        dtype: torch.dtype | str = torch.float32,
        max_episode_steps: int | None = None,
        **kwargs: Any,
    ):
        dtype = check_vector_args(num_envs, dtype, max_episode_steps)
        for field in ("motor_params", "load_params"):
            kwargs[field] = {k: _per_env(field, k, v, num_envs) for k, v in (kwargs.get(field) or {}).items()}
        self.task = task = make_task(**kwargs)
        self.num_envs, self.device, self.dtype = num_envs, resolve_device(device), dtype
        self.max_episode_steps = max_episode_steps
        self.single_observation_space, self.single_action_space = task.spaces()
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self._params = {k: self._tensor_or_float(v) for k, v in task.params.items()}
        self._load_params = {k: self._tensor_or_float(v) for k, v in task.load_params.items()}
        self._u_supply = torch.tensor(task.u_supply, device=self.device, dtype=dtype)
        self._limits = self._column_stack([task.limits[q] for q in task.motor.observed])
        self._ref_limits = [self._tensor_or_float(task.limits[q]) for q in task.references]
        self._timed_references = any(ref.kind == "sinusoid" for ref in task.references.values())
        self._ref_index = [task.motor.observed.index(q) for q in task.references]
        first = task.motor.observed.index(task.motor.limited[0])
        self._limited = slice(first, first + len(task.motor.limited))  # the limited currents are adjacent
        assert task.motor.observed[self._limited] == task.motor.limited
        self._limited_limits = self._limits[:, self._limited]
        self._noise_decay, self._noise_spread = task.noise_step(self._load_params, TORCH_OPS)
        rk4_map = task.linear_rk4_map(task.params, task.load_params)
        self._rk4_map = None if rk4_map is None else torch.as_tensor(rk4_map, device=self.device, dtype=dtype)
        self._generator = torch.Generator(device=self.device)
        self._generator.seed()
        self._sampler = _TorchSampler(self._generator, num_envs, self.device, dtype)

    def _tensor_or_float(self, value):
        array = np.asarray(value, dtype=np.float64)
        if array.ndim == 0:
            return float(array)
        return torch.as_tensor(array, device=self.device, dtype=self.dtype)

    def _column_stack(self, values) -> torch.Tensor:
        columns = [np.broadcast_to(np.asarray(v, dtype=np.float64), (self.num_envs,)) for v in values]
        return torch.as_tensor(np.stack(columns, axis=1), device=self.device, dtype=self.dtype)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        if seed is not None:
            self._generator.manual_seed(seed)
        like = {"device": self.device, "dtype": self.dtype}
        everyone = torch.ones(self.num_envs, dtype=torch.bool, device=self.device)
        self._x = [torch.zeros(self.num_envs, **like) for _ in range(self.task.motor.state_size)]
        self._refs = [torch.zeros(self.num_envs, **like) for _ in self.task.references]
        self._k = torch.zeros(self.num_envs, dtype=torch.int64, device=self.device)
        self._noise = torch.zeros(self.num_envs, **like)
        observation = self._restart(everyone, self._x[0])
        return observation, {}

    def _restart(self, done: torch.Tensor, observation: torch.Tensor) -> torch.Tensor:
        """Reset the envs where ``done``; return ``observation`` with those rows replaced by reset ones.

        On the CPU, where reading ``done`` costs no device synchronisation, a step where no env ended skips
        the reset work (and its random draws)."""
        if observation.dim() == 2 and self.device.type == "cpu" and not done.any():
            return observation
        task, ops, sampler = self.task, TORCH_OPS, self._sampler
        start = [task.initial_omega(self._load_params) + 0.0 * self._x[0]] + [0.0 * xi for xi in self._x[1:]]
        self._x = [torch.where(done, s, xi) for s, xi in zip(start, self._x, strict=True)]
        self._k = torch.where(done, 0, self._k)
        self._refs = [
            torch.where(done, ref.start(sampler, ops), r)
            for ref, r in zip(task.references.values(), self._refs, strict=True)
        ]
        if task.load == "stochastic":
            self._noise = torch.where(done, self._load_params["sigma"] * sampler.normal(), self._noise)
        zero = 0.0 * self._x[0]
        values = task.motor.quantities(self._params, start, [zero, zero])
        fresh = self._observation(torch.stack(values, dim=1))
        return torch.where(done.unsqueeze(1), fresh, observation) if observation.dim() == 2 else fresh

    def step(self, actions):
        task, ops = self.task, TORCH_OPS
        channels = self._channels(actions)
        self._x, u = task.advance(
            self._params,
            self._load_params,
            self._u_supply,
            self._x,
            channels,
            self._noise,
            ops,
            rk4_map=None if self._rk4_map is None else self._apply_rk4_map,
        )
        values = task.motor.quantities(self._params, self._x, u)
        states = torch.stack(values, dim=1)
        exceeds = self._exceeds_limit(states)
        cost = 0.0
        for q, r, lim, i in zip(task.references, self._refs, self._ref_limits, self._ref_index, strict=True):
            error = torch.abs(states[:, i] / (2 * lim) - r / 2)
            power = error if task.reward_power == 1.0 else error**task.reward_power
            cost = cost + task.reward_weights.get(q, 0.0) * power
        rewards = torch.where(exceeds, task.limit_penalty, -cost)
        terminated = exceeds if task.terminate_on_limit else torch.zeros_like(exceeds)
        self._k = self._k + 1
        time = self._k.to(self.dtype) * task.tau if self._timed_references else None
        self._refs = [
            ref.next(r, self._k, time, self._sampler, ops)
            for ref, r in zip(task.references.values(), self._refs, strict=True)
        ]
        if task.load == "stochastic":
            self._noise = self._noise_decay * self._noise + self._noise_spread * self._sampler.normal()
        if self.max_episode_steps is None:
            truncated = torch.zeros_like(terminated)
        else:
            truncated = self._k >= self.max_episode_steps
        final = self._observation(states)
        done = terminated | truncated
        observation = self._restart(done, final)
        info: dict[str, Any] = dict(zip(task.motor.observed, values, strict=True))
        info["final_obs"], info["_final_obs"] = final, done
        return observation, rewards, terminated, truncated, info

    def _apply_rk4_map(self, x, u, load_noise) -> list[torch.Tensor]:
        """The linear motor's RK4 step as one batched matrix product (see ``MotorTask.linear_rk4_map``)."""
        inputs = torch.stack([*x, *u, load_noise], dim=1)
        if self._rk4_map.dim() == 2:  # one map for all envs: a single (n, 4) x (4, 2) product
            return list(torch.mm(inputs, self._rk4_map.T).unbind(1))
        return list(torch.bmm(self._rk4_map, inputs.unsqueeze(2)).squeeze(2).unbind(1))

    def _channels(self, actions) -> list[torch.Tensor]:
        """Actions as one (n,) column per converter channel, in the env's dtype (continuous ones clipped)."""
        actions = torch.as_tensor(actions, device=self.device).to(self.dtype).reshape(self.num_envs, -1)
        if actions.shape[1] != self.task.motor.channels:
            raise ValueError(
                f"actions of shape {tuple(actions.shape)} must be "
                f"({self.num_envs}, {self.task.motor.channels})"
            )
        if not self.task.converter.finite:
            actions = actions.clamp(-1.0, 1.0)
        return list(actions.unbind(1))

    def _exceeds_limit(self, states: torch.Tensor) -> torch.Tensor:
        if self.task.motor.name == "pmsm":
            return states[:, 2] ** 2 + states[:, 3] ** 2 > self._limits[:, 2] ** 2
        return (states[:, self._limited].abs() > self._limited_limits).any(dim=1)

    def _observation(self, states: torch.Tensor) -> torch.Tensor:
        normalised = (states / self._limits).clamp(-OBSERVATION_BOUND, OBSERVATION_BOUND)
        return torch.cat([normalised, torch.stack(self._refs, dim=1)], dim=1)


def _per_env(field: str, name: str, value, num_envs: int):
    """A parameter as a float, or a float64 array of ``num_envs`` per-env values."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    array = np.asarray(value, dtype=np.float64)
    if array.ndim == 0:
        return float(array)
    if array.shape != (num_envs,):
        raise ValueError(
            f"{field}[{name!r}] has shape {array.shape}; give one number or {num_envs} (one per env)"
        )
    return array
