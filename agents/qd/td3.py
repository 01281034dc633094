"""TD3 pieces for policy-gradient variation in QD: a replay buffer, twin critics, the TD3 update of
critics and actor (Fujimoto et al., 2018), and the policy-gradient variation of a batch of policies.

Every critic and actor here may be *conditioned* on a target descriptor (DCG-ME): it then takes the
normalised target descriptor concatenated to its input; unconditioned ones (PGA-ME) take ``cond_dim=0``.
Randomness comes only from the ``torch.Generator`` each function is handed.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from agents.nets import mlp


@dataclass
class TD3Config:
    """TD3 hyperparameters as PGA-ME and DCG-ME set them (Nilsson & Cully 2021, Faldor et al. 2023)."""

    critic_hidden: tuple[int, ...] = (256, 256)
    critic_lr: float = 3e-4
    actor_lr: float = 3e-4
    discount: float = 0.99
    tau: float = 0.005  # soft update rate of the target networks
    policy_noise: float = 0.2  # target policy smoothing noise (action units)
    noise_clip: float = 0.5
    policy_delay: int = 2  # critic updates per actor update
    batch_size: int = 256  # transitions per gradient step
    buffer_size: int = 1_000_000

    def __post_init__(self):
        for name in ("policy_delay", "batch_size", "buffer_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("critic_lr", "actor_lr"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        for name in ("discount", "tau"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        for name in ("policy_noise", "noise_clip"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")


class ReplayBuffer:
    """A circular buffer of transitions (tensors on one device); ``cond`` is the target descriptor column
    (width 0 when unconditioned), ``step_descriptor`` the normalised per-step descriptor quantity of the next
    state and ``episode_descriptor`` the normalised descriptor each transition's episode reached."""

    FIELDS = (
        "obs",
        "action",
        "reward",
        "next_obs",
        "terminated",
        "step_descriptor",
        "episode_descriptor",
        "cond",
    )

    def __init__(self, capacity: int, obs_dim: int, action_dim: int, descriptor_dim: int, cond_dim: int):
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        widths = {
            "obs": obs_dim,
            "action": action_dim,
            "reward": 1,
            "next_obs": obs_dim,
            "terminated": 1,
            "step_descriptor": descriptor_dim,
            "episode_descriptor": descriptor_dim,
            "cond": cond_dim,
        }
        self.data = {name: torch.zeros(capacity, width) for name, width in widths.items()}
        self.capacity, self.size, self._next = capacity, 0, 0

    def add(self, **columns: torch.Tensor) -> None:
        """Append N rows; each column is [N, width] (or [N] for reward and terminated)."""
        n = columns["obs"].shape[0]
        keep = min(n, self.capacity)  # of a batch larger than the buffer, only its last rows stay
        rows = torch.arange(self._next + n - keep, self._next + n) % self.capacity
        for name in self.FIELDS:
            value = columns[name].float()
            self.data[name][rows] = value.reshape(n, -1)[n - keep :]
        self._next = (self._next + n) % self.capacity
        self.size = min(self.size + n, self.capacity)

    def sample(self, n: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
        """``n`` rows drawn uniformly with replacement, every column."""
        if self.size == 0:
            raise ValueError("cannot sample from an empty replay buffer")
        rows = torch.randint(self.size, (n,), generator=generator)
        return {name: column[rows] for name, column in self.data.items()}


class TwinCritic(nn.Module):
    """Q1, Q2 (s, a | d'): two ReLU MLPs over the concatenated observation, action and condition."""

    def __init__(self, obs_dim: int, action_dim: int, cond_dim: int, hidden: tuple[int, ...], generator=None):
        super().__init__()
        in_dim = obs_dim + action_dim + cond_dim
        self.q1 = mlp(in_dim, 1, hidden, activation="relu", generator=generator)
        self.q2 = mlp(in_dim, 1, hidden, activation="relu", generator=generator)

    def forward(self, obs, action, cond) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.cat([obs, action, cond], dim=-1)
        return self.q1(x).squeeze(-1), self.q2(x).squeeze(-1)


class TD3:
    """A twin critic and an actor trained by TD3 on a replay buffer.

    ``actor(obs, cond) -> action`` in [-1, 1]; ``reward_fn(batch) -> reward`` turns a sampled batch into
    the reward the critic learns (identity for PGA-ME, the descriptor-conditioned reward for DCG-ME).
    """

    def __init__(
        self,
        actor: nn.Module,
        obs_dim: int,
        action_dim: int,
        cond_dim: int,
        config: TD3Config,
        generator: torch.Generator,
        reward_fn: Callable[[dict[str, torch.Tensor]], torch.Tensor] | None = None,
    ):
        self.config, self.generator = config, generator
        self.critic = TwinCritic(obs_dim, action_dim, cond_dim, config.critic_hidden, generator)
        self.critic_target = copy.deepcopy(self.critic)
        self.actor = actor
        self.actor_target = copy.deepcopy(actor)
        self.critic_optimizer = torch.optim.Adam(self.critic.parameters(), lr=config.critic_lr)
        self.actor_optimizer = torch.optim.Adam(self.actor.parameters(), lr=config.actor_lr)
        self.reward_fn = reward_fn or task_reward
        self.updates = 0

    def train(self, buffer: ReplayBuffer, steps: int) -> dict[str, float]:
        """``steps`` critic updates (an actor update every ``policy_delay``); returns the last losses."""
        c = self.config
        critic_loss = actor_loss = torch.tensor(float("nan"))
        for _ in range(steps):
            batch = buffer.sample(c.batch_size, self.generator)
            obs, action, cond = batch["obs"], batch["action"], batch["cond"]
            with torch.no_grad():
                noise = torch.randn(action.shape, generator=self.generator) * c.policy_noise
                next_action = self.actor_target(batch["next_obs"], cond)
                next_action = (next_action + noise.clamp(-c.noise_clip, c.noise_clip)).clamp(-1.0, 1.0)
                target_q = torch.min(*self.critic_target(batch["next_obs"], next_action, cond))
                not_done = 1.0 - batch["terminated"].squeeze(-1)
                y = self.reward_fn(batch) + c.discount * not_done * target_q
            q1, q2 = self.critic(obs, action, cond)
            critic_loss = ((q1 - y) ** 2).mean() + ((q2 - y) ** 2).mean()
            self.critic_optimizer.zero_grad()
            critic_loss.backward()
            self.critic_optimizer.step()
            self.updates += 1
            if self.updates % c.policy_delay == 0:
                actor_loss = -self.critic(obs, self.actor(obs, cond), cond)[0].mean()
                self.actor_optimizer.zero_grad()
                actor_loss.backward()
                self.actor_optimizer.step()
                _soft_update(self.critic_target, self.critic, c.tau)
                _soft_update(self.actor_target, self.actor, c.tau)
        return {"losses/critic_loss": critic_loss.item(), "losses/actor_loss": actor_loss.item()}


class BatchedPolicy:
    """``forward(params [n, P], obs [n, B, obs_dim]) -> actions [n, B, A]``: n policies of ``spec``, each on
    its own B observations, differentiable in ``params``. The row layout is ``spec.from_module``'s (each
    layer's weight then bias), read off the module ``spec.to_module`` builds."""

    def __init__(self, spec):
        self.template = spec.to_module(spec.init(1, torch.Generator().manual_seed(0))[0].float())
        self.shapes = {name: p.shape for name, p in self.template.named_parameters()}
        self.sizes = [shape.numel() for shape in self.shapes.values()]

    def __call__(self, params: torch.Tensor, obs: torch.Tensor) -> torch.Tensor:
        return torch.func.vmap(self._one)(params, obs)

    def _one(self, row: torch.Tensor, obs: torch.Tensor) -> torch.Tensor:
        chunks = torch.split(row, self.sizes)
        weights = {name: c.view(shape) for (name, shape), c in zip(self.shapes.items(), chunks, strict=True)}
        return torch.func.functional_call(self.template, weights, (obs,))


def pg_variation(
    params: torch.Tensor,
    forward: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    critic: TwinCritic,
    buffer: ReplayBuffer,
    *,
    steps: int,
    lr: float,
    batch_size: int,
    generator: torch.Generator,
    cond: torch.Tensor | None = None,
) -> torch.Tensor:
    """Policy-gradient variation: ``steps`` Adam steps on each row of ``params`` [n, P] ascending
    Q1(s, pi_row(s) | cond_row), each step on ``batch_size`` states from the buffer (shared by the rows).

    Adam is elementwise, so one optimiser over the stacked rows is n independent optimisers.
    ``forward`` is a :class:`BatchedPolicy`; ``cond`` [n, C] conditions each row (None: unconditioned).
    Returns the new rows, detached.
    """
    n = params.shape[0]
    params = params.detach().float().clone().requires_grad_(True)
    optimizer = torch.optim.Adam([params], lr=lr)
    cond = torch.zeros(n, 0) if cond is None else cond
    cond = cond.unsqueeze(1).expand(n, batch_size, cond.shape[-1])
    for p in critic.parameters():
        p.requires_grad_(False)
    try:
        for _ in range(steps):
            obs = buffer.sample(batch_size, generator)["obs"].expand(n, batch_size, -1)
            action = forward(params, obs)
            loss = -critic.q1(torch.cat([obs, action, cond], dim=-1)).mean(dim=(1, 2)).sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    finally:
        for p in critic.parameters():
            p.requires_grad_(True)
    return params.detach()


def task_reward(batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """The environment's reward of a sampled batch, [n]."""
    return batch["reward"].squeeze(-1)


def _soft_update(target: nn.Module, source: nn.Module, tau: float) -> None:
    with torch.no_grad():
        for t, s in zip(target.parameters(), source.parameters(), strict=True):
            t.lerp_(s, tau)
