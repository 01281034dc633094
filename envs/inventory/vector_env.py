"""The batched inventory env: many scenarios of one network as torch tensors on a device."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import torch
from gymnasium.vector.utils import batch_space

from envs._core.torch_vector import check_vector_args, resolve_device
from envs.inventory.env import check_reward_scale, spaces_of
from envs.inventory.simulator import make_simulator


class InventoryVectorEnv(gym.vector.VectorEnv):
    """``num_envs`` scenarios of :class:`envs.inventory.env.InventoryEnv` stepped together.

    Takes the single env's keyword arguments, plus ``num_envs``, ``device`` (``"cpu"``, ``"cuda"``, ``"auto"``
    = CUDA when available), ``dtype`` (``torch.float32`` default, or ``torch.float64``; also as strings) and
    ``max_episode_steps`` (truncation; ``gym.make_vec`` passes the id's).

    ``step``/``reset`` return torch tensors on the device: observations (n, obs_dim), rewards (n,),
    terminated/truncated bool (n,). Actions may be a tensor or a numpy array. Autoreset is same-step: an ended
    scenario's returned observation is already the next episode's first, and ``info["final_obs"]`` holds the
    last one where ``info["_final_obs"]`` is True. ``info`` also holds the period's ``cost``,
    ``holding_cost``, ``underage_cost`` (n,), ``demand``, ``sales``, ``unmet`` (n, stores) and ``shipped``
    (n, edges), and the state before any reset: ``on_hand`` (n, nodes), ``pipeline`` (n, nodes, max lead).

    Seeding: ``reset(seed=s)`` seeds this env's own ``torch.Generator``; all demand is drawn from it. Given
    the same demand (a time series replayed with ``csv_random_start=False``) and the same actions, each
    scenario follows the single env step for step (in float64).
    """

    metadata = {"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP, "render_modes": []}

    def __init__(
        self,
        num_envs: int = 1,
        device: str | torch.device = "auto",
        dtype: torch.dtype | str = torch.float32,
        max_episode_steps: int | None = None,
        reward_scale: float = 1.0,
        **kwargs: Any,
    ):
        dtype = check_vector_args(num_envs, dtype, max_episode_steps)
        self.reward_scale = check_reward_scale(reward_scale)
        self.device, self.dtype = resolve_device(device), dtype
        self.simulator = make_simulator(**kwargs, device=self.device, dtype=dtype)
        self.num_envs, self.max_episode_steps = num_envs, max_episode_steps
        self.single_observation_space, self.single_action_space = spaces_of(self.simulator)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self._generator = torch.Generator(device=self.device)
        self._generator.seed()

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        if seed is not None:
            self._generator.manual_seed(seed)
        self._state = self.simulator.initial_state(self.num_envs)
        self._start = self.simulator.sample_start(self.num_envs, self._generator)
        self._k = torch.zeros(self.num_envs, dtype=torch.int64, device=self.device)
        return self.simulator.observation(self._state), {"problem": self.simulator.problem()}

    def step(self, actions):
        simulator = self.simulator
        orders = torch.as_tensor(actions, device=self.device).to(self.dtype).reshape(self.num_envs, -1)
        if orders.shape[1] != simulator.num_edges:
            raise ValueError(
                f"actions of shape {tuple(orders.shape)} must be ({self.num_envs}, {simulator.num_edges})"
            )
        demand = simulator.sample_demand(self.num_envs, 1, self._generator, self._start)[:, 0]
        self._state, rewards, record = simulator.step(self._state, orders, demand)
        self._start, self._k = self._start + 1, self._k + 1
        terminated = torch.zeros(self.num_envs, dtype=torch.bool, device=self.device)
        if self.max_episode_steps is None:
            truncated = torch.zeros_like(terminated)
        else:
            truncated = self._k >= self.max_episode_steps
        final = simulator.observation(self._state)
        info: dict[str, Any] = {**record, "demand": demand, "on_hand": self._state.on_hand}
        info["pipeline"] = self._state.pipeline
        info["final_obs"], info["_final_obs"] = final, truncated
        observation = final
        if bool(truncated.any()):
            fresh = simulator.initial_state(self.num_envs)
            keep = truncated[:, None]
            self._state = type(self._state)(
                torch.where(keep, fresh.on_hand, self._state.on_hand),
                torch.where(keep[:, :, None], fresh.pipeline, self._state.pipeline),
            )
            self._start = torch.where(
                truncated, simulator.sample_start(self.num_envs, self._generator), self._start
            )
            self._k = torch.where(truncated, 0, self._k)
            observation = simulator.observation(self._state)
        return observation, rewards * self.reward_scale, terminated, truncated, info
