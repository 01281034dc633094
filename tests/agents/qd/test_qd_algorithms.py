"""MAP-Elites, PGA-ME and DCG-ME on the point maze: archive invariants, determinism, resume, exact counts,
the DCG reward and the folding of the descriptor-conditioned actor.

Runs are small (``SMALL`` evaluations, 2-layer 32-unit critics) so that the module takes seconds; the
properties checked hold at any size.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from agents.qd import cpu_config, dcg_similarity, run_qd
from agents.qd.distilled import ConditionedActor
from agents.qd.td3 import TD3Config
from envs.qd.evaluator import BatchEvaluator, MLPPolicySpec
from envs.qd.tasks import get_task

SMALL = 96  # init batch 16 + 5 iterations of 16


def small_config(algorithm: str):
    if algorithm == "me":
        return cpu_config("me", batch_size=16, init_batch=16)
    return cpu_config(
        algorithm,
        batch_size=16,
        init_batch=16,
        critic_steps=8,
        pg_steps=3,
        td3=TD3Config(critic_hidden=(32, 32), batch_size=32, buffer_size=20_000),
    )


def small_run(algorithm: str, seed: int = 0, evals: int = SMALL, **kwargs):
    return run_qd(
        algorithm, "pointmaze", evals, seed, config=small_config(algorithm), episode_length=30, **kwargs
    )


def archive_arrays(archive) -> dict[str, np.ndarray]:
    data = archive.data(["index", "solution", "objective", "measures"])
    order = np.argsort(data["index"])
    return {key: value[order] for key, value in data.items()}


@pytest.fixture(scope="module")
def dcg_runs():
    """Two DCG-ME runs with the same seed, one with another seed."""
    return small_run("dcg_me", seed=3), small_run("dcg_me", seed=3), small_run("dcg_me", seed=4)


@pytest.mark.parametrize("algorithm", ["me", "pga_me"])
def test_same_seed_gives_a_bitwise_identical_archive(algorithm):
    a, b = small_run(algorithm, seed=1), small_run(algorithm, seed=1)
    for key, value in archive_arrays(a.archive).items():
        np.testing.assert_array_equal(value, archive_arrays(b.archive)[key], err_msg=key)


def test_dcg_me_same_seed_identical_archive_and_actor_other_seed_differs(dcg_runs):
    a, b, other = dcg_runs
    for key, value in archive_arrays(a.archive).items():
        np.testing.assert_array_equal(value, archive_arrays(b.archive)[key], err_msg=key)
    for p, q in zip(a.algorithm.td3.actor.parameters(), b.algorithm.td3.actor.parameters(), strict=True):
        assert torch.equal(p, q)
    assert not np.array_equal(
        archive_arrays(a.archive)["objective"], archive_arrays(other.archive)["objective"]
    )


@pytest.mark.parametrize("algorithm", ["me", "dcg_me"])
def test_descriptors_of_every_elite_lie_within_the_task_bounds(algorithm, dcg_runs):
    run = dcg_runs[0] if algorithm == "dcg_me" else small_run("me", seed=2)
    task = get_task("pointmaze")
    measures = run.archive.data("measures")
    assert len(measures) > 0
    assert np.all(measures >= np.array(task.descriptor_low)) and np.all(
        measures <= np.array(task.descriptor_high)
    )


def test_evaluation_and_step_counts_equal_the_evaluators_exactly(dcg_runs):
    """init batch + iterations x batch episodes of at most 30 steps each (the maze ends at the goal)."""
    run = dcg_runs[0]
    rows, evaluator = run.rows, run.algorithm.evaluator
    assert [r["evaluations"] for r in rows] == [16 * (k + 1) for k in range(len(rows))]
    assert rows[-1]["evaluations"] == evaluator.evaluations == SMALL
    assert rows[-1]["env_steps"] == evaluator.env_steps <= 30 * SMALL
    assert run.algorithm.buffer.size == evaluator.env_steps  # every step's transition went to the buffer


def test_me_qd_score_never_decreases_because_elites_are_only_replaced_by_fitter_ones():
    """With offset min_fitness every elite adds fitness - min_fitness >= 0, and a cell's elite is replaced
    only by a fitter one, so the QD-score is monotone non-decreasing per iteration."""
    run = small_run("me", seed=5, evals=160)
    scores = [r["qd_score"] for r in run.rows]
    assert all(b >= a for a, b in itertools.pairwise(scores))
    offset = get_task("pointmaze").min_fitness
    assert scores[-1] == pytest.approx(float(np.sum(run.archive.data("objective") - offset)), rel=1e-9)


def test_resume_from_a_checkpoint_ends_in_the_same_archive_as_an_uninterrupted_run(tmp_path, dcg_runs):
    interrupted = small_run("dcg_me", seed=3, evals=48, out=tmp_path, checkpoint_every=1)
    assert interrupted.rows[-1]["evaluations"] == 48
    with pytest.raises(ValueError, match=r"algorithm, task: the checkpoint .* is dcg_me on pointmaze"):
        run_qd("pga_me", "pointmaze", SMALL, 3, out=tmp_path, resume=True)
    resumed = run_qd("dcg_me", "pointmaze", SMALL, 3, out=tmp_path, resume=True)
    uninterrupted = dcg_runs[0]
    for key, value in archive_arrays(uninterrupted.archive).items():
        np.testing.assert_array_equal(value, archive_arrays(resumed.archive)[key], err_msg=key)
    assert [r["qd_score"] for r in resumed.rows] == [r["qd_score"] for r in uninterrupted.rows]
    assert (tmp_path / "progress.csv").read_text().count("\n") == len(uninterrupted.rows) + 1
    assert (tmp_path / "archive.png").stat().st_size > 0 and (tmp_path / "distilled.pt").is_file()


def test_dcg_similarity_is_exp_of_minus_distance_over_lengthscale_on_normalised_descriptors():
    """d = (0, 0), d' = (0.3, 0.4): ||d - d'|| = 0.5, so S = exp(-0.5 / 0.1) = exp(-5); S(d, d) = 1."""
    d = torch.tensor([[0.0, 0.0], [0.2, 0.7]])
    d_prime = torch.tensor([[0.3, 0.4], [0.2, 0.7]])
    np.testing.assert_allclose(dcg_similarity(d, d_prime, 0.1).numpy(), [np.exp(-5.0), 1.0], rtol=1e-6)


def test_dcg_reward_is_the_shifted_reward_times_the_similarity_of_reached_and_target_descriptors(dcg_runs):
    """Reward -1 m with floor -2.343 m per step: shifted 1.343, times exp(-0.5 / 0.05) for a 0.5 miss."""
    algorithm = dcg_runs[0].algorithm
    floor = get_task("pointmaze").min_fitness / 100
    batch = {
        "reward": torch.tensor([[-1.0], [-1.0]]),
        "step_descriptor": torch.tensor([[0.0, 0.0], [0.5, 0.5]]),
        "episode_descriptor": torch.tensor([[0.9, 0.9], [0.9, 0.9]]),  # not used: "auto" is "step" here
        "cond": torch.tensor([[0.3, 0.4], [0.5, 0.5]]),
    }
    expected = (-1.0 - floor) * np.array([np.exp(-10.0), 1.0])
    np.testing.assert_allclose(algorithm.reward(batch).numpy(), expected, rtol=1e-5)


@pytest.mark.parametrize(
    ("task", "similarity"), [("pointmaze", "step"), ("walker2d_uni", "episode"), ("ant_omni", "step")]
)
def test_dcg_compares_targets_with_the_step_quantity_only_where_the_descriptor_is_the_last_step(
    task, similarity
):
    """A final-position descriptor is where the body is at the last step, so each step's position is
    comparable with a target; a feet-contact rate is a mean of 0/1 contacts, so only the episode's rate is."""
    if get_task(task).needs_mujoco:
        pytest.importorskip("mujoco")
    from agents.qd import make_algorithm

    evaluator = BatchEvaluator(task, episode_length=5, seed=0)
    config = small_config("dcg_me")
    assert config.similarity == "auto"
    assert make_algorithm("dcg_me", evaluator, config=config, seed=0).similarity == similarity


def test_folding_the_target_into_the_first_layer_gives_exactly_the_conditioned_actor():
    """W [s; d'] + b = W_s s + (W_d d' + b): the folded archive policy acts as the actor at d'."""
    spec = MLPPolicySpec(2, 2)
    actor = ConditionedActor(spec, 2, torch.Generator().manual_seed(0))
    with torch.no_grad():
        for p in actor.parameters():
            p.add_(0.3 * torch.randn(p.shape, generator=torch.Generator().manual_seed(p.numel())))
    targets = torch.tensor([[0.1, 0.9], [0.7, 0.2]])
    global_rng = torch.random.get_rng_state()
    rows = actor.fold(spec, targets)
    assert torch.equal(torch.random.get_rng_state(), global_rng)  # folding draws no random numbers
    obs = torch.rand(5, 2, generator=torch.Generator().manual_seed(1)) * 2 - 1
    for row, target in zip(rows, targets, strict=True):
        folded = spec.act(row.expand(5, -1), obs)
        direct = actor(obs, target.expand(5, -1))
        torch.testing.assert_close(folded, direct, rtol=1e-5, atol=1e-6)


def test_bad_arguments_raise_value_errors_naming_the_field():
    with pytest.raises(ValueError, match="algorithm"):
        run_qd("cma_me", "pointmaze", 10)
    with pytest.raises(ValueError, match="evals"):
        run_qd("me", "pointmaze", 0)
    with pytest.raises(ValueError, match="pg_fraction"):
        cpu_config("pga_me", pg_fraction=1.5)
    with pytest.raises(ValueError, match="archive"):
        run_qd("me", "pointmaze", 10, archive="hex", evaluator=BatchEvaluator("pointmaze"))


def test_actor_injection_folds_the_actor_at_the_descriptors_of_elites_in_the_archive(dcg_runs):
    """As in the reference implementation: each target is the normalised descriptor of an archive elite."""
    algorithm = dcg_runs[2].algorithm  # the other-seed run: no other test reads its emitters' last targets
    rows = algorithm._ai.ask()
    targets = algorithm._ai.last_cond
    elites = algorithm.normalise(algorithm.archive.data("measures"))
    assert len(rows) == algorithm.config.ai_batch == 2  # an eighth of 16
    assert bool((targets.unsqueeze(1) == elites.unsqueeze(0)).all(dim=2).any(dim=1).all())
    np.testing.assert_array_equal(rows, algorithm.td3.actor.fold(algorithm.spec, targets).double().numpy())


def test_dcg_transitions_carry_the_target_their_episode_was_made_for(dcg_runs):
    """Actor-injected episodes are stored with the target they were folded at, GA episodes with their own
    descriptor: every buffer row's d' is either its episode's descriptor or one of the last asked targets."""
    run = dcg_runs[0]
    algorithm, buffer = run.algorithm, run.algorithm.buffer
    last_steps = run.rows[-1]["env_steps"] - run.rows[-2]["env_steps"]
    rows = slice(buffer.size - last_steps, buffer.size)  # the last iteration's transitions
    cond, reached = buffer.data["cond"][rows], buffer.data["episode_descriptor"][rows]
    targets = torch.cat([algorithm._pg.last_cond, algorithm._ai.last_cond])
    own = (cond == reached).all(dim=1)
    asked = (cond.unsqueeze(1) == targets.unsqueeze(0)).all(dim=2).any(dim=1)
    assert bool((own | asked).all()) and bool(asked.any())


def test_cvt_archive_runs_are_deterministic_and_keep_descriptors_in_bounds(tmp_path):
    config = cpu_config("me", batch_size=16, init_batch=16, cvt_cells=128)
    runs = [
        run_qd("me", "pointmaze", 64, 0, archive="cvt", config=config, episode_length=30, out=out)
        for out in (tmp_path, None)
    ]
    measures = runs[0].archive.data("measures")
    task = get_task("pointmaze")
    assert np.all(measures >= np.array(task.descriptor_low)) and np.all(
        measures <= np.array(task.descriptor_high)
    )
    for key, value in archive_arrays(runs[0].archive).items():
        np.testing.assert_array_equal(value, archive_arrays(runs[1].archive)[key], err_msg=key)
    assert (tmp_path / "archive.png").stat().st_size > 0
