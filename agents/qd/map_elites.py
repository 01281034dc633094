"""MAP-Elites (Mouret & Clune 2015) on ribs archives, and the loop shared by its policy-gradient variants.

One iteration: the ribs ``Scheduler`` asks its emitters for a batch of policies (rows of the evaluator's
``MLPPolicySpec`` parameters), the evaluator plays one episode per row, and the scheduler inserts them into
the archive by descriptor, keeping the fittest per cell. Variation is the iso-line operator (Vassiliades &
Mouret 2018, sigmas of PGA-ME / DCG-ME) or plain Gaussian noise. The archive is created before the first
iteration from ``init_batch`` randomly initialised policies.

QD-score = sum over elites of (fitness - task.min_fitness): ribs' ``qd_score_offset`` is the task's documented
lower bound of fitness, so every elite adds a non-negative amount and filling a cell never lowers the score.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from ribs.archives import ArchiveBase, CVTArchive, GridArchive
from ribs.emitters import EmitterBase, GaussianEmitter, IsoLineEmitter
from ribs.schedulers import Scheduler


@dataclass
class MEConfig:
    """MAP-Elites: ``batch_size`` offspring per iteration, all from the GA operator."""

    batch_size: int = 64
    init_batch: int = 64
    variation: Literal["iso_line", "gaussian"] = "iso_line"
    iso_sigma: float = 0.005
    line_sigma: float = 0.05
    gaussian_sigma: float = 0.02
    grid_cells: int = 32  # cells per descriptor dimension for the grid archive
    cvt_cells: int = 1024

    def __post_init__(self):
        for name in ("batch_size", "init_batch", "grid_cells", "cvt_cells"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("iso_sigma", "line_sigma", "gaussian_sigma"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.variation not in ("iso_line", "gaussian"):
            raise ValueError(f"variation must be 'iso_line' or 'gaussian', got {self.variation!r}")


def make_archive(
    task, solution_dim: int, kind: str, config: MEConfig, seed: int, centroids: np.ndarray | None = None
) -> ArchiveBase:
    """A grid or CVT archive over the task's descriptor box with QD-score offset ``task.min_fitness``.

    A CVT archive's ``config.cvt_cells`` centroids come from k-means over the box (seeded), or are
    ``centroids`` [cells, D] when given (a resumed run keeps the cells it was saved with)."""
    ranges = list(zip(task.descriptor_low, task.descriptor_high, strict=True))
    common = {
        "solution_dim": solution_dim,
        "ranges": ranges,
        "qd_score_offset": task.min_fitness,
        "seed": seed,
    }
    if kind == "grid":
        return GridArchive(dims=[config.grid_cells] * len(ranges), **common)
    if kind == "cvt":
        if centroids is not None:
            return CVTArchive(centroids=np.asarray(centroids, dtype=np.float64), **common)
        return CVTArchive(centroids=config.cvt_cells, samples=20 * config.cvt_cells, **common)
    raise ValueError(f"archive must be 'grid' or 'cvt', got {kind!r}")


def ga_emitter(archive: ArchiveBase, config: MEConfig, batch_size: int, seed: int) -> EmitterBase:
    """The GA operator of ``config.variation``: ``batch_size`` offspring of elites (x0 only seeds ribs)."""
    x0 = np.zeros(archive.solution_dim)
    if config.variation == "gaussian":
        return GaussianEmitter(archive, sigma=config.gaussian_sigma, x0=x0, batch_size=batch_size, seed=seed)
    return IsoLineEmitter(
        archive,
        iso_sigma=config.iso_sigma,
        line_sigma=config.line_sigma,
        x0=x0,
        batch_size=batch_size,
        seed=seed,
    )


class QDAlgorithm:
    """The ask-evaluate-tell loop over a ribs scheduler; subclasses add emitters and learn from transitions.

    Seeds: the archive, each emitter and the torch generator get distinct seeds spawned from ``seed``, so a
    run is a function of the seed and the evaluator's own (seeded) episodes. ``centroids`` fixes a CVT
    archive's cells (see :func:`make_archive`); agents/qd/checkpoint.py saves and restores the whole state.
    """

    name = "me"
    needs_transitions = False

    def __init__(
        self,
        evaluator,
        config: MEConfig,
        *,
        archive: str = "grid",
        seed: int = 0,
        centroids: np.ndarray | None = None,
    ):
        self.evaluator, self.config, self.task, self.spec = (
            evaluator,
            config,
            evaluator.task,
            evaluator.policy,
        )
        self.seed, self.archive_kind = seed, archive
        seeds = np.random.SeedSequence(seed).generate_state(8)
        self._seeds = [int(s) for s in seeds]
        self.generator = torch.Generator().manual_seed(self._seeds[0])
        self.archive = make_archive(
            self.task, self.spec.num_params, archive, config, self._seeds[1], centroids
        )
        self.low = np.asarray(self.task.descriptor_low, dtype=np.float64)
        self.high = np.asarray(self.task.descriptor_high, dtype=np.float64)
        self.scheduler: Scheduler | None = None
        self.iterations = 0

    def emitters(self) -> list[EmitterBase]:
        return [ga_emitter(self.archive, self.config, self.config.batch_size, self._seeds[2])]

    def normalise(self, descriptors) -> torch.Tensor:
        """Descriptors in task units -> [0, 1] per dimension."""
        d = (np.asarray(descriptors, dtype=np.float64) - self.low) / (self.high - self.low)
        return torch.as_tensor(d, dtype=torch.float32)

    def step(self) -> dict[str, float]:
        """One iteration (the first one evaluates the initial population); returns the learner's losses."""
        if self.scheduler is None:
            params = self.spec.init(self.config.init_batch, self.generator)
            result = self.evaluator.evaluate(params, record_transitions=self.needs_transitions)
            self.archive.add(params.numpy(), result.fitness, result.descriptors)
            self.scheduler = Scheduler(self.archive, self.emitters())
            logs = self.learn(result, cond=None)
        else:
            params = self.scheduler.ask()
            cond = self.conditions(params.shape[0])
            result = self.evaluator.evaluate(
                torch.as_tensor(params), record_transitions=self.needs_transitions
            )
            self.scheduler.tell(result.fitness, result.descriptors)
            logs = self.learn(result, cond)
        self.iterations += 1
        return logs

    def conditions(self, n: int) -> torch.Tensor | None:
        """Per offspring of the last ask: the target descriptor it was made for (NaN: its own), or None."""
        return None

    def learn(self, result, cond: torch.Tensor | None) -> dict[str, float]:
        """Use the evaluated batch beyond the archive (critics, actors); MAP-Elites learns nothing."""
        return {}


class MapElites(QDAlgorithm):
    """MAP-Elites with iso-line (default) or Gaussian variation."""
