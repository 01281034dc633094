"""The simulator against queueing theory: M/M/c (Erlang C), E4/M/1, M/M/1, M/G/1 FCFS and non-preemptive SJF.

Every expected number is computed here from its formula (scipy for roots and integrals), never taken from
the simulator. The issue's full-size check (5 seeds x 100 000 tasks, 2 % tolerance) takes minutes, so these
tests run 5 seeds x ``TASKS`` tasks. Their tolerance is three standard errors of the 5-seed mean, the
standard error measured from the per-seed spread of the mean response time at this size on these very
configurations (autocorrelation included), rounded up:

=============================  ==========  ============================  =========
case                           theory (s)  per-seed std at 10 000 tasks  tolerance
=============================  ==========  ============================  =========
least work left, M/M/4         1.5094      4.9 %                         7 %
join the shortest queue        > M/M/4     5.5 %                         (>) 7.5 %
round robin, E4/M/1            2.6476      5.1 %                         7 %
random, M/M/1                  4.0         5.9 %                         8 %
single server FCFS, M/M/1      4.0         7.0 %                         10 %
single server SJF, M/G/1       2.5554      3.7 %                         5 %
=============================  ==========  ============================  =========

(std measured over 10 other seeds; tolerance = 3 std / sqrt(5), rounded up.)

The full-size runs (5 seeds x 100 000 tasks) agree within 2 %: least work left 1.4990 s (-0.7 %), round
robin 2.627 s (-0.8 %), random 3.964 s (-0.9 %), FCFS 3.957 s (-1.1 %), SJF 2.5375 s (-0.7 %).
"""

import math

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.optimize import brentq

from envs.iot.env import IoTSchedulingEnv

SEEDS = range(5)
TASKS = 10_000
LAMBDA, C = 3.0, 4  # four unit-speed servers, exponential sizes of mean 1: load 0.75


def erlang_c_response(lam: float, mu: float, c: int) -> float:
    """Mean response time of M/M/c: 1/mu + C(c, a) / (c mu - lam), C the Erlang C probability of waiting."""
    a = lam / mu
    top = a**c / math.factorial(c) * c / (c - a)
    wait_probability = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
    return 1 / mu + wait_probability / (c * mu - lam)


def e4_m1_response(lam: float, mu: float) -> float:
    """GI/M/1 with Erlang-4 gaps (rate ``lam / 4``): sigma = A*(mu (1 - sigma)), T = 1 / (mu (1 - sigma)).

    Each of the four phases has rate ``lam``, so A*(s) = (lam / (lam + s))^4.
    """
    sigma = brentq(lambda s: s - (lam / (lam + mu * (1 - s))) ** 4, 1e-12, 1 - 1e-12)
    return 1 / (mu * (1 - sigma))


def mg1_fcfs_response(lam: float, mean: float, second_moment: float) -> float:
    """Pollaczek-Khinchine: E[T] = E[S] + lam E[S^2] / (2 (1 - rho))."""
    return mean + lam * second_moment / (2 * (1 - lam * mean))


def mg1_sjf_response(lam: float, pdf, upper: float, mean: float, second_moment: float) -> float:
    """Non-preemptive SJF (continuous size classes): E[T] = E[S] + int W0 / (1 - rho_x)^2 f(x) dx, with
    W0 = lam E[S^2] / 2 and rho_x = lam int_0^x t f(t) dt the load of the jobs smaller than x."""
    w0 = lam * second_moment / 2

    def rho(x):
        return lam * quad(lambda t: t * pdf(t), 0, x)[0]

    return mean + quad(lambda x: w0 / (1 - rho(x)) ** 2 * pdf(x), 0, upper, limit=200)[0]


def simulate(policy, seed: int, **kwargs) -> dict:
    """One episode of ``TASKS`` tasks; the end-of-episode info."""
    env = IoTSchedulingEnv(num_tasks=TASKS, **kwargs)
    _, info = env.reset(seed=seed)
    rng, k, done = np.random.default_rng(seed + 100), 0, False
    while not done:
        _, _, done, _, info = env.step(policy(info, k, rng))
        k += 1
    return info


def mean_response(policy, **kwargs) -> tuple[float, list[dict]]:
    infos = [simulate(policy, seed, **kwargs) for seed in SEEDS]
    return float(np.mean([i["response_times"].mean() for i in infos])), infos


def least_work_left(info, k, rng):
    return int(np.argmin(info["node_work"]))


def test_least_work_left_on_four_identical_servers_is_mmc_with_erlang_c_response_and_littles_law():
    """LWL with FIFO queues waits exactly the least remaining work: the central-queue M/M/4, whose mean
    response at lambda = 3 is 1 + C(4, 3) / 1 = 1.5094 s (Erlang C). Little's law: the time-average number
    in system equals lambda times the mean response (same tolerance: both sides carry the same noise)."""
    expected = erlang_c_response(LAMBDA, 1.0, C)
    assert expected == pytest.approx(1.5094, abs=1e-4)
    measured, infos = mean_response(least_work_left, node_speeds=[1.0] * C, arrival_rate=LAMBDA)
    assert measured == pytest.approx(expected, rel=0.07)
    for info in infos:
        arrival_rate = len(info["response_times"]) / info["makespan_s"]
        assert info["mean_tasks_in_system"] == pytest.approx(
            arrival_rate * info["response_times"].mean(), rel=1e-9
        )
    little = np.mean([i["mean_tasks_in_system"] for i in infos])
    assert little == pytest.approx(LAMBDA * expected, rel=0.07)


def test_join_shortest_queue_is_not_mmc():
    """JSQ balances task counts, not work, so a task may queue behind a long one while another server
    is about to free up: its mean response lies clearly above Erlang C's (+15 % on these seeds, twice the
    7.5 % three-sigma margin); a simulator that ran JSQ as a central queue would fail this."""
    measured, _ = mean_response(
        lambda info, k, rng: int(np.argmin(info["node_tasks"])), node_speeds=[1.0] * C, arrival_rate=LAMBDA
    )
    assert measured > 1.075 * erlang_c_response(LAMBDA, 1.0, C)


@pytest.mark.slow
def test_round_robin_on_four_identical_servers_gives_each_an_e4_m1_queue():
    """Every fourth Poisson arrival: Erlang-4 gaps of mean 4/3 s at each unit-speed server, E4/M/1."""
    expected = e4_m1_response(LAMBDA, 1.0)
    assert expected == pytest.approx(2.6476, abs=1e-4)
    measured, _ = mean_response(lambda info, k, rng: k % C, node_speeds=[1.0] * C, arrival_rate=LAMBDA)
    assert measured == pytest.approx(expected, rel=0.07)


@pytest.mark.slow
def test_random_dispatch_on_four_identical_servers_gives_each_an_mm1_queue():
    """Uniform random splitting of a Poisson stream: four M/M/1 queues at load 0.75, T = 1 / (1 - 0.75)."""
    measured, _ = mean_response(
        lambda info, k, rng: int(rng.integers(C)), node_speeds=[1.0] * C, arrival_rate=LAMBDA
    )
    assert measured == pytest.approx(1 / (1 - LAMBDA / C), rel=0.08)


@pytest.mark.slow
def test_single_server_sjf_beats_fcfs_and_each_matches_its_mg1_formula():
    """One unit-speed server at load 0.75, exponential sizes: FCFS is M/G/1 (Pollaczek-Khinchine, 4 s);
    non-preemptive SJF follows the size-class formula (2.5554 s). Same seeds, so the difference is sharp."""
    lam, pdf = 0.75, (lambda x: math.exp(-x))
    fcfs_expected = mg1_fcfs_response(lam, 1.0, 2.0)
    sjf_expected = mg1_sjf_response(lam, pdf, 60.0, 1.0, 2.0)
    assert fcfs_expected == pytest.approx(4.0)
    fcfs, _ = mean_response(lambda info, k, rng: 0, node_speeds=[1.0], arrival_rate=lam)
    sjf, _ = mean_response(
        lambda info, k, rng: 0, node_speeds=[1.0], arrival_rate=lam, queue_discipline="sjf"
    )
    assert sjf < fcfs
    assert fcfs == pytest.approx(fcfs_expected, rel=0.10)
    assert sjf == pytest.approx(sjf_expected, rel=0.05)
