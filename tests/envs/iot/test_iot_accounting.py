"""Accounting identities of the IoT env: rewards, energy, utilisation, transfer times, precedence, masks.

These hold exactly on every sample path (up to float rounding, 1e-9 relative), or follow from the load
definition with a stated statistical tolerance.
"""

import math

import gymnasium as gym
import networkx as nx
import numpy as np
import pytest

import envs  # noqa: F401  (registers the ids)
from envs.iot.env import IoTSchedulingEnv
from envs.iot.workload import ArrivalProcess, SizeDistribution

SPEEDS = [1.0, 1.0, 2.0, 4.0]


def earliest_finish(info, rng):
    finish = (
        np.maximum(info["transfer_s"], info["node_start_delay_s"])
        + info["task"]["size"] / info["node_speeds"]
    )
    return int(np.argmin(np.where(info["action_mask"], finish, np.inf)))


def random_legal(info, rng):
    return int(rng.choice(np.flatnonzero(info["action_mask"])))


def play(env, policy, seed=0):
    """One episode: the rewards, each task's (size, node), and the last info."""
    _, info = env.reset(seed=seed)
    rng, rewards, placed, done = np.random.default_rng(seed), [], [], False
    while not done:
        action = policy(info, rng)
        placed.append((info["task"]["size"], action))
        _, reward, done, truncated, info = env.step(action)
        rewards.append(reward)
        assert not truncated
    return np.array(rewards), placed, info


def test_return_equals_minus_the_sum_of_response_times_on_a_network_with_dags_and_power_down():
    """The reward integrates the number of tasks in the system between decisions and the last step drains
    the system, so the return is -(sum of response times) whatever happens in between (transfers, DAG
    precedence, wake-ups); computed from per-task timestamps, independently of the reward's integral."""
    env = IoTSchedulingEnv(
        network="standard",
        job="dag",
        tasks_per_job=5,
        mean_data_mb=2.0,
        arrival_rate=8.0,
        power_down=True,
        idle_timeout_s=0.5,
        num_tasks=600,
    )
    rewards, _, info = play(env, random_legal)
    assert len(info["response_times"]) == 600
    assert rewards.sum() == pytest.approx(-info["response_times"].sum(), rel=1e-9)
    assert info["mean_tasks_in_system"] * info["makespan_s"] == pytest.approx(
        info["response_times"].sum(), rel=1e-9
    )


def test_energy_is_the_integral_of_the_linear_power_model():
    """Without power-down each node draws P_idle all the time plus (P_max - P_idle) / cores per busy core:
    E = sum_n P_idle,n T + (P_max,n - P_idle,n) / cores_n * sum_{tasks on n} size / speed_n."""
    cores = [1, 2, 1, 2]
    env = IoTSchedulingEnv(node_speeds=SPEEDS, node_cores=cores, arrival_rate=10.0, num_tasks=2000)
    _, placed, info = play(env, earliest_finish)
    busy = np.zeros(4)
    for size, node in placed:
        busy[node] += size / SPEEDS[node]
    idle, peak = 30.0 * np.array(SPEEDS), 60.0 * np.array(SPEEDS) ** 1.5
    expected = float(np.sum(idle * info["makespan_s"] + (peak - idle) / np.array(cores) * busy))
    assert info["energy_j"] == pytest.approx(expected, rel=1e-9)
    assert info["mean_power_w"] * info["makespan_s"] == pytest.approx(expected, rel=1e-9)
    assert info["utilisation"] == pytest.approx(busy / (np.array(cores) * info["makespan_s"]), rel=1e-9)


def test_a_sleeping_node_costs_its_wake_up_delay_and_energy():
    """One task on a sleeping node: response = wake_up_s + size / speed; energy = P_sleep until the
    arrival, the wake-up's joules plus P_idle while waking, P_max while running (then asleep again)."""
    env = IoTSchedulingEnv(node_speeds=[2.0], power_down=True, wake_up_s=0.7, wake_up_j=40.0, num_tasks=1)
    _, info = env.reset(seed=3)
    size, arrival = info["task"]["size"], info["time_s"]
    _, reward, done, _, info = env.step(0)
    assert done
    assert info["response_times"][0] == pytest.approx(0.7 + size / 2.0, rel=1e-12)
    energy = 5.0 * arrival + 40.0 + 60.0 * 0.7 + 60.0 * 2.0**1.5 * size / 2.0
    assert info["energy_j"] == pytest.approx(energy, rel=1e-12)
    assert reward == pytest.approx(-(0.7 + size / 2.0), rel=1e-12)


@pytest.mark.parametrize("policy", ["jsq", "earliest_finish", "least_work_left"])
def test_utilisation_is_offered_load_over_capacity_for_stable_work_conserving_policies(policy):
    """Work done = the sum of sizes exactly, so capacity-weighted utilisation = sum(sizes) / (capacity T);
    for a stable policy that tends to lambda E[S] / sum(speeds) = 6.4 / 8 = 0.8. Over 10 000 tasks the
    sum of sizes and the makespan each have relative std 1 %, the ratio ~1.4 %: tolerance 5 % (> 3 sigma)."""
    choose = {
        "jsq": lambda info, rng: int(np.argmin(info["node_tasks"] - 1e-3 * info["node_speeds"])),
        "earliest_finish": earliest_finish,
        "least_work_left": lambda info, rng: int(np.argmin(info["node_work"] / info["node_speeds"])),
    }[policy]
    env = IoTSchedulingEnv(node_speeds=SPEEDS, arrival_rate=6.4, num_tasks=10_000)
    _, placed, info = play(env, choose)
    work = sum(size for size, _ in placed)
    assert info["cluster_utilisation"] == pytest.approx(work / (sum(SPEEDS) * info["makespan_s"]), rel=1e-9)
    assert info["cluster_utilisation"] == pytest.approx(0.8, rel=0.05)


def test_transfer_time_is_latency_plus_size_over_bandwidth_along_the_lowest_latency_path():
    """device -> gateway (10 ms, 10 MB/s) -> cloud (50 ms, 20 MB/s); a direct 1 s link is ignored.
    response = 0.06 s + d (1/10 + 1/20) s/MB + size / 4."""
    graph = nx.Graph()
    graph.add_node("sensor", tier="device")
    graph.add_node("gw", tier="gateway")
    graph.add_node("dc", tier="cloud", speed=4.0)
    graph.add_edge("sensor", "gw", latency_s=0.01, bandwidth_mb_s=10.0)
    graph.add_edge("gw", "dc", latency_s=0.05, bandwidth_mb_s=20.0)
    graph.add_edge("sensor", "dc", latency_s=1.0, bandwidth_mb_s=1000.0)
    env = IoTSchedulingEnv(network=graph, mean_data_mb=5.0, num_tasks=1)
    _, info = env.reset(seed=1)
    size, data = info["task"]["size"], info["task"]["data_mb"]
    assert data > 0
    expected = 0.06 + data * (0.1 + 0.05) + size / 4.0
    assert info["transfer_s"][0] == pytest.approx(0.06 + data * 0.15, rel=1e-12)
    *_, info = env.step(0)
    assert info["response_times"][0] == pytest.approx(expected, rel=1e-12)


def test_dag_tasks_start_only_after_their_predecessors_outputs_arrive():
    """A DAG task joins its node's queue at the latest predecessor finish plus that output's transfer."""
    env = IoTSchedulingEnv(network="standard", job="dag", tasks_per_job=6, mean_data_mb=1.0, num_tasks=300)
    play(env, random_legal)
    tasks = env.cluster.tasks
    topo = env.topology
    checked = 0
    for task in tasks:
        if not task.preds:
            continue
        job = [t for t in tasks if t.job == task.job]
        ready = max(
            job[p].finish_s
            + topo.node_latency_s[job[p].node, task.node]
            + job[p].data_mb * topo.node_s_per_mb[job[p].node, task.node]
            for p in task.preds
        )
        assert task.ready_s == pytest.approx(ready, rel=1e-12)
        assert task.start_s >= task.ready_s
        checked += 1
    assert checked > 200


def test_masks_keep_private_tasks_off_the_cloud_and_big_tasks_off_small_nodes():
    """private_fraction 0.5, task memory up to 400 MB on the standard network (gateways 512 MB): the mask
    never allows the cloud for a private task, and an illegal action is refused."""
    env = gym.make(
        "arena/IoTScheduling-v0", network="standard", private_fraction=0.5, max_task_memory_mb=400.0
    )
    _, info = env.reset(seed=0)
    tiers = info["node_tiers"]
    cloud = tiers.index("cloud")
    seen_private = 0
    for _ in range(200):
        mask = info["action_mask"]
        assert np.array_equal(mask, env.unwrapped.action_masks())
        if info["task"]["private"]:
            seen_private += 1
            assert not mask[cloud]
            with pytest.raises(ValueError, match="legal"):
                env.unwrapped.step(cloud)
        *_, info = env.step(int(np.flatnonzero(mask)[0]))
    assert seen_private > 50


@pytest.mark.parametrize(
    "kwargs, field",
    [
        (dict(node_speeds=[1.0, -1.0]), "speed"),
        (dict(arrival_rate=0.0), "arrival_rate"),
        (dict(task_size="uniform"), "task_size"),
        (dict(queue_discipline="lifo"), "queue_discipline"),
        (dict(num_tasks=0), "num_tasks"),
        (dict(node_cores=[1, 2]), "node_cores"),
        (dict(burstiness=1.0), "burstiness"),
        (dict(network="ring"), "network"),
        (dict(network="standard", node_speeds=[1.0]), "node_speeds"),
        (dict(max_task_memory_mb=100.0, node_memory_mb=50.0), "max_task_memory_mb"),
        (dict(job="single", tasks_per_job=3), "tasks_per_job"),
    ],
)
def test_bad_arguments_raise_value_errors_naming_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        IoTSchedulingEnv(**kwargs)


def test_mmpp_and_diurnal_arrivals_keep_the_mean_rate_and_mmpp_is_bursty():
    """Both modulated processes average ``rate`` arrivals per second; the MMPP's counts per 10 s window are
    overdispersed (variance/mean > 1, a Poisson process has 1). 200 000 arrivals: relative std of the
    rate estimate well under 1 % (modulation included), tolerance 3 %."""
    rng = np.random.default_rng(0)
    for kind in ("mmpp", "diurnal"):
        process = ArrivalProcess(kind, 5.0, burstiness=0.8, switch_rate=0.05, amplitude=0.8, period_s=100.0)
        process.reset(rng)
        times, t = [], 0.0
        for _ in range(200_000):
            t = process.next_time(t, rng)
            times.append(t)
        assert len(times) / times[-1] == pytest.approx(5.0, rel=0.03)
        if kind == "mmpp":
            counts = np.bincount((np.array(times) // 10).astype(int))
            assert counts.var() / counts.mean() > 5


def test_bounded_pareto_sizes_have_the_requested_mean_and_bounds():
    """The lower bound L solves mean = L alpha / (alpha - 1) (1 - r^(1 - alpha)) / (1 - r^-alpha), r = H / L;
    checked against numerical integration of the density and by sampling (std of the mean of 400 000
    samples ~0.3 %, tolerance 2 %)."""
    from scipy.integrate import quad

    sizes = SizeDistribution("pareto", 2.0, alpha=1.5, ratio=1000.0)
    low, high, a = sizes.low, sizes.high, 1.5
    density = lambda x: a * low**a * x ** (-a - 1) / (1 - (low / high) ** a)  # noqa: E731
    assert quad(lambda x: x * density(x), low, high, points=[low * 10, low * 100])[0] == pytest.approx(
        2.0, rel=1e-6
    )
    rng = np.random.default_rng(0)
    samples = np.array([sizes.sample(rng) for _ in range(400_000)])
    assert samples.min() >= low and samples.max() <= high
    assert samples.mean() == pytest.approx(2.0, rel=0.02)
    assert math.isclose(sizes.cdf(high), 1.0)
