"""QD checkpoints are data (JSON and a tensors-only file read with weights_only): a checkpoint restores every
state of the run exactly, and a resumed run continues bit for bit as the uninterrupted one."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from agents.qd import cpu_config, run_qd
from agents.qd.checkpoint import STATE, TENSORS, load_checkpoint, save_checkpoint
from agents.qd.td3 import TD3Config

EVALS = 96  # init batch 16 + 5 iterations of 16


def config(algorithm: str, archive: str = "grid", **overrides):
    if algorithm == "me":
        return cpu_config("me", batch_size=16, init_batch=16, cvt_cells=64, **overrides)
    # a 500-row buffer wraps around within two iterations of 16 episodes of up to 30 steps
    td3 = TD3Config(critic_hidden=(32, 32), batch_size=32, buffer_size=500)
    return cpu_config(
        algorithm, batch_size=16, init_batch=16, critic_steps=8, pg_steps=3, td3=td3, **overrides
    )


CASES = {
    "me-cvt": ("me", "cvt", {}),
    "me-gaussian": ("me", "grid", {"variation": "gaussian"}),
    "pga_me-wrapped-buffer": ("pga_me", "grid", {}),
    "dcg_me-cvt": ("dcg_me", "cvt", {}),
}


def run(case: str, evals: int = EVALS, seed: int = 2, **kwargs):
    algorithm, archive, overrides = CASES[case]
    return run_qd(
        algorithm,
        "pointmaze",
        evals,
        seed,
        archive=archive,
        config=config(algorithm, **overrides),
        episode_length=30,
        **kwargs,
    )


def archive_arrays(archive) -> dict[str, np.ndarray]:
    """Every field of the occupied cells in the archive's own order (the order sample_elites draws from)."""
    return archive.data(["index", "solution", "objective", "measures", "threshold"])


def assert_same_state(a, b) -> None:
    """Two algorithms hold the same archive, generators, networks, optimisers, buffer and counters."""
    for key, value in archive_arrays(a.archive).items():
        np.testing.assert_array_equal(value, archive_arrays(b.archive)[key], err_msg=key)
    assert a.archive.stats == b.archive.stats
    assert a.archive._rng.bit_generator.state == b.archive._rng.bit_generator.state
    if isinstance(a.archive, type(b.archive)) and hasattr(a.archive, "centroids"):
        np.testing.assert_array_equal(a.archive.centroids, b.archive.centroids)
    assert a.config == b.config and (a.seed, a.archive_kind, a.iterations) == (
        b.seed,
        b.archive_kind,
        b.iterations,
    )
    assert torch.equal(a.generator.get_state(), b.generator.get_state())
    ea, eb = a.evaluator, b.evaluator
    assert (ea.evaluations, ea.env_steps, ea.episode_length, ea.seed) == (
        eb.evaluations,
        eb.env_steps,
        eb.episode_length,
        eb.seed,
    )
    assert ea._rng.bit_generator.state == eb._rng.bit_generator.state
    assert len(a.scheduler.emitters) == len(b.scheduler.emitters)
    for x, y in zip(a.scheduler.emitters, b.scheduler.emitters, strict=True):
        assert type(x) is type(y)
        rngs = {k: v.bit_generator.state for k, v in vars(x).items() if isinstance(v, np.random.Generator)}
        assert rngs == {
            k: v.bit_generator.state for k, v in vars(y).items() if isinstance(v, np.random.Generator)
        }
    if not hasattr(a, "td3"):
        return
    for name in ("critic", "critic_target", "actor", "actor_target"):
        sa, sb = getattr(a.td3, name).state_dict(), getattr(b.td3, name).state_dict()
        assert sa.keys() == sb.keys()
        assert all(torch.equal(sa[k], sb[k]) for k in sa), name
    for name in ("critic_optimizer", "actor_optimizer"):
        oa, ob = getattr(a.td3, name).state_dict(), getattr(b.td3, name).state_dict()
        assert oa["param_groups"] == ob["param_groups"]
        assert oa["state"].keys() == ob["state"].keys()
        for k, state in oa["state"].items():
            assert all(torch.equal(v, ob["state"][k][n]) for n, v in state.items()), (name, k)
    assert a.td3.updates == b.td3.updates
    assert (a.buffer.capacity, a.buffer.size, a.buffer._next) == (
        b.buffer.capacity,
        b.buffer.size,
        b.buffer._next,
    )
    for name, column in a.buffer.data.items():
        assert torch.equal(column[: a.buffer.size], b.buffer.data[name][: b.buffer.size]), name


@pytest.mark.parametrize("case", list(CASES))
def test_a_loaded_checkpoint_equals_the_run_it_was_saved_from(tmp_path, case):
    finished = run(case, evals=64)
    save_checkpoint(tmp_path, finished.algorithm, finished.rows, 1.5)
    restored, rows, elapsed = load_checkpoint(tmp_path)
    assert rows == finished.rows and elapsed == 1.5
    assert_same_state(finished.algorithm, restored)
    if case == "pga_me-wrapped-buffer":
        assert finished.algorithm.buffer.size == finished.algorithm.buffer.capacity  # it did wrap


@pytest.mark.parametrize("case", ["me-cvt", "pga_me-wrapped-buffer"])
def test_a_resumed_run_ends_bit_for_bit_as_the_uninterrupted_one(tmp_path, case):
    """(DCG-ME on a grid: test_qd_algorithms.py::test_resume_from_a_checkpoint_ends_in_the_same_archive...)"""
    uninterrupted = run(case)
    run(case, evals=48, out=tmp_path, checkpoint_every=1)
    algorithm = CASES[case][0]
    resumed = run_qd(algorithm, "pointmaze", EVALS, 2, out=tmp_path, resume=True)
    assert_same_state(uninterrupted.algorithm, resumed.algorithm)
    skip = {"wall_time_s"}
    assert [{k: v for k, v in r.items() if k not in skip} for r in resumed.rows] == [
        {k: v for k, v in r.items() if k not in skip} for r in uninterrupted.rows
    ]


def test_the_checkpoint_is_json_and_tensors_loaded_with_weights_only(tmp_path):
    run("pga_me-wrapped-buffer", evals=48, out=tmp_path)
    state = json.loads((tmp_path / STATE).read_text())
    assert state["algorithm"] == "pga_me" and state["evaluator"]["evaluations"] == 48
    tensors = torch.load(tmp_path / TENSORS, weights_only=True)

    def leaves(value):
        if isinstance(value, dict):
            for v in value.values():
                yield from leaves(v)
        elif isinstance(value, list | tuple):
            for v in value:
                yield from leaves(v)
        else:
            yield value

    kinds = {type(v) for v in leaves(tensors)}
    assert torch.Tensor in kinds and kinds <= {torch.Tensor, int, float, bool, str, type(None)}, kinds


def test_a_pickled_or_incomplete_checkpoint_is_refused_and_an_interrupted_save_is_finished(tmp_path):
    run("me-cvt", evals=48, out=tmp_path)
    pending = tmp_path / (TENSORS + ".tmp")
    shutil.copy(tmp_path / TENSORS, pending)  # the new tensors, not yet renamed when the save stopped
    (tmp_path / TENSORS).write_bytes(b"an older checkpoint.pt")
    restored, rows, _ = load_checkpoint(tmp_path)
    assert rows[-1]["evaluations"] == 48 and not pending.exists()

    (tmp_path / TENSORS).write_bytes(b"neither")
    with pytest.raises(ValueError, match="does not match"):
        load_checkpoint(tmp_path)

    (tmp_path / STATE).unlink()
    torch.save({"algorithm": restored, "rows": rows}, tmp_path / TENSORS)  # the earlier, pickled format
    with pytest.raises(ValueError, match="earlier version wrote it as a pickle"):
        run_qd("me", "pointmaze", EVALS, 2, out=tmp_path, resume=True)
