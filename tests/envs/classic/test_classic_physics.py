"""The batched classic-control simulators against Gymnasium's own envs: physics step for step, and the
starting-state distributions that Gymnasium documents.

Step for step: many random states (wider than an episode reaches, so that every clip, wall, wrap and
termination branch is taken) are copied into the rows of a float64 vector env and into Gymnasium's env, both
take the same action, and the next states, rewards and termination flags are compared. The same float64
arithmetic in the same order agrees to rounding, so 1e-12 leaves margin for the few ulps by which torch's and
the C library's sin/cos may differ. Observations are compared to float32 rounding, since Gymnasium returns
them as float32. Gymnasium is given float64 actions: with its float32 Box actions numpy evaluates the torque
terms in float32 (about 1e-8 relative), which would test float32 rounding, not the physics.
"""

import math

import gymnasium as gym
import numpy as np
import pytest
import torch

import envs  # noqa: F401  (registers the ids)
from envs.classic import (
    AcrobotVectorEnv,
    CartPoleVectorEnv,
    ContinuousMountainCarVectorEnv,
    MountainCarVectorEnv,
    PendulumVectorEnv,
)

N = 256  # random states per comparison
FLOAT32_ROUNDING = 2.0**-23  # one float32 ulp, relative: a float32 rounding of a float64 value is within it


def _random_cases(env_id: str, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` states (float64, rows) and actions covering every branch of ``env_id``'s step."""
    if env_id == "CartPole-v1":  # some rows leave the track or tip past 12 degrees
        states = rng.uniform(-1, 1, (n, 4)) * [2.6, 3.0, 0.25, 3.0]
        return states, rng.integers(0, 2, n)
    if env_id == "Acrobot-v1":  # any angles, velocities up to the clip: some rows wrap, clip or terminate
        states = rng.uniform(-1, 1, (n, 4)) * [math.pi, math.pi, 4 * math.pi, 9 * math.pi]
        return states, rng.integers(0, 3, n)
    if env_id == "Pendulum-v1":  # angles beyond [-pi, pi) for angle_normalize, torques beyond the clip
        states = rng.uniform(-1, 1, (n, 2)) * [3 * math.pi, 8.0]
        return states, rng.uniform(-3.0, 3.0, n)
    # Mountain car: a quarter of the rows at the left wall moving left, a quarter near the flag moving right.
    states = np.column_stack([rng.uniform(-1.2, 0.6, n), rng.uniform(-0.07, 0.07, n)])
    quarter = n // 4
    states[:quarter] = np.column_stack([rng.uniform(-1.2, -1.1, quarter), rng.uniform(-0.07, 0, quarter)])
    states[quarter : 2 * quarter] = np.column_stack(
        [rng.uniform(0.4, 0.6, quarter), rng.uniform(0, 0.07, quarter)]
    )
    if env_id == "MountainCar-v0":
        return states, rng.integers(0, 3, n)
    return states, rng.uniform(-1.5, 1.5, n)


def _gymnasium_step(env: gym.Env, state: np.ndarray, action) -> tuple[np.ndarray, np.ndarray, float, bool]:
    """Gymnasium's step from ``state``: its next state (float64 where it keeps one), observation, reward and
    terminated flag. Its env is reset first, so that no state of an earlier call carries over."""
    env.reset(seed=0)
    env.state = state.copy()
    if isinstance(env.action_space, gym.spaces.Discrete):
        action = int(action)
    else:
        action = np.array([action], dtype=np.float64)
    obs, reward, terminated, _, _ = env.step(action)
    return np.asarray(env.state, dtype=np.float64), obs, reward, terminated


def _compare_one_step(env_id: str, vector_class, seed: int, state_rtol: float):
    """Step N random cases in both simulators; return the per-row results for the caller's assertions."""
    rng = np.random.default_rng(seed)
    states, actions = _random_cases(env_id, rng, N)
    vector = vector_class(num_envs=N, device="cpu", dtype=torch.float64)
    vector.reset(seed=0)
    vector.state = torch.as_tensor(states)
    _, rewards, terminated, truncated, info = vector.step(torch.as_tensor(actions))
    single = gym.make(env_id).unwrapped
    theirs = [_gymnasium_step(single, states[i], actions[i]) for i in range(N)]
    their_states = np.stack([t[0] for t in theirs])
    np.testing.assert_allclose(
        info["final_obs"].numpy(), np.stack([t[1] for t in theirs]), rtol=FLOAT32_ROUNDING
    )
    np.testing.assert_allclose(rewards.numpy(), [t[2] for t in theirs], rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(terminated.numpy(), [t[3] for t in theirs])
    assert not truncated.any()
    # The next state: the rows that ended were reset, so compare the observation they ended on instead.
    ended = terminated.numpy()
    ours = vector.state.numpy()
    np.testing.assert_allclose(ours[~ended], their_states[~ended], rtol=state_rtol, atol=1e-12)
    return states, ours, their_states, ended


@pytest.mark.parametrize(
    ("env_id", "vector_class"),
    [
        ("CartPole-v1", CartPoleVectorEnv),
        ("MountainCar-v0", MountainCarVectorEnv),
        ("Pendulum-v1", PendulumVectorEnv),
    ],
)
def test_float64_step_equals_gymnasiums_step_to_1e_12(env_id, vector_class):
    """The same float64 Euler (CartPole, MountainCar) and semi-implicit Euler (Pendulum) step as Gymnasium's,
    with its clipping, left wall, angle_normalize cost and termination tests."""
    states, ours, _, ended = _compare_one_step(env_id, vector_class, seed=1, state_rtol=1e-12)
    if env_id == "CartPole-v1":
        assert 0 < ended.sum() < N  # both branches taken
    if env_id == "MountainCar-v0":
        assert 0 < ended.sum() < N
        stopped = (ours[:, 0] == -1.2) & ~ended
        assert stopped.any() and (ours[stopped, 1] == 0).all()  # hit the wall: velocity set to 0
    if env_id == "Pendulum-v1":
        assert (np.abs(states[:, 0]) > math.pi).any()


def test_continuous_mountain_car_step_equals_gymnasiums_to_its_float32_state():
    """Gymnasium's continuous mountain car stores its next state in float32, so that state is compared to one
    float32 rounding; rewards (100 at the flag minus 0.1 action^2) and termination to 1e-12 and exactly,
    since Gymnasium computes them in float64 before rounding the state."""
    _, ours, _, ended = _compare_one_step(
        "MountainCarContinuous-v0", ContinuousMountainCarVectorEnv, seed=2, state_rtol=FLOAT32_ROUNDING
    )
    assert 0 < ended.sum() < N
    assert ((ours[:, 0] == -1.2) & (ours[:, 1] == 0) & ~ended).any()


def test_acrobot_rk4_step_equals_gymnasiums_to_1e_10():
    """One "book" RK4 step of 0.2 s from states anywhere (wrapped angles, clipped velocities, terminations):
    four evaluations of the dynamics with some 40 operations each, so a few ulps of difference in sin/cos
    grow to well under 1e-10."""
    _compare_one_step("Acrobot-v1", AcrobotVectorEnv, seed=3, state_rtol=1e-10)


def test_acrobot_50_step_trajectory_stays_within_chaotic_growth_of_rounding():
    """From the same states with the same 50 random actions, the batched and Gymnasium trajectories agree to
    1e-6 on every step before an episode ends, and end on the same step.

    The tolerance: the two differ per step only by the rounding of sin/cos (< 1e-15), which the chaotic
    double pendulum amplifies. Gymnasium's own trajectories from such high-energy states, started 1e-15
    (relative) apart, move up to 3e-9 apart in these 50 steps (up to 5e-7 for other draws of states), so
    1e-6 bounds what rounding can explain, while any difference in the physics shows up as an order-one
    error within a few steps. (The two agree to ~4e-15 here.)
    """
    rng = np.random.default_rng(4)
    n, steps = 64, 50
    states, _ = _random_cases("Acrobot-v1", rng, n)
    actions = rng.integers(0, 3, (steps, n))
    vector = AcrobotVectorEnv(num_envs=n, device="cpu", dtype=torch.float64)
    vector.reset(seed=0)
    vector.state = torch.as_tensor(states)
    single = gym.make("Acrobot-v1").unwrapped
    ours, theirs = np.zeros((n, steps, 4)), np.zeros((n, steps, 4))
    ended_ours, ended_theirs = np.zeros((n, steps), bool), np.zeros((n, steps), bool)
    for t in range(steps):
        _, _, terminated, _, _ = vector.step(torch.as_tensor(actions[t]))
        ours[:, t], ended_ours[:, t] = vector.state.numpy(), terminated.numpy()
    for i in range(n):
        single.reset(seed=0)
        single.state = states[i].copy()
        for t in range(steps):
            ended_theirs[i, t] = single.step(int(actions[t, i]))[2]
            theirs[i, t] = single.state
    running = ~np.logical_or.accumulate(ended_theirs, axis=1)  # not ended on or before step t
    started = np.column_stack([np.ones(n, bool), running[:, :-1]])  # not ended before step t
    np.testing.assert_array_equal(ended_ours[started], ended_theirs[started])
    np.testing.assert_allclose(ours[running], theirs[running], rtol=0, atol=1e-6)
    assert running[:, -1].sum() >= 3  # some trajectories ran all 50 steps


# Gymnasium's documented starting states ("## Starting State" of each env's docstring): (low, high) per
# state variable, a single number where it is constant.
STARTING_STATES = [
    (CartPoleVectorEnv, [(-0.05, 0.05)] * 4),
    (AcrobotVectorEnv, [(-0.1, 0.1)] * 4),
    (MountainCarVectorEnv, [(-0.6, -0.4), 0.0]),
    (ContinuousMountainCarVectorEnv, [(-0.6, -0.4), 0.0]),
    (PendulumVectorEnv, [(-math.pi, math.pi), (-1.0, 1.0)]),
]


@pytest.mark.parametrize(("vector_class", "ranges"), STARTING_STATES)
def test_starting_states_are_uniform_on_gymnasiums_documented_ranges(vector_class, ranges):
    """50,000 starting states: each variable inside its range and reaching within 0.1 % of both ends (missed
    with probability e^-50), mean and variance those of U(low, high) within 5 standard errors (mean:
    sigma/sqrt(n); variance: sqrt(0.8/n) relative, from the uniform's fourth moment)."""
    n = 50_000
    vector = vector_class(num_envs=n, device="cpu", dtype=torch.float64)
    obs, _ = vector.reset(seed=5)
    assert torch.equal(obs, vector._observation(vector.state))
    for column, expected in zip(vector.state.T.numpy(), ranges, strict=True):
        if not isinstance(expected, tuple):
            assert (column == expected).all()
            continue
        low, high = expected
        width = high - low
        assert low <= column.min() < low + 1e-3 * width and high - 1e-3 * width < column.max() < high
        assert abs(column.mean() - (low + high) / 2) < 5 * width / math.sqrt(12 * n)
        assert column.var() == pytest.approx(width**2 / 12, rel=5 * math.sqrt(0.8 / n))


@pytest.mark.parametrize(
    ("env_id", "vector_class"),
    [
        ("CartPole-v1", CartPoleVectorEnv),
        ("Acrobot-v1", AcrobotVectorEnv),
        ("MountainCar-v0", MountainCarVectorEnv),
        ("MountainCarContinuous-v0", ContinuousMountainCarVectorEnv),
        ("Pendulum-v1", PendulumVectorEnv),
    ],
)
def test_float32_step_stays_float32_and_agrees_with_float64_to_float32_precision(env_id, vector_class):
    """The default float32 simulator from the same (float32) states: every output float32, the same end
    flags, and next states within 1e-5 of float64's (a few float32 roundings of values of order 1-10),
    including the rows stopped at the mountain car's wall."""
    states, actions = _random_cases(env_id, np.random.default_rng(6), N)
    states = states.astype(np.float32)
    outputs = {}
    for dtype in (torch.float32, torch.float64):
        vector = vector_class(num_envs=N, device="cpu", dtype=dtype)
        vector.reset(seed=0)
        vector.state = torch.as_tensor(states).to(dtype)
        obs, rewards, terminated, _, info = vector.step(torch.as_tensor(actions))
        assert obs.dtype == rewards.dtype == info["final_obs"].dtype == vector.state.dtype == dtype
        outputs[dtype] = (info["final_obs"].double(), rewards.double(), terminated)
    single, double = outputs[torch.float32], outputs[torch.float64]
    torch.testing.assert_close(single[0], double[0], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(single[1], double[1], rtol=1e-5, atol=1e-5)
    assert torch.equal(single[2], double[2])
