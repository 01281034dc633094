"""Echelon base-stock on serial chains: the Clark-Scarf recursion against the single-stage closed forms and
against simulation of the serial env."""

import gymnasium as gym
import numpy as np
import pytest
import torch
from scipy import stats

import agents
import envs  # noqa: F401  (registers the ids)
from agents.baselines.inventory import serial_stages
from agents.baselines.inventory_theory import serial_echelon_optimum
from agents.pg.trainer import torch_threads
from envs.inventory.simulator import make_simulator

# (env kwargs, label): a 2-stage chain as registered but shorter, and a 3-stage one with distinct lead times
# and strictly positive echelon holding costs (so that every level is the unique optimum).
SERIAL = {
    "K2": dict(topology="serial", echelons=2, warehouse_lead_time=1, warehouse_holding_cost=0.5),
    "K3": dict(
        topology="serial",
        echelons=3,
        lead_time=1,
        warehouse_lead_time=[2, 1],
        warehouse_holding_cost=[0.6, 0.3],
        underage_cost=19.0,
    ),
}


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Small tensors step fastest on one thread, and far faster than two on a loaded machine."""
    with torch_threads(1):
        yield


def _echelon_agent(kwargs):
    env = gym.make("arena/InventorySerial-v0", **kwargs)
    try:
        return agents.make("inventory/echelon_base_stock", env)
    finally:
        env.close()


def _per_scenario_costs(kwargs, agent, levels, scenarios, periods=300, warm_up=50, seed=0):
    """Mean cost per period of each scenario (after the warm-up) when the batched simulator (float64) plays
    echelon base-stock with each row of ``levels`` (configs, nodes) on the same demand paths (common random
    numbers): a (configs, scenarios) array."""
    simulator = make_simulator(**kwargs, dtype=torch.float64)
    demand = simulator.sample_demand(scenarios, periods, torch.Generator().manual_seed(seed))
    configs = len(levels)
    demand = demand.repeat(configs, 1, 1)
    level = torch.as_tensor(np.asarray(levels, dtype=np.float64)).repeat_interleave(scenarios, 0)
    reach, targets = torch.as_tensor(agent._reach), torch.as_tensor(agent._targets)
    state = simulator.initial_state(configs * scenarios)
    total = torch.zeros(configs * scenarios, dtype=torch.float64)
    for t in range(periods):
        position = simulator.inventory_position(state) @ reach.T
        state, reward, _ = simulator.step(state, (level - position).clamp_min(0.0)[:, targets], demand[:, t])
        if t >= warm_up:
            total -= reward
    return (total / (periods - warm_up)).reshape(configs, scenarios).numpy()


def test_clark_scarf_with_one_stage_is_the_single_store_base_stock_optimum():
    """K = 1: the recursion is the critical-fractile newsvendor over L + 1 periods. Poisson(5), h = 1, p = 9,
    L = 2 (exact, integer grid): S = 20 and the cost summed over the pmf from scipy. Untruncated normal(5, 2),
    h = 1, p = 4, L = 0 and 2: the level within one grid step (std / 40 = 0.05) of mu_L + z sigma_L and the
    cost within 0.01 % of (h + p) sigma_L phi(z) (rounding demand to the grid moves it by O(step^2))."""
    solution = serial_echelon_optimum([2], [1.0], 9.0, demand="poisson", mean=5.0)
    horizon = stats.poisson(15.0)
    level = int(horizon.ppf(0.9))
    k = np.arange(200)
    cost = float(np.sum((np.maximum(level - k, 0) + 9.0 * np.maximum(k - level, 0)) * horizon.pmf(k)))
    assert solution.levels == (level,)
    assert solution.cost == pytest.approx(cost, rel=1e-9)
    for lead in (0, 2):
        solution = serial_echelon_optimum(
            [lead], [1.0], 4.0, demand="normal", mean=5.0, std=2.0, truncate=False
        )
        sigma, z = 2.0 * np.sqrt(lead + 1), stats.norm.ppf(0.8)
        assert solution.levels[0] == pytest.approx(5.0 * (lead + 1) + z * sigma, abs=solution.step)
        assert solution.cost == pytest.approx(5.0 * sigma * stats.norm.pdf(z), rel=1e-4)


def test_echelon_agent_on_a_single_store_orders_up_to_the_base_stock_optimum():
    env = gym.make("arena/InventorySingleStore-v0")
    agent = agents.make("inventory/echelon_base_stock", env)
    assert list(agent.levels) == [20.0]
    assert agent.expected_cost == pytest.approx(agents.make("inventory/base_stock", env).expected_cost)
    with pytest.raises(ValueError, match="serial"):
        agents.make("inventory/echelon_base_stock", gym.make("arena/InventoryWarehouseStores-v0"))


@pytest.mark.parametrize("label", sorted(SERIAL))
def test_simulated_clark_scarf_policy_costs_the_recursions_expected_cost(label):
    """Poisson(5), backlog. Playing the optimal echelon levels in the serial simulator for 1024 scenarios x
    250 periods (after 50 of warm-up) costs the recursion's value within 4 standard errors of the simulated
    mean (the standard error from the spread of the scenario means; it is about 0.3 % of the cost, asserted
    below 0.5 % so that the tolerance stays tight). Measured with 2048 x 350: K2 8.087 vs 8.084, K3 9.995 vs
    10.002 (0.2 and 0.3 standard errors)."""
    kwargs = SERIAL[label]
    agent = _echelon_agent(kwargs)
    costs = _per_scenario_costs(kwargs, agent, [agent.levels], scenarios=1024)[0]
    mean, error = costs.mean(), costs.std(ddof=1) / np.sqrt(len(costs))
    assert error < 0.005 * agent.expected_cost
    assert abs(mean - agent.expected_cost) < 4 * error


@pytest.mark.parametrize("label", sorted(SERIAL))
def test_no_neighbouring_integer_echelon_levels_are_cheaper_in_simulation(label):
    """Local search around the Clark-Scarf levels: moving any one stage's level by +-1 unit, simulated on the
    same 512 demand paths (common random numbers, so the paired difference has a small standard error), never
    lowers the cost by more than 3 standard errors of the difference."""
    kwargs = SERIAL[label]
    agent = _echelon_agent(kwargs)
    chain = np.flatnonzero(agent.levels)  # stage nodes (every level is positive here)
    configs = [agent.levels.copy()]
    for i in chain:
        for delta in (-1.0, 1.0):
            moved = agent.levels.copy()
            moved[i] += delta
            configs.append(moved)
    costs = _per_scenario_costs(kwargs, agent, configs, scenarios=512)
    differences = costs[1:] - costs[0]
    errors = differences.std(axis=1, ddof=1) / np.sqrt(costs.shape[1])
    assert np.all(differences.mean(axis=1) > -3 * errors), (differences.mean(axis=1), errors)


def test_echelon_agent_in_the_env_orders_each_stages_level_minus_its_echelon_position():
    """The registered agent reads only the flat observation; along an episode of the K = 3 serial env its
    orders equal max(0, S_k - echelon inventory position_k), the position summed from the simulator's own
    state over stage k and every stage below it (independent of the agent's observation parsing)."""
    kwargs = SERIAL["K3"]
    env = gym.make("arena/InventorySerial-v0", **kwargs)
    agent = _echelon_agent(kwargs)
    simulator = env.unwrapped.simulator
    chain = serial_stages(simulator.problem())  # node indices, store first
    observation, info = env.reset(seed=4)
    for _ in range(40):
        position = simulator.inventory_position(env.unwrapped._state)[0].numpy()
        expected = {}
        for k, node in enumerate(chain):
            expected[node] = max(0.0, agent.levels[node] - position[chain[: k + 1]].sum())
        action = agent.act(observation, info)
        edges = simulator.network.edges
        assert action == pytest.approx([expected[d] for _, d in edges], abs=1e-4)
        observation, _, _, _, info = env.step(action)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        (dict(lead_times=[1, -1]), "lead_times"),
        (dict(holding=[0.5, 1.0]), "holding"),
        (dict(mean=-1.0), "mean"),
        (dict(demand="normal", std=-2.0), "std"),
        (dict(demand="normal", step=0.0), "step"),
        (dict(demand="uniform"), "demand"),
    ],
)
def test_clark_scarf_rejects_bad_arguments_naming_the_field(kwargs, field):
    args = {"lead_times": [1, 1], "holding": [1.0, 0.5], "underage": 9.0, **kwargs}
    with pytest.raises(ValueError, match=field):
        serial_echelon_optimum(args.pop("lead_times"), args.pop("holding"), args.pop("underage"), **args)
