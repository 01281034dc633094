"""Population-based training (Jaderberg et al., 2017) and the random search it is measured against.

A population of members trains in rounds. After each round the members are ranked by fitness; each one in
the bottom ``fraction`` *exploits* a member drawn from the top ``fraction`` (copies its weights, optimiser
state and hyperparameters) and then *explores*: every hyperparameter is resampled from its range with
probability ``resample_probability``, else multiplied by a factor drawn from ``factors`` (and clipped to its
range). Hyperparameters thus change during training, so PBT discovers schedules (e.g. a decaying learning
rate) that no constant setting found by random search can follow.

Anything with the :class:`Member` methods can be a member; :class:`LearnerMember` wraps our policy-gradient
learners. Two backends run the same rules:

- ``backend="local"`` (the default): plain Python in this process, every random draw from
  ``numpy.random.default_rng(seed)``; needs no Ray.
- ``backend="ray"``: Ray Tune (``pip install 'pg-arena[ray]'``). PBT is Tune's
  :class:`~ray.tune.schedulers.PopulationBasedTraining` scheduler in synchronous mode (one perturbation per
  round, after every member has trained it), driving a :class:`~ray.tune.Tuner`; random search is the same
  Tuner with no scheduler. Each member lives in its own Ray actor for the whole run, built there from
  ``make_member(index)`` (so envs and nets never cross processes), and each Tune trial drives the member of
  its ``index``: Tune pauses every trial at every round boundary, and a member kept outside the trial
  keeps all of its state (random generators, envs mid-episode) as the local backend does. A Tune checkpoint
  is a snapshot of ``get_state()`` kept in the member's actor; exploiting restores the winner's snapshot
  into the loser. Nothing is pickled to disk.

Where the backends differ: the initial hyperparameters and the members are the same, and resampled values
come from the same generator, but Tune draws which winner a loser copies, whether a value is resampled
and the factor from Python's global ``random``, which Tune's executor also draws from as its events
arrive: from the second round on a Ray run takes another path than the local one, equally likely but
neither equal nor repeatable. Tune's quantile holds ``ceil(fraction * population)`` members (at most
half), the local backend ``max(1, round(fraction * population))``: the same for population 2, 4 or 8 with
fraction 0.25 or 0.5, one more in Tune for e.g. 10 x 0.25. Tune pauses, checkpoints and resumes every
trial every round, which costs about a second per member and round on two cores: worth it when a round
trains for minutes, not for toy members.
Random search gives the same result on both backends.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

BACKENDS = ("local", "ray")
MEMBER = "member"  # the key of a Tune trial's config that names its member (the rest are hyperparameters)


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
    _check_backend(backend)
    rng = np.random.default_rng(seed)
    values = [{name: p.sample(rng) for name, p in space.items()} for _ in range(population)]
    if backend == "ray":
        _check_names(space)
        from ray.tune.schedulers import PopulationBasedTraining

        scheduler = PopulationBasedTraining(
            time_attr="training_iteration",
            perturbation_interval=1,  # one Tune iteration is one round
            hyperparam_mutations={name: functools.partial(p.sample, rng) for name, p in space.items()},
            quantile_fraction=fraction,
            resample_probability=resample_probability,
            perturbation_factors=factors,
            custom_explore_fn=functools.partial(_clipped, space),
            synch=True,
        )
        return _run_on_tune(make_member, values, rounds, steps_per_round, scheduler)

    members = [make_member(i) for i in range(population)]
    history = []
    for round_ in range(rounds):
        for member, hyperparameters in zip(members, values, strict=True):
            member.set_hyperparameters(hyperparameters)
        fitness = [float(m.train(steps_per_round)) for m in members]
        history.append(list(zip(fitness, copy.deepcopy(values), strict=True)))
        if round_ == rounds - 1:
            break
        order = np.argsort(fitness)  # ascending: worst first
        cut = max(1, round(fraction * population))
        for loser in order[:cut]:
            winner = int(rng.choice(order[-cut:]))
            members[loser].set_state(members[winner].get_state())
            values[loser] = _explore(values[winner], space, rng, factors, resample_probability)
    best = int(np.argmax(fitness))
    return SearchResult(fitness[best], values[best], members[best].get_state(), history)


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
    _check_backend(backend)
    rng = np.random.default_rng(seed)
    values = [{name: p.sample(rng) for name, p in space.items()} for _ in range(trials)]
    if backend == "ray":
        _check_names(space)
        return _run_on_tune(make_member, values, rounds, steps_per_round, scheduler=None)
    members = [make_member(i) for i in range(trials)]
    for member, hyperparameters in zip(members, values, strict=True):
        member.set_hyperparameters(hyperparameters)
    history = []
    for _ in range(rounds):
        fitness = [float(m.train(steps_per_round)) for m in members]
        history.append(list(zip(fitness, copy.deepcopy(values), strict=True)))
    best = int(np.argmax(fitness))
    return SearchResult(fitness[best], values[best], members[best].get_state(), history)


def _explore(values, space, rng, factors, resample_probability) -> dict[str, float]:
    explored = {}
    for name, param in space.items():
        if rng.uniform() < resample_probability:
            explored[name] = param.sample(rng)
        else:
            explored[name] = param.clip(values[name] * float(rng.choice(factors)))
    return explored


def _clipped(space: dict[str, Param], config: dict) -> dict:
    """Tune's explored ``config`` with every hyperparameter clipped to its range (Tune does not clip)."""
    return {name: space[name].clip(value) if name in space else value for name, value in config.items()}


def _check(**counts: int) -> None:
    for name, value in counts.items():
        if not (isinstance(value, int) and value >= 1):
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")


def _check_names(space: dict[str, Param]) -> None:
    if MEMBER in space:
        raise ValueError(
            f"a hyperparameter may not be named {MEMBER!r} with backend='ray' (Tune's config key)"
        )


def _check_backend(backend: str) -> None:
    if backend not in BACKENDS:
        raise ValueError(f"backend={backend!r} is not one of {', '.join(map(repr, BACKENDS))}")
    if backend == "ray":
        try:
            import ray.tune  # noqa: F401
        except ImportError:
            raise ValueError("backend='ray' needs Ray Tune (pip install 'pg-arena[ray]')") from None


def _run_on_tune(make_member, values: list[dict], rounds: int, steps: int, scheduler) -> SearchResult:
    """Run one Tune trial per member for ``rounds`` iterations of ``steps`` steps; ``values`` are the
    initial hyperparameters, member by member; ``scheduler`` None means Tune's default (first in, first out:
    no member is ever changed)."""
    import ray
    from ray import tune

    if not ray.is_initialized():
        ray.init(include_dashboard=False, log_to_driver=False, _node_ip_address="127.0.0.1")
    members = [ray.remote(_RayMember).remote(make_member, i) for i in range(len(values))]
    owners = ray.remote(_Owners).remote()
    try:
        param_space = {MEMBER: tune.grid_search(list(range(len(values))))} | {
            name: tune.sample_from(functools.partial(_initial_value, values, name)) for name in values[0]
        }
        trainable = tune.with_resources(
            tune.with_parameters(_tune_trial(), members=members, owners=owners, steps=steps),
            {"cpu": 0.01},  # a trial only forwards calls; its member's actor does the work
        )
        with tempfile.TemporaryDirectory(prefix="pbt-") as storage:
            grid = tune.Tuner(
                trainable,
                param_space=param_space,
                tune_config=tune.TuneConfig(
                    metric="fitness",
                    mode="max",
                    scheduler=scheduler,
                    reuse_actors=True,  # a paused trial's actor serves the next trial resumed
                    max_concurrent_trials=len(values),
                ),
                run_config=tune.RunConfig(
                    name="search",
                    storage_path=storage,
                    stop={"training_iteration": rounds},
                    verbose=0,
                    failure_config=tune.FailureConfig(max_failures=0, fail_fast=True),
                ),
            ).fit()
            if grid.errors:
                raise RuntimeError(f"a Tune trial failed: {grid.errors[0]}") from grid.errors[0]
        per_member = ray.get([m.history.remote() for m in members])
        history = [list(row) for row in zip(*per_member, strict=True)]
        fitness = [f for f, _ in history[-1]]
        best = int(np.argmax(fitness))
        state = ray.get(members[best].get_state.remote())
        return SearchResult(fitness[best], history[-1][best][1], state, history)
    finally:
        for actor in [*members, owners]:
            ray.kill(actor)


def _initial_value(values: list[dict], name: str, config: dict) -> float:
    return values[config[MEMBER]][name]


class _Owners:
    """Which member each Tune trial drives, fixed at the trial's first setup. (Exploiting copies the
    winner's whole config, its ``MEMBER`` key included, into the loser; the loser keeps its own member.)"""

    def __init__(self):
        self.index_of: dict[str, int] = {}

    def member_of(self, trial_id: str, index: int) -> int:
        return self.index_of.setdefault(trial_id, index)


class _RayMember:
    """A member living in a Ray actor for the whole run, with the history of its rounds and the snapshots
    of its state that Tune checkpoints name."""

    KEPT = 2  # snapshots kept: a loser restores the winner's snapshot of the round just ended

    def __init__(self, make_member, index: int):
        self.member = make_member(index)
        self.rounds: list[tuple[float, dict[str, float]]] = []
        self.snapshots: dict[int, Any] = {}

    def train(self, steps: int, hyperparameters: dict[str, float]) -> float:
        """Set ``hyperparameters`` (as the local backend does at the start of every round), then train."""
        self.member.set_hyperparameters(hyperparameters)
        fitness = float(self.member.train(steps))
        self.rounds.append((fitness, dict(hyperparameters)))
        return fitness

    def get_state(self):
        return self.member.get_state()

    def set_state(self, state) -> None:
        self.member.set_state(state)

    def history(self) -> list[tuple[float, dict[str, float]]]:
        return self.rounds

    def snapshot(self) -> int:
        """Keep a copy of the state after the rounds trained so far; returns that number of rounds."""
        tag = len(self.rounds)
        self.snapshots[tag] = copy.deepcopy(self.member.get_state())
        for old in [t for t in self.snapshots if t <= tag - self.KEPT]:
            del self.snapshots[old]
        return tag

    def snapshot_at(self, tag: int):
        return self.snapshots[tag]

    def trained_rounds(self) -> int:
        return len(self.rounds)


@functools.cache
def _tune_trial():
    """The Tune trainable (a class made on first use: the local backend never imports Ray): trial
    ``config[MEMBER]`` drives that member's actor.

    Only ``step``, ``save_checkpoint`` and ``load_checkpoint`` touch the member: Tune calls them on the
    actor that runs the trial, while ``setup`` may also run in an actor Tune started for the trial and then
    dropped (it reuses a cached one instead), possibly late and with the trial's config of before an
    exploit. So the hyperparameters go to the member with every ``step``."""
    import ray
    from ray import tune

    class TuneTrial(tune.Trainable):
        def setup(self, config: dict, members: list, owners, steps: int) -> None:
            self.members, self.owners, self.steps = members, owners, steps
            self._configure(config)

        def _configure(self, config: dict) -> None:
            self.index = ray.get(self.owners.member_of.remote(self.trial_id, config[MEMBER]))
            self.member = self.members[self.index]
            self.hyperparameters = {k: v for k, v in config.items() if k != MEMBER}

        def reset_config(self, new_config: dict) -> bool:
            self._configure(new_config)  # the actor may now serve another trial: look the member up again
            return True

        def step(self) -> dict:
            return {"fitness": ray.get(self.member.train.remote(self.steps, self.hyperparameters))}

        def save_checkpoint(self, checkpoint_dir: str) -> None:
            tag = ray.get(self.member.snapshot.remote())
            (Path(checkpoint_dir) / "member.json").write_text(json.dumps({"index": self.index, "round": tag}))

        def load_checkpoint(self, checkpoint_dir: str) -> None:
            saved = json.loads((Path(checkpoint_dir) / "member.json").read_text())
            source = self.members[saved["index"]]
            if (
                saved["index"] == self.index
                and ray.get(self.member.trained_rounds.remote()) == saved["round"]
            ):
                return  # its own state, untouched since: resuming after a pause
            ray.get(self.member.set_state.remote(source.snapshot_at.remote(saved["round"])))

    return TuneTrial


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
