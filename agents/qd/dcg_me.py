"""DCG-MAP-Elites (Faldor et al., GECCO 2023): PGA-ME with a descriptor-conditioned critic Q(s, a | d') and
actor pi(s | d'), the actor being the archive distilled into one policy.

The critic learns the descriptor-conditioned reward r(s, a) * S(d, d'), S(d, d') = exp(-||d - d'|| / L),
on descriptors normalised to [0, 1], with d' the target descriptor it is conditioned on, so Q(s, a | d')
values fitness only where the behaviour matches d'. L = 0.05 is the reference implementation's (QDax: 0.1 on
descriptors normalised to [-1, 1], where distances are twice ours). d is, with ``similarity="episode"`` (the
paper), the descriptor the transition's episode reached, or, with ``similarity="step"``, the per-step
descriptor quantity of the transition's next state (``info["step_descriptor"]``), which makes the reward
Markov in the state. The default ``"auto"`` takes "step" where the descriptor is the episode's last step
quantity (the final position of ``pointmaze`` and ``ant_omni``: where the point is now is a dense proxy of
where it ends), and "episode" where the descriptor is a mean of 0/1 step quantities (the ``*_uni`` feet
contacts: a single step's contacts are at least 0.5 from any target rate in the middle of the box, where
S would be below exp(-10)). The task's rewards are first shifted up by the per-step reward floor
``task.reward_floor`` so that they are non-negative: with a negative reward a small S would *raise* the
return and the critic would prefer missing the target.

Each batch holds three kinds of offspring, each stored with its target d' for the critic:
- iso-line offspring (GA), d' = the descriptor they reached (so S = 1 with ``similarity="episode"``; with
  "step", S measures how far each step's quantity is from the episode's descriptor);
- descriptor-conditioned PG offspring: an elite improved by ``pg_steps`` Adam steps on
  Q1(s, pi(s) | d_parent), i.e. more fitness while staying in the parent's cell; d' = d_parent;
- actor injection: the actor folded at the descriptors d' of elites sampled from the archive, evaluated and
  inserted like any offspring; with the DC-PG offspring that miss their parent's cell, these give the
  critic its d != d' examples.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch
from ribs.emitters import EmitterBase

from agents.qd.map_elites import ga_emitter
from agents.qd.pga_me import PGAME, AlgorithmEmitter, PGAConfig
from agents.qd.td3 import TD3Config, pg_variation


def dcg_similarity(d: torch.Tensor, d_prime: torch.Tensor, lengthscale: float) -> torch.Tensor:
    """S(d, d') = exp(-||d - d'||_2 / lengthscale) over the last axis of normalised descriptors."""
    return torch.exp(-torch.linalg.vector_norm(d - d_prime, dim=-1) / lengthscale)


@dataclass
class DCGConfig(PGAConfig):
    """DCG-ME: ``pg_fraction`` DC-PG offspring, ``ai_fraction`` injected actors, the rest iso-line."""

    pg_fraction: float = 0.25
    ai_fraction: float = 0.25
    critic_steps: int = 3000
    pg_steps: int = 150
    pg_lr: float = 5e-3
    lengthscale: float = 0.05
    similarity: Literal["auto", "step", "episode"] = "auto"  # which reached descriptor d the reward compares
    td3: TD3Config = field(default_factory=lambda: TD3Config(batch_size=100))

    def __post_init__(self):
        super().__post_init__()
        if self.similarity not in ("auto", "step", "episode"):
            raise ValueError(f"similarity must be 'auto', 'step' or 'episode', got {self.similarity!r}")
        if not 0.0 < self.ai_fraction < 1.0:
            raise ValueError(f"ai_fraction must be in (0, 1), got {self.ai_fraction}")
        if self.lengthscale <= 0:
            raise ValueError(f"lengthscale must be > 0, got {self.lengthscale}")
        if self.ai_batch < 1 or self.batch_size - self.pg_batch - self.ai_batch < 1:
            raise ValueError(f"batch_size={self.batch_size} leaves no GA, PG or actor-injection offspring")

    @property
    def ai_batch(self) -> int:
        return round(self.batch_size * self.ai_fraction)


class DCPGEmitter(AlgorithmEmitter):
    """Elites after descriptor-conditioned PG steps towards their own (normalised) descriptor."""

    def ask(self) -> np.ndarray:
        a, c = self.algorithm, self.algorithm.config
        elites = self.archive.sample_elites(self.batch_size)
        self.last_cond = a.normalise(elites["measures"])
        children = pg_variation(
            torch.as_tensor(elites["solution"], dtype=torch.float32),
            a.forward,
            a.td3.critic,
            a.buffer,
            steps=c.pg_steps,
            lr=c.pg_lr,
            batch_size=c.td3.batch_size,
            generator=a.generator,
            cond=self.last_cond,
        )
        return children.double().numpy()


class ActorInjectionEmitter(AlgorithmEmitter):
    """The descriptor-conditioned actor folded at the (normalised) descriptors of sampled elites."""

    def ask(self) -> np.ndarray:
        a = self.algorithm
        self.last_cond = a.normalise(self.archive.sample_elites(self.batch_size)["measures"])
        return a.td3.actor.fold(a.spec, self.last_cond).double().numpy()


class DCGME(PGAME):
    name = "dcg_me"

    def __init__(self, evaluator, config: DCGConfig, *, archive: str = "grid", seed: int = 0, centroids=None):
        self.cond_dim = len(evaluator.task.descriptor_low)
        self.similarity = config.similarity
        if self.similarity == "auto":
            self.similarity = "episode" if evaluator.descriptor_is_mean else "step"
        super().__init__(evaluator, config, archive=archive, seed=seed, centroids=centroids)

    def reward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """r(s, a | d') = (r + reward_floor) * S(d, d'): the task's reward shifted to be non-negative."""
        shifted = (batch["reward"].squeeze(-1) + self.task.reward_floor).clamp(min=0.0)
        reached = batch[f"{self.similarity}_descriptor"]
        return shifted * dcg_similarity(reached, batch["cond"], self.config.lengthscale)

    def emitters(self) -> list[EmitterBase]:
        c = self.config
        self._pg = DCPGEmitter(self, c.pg_batch)
        self._ai = ActorInjectionEmitter(self, c.ai_batch)
        ga = ga_emitter(self.archive, c, c.batch_size - c.pg_batch - c.ai_batch, self._seeds[2])
        return [ga, self._pg, self._ai]

    def conditions(self, n: int) -> torch.Tensor:
        ga = torch.full((n - self._pg.batch_size - self._ai.batch_size, self.cond_dim), float("nan"))
        return torch.cat([ga, self._pg.last_cond, self._ai.last_cond])

    def transition_conditions(self, transitions, episode_descriptor, cond, result) -> torch.Tensor:
        """Each transition's d': its episode's target, or the reached descriptor where it had none (NaN).
        The transitions are time-major (at step t, the episodes still running, in batch order), so the
        episode lengths give each transition's episode."""
        if cond is None:
            return episode_descriptor
        lengths = torch.as_tensor(result.lengths)
        running = torch.arange(int(lengths.max())).unsqueeze(1) < lengths  # [T, B]: episode b runs at step t
        target = cond[running.nonzero()[:, 1]]  # nonzero is row-major: time-major, episodes in batch order
        return torch.where(torch.isnan(target), episode_descriptor, target)
