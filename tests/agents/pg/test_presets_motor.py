"""The PPO presets of the motor suite, checked against the suite's own episodes and its PI reference.

The suite (scenarios/motor.toml) plays 2000-step episodes that end with a penalty of -2000 at a current
limit, and each step costs at most 1. On arena/DCMotorCurrent-v0 the untrained policy's mean action is
about 0: with no armature voltage the back-EMF psi_e omega = 0.165 Vs x 100 rad/s = 16.5 V drives the
current down by 16.5 V x 0.1 ms / 19 uH = 87 A per step, past the 210 A limit in 3 steps, so its return
is about -2000. A trained policy that never reaches the limit returns between -2000 and 0, and the
converter's one-step authority (316 A per step on 60 V) lets state feedback track reference steps faster
than the PI controller (see test_ppo_motor_current.py).

Measured with the preset (constant learning rate, so a shorter run is exactly the start of the preset's
run): after 262,144 env steps the deterministic policy returns -12.9 to -16.9 (mean -14.6) on the held-out
seeds 100 to 107, where the PI controller returns -25.4 to -36.6 (mean -31.7, standard deviation 3.7), and
the untrained policy reaches the limit at its third step (-2000.9). The full preset (524,288 steps) reaches
-3.0. The test trains 262,144 steps (about 15 s on one core) and requires the untrained policy to end at
the limit within 3 steps, every trained episode to run its 2000 steps, and the trained mean to beat PI's on
the same episodes (a margin of 17, over 4 of PI's standard deviations).
"""

import statistics

import gymnasium as gym
import pytest

import agents
from agents.pg import ppo
from agents.pg.presets import PRESETS, config_for
from agents.pg.trainer import Learner
from arena.episodes import play_episodes
from arena.scenario import find_scenario, load_scenario

CURRENT = "arena/DCMotorCurrent-v0"
SUITE_KWARGS = {"max_episode_steps": 2000, "limit_penalty": -2000.0}
EPISODES, FIRST_SEED = 8, 100  # held out: training resets its vector env with seed 0


def test_every_env_of_the_motor_suite_has_a_valid_ppo_preset():
    suite = load_scenario(find_scenario("motor"))
    for entry in suite.spec.envs:
        assert ("ppo", entry.id) in PRESETS
        config_for("ppo", entry.id).validate()


def _returns(env: gym.Env, agent, episodes: int) -> list:
    return play_episodes(env, agent, episodes=episodes, seed=FIRST_SEED)


@pytest.mark.slow
def test_ppo_current_preset_survives_and_beats_pi_on_the_suite_episodes():
    config = config_for("ppo", CURRENT, torch_threads=1)
    learner = Learner(
        "ppo", ppo.update, CURRENT, config, total_steps=262_144, seed=0, device="cpu", env_kwargs=SUITE_KWARGS
    )
    try:
        untrained = learner.agent(deterministic=True)
        learner.train()
        trained = learner.agent(deterministic=True)
    finally:
        learner.close()
    env = gym.make(CURRENT, **SUITE_KWARGS)
    try:
        untrained_results = _returns(env, untrained, 1)
        ppo_results = _returns(env, trained, EPISODES)
        pi_results = _returns(env, agents.make("motor/pi", env), EPISODES)
    finally:
        env.close()
    assert untrained_results[0].terminated and untrained_results[0].length <= 3
    assert all(r.length == 2000 and not r.terminated for r in ppo_results)
    ppo_mean = statistics.mean(r.episode_return for r in ppo_results)
    assert ppo_mean > statistics.mean(r.episode_return for r in pi_results)
