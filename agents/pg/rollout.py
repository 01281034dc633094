"""Vector envs as torch tensors, and fixed-length rollouts stored on the device.

:func:`make_vector_env` builds the fastest vector env an id offers: its batched ``vector_entry_point`` when
registered (its tensors stay on the device), otherwise ``gym.make_vec`` sync/async. :class:`TorchVectorEnv`
reads the env's ``metadata["autoreset_mode"]`` and reports every step the same way whatever the mode:

- ``SAME_STEP``: an ended env already returns the next episode's first observation; the final observation
  comes from ``info["final_obs"]``;
- ``NEXT_STEP``: an ended env returns its final observation, and its *next* step only resets it; that reset
  transition is flagged ``valid = False`` and never trained on;
- ``DISABLED``: ended envs are reset here with ``reset(options={"reset_mask": ...})``.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import torch
from gymnasium.vector import AutoresetMode, VectorEnv
from torch import Tensor

from agents.pg.distributions import ActionKind
from agents.pg.estimators import discounted_returns, gae
from agents.pg.policy import ActorCritic, flatten_obs


def make_vector_env(
    env: str | gym.Env | VectorEnv,
    num_envs: int,
    *,
    device: torch.device | str = "cpu",
    env_kwargs: dict | None = None,
    vectorization: str = "auto",
) -> VectorEnv:
    """A vector env of ``num_envs`` copies of ``env``: an id, an env (its spec is used), or a VectorEnv.

    ``vectorization``: ``"auto"`` (the batched ``vector_entry_point`` if the id has one, else sync),
    ``"vector_entry_point"``, ``"sync"`` or ``"async"``. Sync/async envs reset in the same step.
    """
    if isinstance(env, VectorEnv):
        return env
    if num_envs < 1:
        raise ValueError(f"num_envs must be >= 1, got {num_envs}")
    if vectorization not in ("auto", "vector_entry_point", "sync", "async"):
        raise ValueError(
            f"vectorization={vectorization!r} is not one of auto, vector_entry_point, sync, async"
        )
    import envs  # noqa: F401  (registers our ids)

    spec = gym.spec(env) if isinstance(env, str) else env.spec
    if spec is None:  # an env instance without a registered spec: step it alone
        single = env
        return gym.vector.SyncVectorEnv([lambda: single], autoreset_mode=AutoresetMode.SAME_STEP)
    kwargs = dict(env_kwargs or {})
    if vectorization == "auto":
        vectorization = "vector_entry_point" if spec.vector_entry_point is not None else "sync"
    if vectorization == "vector_entry_point":
        if accepts_argument(spec.vector_entry_point, "device"):
            kwargs["device"] = device
        return gym.make_vec(spec, num_envs=num_envs, vectorization_mode="vector_entry_point", **kwargs)
    return gym.make_vec(
        spec,
        num_envs=num_envs,
        vectorization_mode=vectorization,
        vector_kwargs={"autoreset_mode": AutoresetMode.SAME_STEP},
        **kwargs,
    )


def accepts_argument(entry_point, name: str) -> bool:
    """Whether ``entry_point`` (a callable or a ``"module:attribute"`` string) takes an argument ``name``."""
    if isinstance(entry_point, str):
        module, attribute = entry_point.split(":")
        entry_point = getattr(__import__(module, fromlist=[attribute]), attribute)
    try:
        parameters = inspect.signature(entry_point).parameters
    except (TypeError, ValueError):
        return False
    return name in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values())


@dataclass(kw_only=True)
class Step:
    """One vector step as tensors on the device, shapes ``[N, ...]``."""

    obs: Tensor  # what the policy sees next (a new episode's first observation where an episode ended)
    reward: Tensor
    terminated: Tensor
    truncated: Tensor
    final_obs: Tensor | None  # the observation an ended episode reached, or None when it is ``obs`` itself
    valid: Tensor  # False for NEXT_STEP's reset transitions
    action_mask: Tensor | None  # legal actions at ``obs``
    episode_return: Tensor  # the undiscounted return of episodes that ended here (NaN elsewhere)
    episode_length: Tensor


class TorchVectorEnv:
    """A Gymnasium VectorEnv seen through torch tensors on ``device``, under any autoreset mode."""

    def __init__(self, env: VectorEnv, device: torch.device | str = "cpu", action_bound: str = "clip"):
        self.env = env
        self.device = torch.device(device)
        self.num_envs = env.num_envs
        self.obs_dim = flatten_obs(env.single_observation_space)
        self.action = ActionKind.of(env.single_action_space, action_bound)
        self.mode = AutoresetMode(env.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP))
        self._numpy_actions = True
        self._prev_done = torch.zeros(self.num_envs, dtype=torch.bool, device=self.device)
        self._return = torch.zeros(self.num_envs, dtype=torch.float64, device=self.device)
        self._length = torch.zeros(self.num_envs, dtype=torch.long, device=self.device)

    def reset(self, seed: int | None = None) -> tuple[Tensor, Tensor | None]:
        obs, info = self.env.reset(seed=seed)
        self._numpy_actions = not torch.is_tensor(obs)
        self._prev_done.zero_()
        self._return.zero_()
        self._length.zero_()
        return self._obs(obs), self._mask(info)

    def step(self, actions: Tensor) -> Step:
        env_actions = self.action.to_env(actions)
        if self._numpy_actions:
            env_actions = env_actions.cpu().numpy().astype(self.env.single_action_space.dtype)
        obs, reward, terminated, truncated, info = self.env.step(env_actions)
        obs, mask = self._obs(obs), self._mask(info)
        reward = self._tensor(reward, torch.float32)
        terminated, truncated = self._tensor(terminated, torch.bool), self._tensor(truncated, torch.bool)
        done = terminated | truncated
        valid = ~self._prev_done if self.mode is AutoresetMode.NEXT_STEP else torch.ones_like(done)
        final_obs = None
        if self.mode is AutoresetMode.SAME_STEP and "final_obs" in info:
            final_obs = self._final_obs(info, obs)
        elif self.mode is AutoresetMode.SAME_STEP and bool(done.any()):
            raise ValueError("info: a SAME_STEP vector env must give 'final_obs' where an episode ends")
        elif self.mode is AutoresetMode.DISABLED and bool(done.any()):
            final_obs = obs
            reset_obs, reset_info = self.env.reset(options={"reset_mask": done.cpu().numpy()})
            obs = torch.where(done[:, None], self._obs(reset_obs), obs)
            reset_mask = self._mask(reset_info)
            mask = reset_mask if mask is None else torch.where(done[:, None], reset_mask, mask)
        self._prev_done = done
        self._return += reward.double() * valid
        self._length += valid.long()
        nan = torch.full_like(self._return, float("nan"))
        episode_return = torch.where(done, self._return, nan)
        episode_length = torch.where(done, self._length.double(), nan)
        self._return = torch.where(done, 0.0, self._return)
        self._length = torch.where(done, 0, self._length)
        return Step(
            obs=obs,
            reward=reward,
            terminated=terminated,
            truncated=truncated,
            final_obs=final_obs,
            valid=valid,
            action_mask=mask,
            episode_return=episode_return,
            episode_length=episode_length,
        )

    def close(self) -> None:
        self.env.close()

    def _tensor(self, value, dtype) -> Tensor:
        return torch.as_tensor(value, device=self.device).to(dtype)

    def _obs(self, obs) -> Tensor:
        return self._tensor(obs, torch.float32).reshape(self.num_envs, self.obs_dim)

    def _final_obs(self, info: dict, obs: Tensor) -> Tensor:
        final, present = info["final_obs"], info["_final_obs"]
        if torch.is_tensor(final):
            return torch.where(self._tensor(present, torch.bool)[:, None], self._obs(final), obs)
        rows = [
            np.asarray(f, dtype=np.float32).ravel() if p else np.zeros(self.obs_dim, np.float32)
            for f, p in zip(final, present, strict=True)
        ]
        return torch.where(self._tensor(present, torch.bool)[:, None], self._obs(np.stack(rows)), obs)

    def _mask(self, info: dict) -> Tensor | None:
        if "action_mask" not in info:
            return None
        mask = self.action.flat_mask(info["action_mask"], self.num_envs, self.device)
        present = info.get("_action_mask")
        if present is not None and mask is not None:
            mask = mask | ~self._tensor(present, torch.bool)[:, None]
        return mask


@dataclass(frozen=True, kw_only=True)
class Batch:
    """A rollout's valid transitions flattened to one axis ``[B, ...]`` (CleanRL's ``b_obs``, ``b_actions``,
    ...), with the advantages and returns an estimator gave them."""

    obs: Tensor
    actions: Tensor
    masks: Tensor | None  # None when the env gave no action masks
    logprobs: Tensor  # of the actions, under the policy that collected them
    values: Tensor  # the critic's, at collection
    advantages: Tensor
    returns: Tensor


class Rollout:
    """``steps`` x ``num_envs`` transitions, preallocated on the device."""

    def __init__(self, steps: int, env: TorchVectorEnv):
        n, device = env.num_envs, env.device
        shape = (steps, n)
        action_shape = (steps, n) if env.action.kind == "discrete" else (steps, n, env.action.dim)
        action_dtype = torch.float32 if env.action.kind == "box" else torch.long
        self.steps = steps
        # Only NEXT_STEP envs make invalid (reset) transitions (see valid_mask).
        self.all_valid = env.mode is not AutoresetMode.NEXT_STEP
        self.obs = torch.zeros(*shape, env.obs_dim, device=device)
        self.actions = torch.zeros(action_shape, dtype=action_dtype, device=device)
        self.masks = torch.ones(*shape, env.action.mask_dim, dtype=torch.bool, device=device)
        self.logprobs = torch.zeros(shape, device=device)
        self.values = torch.zeros(shape, device=device)
        self.next_values = torch.zeros(shape, device=device)
        self.rewards = torch.zeros(shape, device=device)
        self.terminated = torch.zeros(shape, dtype=torch.bool, device=device)
        self.truncated = torch.zeros(shape, dtype=torch.bool, device=device)
        self.valid = torch.ones(shape, dtype=torch.bool, device=device)
        self.masked = False  # whether the env gave action masks
        self.episode_returns = torch.zeros(shape, dtype=torch.float64, device=device)
        self.episode_lengths = torch.zeros(shape, dtype=torch.float64, device=device)

    def gae(self, gamma: float, gae_lambda: float) -> tuple[Tensor, Tensor]:
        """Advantages and returns of every transition by GAE (:func:`agents.pg.estimators.gae`)."""
        return gae(
            self.rewards, self.values, self.next_values, self.terminated, self.truncated, gamma, gae_lambda
        )

    def discounted_returns(self, gamma: float) -> Tensor:
        """Monte-Carlo returns of every transition (:func:`agents.pg.estimators.discounted_returns`)."""
        return discounted_returns(self.rewards, self.terminated, self.truncated, self.next_values, gamma)

    def batch(self, advantages: Tensor, returns: Tensor) -> Batch:
        """The valid transitions (never NEXT_STEP's reset transitions) with ``advantages`` and ``returns``,
        each shaped ``[steps, num_envs]``."""
        return Batch(
            obs=self.valid_rows(self.obs),
            actions=self.valid_rows(self.actions),
            masks=self.valid_rows(self.masks) if self.masked else None,
            logprobs=self.valid_rows(self.logprobs),
            values=self.valid_rows(self.values),
            advantages=self.valid_rows(advantages),
            returns=self.valid_rows(returns),
        )

    @property
    def valid_mask(self) -> Tensor | None:
        """The ``[steps, num_envs]`` valid flags, or None where every transition is valid (any env but a
        NEXT_STEP one): then no boolean index is needed, which on a GPU would wait to count the kept rows."""
        return None if self.all_valid else self.valid

    def valid_rows(self, values: Tensor) -> Tensor:
        """``values`` (``[steps, num_envs, ...]``) flattened to the valid transitions, ``[B, ...]``."""
        mask = self.valid_mask
        return values.flatten(0, 1) if mask is None else values[mask]

    def finished_episodes(self) -> tuple[list[float], list[float]]:
        """Returns and lengths of the episodes that ended during this rollout."""
        ended = ~torch.isnan(self.episode_returns)
        return self.episode_returns[ended].tolist(), self.episode_lengths[ended].tolist()


@torch.no_grad()
def collect(
    env: TorchVectorEnv,
    policy: ActorCritic,
    rollout: Rollout,
    obs: Tensor,
    mask: Tensor | None,
    generator: torch.Generator,
) -> tuple[Tensor, Tensor | None]:
    """Fill ``rollout`` by acting with ``policy`` from ``obs``; returns the obs and mask to go on from.

    ``next_values[t]`` is V of the observation transition t reached: the next step's observation, or the
    final observation of an episode that was truncated there (0 is used where it terminated).
    """
    for t in range(rollout.steps):
        dist = policy.distribution(obs, mask)
        action = dist.sample(generator)
        rollout.obs[t], rollout.actions[t] = obs, action
        if mask is not None:
            rollout.masks[t], rollout.masked = mask, True
        rollout.logprobs[t], rollout.values[t] = dist.log_prob(action), policy.value(obs)
        step = env.step(action)
        rollout.rewards[t], rollout.terminated[t], rollout.truncated[t] = (
            step.reward,
            step.terminated,
            step.truncated,
        )
        rollout.valid[t] = step.valid
        rollout.episode_returns[t], rollout.episode_lengths[t] = step.episode_return, step.episode_length
        # On a GPU, valuing every final observation is cheaper than a device sync to find the truncated ones.
        if step.final_obs is not None and (step.obs.is_cuda or bool(step.truncated.any())):
            rollout.next_values[t] = policy.value(step.final_obs)
        obs, mask = step.obs, step.action_mask
    following = torch.cat([rollout.values[1:], policy.value(obs)[None]])
    if env.mode is AutoresetMode.NEXT_STEP:  # an ended env's next observation is its final one
        rollout.next_values.copy_(following)
    else:
        rollout.next_values.copy_(torch.where(rollout.truncated, rollout.next_values, following))
    return obs, mask
