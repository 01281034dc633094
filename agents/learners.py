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

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from envs import unknown_message


@dataclass(frozen=True)
class LearnerRecord:
    name: str
    trainer: str  # "module:function", the train_package above
    domain: str  # the env domain it trains on ("any" for generic learners)
    budget: str  # what ``steps`` counts, e.g. "env steps", "gradient steps", "updates", "evaluations"
    default_steps: int
    summary: str

    def load(self) -> Callable:
        """The trainer function."""
        module_name, attribute = self.trainer.split(":")
        return getattr(importlib.import_module(module_name), attribute)


class UnknownLearnerError(KeyError):
    """A learner name that is not registered; the message lists the closest known names."""

    def __str__(self) -> str:
        return str(self.args[0])


_LEARNERS: dict[str, LearnerRecord] = {}


def register_learner(
    name: str, trainer: str, *, domain: str, budget: str, default_steps: int, summary: str
) -> None:
    """Make ``name`` trainable with ``arena train``; ``trainer`` is ``"module:function"``."""
    if ":" not in trainer:
        raise ValueError(f"trainer={trainer!r} must look like 'module:function'")
    _LEARNERS[name] = LearnerRecord(name, trainer, domain, budget, default_steps, summary)


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
