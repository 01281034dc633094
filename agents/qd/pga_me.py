"""PGA-MAP-Elites (Nilsson & Cully 2021): MAP-Elites whose batch is half iso-line offspring and half
policy-gradient offspring, the gradient coming from a TD3 critic trained on every evaluated transition.

Per iteration, after the evaluation: ``critic_steps`` TD3 updates of the twin critic and of a greedy actor
(an archive-shaped policy). Next iteration's PG offspring are elites improved by ``pg_steps`` Adam steps
(rate ``pg_lr``) on Q1(s, pi(s)), plus the greedy actor itself as one offspring. Defaults are the paper's
except where a CPU budget forces smaller numbers (``presets`` in agents/qd/runner.py names those).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from ribs.emitters import EmitterBase

from agents.qd.distilled import ConditionedActor
from agents.qd.map_elites import MEConfig, QDAlgorithm, ga_emitter
from agents.qd.td3 import TD3, BatchedPolicy, ReplayBuffer, TD3Config, pg_variation, task_reward


@dataclass
class PGAConfig(MEConfig):
    """PGA-ME: ``pg_fraction`` of each batch from the PG operator, the rest from iso-line."""

    pg_fraction: float = 0.5
    critic_steps: int = 300  # TD3 updates per iteration
    pg_steps: int = 100  # Adam steps per PG offspring
    pg_lr: float = 1e-3
    td3: TD3Config = field(default_factory=TD3Config)

    def __post_init__(self):
        super().__post_init__()
        if not 0.0 < self.pg_fraction < 1.0:
            raise ValueError(f"pg_fraction must be in (0, 1), got {self.pg_fraction}")
        if self.pg_batch < 1 or self.batch_size - self.pg_batch < 1:
            raise ValueError(f"batch_size={self.batch_size} leaves no GA or no PG offspring")
        for name in ("critic_steps", "pg_steps"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.pg_lr <= 0:
            raise ValueError(f"pg_lr must be > 0, got {self.pg_lr}")

    @property
    def pg_batch(self) -> int:
        return round(self.batch_size * self.pg_fraction)


class AlgorithmEmitter(EmitterBase):
    """A ribs emitter whose offspring ``algorithm`` makes (unbounded parameter rows, ``batch_size`` per ask);
    subclasses define ``ask``. ``last_cond`` holds the descriptor targets of the last batch, if any."""

    def __init__(self, algorithm: PGAME, batch_size: int):
        super().__init__(
            algorithm.archive,
            solution_dim=algorithm.archive.solution_dim,
            bounds=None,
            lower_bounds=None,
            upper_bounds=None,
        )
        self.algorithm, self.batch_size, self.last_cond = algorithm, batch_size, None


class PGEmitter(AlgorithmEmitter):
    """Offspring = elites after policy-gradient steps on the critic, plus the greedy actor."""

    def ask(self) -> np.ndarray:
        a, c = self.algorithm, self.algorithm.config
        parents = torch.as_tensor(
            self.archive.sample_elites(self.batch_size - 1)["solution"], dtype=torch.float32
        )
        children = pg_variation(
            parents,
            a.forward,
            a.td3.critic,
            a.buffer,
            steps=c.pg_steps,
            lr=c.pg_lr,
            batch_size=c.td3.batch_size,
            generator=a.generator,
        )
        greedy = a.spec.from_module(a.td3.actor.net).unsqueeze(0)
        return torch.cat([children, greedy]).double().numpy()


class PGAME(QDAlgorithm):
    name = "pga_me"
    needs_transitions = True
    cond_dim = 0  # width of the critic's and actor's target-descriptor input

    def __init__(self, evaluator, config: PGAConfig, *, archive: str = "grid", seed: int = 0, centroids=None):
        super().__init__(evaluator, config, archive=archive, seed=seed, centroids=centroids)
        spec, cond_dim = self.spec, self.cond_dim
        self.buffer = ReplayBuffer(
            config.td3.buffer_size, spec.obs_dim, spec.action_dim, len(self.low), cond_dim
        )
        actor = ConditionedActor(spec, cond_dim, self.generator)
        self.forward = BatchedPolicy(spec)
        self.td3 = TD3(
            actor, spec.obs_dim, spec.action_dim, cond_dim, config.td3, self.generator, self.reward
        )

    def reward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """The reward the critic learns: the task's."""
        return task_reward(batch)

    def emitters(self) -> list[EmitterBase]:
        c = self.config
        return [
            ga_emitter(self.archive, c, c.batch_size - c.pg_batch, self._seeds[2]),
            PGEmitter(self, c.pg_batch),
        ]

    def learn(self, result, cond: torch.Tensor | None) -> dict[str, float]:
        t = result.transitions
        episode_descriptor = self.normalise(t.episode_descriptor.double().numpy())
        self.buffer.add(
            obs=t.obs,
            action=t.action,
            reward=t.reward,
            next_obs=t.next_obs,
            terminated=t.terminated,
            step_descriptor=self.normalise(t.step_descriptor.double().numpy()),
            episode_descriptor=episode_descriptor,
            cond=self.transition_conditions(t, episode_descriptor, cond, result),
        )
        return self.td3.train(self.buffer, self.config.critic_steps)

    def transition_conditions(self, transitions, episode_descriptor, cond, result) -> torch.Tensor:
        """The condition column stored with each transition (empty for PGA-ME)."""
        return torch.zeros(len(episode_descriptor), 0)
