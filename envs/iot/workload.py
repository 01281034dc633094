"""IoT workloads: when jobs arrive (Poisson, bursty MMPP, diurnal), and the tasks each job brings.

Every random number comes from the ``np.random.Generator`` handed in (the env's own ``np_random``). Sizes are
in work units (a node of speed ``s`` serves ``s`` units per second per core), data in MB, times in seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

ARRIVALS = ("poisson", "mmpp", "diurnal")
SIZES = ("exponential", "pareto", "deterministic")
JOBS = ("single", "bag", "dag")


@dataclass
class Task:
    """One task: what it needs, when it is due, and (in a DAG job) which tasks must finish first."""

    id: int
    job: int
    index: int  # position within its job (tasks of a job are dispatched in this, topological, order)
    arrival_s: float
    size: float  # work units
    data_mb: float  # input data it needs moved to its node (and, in a DAG, the output its successors need)
    memory_mb: float
    deadline_s: float  # absolute
    priority: int  # 0 is the most urgent
    private: bool  # may not leave the edge (no cloud node)
    source: int  # index of the IoT device that produced it
    kind: int  # size class, 0 .. SIZE_CLASSES - 1 (quartile of the size distribution)
    preds: tuple[int, ...] = ()  # indices, within the job, of the tasks whose output it needs
    # filled in by the simulator
    node: int = -1
    ready_s: float = math.nan  # joined its node's queue
    start_s: float = math.nan
    finish_s: float = math.nan
    succs: list[Task] = field(default_factory=list)
    inputs_left: int = 0


SIZE_CLASSES = 4


class SizeDistribution:
    """Task sizes of a given mean: exponential, bounded Pareto (shape ``alpha``, max/min ``ratio``), fixed."""

    def __init__(self, kind: str, mean: float, alpha: float = 1.5, ratio: float = 1000.0):
        if kind not in SIZES:
            raise ValueError(f"task_size={kind!r}; allowed: {', '.join(SIZES)}")
        if not mean > 0:
            raise ValueError(f"mean_task_size must be > 0, got {mean}")
        if kind == "pareto" and not (alpha > 0 and alpha != 1 and ratio > 1):
            raise ValueError(
                f"pareto_alpha must be > 0 and != 1 (got {alpha}); pareto_ratio > 1 (got {ratio})"
            )
        self.kind, self.mean, self.alpha, self.ratio = kind, mean, alpha, ratio
        if kind == "pareto":  # the mean is proportional to the lower bound L: mean = L * g(alpha, ratio)
            a, r = alpha, ratio
            g = a / (a - 1) * (1 - r ** (1 - a)) / (1 - r ** (-a))
            self.low, self.high = mean / g, mean / g * ratio

    def sample(self, rng: np.random.Generator) -> float:
        if self.kind == "exponential":
            return float(rng.exponential(self.mean))
        if self.kind == "deterministic":
            return self.mean
        u, a = rng.random(), self.alpha  # inverse CDF of the bounded Pareto
        low, high = self.low, self.high
        return float(low * (1 - u * (1 - (low / high) ** a)) ** (-1 / a))

    def cdf(self, x: float) -> float:
        """P(size <= x); the deterministic distribution has one class, so its "CDF" is 0 throughout."""
        if self.kind == "exponential":
            return 1 - math.exp(-x / self.mean)
        if self.kind == "deterministic":
            return 0.0
        a = self.alpha
        return (1 - (self.low / x) ** a) / (1 - (self.low / self.high) ** a)

    def size_class(self, x: float) -> int:
        """The quartile of the distribution ``x`` falls in (0 .. SIZE_CLASSES - 1)."""
        return min(SIZE_CLASSES - 1, int(SIZE_CLASSES * self.cdf(x)))


class ArrivalProcess:
    """Job arrival times with a long-run mean of ``rate`` per second.

    * ``poisson``: exponential gaps.
    * ``mmpp``: a two-state Markov-modulated Poisson process, rates ``rate (1 + burstiness)`` and
      ``rate (1 - burstiness)``, switching state at ``switch_rate`` per second either way (so half the time in
      each, mean ``rate``).
    * ``diurnal``: a non-homogeneous Poisson process ``rate (1 + amplitude sin(2 pi t / period_s))``, drawn
      by thinning.
    """

    def __init__(
        self, kind: str, rate: float, burstiness: float, switch_rate: float, amplitude: float, period_s: float
    ):
        if kind not in ARRIVALS:
            raise ValueError(f"arrival={kind!r}; allowed: {', '.join(ARRIVALS)}")
        if not rate > 0:
            raise ValueError(f"arrival_rate must be > 0, got {rate}")
        if not 0 <= burstiness < 1:
            raise ValueError(f"burstiness must be in [0, 1), got {burstiness}")
        if not switch_rate > 0:
            raise ValueError(f"switch_rate must be > 0, got {switch_rate}")
        if not 0 <= amplitude <= 1:
            raise ValueError(f"diurnal_amplitude must be in [0, 1], got {amplitude}")
        if not period_s > 0:
            raise ValueError(f"diurnal_period_s must be > 0, got {period_s}")
        self.kind, self.rate, self.burstiness = kind, rate, burstiness
        self.switch_rate, self.amplitude, self.period_s = switch_rate, amplitude, period_s
        self.high_state = True

    def reset(self, rng: np.random.Generator) -> None:
        self.high_state = bool(rng.random() < 0.5)  # the MMPP starts in its stationary distribution

    def next_time(self, now: float, rng: np.random.Generator) -> float:
        """The first arrival after ``now`` (s)."""
        if self.kind == "poisson":
            return now + float(rng.exponential(1 / self.rate))
        if self.kind == "mmpp":
            t = now
            while True:
                arrival_rate = self.rate * (1 + self.burstiness if self.high_state else 1 - self.burstiness)
                total = arrival_rate + self.switch_rate
                t += float(rng.exponential(1 / total))
                if rng.random() * total < arrival_rate:
                    return t
                self.high_state = not self.high_state
        peak, t = self.rate * (1 + self.amplitude), now
        while True:
            t += float(rng.exponential(1 / peak))
            level = self.rate * (1 + self.amplitude * math.sin(2 * math.pi * t / self.period_s))
            if rng.random() * peak < level:
                return t


@dataclass(frozen=True)
class JobShape:
    """How many tasks a job brings and how they depend on each other.

    ``single``: one task. ``bag``: ``tasks_per_job`` independent tasks. ``dag``: ``tasks_per_job`` tasks where
    each task after the first needs the output of each earlier task with probability ``edge_prob`` (and of
    at least one, chosen uniformly), so task 0 is the only root.
    """

    kind: str = "single"
    tasks_per_job: int = 1
    edge_prob: float = 0.3

    def __post_init__(self):
        if self.kind not in JOBS:
            raise ValueError(f"job={self.kind!r}; allowed: {', '.join(JOBS)}")
        if not (isinstance(self.tasks_per_job, int) and self.tasks_per_job >= 1):
            raise ValueError(f"tasks_per_job must be an integer >= 1, got {self.tasks_per_job!r}")
        if self.kind == "single" and self.tasks_per_job != 1:
            raise ValueError(f"tasks_per_job must be 1 for job='single', got {self.tasks_per_job}")
        if not 0 <= self.edge_prob <= 1:
            raise ValueError(f"dag_edge_prob must be in [0, 1], got {self.edge_prob}")

    def predecessors(self, rng: np.random.Generator) -> list[tuple[int, ...]]:
        if self.kind != "dag":
            return [()] * self.tasks_per_job
        preds: list[tuple[int, ...]] = [()]
        for i in range(1, self.tasks_per_job):
            chosen = {j for j in range(i) if rng.random() < self.edge_prob}
            chosen.add(int(rng.integers(i)))
            preds.append(tuple(sorted(chosen)))
        return preds


class Workload:
    """Draws jobs: arrival time, then per task its size, data, memory, deadline, priority, privacy, source.

    ``arrivals`` times jobs (its rate is the task rate over ``tasks_per_job``). A task's
    relative deadline is ``deadline_factor`` times its size over ``reference_speed`` (work units/s);
    ``memory_mb`` is uniform in [0, ``max_task_memory_mb``]; ``data_mb`` exponential with mean
    ``mean_data_mb`` (0: none); the priority uniform in 0 .. ``n_priorities - 1``; a task is private (must
    stay off the cloud) with probability ``private_fraction``; its source is a uniformly drawn device.
    """

    def __init__(
        self,
        arrivals: ArrivalProcess,
        sizes: SizeDistribution,
        shape: JobShape,
        *,
        n_devices: int,
        reference_speed: float,
        deadline_factor: float,
        mean_data_mb: float,
        max_task_memory_mb: float,
        n_priorities: int,
        private_fraction: float,
    ):
        if not deadline_factor > 0:
            raise ValueError(f"deadline_factor must be > 0, got {deadline_factor}")
        if not mean_data_mb >= 0:
            raise ValueError(f"mean_data_mb must be >= 0, got {mean_data_mb}")
        if not max_task_memory_mb >= 0:
            raise ValueError(f"max_task_memory_mb must be >= 0, got {max_task_memory_mb}")
        if not (isinstance(n_priorities, int) and n_priorities >= 1):
            raise ValueError(f"n_priorities must be an integer >= 1, got {n_priorities!r}")
        if not 0 <= private_fraction <= 1:
            raise ValueError(f"private_fraction must be in [0, 1], got {private_fraction}")
        self.arrivals, self.sizes, self.shape = arrivals, sizes, shape
        self.n_devices, self.reference_speed, self.deadline_factor = (
            n_devices,
            reference_speed,
            deadline_factor,
        )
        self.mean_data_mb, self.max_task_memory_mb = mean_data_mb, max_task_memory_mb
        self.n_priorities, self.private_fraction = n_priorities, private_fraction

    def next_job(self, now: float, rng: np.random.Generator, first_id: int, job: int) -> list[Task]:
        """The next job after ``now``: its tasks, all arriving at the same instant."""
        arrival = self.arrivals.next_time(now, rng)
        preds = self.shape.predecessors(rng)
        source = int(rng.integers(self.n_devices))
        tasks = []
        for index, before in enumerate(preds):
            size = self.sizes.sample(rng)
            tasks.append(
                Task(
                    id=first_id + index,
                    job=job,
                    index=index,
                    arrival_s=arrival,
                    size=size,
                    data_mb=float(rng.exponential(self.mean_data_mb)) if self.mean_data_mb else 0.0,
                    memory_mb=float(rng.uniform(0, self.max_task_memory_mb))
                    if self.max_task_memory_mb
                    else 0.0,
                    deadline_s=arrival + self.deadline_factor * size / self.reference_speed,
                    priority=int(rng.integers(self.n_priorities)),
                    private=bool(rng.random() < self.private_fraction),
                    source=source,
                    kind=self.sizes.size_class(size),
                    preds=before,
                )
            )
        return tasks
