"""What the batched classic-control simulators share: the state tensor, seeding, time limits and autoreset."""

from __future__ import annotations

import gymnasium as gym
import torch
from gymnasium.vector.utils import batch_space

from envs._core.torch_vector import check_vector_args, resolve_device


class ClassicVectorEnv(gym.vector.VectorEnv):
    """``num_envs`` copies of one classic-control task stepped together as torch tensors on ``device``.

    Arguments: ``num_envs``, ``device`` (``"cpu"``, ``"cuda"``, ``"auto"`` = CUDA when available), ``dtype``
    (``torch.float32`` default, or ``torch.float64``; also as strings) and ``max_episode_steps`` (each env's
    own time limit; ``gym.make_vec`` passes the id's, None = never truncated).

    ``state`` is a ``(num_envs, len(state_names))`` tensor in ``dtype`` on the device, one row per env, the
    columns named by ``state_names`` (the single env's ``state``). It may be assigned, e.g. to copy a
    Gymnasium env's state into a row.

    ``step(actions)`` takes a tensor or numpy array of ``num_envs`` actions (Discrete: the action numbers;
    Box: one number each), not range-checked (that would synchronise the device), and returns torch
    tensors on the device: observations ``(num_envs, obs_dim)`` and rewards ``(num_envs,)`` in ``dtype``,
    terminated/truncated bool ``(num_envs,)``. Autoreset is same-step, as in the other batched simulators
    of ``envs``: an env that ends returns the next episode's first observation, and ``info["final_obs"]``
    holds the observation it ended on where ``info["_final_obs"]`` is True.

    Seeding: ``reset(seed=s)`` seeds this env's own ``torch.Generator``; initial states are drawn only from
    it (never from a global generator), so the same seed gives the same episodes on the same kind of device.
    (On the CPU an autoreset draws states for the ended rows only; on a GPU, where reading which rows ended
    would wait for the device, it draws one for every row and keeps those of the ended rows.)

    A subclass gives the task: the spaces, ``state_names``, and the methods ``_initial_state`` (``n``
    draws from the starting distribution), ``_advance`` (one step of the physics) and ``_observation``.
    """

    metadata = {"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP, "render_modes": []}
    state_names: tuple[str, ...]

    def __init__(
        self,
        single_observation_space: gym.spaces.Box,
        single_action_space: gym.Space,
        *,
        num_envs: int,
        device: str | torch.device,
        dtype: torch.dtype | str,
        max_episode_steps: int | None,
    ):
        self.dtype = check_vector_args(num_envs, dtype, max_episode_steps)
        self.num_envs, self.max_episode_steps = num_envs, max_episode_steps
        self.device = resolve_device(device)
        self.single_observation_space = single_observation_space
        self.single_action_space = single_action_space
        self.observation_space = batch_space(single_observation_space, num_envs)
        self.action_space = batch_space(single_action_space, num_envs)
        self.state: torch.Tensor | None = None
        self._elapsed = torch.zeros(num_envs, dtype=torch.int64, device=self.device)
        self._generator = torch.Generator(device=self.device)
        self._generator.seed()

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        if options:
            raise ValueError(f"options={options!r}: the batched classic-control envs take no reset options")
        if seed is not None:
            self._generator.manual_seed(seed)
        self.state = self._initial_state(self.num_envs)
        self._elapsed.zero_()
        return self._observation(self.state), {}

    def step(self, actions):
        if self.state is None:
            raise RuntimeError("call reset() before step()")
        actions = torch.as_tensor(actions, device=self.device)
        if actions.numel() != self.num_envs:
            raise ValueError(f"actions of shape {tuple(actions.shape)} must hold {self.num_envs} actions")
        state, rewards, terminated = self._advance(self.state, actions.reshape(self.num_envs).to(self.dtype))
        self._elapsed += 1
        if self.max_episode_steps is None:
            truncated = torch.zeros_like(terminated)
        else:
            truncated = self._elapsed >= self.max_episode_steps
        done = terminated | truncated
        final_obs = observation = self._observation(state)
        if self.device.type == "cpu":
            # Reading ``done`` costs no synchronisation on the CPU: fresh states for the ended rows only.
            ended = done.nonzero().squeeze(1)
            if len(ended):
                state[ended] = self._initial_state(len(ended))  # ``state`` is _advance's new tensor
                self._elapsed[ended] = 0
                observation = final_obs.clone()
                observation[ended] = self._observation(state[ended])
        else:  # no synchronisation: a fresh state for every row, kept where the row ended
            state = torch.where(done.unsqueeze(1), self._initial_state(self.num_envs), state)
            self._elapsed = torch.where(done, 0, self._elapsed)
            observation = self._observation(state)
        self.state = state
        return observation, rewards, terminated, truncated, {"final_obs": final_obs, "_final_obs": done}

    def _uniform(self, n: int, low: float, high: float, columns: int = 1) -> torch.Tensor:
        """``(n, columns)`` draws from U[low, high) by this env's own generator."""
        u = torch.rand(n, columns, generator=self._generator, device=self.device, dtype=self.dtype)
        return low + (high - low) * u

    def _initial_state(self, n: int) -> torch.Tensor:
        """``(n, len(state_names))`` draws from the task's starting-state distribution."""
        raise NotImplementedError

    def _advance(
        self, state: torch.Tensor, actions: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One step from ``state`` under ``actions`` ``(n,)`` in ``dtype``: the next state, the rewards and
        the terminated flags."""
        raise NotImplementedError

    def _observation(self, state: torch.Tensor) -> torch.Tensor:
        """What an agent observes in ``state``: ``(n, obs_dim)`` in ``dtype``."""
        raise NotImplementedError
