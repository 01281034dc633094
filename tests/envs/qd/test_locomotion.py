"""The MuJoCo QD tasks: the batched evaluator equals Gymnasium's v5 envs, and descriptors match the
physics."""

import math

import gymnasium as gym
import numpy as np
import pytest
import torch

import envs  # noqa: F401  (registers the ids)
from envs.qd.evaluator import BatchEvaluator
from envs.qd.tasks import get_task

MUJOCO_TASKS = ["walker2d_uni", "halfcheetah_uni", "hopper_uni", "ant_uni", "ant_omni"]
GYMNASIUM_IDS = {
    "walker2d_uni": "Walker2d-v5",
    "halfcheetah_uni": "HalfCheetah-v5",
    "hopper_uni": "Hopper-v5",
    "ant_uni": "Ant-v5",
    "ant_omni": "Ant-v5",
}


def _gym_episodes(evaluator: BatchEvaluator, params: torch.Tensor, seed: int):
    """The registered env's episodes for each policy row: env reset with ``seed`` once, then unseeded."""
    env = gym.make(evaluator.task.env_id, max_episode_steps=evaluator.episode_length)
    fitness, descriptors, steps = [], [], 0
    for k in range(len(params)):
        obs, _ = env.reset(seed=seed if k == 0 else None)
        done = False
        while not done:
            obs_t = torch.as_tensor(obs, dtype=torch.float32)[None]
            action = evaluator.policy.act(params[k : k + 1], obs_t)[0].to(torch.float32).numpy()
            obs, _, terminated, truncated, info = env.step(action)
            steps, done = steps + 1, terminated or truncated
        fitness.append(info["fitness"])
        descriptors.append(info["descriptor"])
    env.close()
    return fitness, np.stack(descriptors), steps


@pytest.mark.parametrize("name", MUJOCO_TASKS)
def test_batched_evaluator_equals_the_registered_env_episode_for_episode(name):
    """Same start states (drawn in the env's reset order from the same seed), same MuJoCo model and the
    Gymnasium v5 formulas in the same floating-point order: returns equal exactly, descriptors to float32, and
    the step count equals the single env's, early terminations included."""
    evaluator = BatchEvaluator(name, seed=5, episode_length=60)
    params = (
        evaluator.policy.init(3, torch.Generator().manual_seed(2)) * 3.0
    )  # large weights: lively policies
    result = evaluator.evaluate(params)
    fitness, descriptors, steps = _gym_episodes(evaluator, params, seed=5)
    assert result.fitness.tolist() == fitness
    np.testing.assert_array_equal(result.descriptors.astype(np.float32), descriptors)
    assert (evaluator.evaluations, evaluator.env_steps) == (3, steps) == (3, int(result.lengths.sum()))
    if name in ("walker2d_uni", "hopper_uni"):
        assert steps < 3 * 60  # random policies fall: the early terminations were counted exactly


@pytest.mark.parametrize("name", MUJOCO_TASKS)
def test_task_reward_is_the_gymnasium_v5_reward_and_ends_when_it_ends(name):
    """Our env and Gymnasium's own env, reset with the same seed and given the same actions, start in the same
    state and agree on every reward (ant_omni: minus the forward term), termination and observation."""
    ours, theirs = gym.make(get_task(name).env_id), gym.make(GYMNASIUM_IDS[name])
    obs_a, _ = ours.reset(seed=9)
    obs_b, _ = theirs.reset(seed=9)
    np.testing.assert_array_equal(obs_a, obs_b)
    rng = np.random.default_rng(0)
    for _ in range(200):
        action = rng.uniform(-1.0, 1.0, size=ours.action_space.shape).astype(np.float32)
        obs_a, clipped, term_a, _, info_a = ours.step(action)
        obs_b, reward, term_b, _, info_b = theirs.step(action)
        np.testing.assert_array_equal(obs_a, obs_b)
        expected = reward - info_b["reward_forward"] if name == "ant_omni" else reward
        assert info_a["reward_unclipped"] == expected
        assert clipped == max(expected, -get_task(name).reward_floor)
        assert term_a == term_b
        if term_a:
            break


def _foot_bottom_gap_m(env) -> float:
    """Height (m) of the lowest foot capsule's bottom above the floor: centre height minus radius (the feet
    lie horizontally, as in the model)."""
    data, model = env.unwrapped._env.data, env.unwrapped._env.model
    feet = [model.geom(n).id for n in ("foot_geom", "foot_left_geom")]
    return min(data.geom_xpos[g, 2] - model.geom_size[g, 0] for g in feet)


def test_walker_dropped_from_one_metre_touches_down_after_the_free_fall_time():
    """Lifted 1 m (plus its start gap h0), the unpowered walker falls freely: no foot contact (descriptor 0,
    0) until t = sqrt(2 (1 + h0) / g), i.e. step ceil(t / dt) with dt = 0.008 s, g = 9.81 m/s^2. Tolerance one
    step: the start velocities (|v| <= 5e-3 m/s) shift the landing by under 1 ms."""
    env = gym.make("arena/QDWalker2dUni-v0")
    env.reset(seed=0)
    inner = env.unwrapped._env
    qpos, qvel = inner.data.qpos.copy(), inner.data.qvel.copy()
    qpos[1] += 1.0
    inner.set_state(qpos, qvel)
    expected = math.ceil(math.sqrt(2 * _foot_bottom_gap_m(env) / 9.81) / inner.dt)
    steps = 0
    while steps < 200:
        _, _, _, _, info = env.step(np.zeros(6, dtype=np.float32))
        steps += 1
        if info["step_descriptor"].any():
            break
        np.testing.assert_array_equal(info["descriptor"], [0.0, 0.0])
    assert abs(steps - expected) <= 1
    assert expected > 50


def test_walker_held_upright_stands_on_both_feet():
    """A PD controller holding the start pose keeps the walker standing: after it settles onto the floor both
    feet touch it at every step, so both contact proportions tend to 1 (>= 0.9 over 200 steps, the first ~10
    being the drop from the start gap)."""
    env = gym.make("arena/QDWalker2dUni-v0")
    env.reset(seed=0)
    inner = env.unwrapped._env
    q0 = inner.init_qpos[3:].copy()
    for step in range(200):
        q, qd = inner.data.qpos[3:], inner.data.qvel[3:]
        _, _, terminated, _, info = env.step(np.clip(2.0 * (q0 - q) - 0.1 * qd, -1, 1).astype(np.float32))
        assert not terminated
        if step >= 20:
            np.testing.assert_array_equal(info["step_descriptor"], [1.0, 1.0])
    assert (info["descriptor"] >= 0.9).all()


def test_ant_omni_descriptor_is_the_torsos_final_xy_from_qpos():
    env = gym.make("arena/QDAntOmni-v0")
    env.reset(seed=1)
    rng = np.random.default_rng(1)
    for _ in range(50):
        _, _, _, _, info = env.step(rng.uniform(-1, 1, 8).astype(np.float32))
    qpos = env.unwrapped._env.data.qpos
    np.testing.assert_array_equal(info["descriptor"], qpos[:2].astype(np.float32))
    assert np.abs(qpos[:2]).max() > 0.01  # it moved, so the check compares a real position


@pytest.mark.parametrize("name", MUJOCO_TASKS)
def test_descriptors_stay_within_bounds_and_returns_above_the_floor_for_random_policies(name):
    task = get_task(name)
    evaluator = BatchEvaluator(task, seed=0, episode_length=40)
    result = evaluator.evaluate(evaluator.policy.init(8, torch.Generator().manual_seed(0)) * 10.0)
    assert (result.descriptors >= task.descriptor_low).all() and (
        result.descriptors <= task.descriptor_high
    ).all()
    assert (result.fitness >= -task.reward_floor * 40).all()


def test_mujoco_batch_equals_single_evaluations_and_transitions_count_every_step():
    """Per-episode MjData and row-independent policy forwards: a batch of 3 equals 3 one-policy calls exactly;
    the recorded transitions are exactly the env steps taken, and every episode shorter than the limit ends
    in a recorded termination."""
    evaluator = BatchEvaluator("hopper_uni", seed=4, episode_length=50)
    params = evaluator.policy.init(3, torch.Generator().manual_seed(3)) * 3.0
    batch = evaluator.evaluate(params, record_transitions=True)
    assert len(batch.transitions.reward) == evaluator.env_steps
    single = BatchEvaluator("hopper_uni", seed=4, episode_length=50)
    singles, lengths = [], []
    for k in range(3):
        before = single.env_steps
        singles.append(single.evaluate(params[k : k + 1]))
        lengths.append(single.env_steps - before)
    assert batch.fitness.tolist() == [r.fitness[0] for r in singles]
    np.testing.assert_array_equal(batch.descriptors, np.concatenate([r.descriptors for r in singles]))
    assert sum(lengths) == evaluator.env_steps
    ended_early = sum(n < 50 for n in lengths)  # those episodes must end with a true termination
    assert ended_early <= int(batch.transitions.terminated.sum()) <= 3


def test_unknown_locomotion_task_raises_naming_the_allowed_ones():
    from envs.qd.locomotion import QDLocomotionEnv

    with pytest.raises(ValueError, match="walker2d_uni"):
        QDLocomotionEnv(task="walker3d_uni")
