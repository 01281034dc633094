"""The PG scheduler (masked PPO from the PG core) learns on the IoT env, and the PG+ACO hybrid combines
policy, pheromone and heuristic as documented."""

import gymnasium as gym
import numpy as np
import pytest
import torch

import agents
import envs  # noqa: F401  (registers the ids)
from agents.base import EnvSpaces
from agents.iot.pg_aco import PGACOScheduler, train_scheduler
from agents.pg.distributions import ActionKind
from agents.pg.policy import ActorCritic, PolicyAgent, PolicyArch
from arena.episodes import play_episodes

ENV = "arena/IoTScheduling-v0"


def mean_response(env, agent, seeds: range) -> float:
    """Mean response time over one episode per (consecutive) seed."""
    out = []
    play_episodes(
        env,
        agent,
        episodes=len(seeds),
        seed=seeds[0],
        on_episode=lambda _, info: out.append(info["response_times"].mean()),
    )
    return float(np.mean(out))


def untrained_policy(env):
    arch = PolicyArch(int(np.prod(env.observation_space.shape)), ActionKind.of(env.action_space))
    return PolicyAgent(ActorCritic(arch, generator=torch.Generator().manual_seed(0)), env.action_space)


@pytest.mark.slow
def test_ppo_scheduler_learns_to_keep_the_slow_node_stable_within_8k_decisions(tmp_path):
    """Speeds 1 and 3 at load 0.6 (2.4 tasks/s). The untrained policy is near uniform, like random
    dispatch, which sends 1.2 tasks/s to the node that serves 1/s: its queue grows without bound (mean
    response ~10 s over 500 tasks). Measured once: after 8192 decisions (about 20 s) the PPO policy's
    mode responds in 1.8 s (weighted random 1.2 s, earliest finish 0.7 s); the test asks for 3x better
    than random on held-out seeds, and that the saved package plays the same through ``agents.load_agent``."""
    kwargs = dict(node_speeds=[1.0, 3.0], arrival_rate=2.4)
    pg = train_scheduler(
        total_steps=8192, seed=0, env_kwargs=kwargs, out=tmp_path / "pg", device="cpu", torch_threads=1
    )
    pg.deterministic = True
    env = gym.make(ENV, num_tasks=500, **kwargs)
    held_out = range(100, 103)
    random = mean_response(env, agents.make("iot/random", env), held_out)
    learnt = mean_response(env, pg, held_out)
    assert learnt < random / 3
    loaded = agents.load_agent(tmp_path / "pg", env, deterministic=True)
    assert mean_response(env, loaded, held_out) == pytest.approx(learnt, rel=1e-9)


def test_hybrid_without_pheromone_or_heuristic_is_the_policys_mode():
    """alpha = beta = 0: the hybrid picks argmax pi(n | s), the deterministic PG policy's action."""
    env = gym.make(ENV, num_tasks=300)
    policy = untrained_policy(env)
    policy.deterministic = True
    hybrid = PGACOScheduler(EnvSpaces.of(env), policy, alpha=0.0, beta=0.0)
    observation, info = env.reset(seed=0)
    hybrid.reset(0)
    done = False
    while not done:
        action = hybrid.act(observation, info)
        assert action == policy.act(observation, info)
        observation, _, done, _, info = env.step(action)


def test_hybrid_reinforces_pheromone_and_its_heuristic_rescues_a_weak_policy():
    """With beta = 2 the colony's heuristic 1 / completion dominates a near-uniform (untrained) policy, so
    the hybrid is as stable as the queue-aware heuristics (under 0.5x weighted random's response, which is
    blind to queues), while the untrained policy alone is as bad as random; finished tasks move the
    pheromone away from its start value."""
    env = gym.make(ENV, num_tasks=500)
    policy = untrained_policy(env)
    hybrid = PGACOScheduler(EnvSpaces.of(env), policy, alpha=1.0, beta=2.0)
    seeds = range(100, 103)
    assert mean_response(env, hybrid, seeds) < 0.5 * mean_response(
        env, agents.make("iot/weighted_random", env), seeds
    )
    assert not np.allclose(hybrid.pheromone.tau, 1.0)
    assert mean_response(env, policy, seeds) > 3 * mean_response(env, hybrid, seeds)


def test_registered_pg_aco_loads_a_saved_policy(tmp_path):
    """``agents.make("iot/pg_aco", env, agent_dir=...)`` wraps the saved policy; unknown weights refuse."""
    from agents.pg.policy import save

    env = gym.make(ENV, num_tasks=50)
    save(untrained_policy(env).policy, tmp_path, name="pg", env_id=ENV)
    agent = agents.make("iot/pg_aco", env, agent_dir=str(tmp_path), beta=1.0)
    assert mean_response(env, agent, range(1)) > 0
    with pytest.raises(ValueError, match="beta"):
        agents.make("iot/pg_aco", env, agent_dir=str(tmp_path), beta=-1.0)
