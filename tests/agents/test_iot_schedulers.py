"""The IoT schedulers: legal on every workload, and each doing what its rule says, checked on cases whose
answer follows from the rule (central-queue equivalence, exact completion estimates, hand-worked batch and
DAG mappings, sampling frequencies)."""

import gymnasium as gym
import numpy as np
import pytest

import agents
import envs  # noqa: F401  (registers the ids)
from agents.baselines.iot import HEFT, MaxMin, MinMin, Pheromone
from agents.registry import list_agents
from agents.trained import SHIPPED

ENV = "arena/IoTScheduling-v0"
NAMES = [r.name for r in list_agents("iot") if r.name != "iot/pg_aco" and r.name not in SHIPPED]


def play(env, agent, seed=0):
    """One episode; the decisions' infos (before each step), the actions and the last info."""
    _, info = env.reset(seed=seed)
    agent.reset(seed)
    seen, actions, done = [], [], False
    while not done:
        action = agent.act(None, info)
        seen.append(info)
        actions.append(action)
        _, _, done, _, info = env.step(action)
    return seen, actions, info


def test_every_scheduler_is_registered():
    expected = {"random", "round_robin", "weighted_random", "jsq", "least_loaded", "sed", "mct", "min_min"}
    expected |= {"max_min", "edf", "sjf", "least_work_left", "heft", "aco"}
    assert {f"iot/{n}" for n in expected} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("job", ["single", "bag", "dag"])
def test_scheduler_only_picks_legal_nodes_on_masked_networks(name, job):
    """Private tasks and tasks too big for the gateways: the env raises on an illegal node, so finishing
    the episode shows every choice was legal; the planners see whole bags and DAGs."""
    env = gym.make(
        ENV,
        network="standard",
        private_fraction=0.3,
        max_task_memory_mb=1000.0,
        mean_data_mb=1.0,
        job=job,
        tasks_per_job=1 if job == "single" else 4,
        arrival_rate=8.0,
        num_tasks=200,
    )
    agent = agents.make(name, env)
    _, actions, info = play(env, agent)
    assert len(info["response_times"]) == 200 and len(actions) == 200


def test_least_work_left_waits_exactly_the_least_work_left_like_a_central_queue():
    """On identical unit-speed FIFO servers a task sent to the least-loaded server starts once that
    server's work is done: its waiting time equals min_n work_n at its arrival (the M/G/c central queue)."""
    env = gym.make(ENV, node_speeds=[1.0] * 4, arrival_rate=3.0, num_tasks=3000)
    seen, _, info = play(env, agents.make("iot/least_work_left", env))
    expected = np.array([i["node_work"].min() for i in seen])
    assert np.allclose(info["waiting_times"], expected, rtol=1e-9, atol=1e-9)


def test_minimum_completion_time_estimate_is_the_realised_response_on_fifo_without_network():
    """With FIFO queues and no transfers, a task's start depends only on the tasks already queued, so
    MCT's estimate of the chosen node's completion is exactly the task's response time."""
    env = gym.make(ENV, node_speeds=[1.0, 1.0, 2.0, 4.0], node_cores=[1, 2, 1, 2], num_tasks=3000)
    seen, actions, info = play(env, agents.make("iot/mct", env))
    estimate = np.array(
        [
            i["node_start_delay_s"][a] + i["task"]["size"] / i["node_speeds"][a]
            for i, a in zip(seen, actions, strict=True)
        ]
    )
    assert np.allclose(info["response_times"], estimate, rtol=1e-9, atol=1e-12)


def test_round_robin_cycles_and_weighted_random_follows_capacity():
    """Round robin: 0, 1, 2, 3, 0, ... Weighted random on speeds 1, 1, 2, 4: frequencies 1/8, 1/8, 1/4,
    1/2; over 4000 draws each frequency's std is below 0.8 %, tolerance 2.5 % absolute (> 3 sigma)."""
    env = gym.make(ENV, num_tasks=100, node_speeds=[1.0] * 4, arrival_rate=3.0)
    _, actions, _ = play(env, agents.make("iot/round_robin", env))
    assert actions == [0, 1, 2, 3] * 25
    env = gym.make(ENV, num_tasks=4000)
    _, actions, _ = play(env, agents.make("iot/weighted_random", env))
    assert np.bincount(actions, minlength=4) / 4000 == pytest.approx([0.125, 0.125, 0.25, 0.5], abs=0.025)


def planner_info(speeds, job, latency=0.0, start=None):
    n = len(speeds)
    return {
        "node_speeds": np.array(speeds),
        "node_cores": np.ones(n, dtype=int),
        "node_start_delay_s": np.zeros(n) if start is None else np.array(start),
        "node_memory_mb": np.full(n, np.inf),
        "node_tiers": ("fog",) * n,
        "node_latency_s": latency * (1 - np.eye(n)),
        "node_s_per_mb": np.zeros((n, n)),
        "job": [
            {"memory_mb": 0.0, "private": False, "transfer_s": (0.0,) * n, "data_mb": 1.0, **t} for t in job
        ],
    }


def test_min_min_and_max_min_map_a_bag_as_worked_by_hand():
    """Sizes 1, 2, 6 on speeds 1 and 2, all idle. Min-min maps the smallest best completion first: 1 -> fast
    (0.5), 2 -> fast (1.5), 6 -> fast (4.5 < 6). Max-min maps 6 -> fast (3) first, then 1 -> slow (1),
    then 2 -> slow (3 < 4)."""
    spaces = agents.base.EnvSpaces(gym.spaces.Box(0, 1), gym.spaces.Discrete(2))
    info = planner_info(
        [1.0, 2.0], [{"size": 1.0, "preds": ()}, {"size": 2.0, "preds": ()}, {"size": 6.0, "preds": ()}]
    )
    assert MinMin(spaces).plan(info) == [1, 1, 1]
    assert MaxMin(spaces).plan(info) == [0, 0, 1]


def test_heft_keeps_a_chain_together_and_spreads_a_fork():
    """Two equal nodes 10 s apart: a chain 0 -> 1 stays on one node (moving the output costs 10 s); a fork
    0 -> {1, 2} with free transfers puts 1 and 2 on different nodes (both finish at 2 instead of 3)."""
    spaces = agents.base.EnvSpaces(gym.spaces.Box(0, 1), gym.spaces.Discrete(2))
    chain = planner_info([1.0, 1.0], [{"size": 1.0, "preds": ()}, {"size": 1.0, "preds": (0,)}], latency=10.0)
    nodes = HEFT(spaces).plan(chain)
    assert nodes[0] == nodes[1]
    fork = planner_info(
        [1.0, 1.0], [{"size": 1.0, "preds": ()}, {"size": 1.0, "preds": (0,)}, {"size": 1.0, "preds": (0,)}]
    )
    nodes = HEFT(spaces).plan(fork)
    assert nodes[1] != nodes[2]


def test_pheromone_deposit_is_one_for_an_average_task_and_evaporates_towards_it():
    """rho = 0.5: a kind's first task defines its mean, deposit 2 m / (m + r) = 1, tau = 0.5 tau + 0.5;
    a task twice as slow as the mean deposits ~2/3; a choice pulls tau towards tau0 by xi."""
    pheromone = Pheromone(2, 3, rho=0.5, xi=0.1, tau0=1.0)
    pheromone.tau[:] = 3.0
    pheromone.deposit([(0, 1, 2.0)])
    assert pheromone.tau[0, 1] == pytest.approx(2.0)
    pheromone.deposit([(0, 2, 4.0)])
    mean = 0.99 * 2.0 + 0.01 * 4.0
    assert pheromone.tau[0, 2] == pytest.approx(0.5 * 3.0 + 0.5 * 2 * mean / (mean + 4.0))
    pheromone.chosen(1, 0)
    assert pheromone.tau[1, 0] == pytest.approx(0.9 * 3.0 + 0.1)


def test_on_the_heterogeneous_cluster_queue_aware_heuristics_beat_blind_ones():
    """Speeds 1, 1, 2, 4 at load 0.8: round robin and uniform random overload the slow nodes (1.6 tasks/s
    each for a capacity of 1), so their response times grow without bound; capacity-weighted random is
    stable but blind to queues. Shortest expected delay and earliest finish use the queues: the ordering
    holds by factors, far beyond seed noise, over 1000 tasks."""
    env = gym.make(ENV, num_tasks=1000)
    mean = {n: play(env, agents.make(n, env), seed=7)[2]["response_times"].mean() for n in NAMES}
    for good in ("iot/sed", "iot/mct", "iot/aco", "iot/least_loaded"):
        assert mean[good] < 0.6 * mean["iot/weighted_random"] < 0.2 * mean["iot/round_robin"]
    assert mean["iot/weighted_random"] < 0.2 * mean["iot/random"]
