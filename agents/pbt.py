"""Population-based training (Jaderberg et al., 2017) and the random search it is measured against.

A population of members trains in rounds. After each round the members are ranked by fitness; each one in
the bottom ``fraction`` *exploits* a member drawn from the top ``fraction`` (copies its weights, optimiser
state and hyperparameters) and then *explores*: every hyperparameter is resampled from its range with
probability ``resample_probability``, else multiplied by a factor drawn from ``factors``. Hyperparameters
thus change during training, so PBT discovers schedules (e.g. a decaying learning rate) that no constant
setting found by random search can follow.

Anything with the :class:`Member` methods can be a member; :class:`LearnerMember` wraps our policy-gradient
learners. ``backend="ray"`` runs each member in its own Ray actor (``ray`` must be installed; the local
backend needs nothing).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np


class Member(Protocol):
    def train(self, steps: int) -> float:
        """Train ``steps`` more steps and return the fitness reached (higher is better)."""

    def get_state(self) -> Any: ...

    def set_state(self, state: Any) -> None: ...

    def set_hyperparameters(self, values: dict[str, float]) -> None: ...


@dataclass(frozen=True)
class Param:
    """A hyperparameter's range; ``log`` samples and perturbs it on a log scale."""

    low: float
    high: float
    log: bool = True

    def __post_init__(self) -> None:
        if not self.low < self.high or (self.log and self.low <= 0):
            raise ValueError(f"need low < high (and low > 0 when log), got low={self.low}, high={self.high}")

    def sample(self, rng: np.random.Generator) -> float:
        if self.log:
            return float(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))
        return float(rng.uniform(self.low, self.high))

    def clip(self, value: float) -> float:
        return float(min(self.high, max(self.low, value)))


@dataclass
class SearchResult:
    """The best member's fitness, hyperparameters and state; each round's (fitness, hyperparameters)."""

    best_fitness: float
    best_hyperparameters: dict[str, float]
    best_state: Any
    history: list[list[tuple[float, dict[str, float]]]] = field(default_factory=list)


def population_based_training(
    make_member: Callable[[int], Member],
    space: dict[str, Param],
    *,
    population: int,
    rounds: int,
    steps_per_round: int,
    seed: int,
    fraction: float = 0.25,
    factors: tuple[float, ...] = (0.8, 1.2),
    resample_probability: float = 0.25,
    backend: str = "local",
) -> SearchResult:
    """Train ``population`` members for ``rounds`` x ``steps_per_round`` steps each, exploiting and exploring.

    ``make_member(index)`` builds member ``index`` (seed it from the index). The budget is
    ``population * rounds * steps_per_round`` steps, as for :func:`random_search` with ``trials=population``.
    """
    _check(population=population, rounds=rounds, steps_per_round=steps_per_round)
    if not 0 < fraction <= 0.5:
        raise ValueError(f"fraction must be in (0, 0.5], got {fraction}")
    if not 0 <= resample_probability <= 1:
        raise ValueError(f"resample_probability must be in [0, 1], got {resample_probability}")
    rng = np.random.default_rng(seed)
    members = _build(make_member, population, backend)
    values = [{name: p.sample(rng) for name, p in space.items()} for _ in range(population)]
    history = []
    for round_ in range(rounds):
        for member, hyperparameters in zip(members, values, strict=True):
            _call(member, "set_hyperparameters", backend, hyperparameters)
        fitness = _train_all(members, steps_per_round, backend)
        history.append(list(zip(fitness, copy.deepcopy(values), strict=True)))
        if round_ == rounds - 1:
            break
        order = np.argsort(fitness)  # ascending: worst first
        cut = max(1, round(fraction * population))
        for loser in order[:cut]:
            winner = int(rng.choice(order[-cut:]))
            _call(members[loser], "set_state", backend, _call(members[winner], "get_state", backend))
            values[loser] = _explore(values[winner], space, rng, factors, resample_probability)
    best = int(np.argmax(fitness))
    return SearchResult(fitness[best], values[best], _call(members[best], "get_state", backend), history)


def random_search(
    make_member: Callable[[int], Member],
    space: dict[str, Param],
    *,
    trials: int,
    rounds: int,
    steps_per_round: int,
    seed: int,
    backend: str = "local",
) -> SearchResult:
    """Train ``trials`` members with fixed hyperparameters sampled from ``space``; same budget as PBT."""
    _check(trials=trials, rounds=rounds, steps_per_round=steps_per_round)
    rng = np.random.default_rng(seed)
    members = _build(make_member, trials, backend)
    values = [{name: p.sample(rng) for name, p in space.items()} for _ in range(trials)]
    for member, hyperparameters in zip(members, values, strict=True):
        _call(member, "set_hyperparameters", backend, hyperparameters)
    history = []
    for _ in range(rounds):
        fitness = _train_all(members, steps_per_round, backend)
        history.append(list(zip(fitness, copy.deepcopy(values), strict=True)))
    best = int(np.argmax(fitness))
    return SearchResult(fitness[best], values[best], _call(members[best], "get_state", backend), history)


def _explore(values, space, rng, factors, resample_probability) -> dict[str, float]:
    explored = {}
    for name, param in space.items():
        if rng.uniform() < resample_probability:
            explored[name] = param.sample(rng)
        else:
            explored[name] = param.clip(values[name] * float(rng.choice(factors)))
    return explored


def _check(**counts: int) -> None:
    for name, value in counts.items():
        if not (isinstance(value, int) and value >= 1):
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")


def _build(make_member, count: int, backend: str) -> list:
    if backend == "local":
        return [make_member(i) for i in range(count)]
    if backend == "ray":
        try:
            import ray
        except ImportError:
            raise ValueError("backend='ray' needs the 'ray' package (pip install 'pg-arena[ray]')") from None
        if not ray.is_initialized():
            ray.init(include_dashboard=False, log_to_driver=False)
        actor = ray.remote(_RayMember)
        return [actor.remote(make_member, i) for i in range(count)]
    raise ValueError(f"backend={backend!r} is not one of 'local', 'ray'")


def _call(member, method: str, backend: str, *args):
    if backend == "ray":
        import ray

        return ray.get(getattr(member, method).remote(*args))
    return getattr(member, method)(*args)


def _train_all(members, steps: int, backend: str) -> list[float]:
    if backend == "ray":  # all members train in parallel
        import ray

        return [float(f) for f in ray.get([m.train.remote(steps) for m in members])]
    return [float(m.train(steps)) for m in members]


class _RayMember:
    """A member living in a Ray actor (built there, so envs and nets never cross processes)."""

    def __init__(self, make_member, index: int):
        self.member = make_member(index)

    def train(self, steps: int) -> float:
        return self.member.train(steps)

    def get_state(self):
        return self.member.get_state()

    def set_state(self, state) -> None:
        self.member.set_state(state)

    def set_hyperparameters(self, values: dict[str, float]) -> None:
        self.member.set_hyperparameters(values)


class LearnerMember:
    """A policy-gradient :class:`agents.pg.trainer.Learner` as a PBT member.

    Fitness is the mean episodic return of the episodes finished in the last round (the recent performance
    PBT ranks by); hyperparameters are config fields, ``learning_rate`` also set in the optimiser (give the
    learner ``anneal_lr=False``: PBT makes the schedule).
    """

    def __init__(self, learner):
        self.learner = learner

    def train(self, steps: int) -> float:
        rows = self.learner.train(steps)
        returns = [r["charts/episodic_return"] for r in rows if not math.isnan(r["charts/episodic_return"])]
        episodes = [r["charts/episodes"] for r in rows if not math.isnan(r["charts/episodic_return"])]
        if not returns:
            return -math.inf
        return float(np.average(returns, weights=episodes))

    def get_state(self) -> dict:
        return {
            "policy": copy.deepcopy(self.learner.policy.state_dict()),
            "optimizer": copy.deepcopy(self.learner.optimizer.state_dict()),
        }

    def set_state(self, state: dict) -> None:
        self.learner.policy.load_state_dict(state["policy"])
        self.learner.optimizer.load_state_dict(state["optimizer"])

    def set_hyperparameters(self, values: dict[str, float]) -> None:
        for name, value in values.items():
            if not hasattr(self.learner.config, name):
                raise ValueError(
                    f"hyperparameter {name!r} is not a field of {type(self.learner.config).__name__}"
                )
            setattr(self.learner.config, name, value)
        if "learning_rate" in values:
            self.learner.set_learning_rate(values["learning_rate"])
