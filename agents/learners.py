"""Learners by name: what ``arena train <learner>`` runs.

Every learner (``ppo``, ``hdpo``, ``grpo``, ...) is registered at the end of this module by the name of the
trainer function that writes an agent package for one env configuration (imported only when it trains)::

    def train_package(env_id: str, env_kwargs: dict, *, out: Path, steps: int, seed: int, device: str,
                      progress: bool = True, console=None, **options) -> Path

The package in ``out`` holds ``agent.toml`` (its version a hash of the weights), the weights (tensors and
plain data only: loaded with ``weights_only=True``), ``training.json`` (the learner, env, kwargs, seed,
steps, every hyperparameter and the wall time) and ``progress.csv``. ``steps`` counts the learner's own
budget unit (``budget``). The same seed writes the same weights on CPU. Unknown ``options`` raise a
ValueError that names the allowed ones.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from envs import unknown_message


@dataclass(frozen=True)
class LearnerRecord:
    name: str
    trainer: str  # "module:function", the train_package above
    domain: str  # the env domain it trains on ("any" for generic learners)
    budget: str  # what ``steps`` counts, e.g. "env steps", "gradient steps", "updates", "evaluations"
    default_steps: int
    summary: str
    options: dict[str, Any] = field(default_factory=dict)  # bound trainer options, below the caller's

    def load(self) -> Callable:
        """The trainer function, with this learner's bound ``options`` (the caller's win)."""
        module_name, attribute = self.trainer.split(":")
        trainer = getattr(importlib.import_module(module_name), attribute)
        return functools.partial(trainer, **self.options) if self.options else trainer


class UnknownLearnerError(ValueError):
    """A learner name that is not registered; the message lists the closest known names."""


_LEARNERS: dict[str, LearnerRecord] = {}


def register_learner(
    name: str,
    trainer: str,
    *,
    domain: str,
    budget: str,
    default_steps: int,
    summary: str,
    options: dict[str, Any] | None = None,
) -> None:
    """Make ``name`` trainable with ``arena train``; ``trainer`` is ``"module:function"``, called with
    ``options`` (e.g. the estimator a learner of a family stands for) below the caller's."""
    if ":" not in trainer:
        raise ValueError(f"trainer={trainer!r} must look like 'module:function'")
    _LEARNERS[name] = LearnerRecord(name, trainer, domain, budget, default_steps, summary, options or {})


def list_learners() -> list[LearnerRecord]:
    """Every registered learner, sorted by name."""
    return sorted(_LEARNERS.values(), key=lambda r: r.name)


def learner(name: str) -> LearnerRecord:
    """The learner registered as ``name``; an unknown name raises :class:`UnknownLearnerError`."""
    if name not in _LEARNERS:
        raise UnknownLearnerError(unknown_message("learner", name, list(_LEARNERS)))
    return _LEARNERS[name]


for _algo, _summary in (
    ("ppo", "PPO (clipped surrogate, GAE) on any Gymnasium env; tuned presets per env id."),
    ("a2c", "Advantage actor-critic (synchronous, n-step) on any Gymnasium env."),
    ("reinforce", "REINFORCE with a learned value baseline on any Gymnasium env."),
):
    register_learner(
        _algo,
        f"agents.pg.packages:train_{_algo}",
        domain="any",
        budget="env steps",
        default_steps=100_000,
        summary=_summary,
    )

for _estimator, _summary in (
    ("grpo", "GRPO: group-normalised outcome advantages, clipped ratio, no critic."),
    ("dr_grpo", "Dr. GRPO: GRPO without the std and length normalisations."),
    ("rloo", "RLOO: leave-one-out group baseline."),
    ("san", "Stratified GRPO (SAN): advantages normalised within strata of equal search counts."),
    ("spo", "SPO: one answer per question, a persistent Beta baseline per question."),
    ("empg", "EMPG: GRPO advantages re-scaled per step by the policy's entropy."),
):
    register_learner(
        _estimator,
        "agents.search.grpo:train_package",
        domain="search",
        budget="updates",
        default_steps=100,
        summary=f"{_summary} Structured search QA; trains on the train split only.",
        options={"estimator": _estimator},
    )

for _estimator in ("grpo", "dr_grpo", "rloo", "san"):
    register_learner(
        f"lm_{_estimator}",
        "agents.search.lm_training:train_package",
        domain="search",
        budget="updates",
        default_steps=12,
        summary=f"SmolLM2 (LoRA): SFT on the oracle's calls, then {_estimator} updates; text search QA.",
        options={"estimator": _estimator},
    )

register_learner(
    "ppo_iot",
    "agents.iot.pg_aco:train_package",
    domain="iot",
    budget="env steps",
    default_steps=100_000,
    summary="Masked PPO with the IoT scheduler's settings (200-task training episodes); plays its mode.",
    options={"learner": "ppo_iot"},
)
register_learner(
    "pg_aco",
    "agents.iot.pg_aco:train_package",
    domain="iot",
    budget="env steps",
    default_steps=100_000,
    summary="The ppo_iot policy refined by ant-colony pheromone and the completion-time heuristic.",
    options={"learner": "pg_aco"},
)
register_learner(
    "hdpo",
    "agents.inventory.hdpo:train_package",
    domain="inventory",
    budget="gradient steps",
    default_steps=600,
    summary="HDPO: backpropagation through the inventory simulator; --option policy=mlp (default) or gnn.",
)
register_learner(
    "dcg_me",
    "agents.qd.distilled:train_package",
    domain="qd",
    budget="evaluations",
    default_steps=8000,
    summary="DCG-ME on a QD task; the package plays its descriptor-conditioned actor at a target.",
)
register_learner(
    "lspo",
    "agents.werewolf.training:train_package",
    domain="werewolf",
    budget="env steps",
    default_steps=800_000,
    summary="LSPO: PPO per side over latent speech strategies against the scripted pool.",
)
