"""The batched evaluator against the single Gymnasium env, its exact counts, determinism and the MLP
policy."""

import gymnasium as gym
import numpy as np
import pytest
import torch

import envs  # noqa: F401  (registers the ids)
from envs.qd.evaluator import BatchEvaluator, MLPPolicySpec
from envs.qd.tasks import get_task


def _maze_solver(obs: torch.Tensor) -> torch.Tensor:
    """A scripted batched driver through the maze: left under the lower wall, up its left gap, right under the
    upper wall, up its right gap, then straight at the goal (-0.5, 0.8); about 50 steps from the start."""
    x, y = obs.unbind(-1)
    left, up, right = torch.tensor([-1.0, 0.0]), torch.tensor([0.0, 1.0]), torch.tensor([1.0, 0.0])
    to_goal = torch.clamp((torch.tensor([-0.5, 0.8]) - obs) / 0.1, -1.0, 1.0)
    phase = torch.where(
        y < -0.4,
        torch.where(x > -0.7, 0, 1),
        torch.where(y < -0.05, 1, torch.where(y < 0.45, torch.where(x < 0.7, 2, 1), 3)),
    )
    choices = torch.stack((left.expand_as(obs), up.expand_as(obs), right.expand_as(obs), to_goal))
    return choices[phase, torch.arange(len(obs))]


def _gym_episodes(task_name: str, act, seed: int, n: int, episode_length: int):
    """Returns, final descriptors and lengths of n episodes of the registered env, reset with ``seed``
    once."""
    env = gym.make(get_task(task_name).env_id, max_episode_steps=episode_length)
    results = []
    for k in range(n):
        obs, info = env.reset(seed=seed if k == 0 else None)
        steps, done = 0, False
        while not done:
            action = act(k, torch.as_tensor(obs, dtype=torch.float32)).numpy()
            obs, _, terminated, truncated, info = env.step(action)
            steps, done = steps + 1, terminated or truncated
        results.append((info["fitness"], np.asarray(info["descriptor"], dtype=np.float64), steps))
    env.close()
    return results


def test_pointmaze_evaluator_equals_the_gym_env_for_the_same_policies_and_start_states():
    """Same seed -> same start states (drawn in the env's reset order) and the same float32 dynamics, so each
    policy's return and final position agree exactly with the single env's episodes."""
    evaluator = BatchEvaluator("pointmaze", seed=3)
    params = evaluator.policy.init(6, torch.Generator().manual_seed(1))
    result = evaluator.evaluate(params)
    episodes = _gym_episodes(
        "pointmaze", lambda k, o: evaluator.policy.act(params[k : k + 1], o[None])[0], 3, 6, 100
    )
    assert result.fitness.tolist() == [f for f, _, _ in episodes]
    np.testing.assert_array_equal(result.descriptors, np.stack([d for _, d, _ in episodes]))
    assert evaluator.env_steps == sum(steps for *_, steps in episodes)


def test_counts_are_exact_when_episodes_end_early_at_the_goal():
    """The scripted solver reaches the goal in fewer than 100 steps: env_steps is the sum of the true episode
    lengths (from the single env), evaluations the number of episodes, and the transitions one per step."""
    evaluator = BatchEvaluator("pointmaze", seed=0)
    result = evaluator.evaluate_agent(_maze_solver, 5, record_transitions=True)
    episodes = _gym_episodes("pointmaze", lambda k, o: _maze_solver(o[None])[0], 0, 5, 100)
    lengths = [steps for *_, steps in episodes]
    assert max(lengths) < 100
    assert (evaluator.evaluations, evaluator.env_steps) == (5, sum(lengths))
    assert result.lengths.tolist() == lengths
    transitions = result.transitions
    assert len(transitions.reward) == sum(lengths) and int(transitions.terminated.sum()) == 5
    np.testing.assert_allclose(
        result.descriptors, np.full((5, 2), (-0.5, 0.8)), atol=0.05
    )  # in the goal square
    evaluator.evaluate_agent(_maze_solver, 3)
    assert evaluator.evaluations == 8


def test_transitions_sum_to_the_fitness_and_carry_their_episodes_descriptor():
    evaluator = BatchEvaluator("pointmaze", seed=0, episode_length=30)
    params = evaluator.policy.init(4, torch.Generator().manual_seed(0))
    result = evaluator.evaluate(params, record_transitions=True)
    t = result.transitions
    assert t.obs.shape == (4 * 30, 2) and t.next_obs.shape == (4 * 30, 2)
    episode = torch.arange(4).repeat(30)  # time-major: the live rows of each step in order
    for k in range(4):
        rows = episode == k
        assert float(t.reward[rows].double().sum()) == pytest.approx(result.fitness[k], abs=1e-4)
        assert torch.equal(
            t.episode_descriptor[rows][0], torch.as_tensor(result.descriptors[k], dtype=torch.float32)
        )
    torch.testing.assert_close(t.next_obs[episode == 0][-1], t.step_descriptor[episode == 0][-1])
    assert torch.equal(t.obs[4:], t.next_obs[:-4])  # each step starts where the previous one ended


def test_same_seed_gives_identical_results_and_a_batch_equals_single_evaluations():
    """Start states come from the evaluator's own generator in call order, and each policy row is evaluated on
    its own row, so one batch of 5 equals 5 evaluations of one policy each (same seed) exactly."""
    params = MLPPolicySpec(2, 2).init(5, torch.Generator().manual_seed(7))
    batch = BatchEvaluator("pointmaze", seed=11).evaluate(params)
    again = BatchEvaluator("pointmaze", seed=11).evaluate(params)
    assert np.array_equal(batch.fitness, again.fitness) and np.array_equal(
        batch.descriptors, again.descriptors
    )
    single = BatchEvaluator("pointmaze", seed=11)
    singles = [single.evaluate(params[k : k + 1]) for k in range(5)]
    assert np.array_equal(batch.fitness, np.concatenate([r.fitness for r in singles]))
    assert np.array_equal(batch.descriptors, np.concatenate([r.descriptors for r in singles]))
    other = BatchEvaluator("pointmaze", seed=12).evaluate(params)
    assert not np.array_equal(batch.fitness, other.fitness)


def test_descriptors_of_many_random_policies_stay_within_the_bounds_and_fitness_above_its_floor():
    task = get_task("pointmaze")
    evaluator = BatchEvaluator(task, seed=0)
    result = evaluator.evaluate(evaluator.policy.init(500, torch.Generator().manual_seed(0)) * 5.0)
    assert (result.descriptors >= task.descriptor_low).all() and (
        result.descriptors <= task.descriptor_high
    ).all()
    assert (result.fitness >= task.min_fitness).all()
    assert len(np.unique(result.descriptors.round(2), axis=0)) > 100  # random policies spread out


def test_mlp_policy_module_round_trip_computes_the_same_actions():
    """num_params = sum over layers of in*out + out; to_module gives the same function, from_module inverts
    it, without drawing from torch's global generator (its layers are filled, not initialised)."""
    spec = MLPPolicySpec(3, 2, hidden=(5, 4))
    assert spec.num_params == (3 * 5 + 5) + (5 * 4 + 4) + (4 * 2 + 2)
    params = spec.init(3, torch.Generator().manual_seed(0))
    obs = torch.randn(3, 3, generator=torch.Generator().manual_seed(1))
    actions = spec.act(params, obs)
    for k in range(3):
        global_state = torch.get_rng_state()
        module = spec.to_module(params[k])
        assert torch.equal(torch.get_rng_state(), global_state)
        torch.testing.assert_close(module(obs[k : k + 1])[0], actions[k], rtol=1e-6, atol=1e-6)
        assert torch.equal(spec.from_module(module), params[k])
    assert actions.abs().max() < 1.0


def test_bad_arguments_raise_naming_the_field():
    with pytest.raises(ValueError, match="episode_length"):
        BatchEvaluator("pointmaze", episode_length=0)
    with pytest.raises(ValueError, match="obs_dim"):
        BatchEvaluator("pointmaze", MLPPolicySpec(3, 2))
    with pytest.raises(ValueError, match="params shape"):
        BatchEvaluator("pointmaze").evaluate(torch.zeros(2, 5))


def test_auto_device_is_cuda_when_available_else_the_cpu():
    """``device="auto"`` means CUDA when present, as everywhere in the project (it used to raise)."""
    evaluator = BatchEvaluator("pointmaze", episode_length=3, device="auto")
    assert evaluator.device.type == ("cuda" if torch.cuda.is_available() else "cpu")
    result = evaluator.evaluate(evaluator.policy.init(2, torch.Generator(evaluator.device).manual_seed(0)))
    assert result.fitness.shape == (2,) and np.all(result.lengths == 3)
