"""The cascaded PI baseline: tracking on every motor, and its tuning rules against control theory."""

import cmath
import math

import gymnasium as gym
import numpy as np
import pytest

import agents
import envs
from agents.baselines.motor import MotorPIAgent, tune_pd, tune_pi

SPEED_STEPS = {
    "permanent": ({"load_params": {"b": 0.05}}, 0.3),
    "externally_excited": ({"load_params": {"b": 0.05}}, 0.3),
    # a shunt motor on one voltage runs near r_e / l_e_prime = 235 rad/s: 200 rad/s, light load
    "shunt": ({"load_params": {"b": 0.01}}, 0.5),
    "series": ({"load_params": {"b": 0.05}}, 0.3),
    "pmsm": ({"u_supply": 420.0, "load_params": {"a": 0.01, "b": 0.01, "j_load": 1e-5}}, 0.3),
}


def episode(env, agent, steps, seed=0):
    obs, info = env.reset(seed=seed)
    agent.reset(seed)
    for _ in range(steps):
        obs, _, terminated, truncated, info = env.step(agent.act(obs, info))
        if terminated or truncated:
            return info, terminated
    return info, False


@pytest.mark.parametrize("motor", list(SPEED_STEPS))
def test_pi_tracks_a_speed_step_within_two_percent_steady_state_error(motor):
    """A speed step at 10 ms; 0.4 s later (many speed-loop time constants, a^3 tau = 6 ms) the integral
    action has removed the error: within 2 % (the issue's bound), without hitting a limit."""
    kwargs, level = SPEED_STEPS[motor]
    reference = {"kind": "step", "initial": 0.0, "final": level, "t_step": 0.01}
    env = gym.make("arena/DCMotorSpeed-v0", motor=motor, reference=reference, **kwargs)
    info, terminated = episode(env, agents.make("motor/pi", env), 4_000)
    assert not terminated
    assert info["omega"] == pytest.approx(info["reference"]["omega"], rel=0.02)


def mean_reward_until_the_end(env, act, seed):
    obs, info = env.reset(seed=seed)
    rewards = []
    while True:
        obs, reward, terminated, truncated, info = env.step(act(obs, info))
        rewards.append(reward)
        if terminated or truncated:
            return np.mean(rewards), terminated


@pytest.mark.parametrize("env_id", [r.id for r in envs.list_envs(domain="motor")])
def test_pi_runs_every_registered_motor_task_tracking_without_hitting_a_limit(env_id):
    """On each task's own random references the PI keeps every current within its limit for the whole
    episode (1 s) and tracks: its mean reward is less than half as negative as holding zero voltage."""
    env = gym.make(env_id)
    pi = agents.make("motor/pi", env)
    pi_reward, terminated = mean_reward_until_the_end(env, pi.act, seed=3)
    assert not terminated
    zero = np.zeros(env.action_space.shape, np.float32)
    idle_reward, _ = mean_reward_until_the_end(env, lambda obs, info: zero, seed=3)
    assert pi_reward > 0.5 * idle_reward


def test_pi_drives_a_finite_converter_by_sigma_delta_modulation():
    """With a switching 4-quadrant converter (tau = 1e-5 s) the mean current still follows a step."""
    reference = {"kind": "step", "initial": 0.0, "final": 0.3, "t_step": 1e-3}
    env = gym.make("arena/DCMotorCurrent-v0", converter="finite_4qc", tau=1e-5, reference=reference)
    pi = agents.make("motor/pi", env)
    obs, info = env.reset(seed=0)
    currents = []
    for _ in range(5_000):
        obs, _, terminated, _, info = env.step(pi.act(obs, info))
        currents.append(info["i_a"])
        assert not terminated
    assert np.mean(currents[-1000:]) == pytest.approx(0.3 * 210, rel=0.05)


def open_loop(gains, gain, time_constant, t_sigma, s, integrating):
    plant = gain / (s * time_constant) if integrating else gain / (1 + s * time_constant)
    return (gains.kp + gains.ki / s) * plant / (1 + s * t_sigma)


def test_symmetrical_optimum_puts_the_crossover_at_the_phase_maximum():
    """Symmetrical optimum: |L(j w)| = 1 at w = 1 / (a T_sigma), where the phase of L is maximal
    (phase margin arctan(a) - arctan(1 / a)); checked on the frequency response."""
    a, t_sigma, time_constant, gain = 4.0, 1e-4, 0.025, 1.0
    gains = tune_pi(gain, time_constant, t_sigma, "symmetrical_optimum", a)
    w_c = 1 / (a * t_sigma)
    assert abs(open_loop(gains, gain, time_constant, t_sigma, 1j * w_c, True)) == pytest.approx(1.0, rel=1e-9)

    def phase(w):
        return cmath.phase(open_loop(gains, gain, time_constant, t_sigma, 1j * w, True))

    assert phase(w_c) > phase(0.9 * w_c) and phase(w_c) > phase(1.1 * w_c)
    assert math.pi + phase(w_c) == pytest.approx(math.atan(a) - math.atan(1 / a), rel=1e-9)


def test_magnitude_optimum_gives_a_closed_loop_damping_of_one_over_root_two():
    """Magnitude optimum: the PI zero cancels the plant pole, leaving L = 1 / (2 T_sigma s (1 + s T_sigma));
    the closed loop s^2 + s / T_sigma + 1 / (2 T_sigma^2) has damping ratio 1 / sqrt(2)."""
    gain, time_constant, t_sigma = 2.0, 1e-3, 1e-4
    gains = tune_pi(gain, time_constant, t_sigma, "magnitude_optimum")
    assert gains.kp / gains.ki == pytest.approx(time_constant)
    # characteristic polynomial T_sigma s^2 + s + kp gain / time_constant (after the cancellation)
    poles = np.roots([t_sigma, 1.0, gains.kp * gain / time_constant])
    damping = -poles[0].real / abs(poles[0])
    assert damping == pytest.approx(1 / math.sqrt(2), rel=1e-9)


def test_pi_agent_needs_the_plant_description_and_rejects_bad_settings():
    env = gym.make("arena/DCMotorSpeed-v0")
    agent = agents.make("motor/pi", env)
    obs, info = env.reset(seed=0)
    info.pop("plant")
    with pytest.raises(ValueError, match="plant"):
        agent.act(obs, info)
    with pytest.raises(ValueError, match="current_margin"):
        MotorPIAgent(agents.EnvSpaces.of(env), current_margin=1.5)
    with pytest.raises(ValueError, match="method"):
        tune_pi(1.0, 1.0, 1e-4, method="ziegler")


@pytest.mark.parametrize(("gain", "time_constant", "t_sigma"), [(2.0, 0.05, 0.002), (150.0, 0.3, 0.01)])
def test_pd_magnitude_optimum_gives_the_4_3_percent_overshoot_of_damping_one_over_root_two(
    gain, time_constant, t_sigma
):
    """Closed loop of PD(s) G(s) with G = K / (s (1 + sT) (1 + sTs)), simulated from the uncancelled
    polynomials with scipy: the step overshoot must be exp(-pi) = 4.32 % (damping 1/sqrt(2)) and the final
    value 1. The tolerance (0.05 percentage points) is far below the 1 % a wrong kp would already cause."""
    from scipy import signal

    pd = tune_pd(gain, time_constant, t_sigma)
    open_num = np.polymul([pd.kp * pd.td, pd.kp], [gain])
    open_den = np.polymul([1.0, 0.0], np.polymul([time_constant, 1.0], [t_sigma, 1.0]))
    closed = signal.TransferFunction(open_num, np.polyadd(open_den, open_num))
    t = np.linspace(0.0, 40 * t_sigma, 40_001)
    _, y = signal.step(closed, T=t)
    assert 100 * (y.max() - 1.0) == pytest.approx(100 * math.exp(-math.pi), abs=0.05)
    assert y[-1] == pytest.approx(1.0, abs=1e-3)


def test_pd_tuning_rejects_nonpositive_plant_values():
    with pytest.raises(ValueError, match="must be > 0"):
        tune_pd(1.0, 0.0, 0.01)
