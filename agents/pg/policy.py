"""The actor-critic network every learner trains, the Agent that plays it, and its checkpoint directory.

A checkpoint directory holds ``policy.pt`` (architecture + weights) and an ``agent.toml`` whose entry point is
this module's :func:`load`, so ``agents.load_agent(directory)`` gives back an :class:`Agent`.
"""

from __future__ import annotations

import hashlib
import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import Tensor, nn

from agents.base import AgentManifest, EnvSpaces, write_manifest
from agents.pg.distributions import ActionKind
from agents.pg.normalization import RunningNorm

WEIGHTS = "policy.pt"
DEFAULT_NETWORK = "agents.nets:mlp"


@dataclass(frozen=True)
class PolicyArch:
    """The shape of an actor-critic: enough to rebuild it before loading its weights."""

    obs_dim: int
    action: ActionKind
    hidden: tuple[int, ...] = (64, 64)
    activation: str = "tanh"
    log_std_init: float = 0.0
    normalize_obs: bool = False
    network: str = DEFAULT_NETWORK  # "module:function" of the actor's and the critic's factory

    def as_dict(self) -> dict:
        return {**self.__dict__, "action": self.action.as_dict(), "hidden": list(self.hidden)}

    @classmethod
    def from_dict(cls, data: dict) -> PolicyArch:
        return cls(
            **{**data, "action": ActionKind.from_dict(data["action"]), "hidden": tuple(data["hidden"])}
        )


def network_factory(reference: str) -> Callable[..., nn.Module]:
    """The network factory that ``reference`` (``"module:function"``) names, imported.

    A factory has the signature of :func:`agents.nets.mlp`, the default: ``factory(in_dim, out_dim, hidden,
    *, activation, out_gain, generator) -> nn.Module``, the module mapping ``[B, in_dim]`` to ``[B, out_dim]``
    (float32). ``out_gain`` is 0.01 for the actor's head and 1 for the critic's; ``generator`` seeds the
    initial weights (use it, never torch's global generator, so that a seed gives the same run).
    """
    module_name, _, attribute = reference.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"network={reference!r} must name a factory as 'module:function'")
    try:
        factory = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as error:
        raise ValueError(f"network={reference!r} cannot be imported: {error}") from None
    if not callable(factory):
        raise ValueError(f"network={reference!r} is not callable")
    return factory


def network_reference(network: str | Callable[..., nn.Module]) -> str:
    """``network`` as the ``"module:function"`` a checkpoint stores (a string is checked and kept)."""
    if isinstance(network, str):
        network_factory(network)
        return network
    reference = f"{network.__module__}:{network.__qualname__}"
    if "<" in reference:  # a lambda or a function defined inside another: no import path leads back to it
        raise ValueError(
            f"network={reference!r}: a saved policy must rebuild its network by import; pass a function "
            "defined at the top level of a module"
        )
    return reference


class ActorCritic(nn.Module):
    """Separate actor and critic networks (as in PPO's reference code) and, for Box actions, a learnt log-std.

    Both come from the factory ``arch.network`` names (:func:`network_factory`; an MLP by default).
    """

    def __init__(self, arch: PolicyArch, generator: torch.Generator | None = None):
        super().__init__()
        self.arch = arch
        self.action = arch.action
        factory = network_factory(arch.network)
        # Without a generator (a net about to load saved weights) a fresh one, leaving torch's global one.
        shape = dict(activation=arch.activation, generator=generator or torch.Generator())
        self.actor = factory(arch.obs_dim, arch.action.param_dim, arch.hidden, out_gain=0.01, **shape)
        self.critic = factory(arch.obs_dim, 1, arch.hidden, out_gain=1.0, **shape)
        self.log_std = (
            nn.Parameter(torch.full((arch.action.dim,), arch.log_std_init))
            if arch.action.kind == "box"
            else None
        )
        self.obs_norm = RunningNorm(arch.obs_dim) if arch.normalize_obs else None

    def _features(self, obs: Tensor) -> Tensor:
        return self.obs_norm(obs) if self.obs_norm is not None else obs

    def value(self, obs: Tensor) -> Tensor:
        """V(obs), shape ``[B]``."""
        return self.critic(self._features(obs)).squeeze(-1)

    def distribution(self, obs: Tensor, mask: Tensor | None = None):
        """The policy's action distribution at ``obs`` (``mask``: legal discrete actions)."""
        return self.action.distribution(self.actor(self._features(obs)), self.log_std, mask)


def flatten_obs(space: gym.Space) -> int:
    """The flat observation size of a Box space (the only observation kind the MLP policies take)."""
    if not isinstance(space, gym.spaces.Box):
        raise ValueError(f"observation_space: {type(space).__name__} is not supported (allowed: Box)")
    return int(np.prod(space.shape))


class PolicyAgent:
    """A trained actor-critic as an :class:`agents.base.Agent`: one action per (unbatched) observation.

    Actions are sampled with the agent's own generator (reseeded by ``reset(seed)``), or the distribution's
    mode when ``deterministic``.
    """

    def __init__(
        self, policy: ActorCritic, action_space: gym.Space, *, name: str = "pg", deterministic: bool = False
    ):
        self.name = name
        self.policy = policy.eval()
        self.deterministic = deterministic
        self._space = action_space
        self._generator = torch.Generator()
        self.reset()

    def reset(self, seed: int | None = None) -> None:
        self._generator.manual_seed(0 if seed is None else seed)

    @torch.no_grad()
    def act(self, observation: Any, info: dict) -> Any:
        obs = torch.as_tensor(np.asarray(observation, dtype=np.float32)).reshape(1, -1)
        action_kind = self.policy.action
        mask = action_kind.flat_mask(_single_mask(info.get("action_mask")), 1, "cpu")
        dist = self.policy.distribution(obs, mask)
        raw = dist.mode() if self.deterministic else dist.sample(self._generator)
        action = action_kind.to_env(raw)[0].numpy()
        if isinstance(self._space, gym.spaces.Discrete):
            return int(action)
        return action.astype(self._space.dtype)


def _single_mask(mask):
    if mask is None:
        return None
    if isinstance(mask, (tuple, list)):
        return tuple(np.asarray(m)[None] for m in mask)
    return np.asarray(mask)[None]


def save(
    policy: ActorCritic,
    directory: str | Path,
    *,
    name: str,
    env_id: str,
    env_kwargs: dict | None = None,
    metadata: dict | None = None,
) -> Path:
    """Write ``policy.pt`` and ``agent.toml`` (plus ``training.json`` with ``metadata``) to ``directory``.

    The package's version is :func:`weights_version` of the weights, so two runs of one name never share
    a ``name@version`` label on a board unless their weights are identical."""
    directory = Path(directory).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in policy.state_dict().items()}
    torch.save(
        {"arch": policy.arch.as_dict(), "state_dict": state, "env_kwargs": env_kwargs or {}},
        directory / WEIGHTS,
    )
    manifest = AgentManifest(
        name=name,
        version=weights_version(state),
        entry_point="agents.pg.policy:load",
        envs=[env_id],
        weights=WEIGHTS,
        kwargs={"deterministic": False},
    )
    write_manifest(directory, manifest)
    (directory / "training.json").write_text(json.dumps(metadata or {}, indent=2, default=str) + "\n")
    return directory


def weights_version(state: dict[str, Tensor]) -> str:
    """The first 8 hex digits of the SHA-256 of the weights (names, shapes, dtypes and values)."""
    digest = hashlib.sha256()
    for name in sorted(state):
        tensor = state[name].detach().cpu()
        digest.update(f"{name}:{tuple(tensor.shape)}:{tensor.dtype};".encode())
        digest.update(tensor.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()[:8]


def load_policy(directory: str | Path) -> tuple[ActorCritic, dict]:
    """The actor-critic saved in ``directory`` (on CPU) and the env kwargs it was trained with."""
    checkpoint = torch.load(Path(directory) / WEIGHTS, map_location="cpu", weights_only=True)
    policy = ActorCritic(PolicyArch.from_dict(checkpoint["arch"]))
    policy.load_state_dict(checkpoint["state_dict"])
    return policy, checkpoint["env_kwargs"]


def load(
    spaces: EnvSpaces, *, agent_dir: str, deterministic: bool = False, name: str | None = None
) -> PolicyAgent:
    """Agent-package factory: the policy saved in ``agent_dir`` for an env with ``spaces``."""
    policy, _ = load_policy(agent_dir)
    if flatten_obs(spaces.observation_space) != policy.arch.obs_dim:
        raise ValueError(
            f"observation_space: the policy in {agent_dir} takes {policy.arch.obs_dim} numbers, the env "
            f"gives "
            f"{flatten_obs(spaces.observation_space)}"
        )
    if ActionKind.of(spaces.action_space, policy.action.bound) != policy.action:
        raise ValueError(
            f"action_space: {spaces.action_space} is not the one the policy in {agent_dir} was trained on"
        )
    return PolicyAgent(
        policy, spaces.action_space, name=name or Path(agent_dir).name, deterministic=deterministic
    )
