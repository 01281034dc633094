"""The batched torch simulator against the single env, and its VectorEnv contract."""

import gymnasium as gym
import numpy as np
import pytest
import torch

import envs  # noqa: F401  (registers the ids)
from envs import list_envs
from envs._core.conformance import (
    check_declared_kinds,
    check_gymnasium_api,
    check_sb3_api,
    check_seed_determinism,
)
from envs.motor.env import MotorEnv
from envs.motor.ops import FLOAT_OPS
from envs.motor.task import make_task
from envs.motor.vector_env import MotorVectorEnv

MOTOR_IDS = [r.id for r in list_envs(domain="motor")]


@pytest.mark.parametrize("env_id", MOTOR_IDS)
def test_motor_ids_pass_the_conformance_checks(env_id):
    check_gymnasium_api(env_id)
    check_sb3_api(env_id)
    check_declared_kinds(env_id)
    check_seed_determinism(env_id)


@pytest.mark.parametrize(
    ("motor", "per_env", "amplitude"),
    [
        ("permanent", {"r_a": [16e-3, 20e-3, 12e-3]}, 0.08),
        ("permanent", {}, 0.08),  # one set of parameters for all envs (one shared RK4 map)
        ("externally_excited", {"l_e_prime": [1.7e-3, 1.5e-3, 1.9e-3]}, 0.25),
        ("series", {"r_e": [48e-3, 60e-3, 40e-3]}, 0.3),
        ("pmsm", {"psi_p": [66e-3, 60e-3, 70e-3]}, 0.3),
    ],
)
def test_batched_float64_equals_single_env_step_for_step_across_autoresets(motor, per_env, amplitude):
    """Three envs with different parameters, random actions large enough that some episodes end on the
    current limit, and a 120-step time limit: every step's states, rewards and end flags match single envs
    run by hand (each reset when it ends) to 1e-10 relative; the float32 observations to float32 rounding.
    The same float64 arithmetic in the same order gives identical results up to rounding."""
    n, steps, limit = 3, 400, 120
    common = {
        "motor": motor,
        "reference": {"kind": "step", "initial": 0.1, "final": 0.4, "t_step": 0.005},
        "load_params": {"b": 0.02},
    }
    vector = MotorVectorEnv(
        num_envs=n, device="cpu", dtype=torch.float64, max_episode_steps=limit, motor_params=per_env, **common
    )
    singles = [
        gym.wrappers.TimeLimit(MotorEnv(motor_params={k: v[i] for k, v in per_env.items()}, **common), limit)
        for i in range(n)
    ]
    vector.reset(seed=0)
    for i, env in enumerate(singles):
        env.reset(seed=i)
    rng = np.random.default_rng(0)
    names = vector.task.motor.observed
    ends = 0
    for _ in range(steps):
        actions = amplitude * rng.standard_normal((n, vector.task.motor.channels)).astype(np.float32) + 0.1
        obs, rewards, terminated, truncated, info = vector.step(torch.as_tensor(actions))
        for i, env in enumerate(singles):
            s_obs, s_reward, s_term, s_trunc, s_info = env.step(actions[i])
            for name in names:
                assert info[name][i].item() == pytest.approx(s_info[name], rel=1e-10, abs=1e-10), name
            assert rewards[i].item() == pytest.approx(s_reward, rel=1e-10, abs=1e-12)
            assert (terminated[i].item(), truncated[i].item()) == (s_term, s_trunc)
            assert info["_final_obs"][i].item() == (s_term or s_trunc)
            if s_term or s_trunc:
                ends += 1
                np.testing.assert_allclose(info["final_obs"][i].numpy(), s_obs, rtol=1e-6, atol=1e-6)
                s_obs, _ = env.reset()
            np.testing.assert_allclose(obs[i].numpy(), s_obs, rtol=1e-6, atol=1e-6)
    assert ends >= 3  # autoresets did happen


def test_make_vec_builds_the_batched_env_with_tensors_on_the_device():
    venv = gym.make_vec(
        "arena/DCMotorSpeed-v0", num_envs=1024, vectorization_mode="vector_entry_point", device="cpu"
    )
    assert isinstance(venv.unwrapped, MotorVectorEnv) and venv.metadata["autoreset_mode"].value == "SameStep"
    obs, _ = venv.reset(seed=0)
    assert obs.shape == (1024, 5) and obs.dtype == torch.float32 and obs.device.type == "cpu"
    obs, rewards, terminated, truncated, info = venv.step(np.zeros((1024, 1), np.float32))
    assert rewards.shape == (1024,) and terminated.dtype == torch.bool and truncated.dtype == torch.bool
    assert info["final_obs"].shape == (1024, 5) and info["_final_obs"].dtype == torch.bool
    assert venv.unwrapped.max_episode_steps == 10_000


def test_batched_random_references_repeat_for_the_same_seed_and_differ_between_envs():
    venv = MotorVectorEnv(num_envs=8, device="cpu", reference={"kind": "random_walk", "sigma": 5.0})
    runs = []
    for _ in range(2):
        obs, _ = venv.reset(seed=7)
        trajectory = [obs]
        for _ in range(20):
            trajectory.append(venv.step(torch.zeros(8, 1))[0])
        runs.append(torch.stack(trajectory))
    assert torch.equal(runs[0], runs[1])
    assert runs[0][:, :, -1].std(dim=1).min() > 0  # each env's reference is its own


def test_per_env_parameters_must_have_one_value_per_env():
    with pytest.raises(ValueError, match="motor_params"):
        MotorVectorEnv(num_envs=4, device="cpu", motor_params={"r_a": [0.01, 0.02]})


@pytest.mark.parametrize(
    ("load", "load_params"),
    [
        ("polynomial", {"b": 0.05, "j_load": 1e-3}),
        ("constant_speed", {"a": 1.0, "c": 0.01, "omega_fixed": 80.0}),
        ("stochastic", {"b": 0.02, "a": 0.0, "c": 0.0}),
    ],
)
def test_linear_rk4_map_equals_stagewise_rk4_for_the_linear_dc_motor(load, load_params):
    """RK4 on a linear ODE with held inputs is the affine map of its Taylor polynomial, so the precomputed
    map and the four-stage RK4 of the single env agree to float64 rounding (1e-12 relative, with margin for
    the ~10 operations either side) from arbitrary states, voltages and load-noise torques."""
    task = make_task(motor="permanent", load=load, load_params=load_params)
    rk4_map = task.linear_rk4_map(task.params, task.load_params)
    rng = np.random.default_rng(1)
    for _ in range(5):
        x, u, noise = [rng.uniform(-300, 300), rng.uniform(-150, 150)], rng.uniform(-60, 60), rng.normal()
        stagewise, volts = task.advance(task.params, task.load_params, 60.0, x, [u / 60.0], noise, FLOAT_OPS)
        mapped = rk4_map @ np.array([*x, volts[0], noise])
        np.testing.assert_allclose(mapped, stagewise, rtol=1e-12, atol=1e-9)


def test_linear_rk4_map_is_only_offered_for_linear_odes():
    """Static friction (a), quadratic load (c) and the excited and synchronous motors are nonlinear."""
    for motor, load_params in [("permanent", {"a": 0.1}), ("permanent", {"c": 1e-4}), ("series", {})]:
        task = make_task(motor=motor, load_params=load_params)
        assert task.linear_rk4_map(task.params, task.load_params) is None
