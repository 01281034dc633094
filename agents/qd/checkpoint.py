"""Checkpoints of a QD run as data, never as pickled objects: ``checkpoint.json`` and ``checkpoint.pt``.

``checkpoint.pt`` holds only tensors (``torch.load(..., weights_only=True)`` reads it): the archive's
occupied cells (index, solution, objective, measures, threshold, in the archive's own order, and a CVT
archive's centroids), the state dicts of the TD3 networks and optimisers, the filled rows of the replay
buffer and the torch generator's state. ``checkpoint.json`` holds everything else: the algorithm, task,
configuration and seed, the evaluator's settings and counters, the numpy generators' states (the archive's,
the evaluator's, each emitter's), the archive's statistics, the logged rows, and the SHA-256 of
``checkpoint.pt``.

Loading builds the algorithm afresh from the configuration and seed, refills the archive by ``add``-ing the
saved elites one at a time in their saved order (so that ``sample_elites`` draws the same parents), then
sets every state back; it checks that the rebuilt archive equals the saved one (cells, order, arrays and
statistics) and raises ``ValueError`` otherwise. A resumed run therefore continues bit for bit as the
uninterrupted run would have.

Saving writes both files aside, then renames the JSON, then the tensors; a save stopped between the two
renames leaves ``checkpoint.pt.tmp`` matching the new JSON, which loading then uses.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from ribs.archives import CVTArchive
from ribs.schedulers import Scheduler

FORMAT = 1
STATE = "checkpoint.json"
TENSORS = "checkpoint.pt"
ARCHIVE_FIELDS = ("index", "solution", "objective", "measures", "threshold")
STAT_FIELDS = ("num_elites", "coverage", "qd_score", "norm_qd_score", "obj_max", "obj_mean")
TD3_MODULES = ("critic", "critic_target", "actor", "actor_target")
TD3_OPTIMIZERS = ("critic_optimizer", "actor_optimizer")


def save_checkpoint(out: str | Path, algo, rows: list[dict], elapsed: float) -> None:
    """Write the run's state to ``out/checkpoint.json`` and ``out/checkpoint.pt`` (module docstring)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    state, tensors = algorithm_state(algo)
    tmp_tensors, tmp_state = out / (TENSORS + ".tmp"), out / (STATE + ".tmp")
    torch.save(tensors, tmp_tensors)
    state.update(rows=rows, wall_time_s=elapsed, tensors={"file": TENSORS, "sha256": _sha256(tmp_tensors)})
    tmp_state.write_text(json.dumps(state, indent=1))
    tmp_state.replace(out / STATE)
    tmp_tensors.replace(out / TENSORS)


def read_checkpoint(out: str | Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The JSON state and the tensors of the checkpoint under ``out`` (tensors read with ``weights_only``)."""
    out = Path(out)
    if not (out / STATE).is_file():
        if (out / TENSORS).is_file():
            raise ValueError(
                f"{out / TENSORS} has no {STATE} beside it: an earlier version wrote it as a pickle, "
                "which is no longer loaded; start the run again"
            )
        raise ValueError(f"resume=True needs out/{STATE}; none under {out}")
    state = json.loads((out / STATE).read_text())
    if state.get("format") != FORMAT:
        raise ValueError(f"{out / STATE}: format {state.get('format')!r}, this version reads {FORMAT}")
    expected = state["tensors"]["sha256"]
    path = out / TENSORS
    if not path.is_file() or _sha256(path) != expected:
        pending = out / (TENSORS + ".tmp")
        if not (pending.is_file() and _sha256(pending) == expected):
            raise ValueError(f"{path} does not match {out / STATE} (sha256); the checkpoint is incomplete")
        pending.replace(path)  # the save stopped between its two renames: finish it
    return state, torch.load(path, map_location="cpu", weights_only=True)


def load_checkpoint(out: str | Path):
    """``(algorithm, rows, wall_time_s)`` of the checkpoint under ``out``, ready to continue."""
    state, tensors = read_checkpoint(out)
    return restore_algorithm(state, tensors), state["rows"], state["wall_time_s"]


def algorithm_state(algo) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(state, tensors)``: the JSON-able state of ``algo`` and its evaluator, and its tensors."""
    evaluator = algo.evaluator
    state: dict[str, Any] = {
        "format": FORMAT,
        "algorithm": algo.name,
        "task": algo.task.name,
        "archive": algo.archive_kind,
        "seed": algo.seed,
        "config": {"class": type(algo.config).__name__, **dataclasses.asdict(algo.config)},
        "iterations": algo.iterations,
        "evaluator": {
            "task": evaluator.task.name,
            "policy": {
                "obs_dim": evaluator.policy.obs_dim,
                "action_dim": evaluator.policy.action_dim,
                "hidden": list(evaluator.policy.hidden),
            },
            "episode_length": evaluator.episode_length,
            "device": str(evaluator.device),
            "seed": evaluator.seed,
            "rng": evaluator._rng.bit_generator.state,
            "evaluations": evaluator.evaluations,
            "env_steps": evaluator.env_steps,
        },
        "archive_state": {
            "rng": algo.archive._rng.bit_generator.state,
            "objective_sum": float(algo.archive._objective_sum),
            "best_index": None if algo.archive.best_elite is None else int(algo.archive.best_elite["index"]),
            "stats": archive_stats(algo.archive),
        },
        "emitters": None if algo.scheduler is None else [_rngs(e) for e in algo.scheduler.emitters],
    }
    data = algo.archive.data(list(ARCHIVE_FIELDS))
    tensors: dict[str, Any] = {
        "generator": algo.generator.get_state(),
        "archive": {name: torch.from_numpy(np.ascontiguousarray(data[name])) for name in ARCHIVE_FIELDS},
    }
    if isinstance(algo.archive, CVTArchive):
        tensors["archive"]["centroids"] = torch.from_numpy(np.array(algo.archive.centroids))
    if hasattr(algo, "td3"):
        td3, buffer = algo.td3, algo.buffer
        state["td3"] = {"updates": td3.updates}
        state["buffer"] = {"capacity": buffer.capacity, "size": buffer.size, "next": buffer._next}
        tensors["td3"] = {
            **{name: getattr(td3, name).state_dict() for name in TD3_MODULES},
            **{name: getattr(td3, name).state_dict() for name in TD3_OPTIMIZERS},
        }
        tensors["buffer"] = {name: column[: buffer.size].clone() for name, column in buffer.data.items()}
    return state, tensors


def restore_algorithm(state: dict[str, Any], tensors: dict[str, Any]):
    """The algorithm of :func:`algorithm_state`'s ``(state, tensors)``, in the state it was saved in."""
    from agents.qd.runner import ALGORITHMS, make_algorithm
    from envs.qd import BatchEvaluator, MLPPolicySpec

    e = state["evaluator"]
    evaluator = BatchEvaluator(
        e["task"],
        MLPPolicySpec(e["policy"]["obs_dim"], e["policy"]["action_dim"], tuple(e["policy"]["hidden"])),
        episode_length=e["episode_length"],
        device=e["device"],
        seed=e["seed"],
    )
    evaluator._rng.bit_generator.state = e["rng"]
    evaluator.evaluations, evaluator.env_steps = e["evaluations"], e["env_steps"]

    config = config_from_json(ALGORITHMS[state["algorithm"]][1], state["config"])
    saved = {name: value.numpy() for name, value in tensors["archive"].items()}
    algo = make_algorithm(
        state["algorithm"],
        evaluator,
        config=config,
        archive=state["archive"],
        seed=state["seed"],
        centroids=saved.get("centroids"),
    )
    restore_archive(algo.archive, saved, state["archive_state"])
    if state["emitters"] is not None:
        algo.scheduler = Scheduler(algo.archive, algo.emitters())
        emitters = algo.scheduler.emitters
        if len(emitters) != len(state["emitters"]):
            raise ValueError(
                f"checkpoint: {len(state['emitters'])} emitters saved, the algorithm has {len(emitters)}"
            )
        for emitter, rngs in zip(emitters, state["emitters"], strict=True):
            own = _rngs(emitter)
            if own.keys() != rngs.keys():
                raise ValueError(f"checkpoint: emitter generators {sorted(rngs)}, expected {sorted(own)}")
            for name, rng_state in rngs.items():
                getattr(emitter, name).bit_generator.state = rng_state
    if "td3" in state:
        td3, buffer = algo.td3, algo.buffer
        for name in (*TD3_MODULES, *TD3_OPTIMIZERS):
            getattr(td3, name).load_state_dict(tensors["td3"][name])
        td3.updates = state["td3"]["updates"]
        b = state["buffer"]
        if b["capacity"] != buffer.capacity:
            raise ValueError(
                f"checkpoint: buffer capacity {b['capacity']}, the config gives {buffer.capacity}"
            )
        for name, column in buffer.data.items():
            column[: b["size"]] = tensors["buffer"][name]
        buffer.size, buffer._next = b["size"], b["next"]
    algo.generator.set_state(tensors["generator"])
    algo.iterations = state["iterations"]
    return algo


def restore_archive(archive, saved: dict[str, np.ndarray], state: dict[str, Any]) -> None:
    """Refill the empty ``archive`` with the saved elites and set its generator and statistics back.

    The elites go in one ``add`` each, in the saved order: a batch ``add`` lists its new cells sorted by
    index, and the order of the occupied cells is what ``sample_elites`` draws from. Statistics are set from
    the saved objective sum, since summing the same objectives in another order may differ in the last bit.
    """
    if not archive.empty:
        raise ValueError("restore_archive needs an empty archive")
    for k in range(len(saved["index"])):
        archive.add(saved["solution"][k : k + 1], saved["objective"][k : k + 1], saved["measures"][k : k + 1])
    data = archive.data(list(ARCHIVE_FIELDS))
    for name in ARCHIVE_FIELDS:
        if data[name].shape != saved[name].shape or not np.array_equal(data[name], saved[name]):
            raise ValueError(f"checkpoint: the rebuilt archive's {name!r} differs from the saved one")
    archive._rng.bit_generator.state = state["rng"]
    if state["best_index"] is not None:
        archive._stats_reset()
        archive._stats_update(
            np.asarray(state["objective_sum"], dtype=archive.dtypes["objective"]), state["best_index"]
        )
    stats = archive_stats(archive)
    if stats != state["stats"]:
        raise ValueError(
            f"checkpoint: the rebuilt archive's statistics {stats} differ from the saved {state['stats']}"
        )


def archive_stats(archive) -> dict[str, float | int | None]:
    """The archive's statistics as plain numbers."""
    stats = archive.stats
    return {
        name: None
        if getattr(stats, name) is None
        else getattr(stats, name).item()
        if hasattr(getattr(stats, name), "item")
        else getattr(stats, name)
        for name in STAT_FIELDS
    }


def config_from_json(config_class, data: dict[str, Any]):
    """The config dataclass written by :func:`algorithm_state` (tuples were lists, TD3Config a dict)."""
    from agents.qd.td3 import TD3Config

    data = dict(data)
    name = data.pop("class")
    if name != config_class.__name__:
        raise ValueError(f"checkpoint: config is a {name}, the algorithm takes a {config_class.__name__}")
    if "td3" in data:
        td3 = dict(data["td3"])
        td3["critic_hidden"] = tuple(td3["critic_hidden"])
        data["td3"] = TD3Config(**td3)
    return config_class(**data)


def _rngs(emitter) -> dict[str, dict]:
    """The states of the numpy generators an emitter holds, by attribute name."""
    return {
        name: value.bit_generator.state
        for name, value in vars(emitter).items()
        if isinstance(value, np.random.Generator)
    }


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
