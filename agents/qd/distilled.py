"""The descriptor-conditioned actor of DCG-ME and the Agent that plays it: one policy for the whole archive.

``ConditionedActor`` is an archive policy (the evaluator's ``MLPPolicySpec`` network) whose first layer also
reads a target descriptor, normalised to [0, 1]. Fixing the target folds it into the first layer's bias, which
turns the actor back into an ordinary archive policy (``fold``): that is how DCG-ME injects the actor into
the archive, and why evaluating a folded row is exactly evaluating the actor at that target.

``distilled(spaces, target=..., weights=...)`` loads a saved actor as an :class:`agents.base.Agent`; the
target descriptor (in the task's units) comes from the ``target`` kwarg or from ``info["target_descriptor"]``.

``train_package`` is the ``arena train dcg_me`` learner: a DCG-ME run on one QD env, written as an agent
package whose weights are the distilled actor and whose factory is ``distilled`` (reading ``agent_dir``).
"""

from __future__ import annotations

import copy
import csv
import json
import time
from dataclasses import asdict, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from agents.base import AgentManifest, EnvSpaces, write_manifest

# The shipped actor (agents/trained/qd-distilled, played as ``qd/distilled``) is one DCG-ME run on the point
# maze made by train_package: 8000 evaluations of 100 steps, seed 0, cpu_config("dcg_me") with lengthscale
# 0.1. Its archive fills 441 cells (QD-score 44.9k) and does not reach the goal; the actor ends at the cells
# of its archive (mean reached error 0.037) and, on a 5 x 5 grid over the whole arena, at 0.21 (a policy that
# ignores its target can do no better than 0.375 there). The same budget with the preset's lengthscale 0.05
# fills 531 cells (QD-score 56.2k), but its actor ends on the bottom wall whatever the target (mean reached
# error 0.53 on the grid).
WEIGHTS = "distilled.pt"  # the actor's file in an agent package


class ConditionedActor(nn.Module):
    """pi(s | d'): the policy network of ``spec`` with ``cond_dim`` extra inputs in its first layer."""

    def __init__(self, spec, cond_dim: int, generator: torch.Generator):
        super().__init__()
        self.obs_dim, self.cond_dim = spec.obs_dim, cond_dim
        self.net = copy.deepcopy(spec.to_module(spec.init(1, generator)[0]))
        first = self._first_linear()
        wider = nn.utils.skip_init(nn.Linear, first.in_features + cond_dim, first.out_features)
        with torch.no_grad():
            wider.weight.zero_()
            wider.weight[:, : first.in_features] = first.weight
            wider.bias.copy_(first.bias)
        _set_first_linear(self.net, wider)

    def forward(self, obs: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([obs, cond], dim=-1))

    def fold(self, spec, cond: torch.Tensor) -> torch.Tensor:
        """Archive-policy rows [n, P] equal to this actor at the n targets ``cond`` [n, cond_dim]."""
        first = self._first_linear()
        rows = []
        with torch.no_grad():
            for target in cond:
                module = copy.deepcopy(self.net)
                folded = nn.utils.skip_init(nn.Linear, self.obs_dim, first.out_features)
                folded.weight.copy_(first.weight[:, : self.obs_dim])
                folded.bias.copy_(first.bias + first.weight[:, self.obs_dim :] @ target)
                _set_first_linear(module, folded)
                rows.append(spec.from_module(module))
        return torch.stack(rows)

    def _first_linear(self) -> nn.Linear:
        return next(m for m in self.net.modules() if isinstance(m, nn.Linear))


def _set_first_linear(module: nn.Module, layer: nn.Linear) -> None:
    for name, child in module.named_children():
        if isinstance(child, nn.Linear):
            setattr(module, name, layer)
            return
        if any(isinstance(m, nn.Linear) for m in child.modules()):
            _set_first_linear(child, layer)
            return
    raise ValueError("the policy network has no nn.Linear layer")


def save_actor(actor: ConditionedActor, spec, low, high, path: str | Path, targets=None) -> None:
    """Save the actor's weights with what is needed to rebuild it (spec sizes, descriptor bounds) and
    ``targets`` [n, D] (task units): the centres of the archive cells it was distilled from."""
    torch.save(
        {
            "targets": torch.as_tensor(np.zeros((0, len(low))) if targets is None else targets).float(),
            "state_dict": actor.state_dict(),
            "obs_dim": spec.obs_dim,
            "action_dim": spec.action_dim,
            "hidden": tuple(spec.hidden),
            "descriptor_low": list(map(float, low)),
            "descriptor_high": list(map(float, high)),
        },
        path,
    )


def load_actor(path: str | Path) -> tuple[ConditionedActor, np.ndarray, np.ndarray]:
    """The actor saved by :func:`save_actor` and its descriptor bounds (low, high); the saved targets are
    ``torch.load(path, weights_only=True)["targets"]`` (the file holds tensors and plain values only)."""
    from envs.qd import MLPPolicySpec

    saved = torch.load(path, weights_only=True)
    spec = MLPPolicySpec(saved["obs_dim"], saved["action_dim"], tuple(saved["hidden"]))
    low, high = np.asarray(saved["descriptor_low"]), np.asarray(saved["descriptor_high"])
    actor = ConditionedActor(spec, len(low), torch.Generator().manual_seed(0))
    actor.load_state_dict(saved["state_dict"])
    actor.eval()
    return actor, low, high


class DistilledPolicy:
    """Plays the descriptor-conditioned actor towards a target descriptor (task units)."""

    name = "qd/distilled"

    def __init__(self, actor: ConditionedActor, low, high, target=None):
        self.actor, self.low, self.high = actor, np.asarray(low, float), np.asarray(high, float)
        self.target = None if target is None else self._check(target)

    def _check(self, target) -> np.ndarray:
        target = np.asarray(target, dtype=float).reshape(-1)
        if target.shape != self.low.shape or np.any(target < self.low) or np.any(target > self.high):
            raise ValueError(
                f"target must have {self.low.size} values within "
                f"[{self.low.tolist()}, {self.high.tolist()}], "
                f"got {target.tolist()}"
            )
        return target

    def normalised(self, target) -> torch.Tensor:
        return torch.as_tensor((self._check(target) - self.low) / (self.high - self.low), dtype=torch.float32)

    def reset(self, seed: int | None = None) -> None:
        """Deterministic policy: nothing to reset."""

    def act(self, observation, info: dict) -> np.ndarray:
        target = info.get("target_descriptor", self.target) if info else self.target
        if target is None:
            raise ValueError("no target descriptor: pass target=... or info['target_descriptor']")
        obs = torch.as_tensor(np.asarray(observation, dtype=np.float32)).unsqueeze(0)
        with torch.no_grad():
            action = self.actor(obs, self.normalised(target).unsqueeze(0))[0]
        return action.numpy().astype(np.float32)


def distilled(
    spaces: EnvSpaces,
    target=None,
    weights: str | Path | None = None,
    seed: int | None = None,
    agent_dir: str | Path | None = None,
):
    """Factory: the distilled policy from the actor file ``weights``, else from ``agent_dir/distilled.pt`` (an
    agent package that :func:`train_package` wrote; ``qd/distilled`` plays agents/trained/qd-distilled); one
    of the two is required. ``target`` in task units, default the centre of the descriptor box. ``seed`` is
    accepted for the factory protocol."""
    if weights is None and agent_dir is None:
        raise ValueError("distilled needs agent_dir= (an agent package) or weights= (an actor file)")
    actor, low, high = load_actor(Path(agent_dir) / WEIGHTS if weights is None else weights)
    if spaces.observation_space.shape != (actor.obs_dim,):
        raise ValueError(
            f"observation_space shape {spaces.observation_space.shape} does not match "
            f"the actor's ({actor.obs_dim},)"
        )
    return DistilledPolicy(actor, low, high, (low + high) / 2 if target is None else target)


def target_grid(task, per_dim: int) -> np.ndarray:
    """Targets [per_dim ** D, D] (task units) at the centres of a per_dim^D grid over the descriptor box."""
    low, high = np.asarray(task.descriptor_low), np.asarray(task.descriptor_high)
    axes = [lo + (np.arange(per_dim) + 0.5) * (hi - lo) / per_dim for lo, hi in zip(low, high, strict=True)]
    return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, len(low))


def reached_error(actor: ConditionedActor, evaluator, targets: np.ndarray) -> np.ndarray:
    """Per target: ||d - d'|| / range, the distance between the descriptor an episode of the actor aimed at
    target d' reaches and d', with each dimension divided by its range (so 1.0 spans a side of the box)."""
    task = evaluator.task
    low, high = np.asarray(task.descriptor_low), np.asarray(task.descriptor_high)
    cond = torch.as_tensor((targets - low) / (high - low), dtype=torch.float32)
    with torch.no_grad():
        result = evaluator.evaluate_agent(lambda obs: actor(obs.float(), cond), len(targets))
    return np.linalg.norm((result.descriptors - targets) / (high - low), axis=1)


TRAIN_OPTIONS = ("archive", "target")  # besides the fields of DCGConfig
TASK_KWARGS = ("max_episode_steps", "render_mode")  # env kwargs that leave the QD task as registered


def train_package(
    env_id: str,
    env_kwargs: dict,
    *,
    out: str | Path,
    steps: int,
    seed: int,
    device: str = "cpu",
    progress: bool = True,
    console=None,
    **options: Any,
) -> Path:
    """DCG-ME on the QD task registered as ``env_id`` for ``steps`` evaluations (episodes; the run ends at the
    first iteration at or past them), written to ``out`` as an agent package: ``agent.toml`` (factory
    :func:`distilled`, ``[kwargs] target``), ``distilled.pt`` (the actor), ``training.json``, ``progress.csv``
    (a row per iteration: evaluations, QD-score, coverage, max fitness, losses) and ``archive.png``.

    The configuration is :func:`agents.qd.runner.cpu_config` (``"dcg_me"``) with ``options`` over its fields
    (``td3`` as a dict over its TD3 fields); ``archive`` is ``"grid"`` (default) or ``"cvt"``; ``target``
    (task units) is the package's default target, else the descriptor the archive's fittest elite reached
    (on the point maze, where the goal ends the episode, a point in the goal square). ``env_kwargs`` may set
    ``max_episode_steps`` (the episode length; default the task's) and ``render_mode`` (no effect here);
    other kwargs must equal the registered ones. DCG-ME runs on the CPU: ``device`` is "cpu" or "auto"."""
    from agents.pg.policy import weights_version
    from agents.qd.dcg_me import DCGConfig
    from agents.qd.runner import cell_centres, cpu_config, heatmap, run_qd

    task = _qd_task(env_id, env_kwargs)
    if device not in ("cpu", "auto"):
        raise ValueError(f"device={device!r}: DCG-ME runs on the CPU (allowed: 'cpu', 'auto')")
    config_fields = {f.name for f in fields(DCGConfig)}
    unknown = sorted(set(options) - config_fields - set(TRAIN_OPTIONS))
    if unknown:
        allowed = ", ".join(sorted(config_fields) + list(TRAIN_OPTIONS))
        raise ValueError(f"options {unknown} are not dcg_me options; allowed: {allowed}")
    target = options.get("target")
    if target is not None:  # checked against the descriptor box before the run
        target = DistilledPolicy(None, task.descriptor_low, task.descriptor_high, target).target
    overrides = {k: v for k, v in options.items() if k in config_fields}
    if isinstance(overrides.get("td3"), dict):
        td3 = {k: tuple(v) if isinstance(v, list) else v for k, v in overrides["td3"].items()}
        overrides["td3"] = replace(cpu_config("dcg_me").td3, **td3)
    config = cpu_config("dcg_me", **overrides)
    archive = options.get("archive", "grid")
    start = time.perf_counter()
    run = run_qd(
        "dcg_me",
        task.name,
        evals=steps,
        seed=seed,
        archive=archive,
        config=config,
        episode_length=env_kwargs.get("max_episode_steps"),
        progress=progress,
        console=console,
    )
    wall_time_s = time.perf_counter() - start
    algo = run.algorithm
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    save_actor(algo.td3.actor, algo.spec, algo.low, algo.high, out / WEIGHTS, cell_centres(algo.archive))
    heatmap(algo, out / "archive.png")
    _write_rows(out / "progress.csv", run.rows)
    target = [float(x) for x in (algo.archive.best_elite["measures"] if target is None else target)]
    stats = algo.archive.stats
    write_manifest(
        out,
        AgentManifest(
            name=f"dcg_me-{task.name}-seed{seed}",
            version=weights_version(algo.td3.actor.state_dict()),
            entry_point="agents.qd.distilled:distilled",
            envs=[env_id],
            weights=WEIGHTS,
            kwargs={"target": target},
        ),
    )
    record = {
        "algo": "dcg_me",
        "env_id": env_id,
        "env_kwargs": dict(env_kwargs),
        "seed": seed,
        "steps": steps,
        "evaluations": algo.evaluator.evaluations,
        "env_steps": algo.evaluator.env_steps,
        "config": {
            **asdict(config),
            "task": task.name,
            "archive": archive,
            "episode_length": algo.evaluator.episode_length,
        },
        "target": target,
        "archive": {
            "cells": len(algo.archive),
            "qd_score": float(stats.qd_score),
            "coverage": float(stats.coverage),
            "max_fitness": float(stats.obj_max),
        },
        "wall_time_s": wall_time_s,
    }
    (out / "training.json").write_text(json.dumps(record, indent=2) + "\n")
    return out


def _qd_task(env_id: str, env_kwargs: dict):
    """The QD task registered as ``env_id``; ValueError for another id or kwargs that change the task."""
    import gymnasium as gym

    from envs.qd import TASKS

    tasks = {task.env_id: task for task in TASKS.values()}
    if env_id not in tasks or env_id not in gym.registry:
        raise ValueError(f"env_id={env_id!r} is not a registered QD env; allowed: {', '.join(sorted(tasks))}")
    registered = gym.spec(env_id).kwargs
    changed = sorted(k for k, v in env_kwargs.items() if k not in TASK_KWARGS and registered.get(k, ...) != v)
    if changed:
        raise ValueError(
            f"env_kwargs {changed} would change the QD task {env_id}; allowed: {', '.join(TASK_KWARGS)}"
        )
    return tasks[env_id]


def _write_rows(path: Path, rows: list[dict[str, float]]) -> None:
    """``rows`` as CSV, the columns in order of first appearance (a row without a column leaves it empty)."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, columns)
        writer.writeheader()
        writer.writerows(rows)
