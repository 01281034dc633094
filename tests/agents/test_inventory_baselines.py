"""Classical inventory policies against theory: base-stock closed forms (scipy), Zipkin's lost sales."""

import gymnasium as gym
import numpy as np
import pytest
import torch
from scipy import stats

import agents
import envs  # noqa: F401  (registers the ids)
from envs.inventory.vector_env import InventoryVectorEnv

# Zipkin (2008), "Old and new methods for lost-sales inventory systems", Operations Research 56(5), Table:
# optimal average cost per period, Poisson(5) demand, h = 1, lost-sales penalty p, lead time L.
ZIPKIN_OPTIMAL = {
    4: {1: 4.04, 2: 4.40, 3: 4.60, 4: 4.73},
    9: {1: 5.44, 2: 6.09, 3: 6.53, 4: 6.84},
    19: {1: 6.68, 2: 7.66, 3: 8.36, 4: 8.89},
    39: {1: 7.84, 2: 9.11, 3: 10.04, 4: 10.79},
}


def _simulated_cost(agent_orders, kwargs, n=4096, periods=500, warm_up=50, seed=0):
    """Mean cost per period over n scenarios x (periods - warm_up) periods of the batched env (float64),
    the orders computed from each observation by ``agent_orders(obs) -> (n, edges)``."""
    env = InventoryVectorEnv(num_envs=n, device="cpu", dtype=torch.float64, **kwargs)
    obs, _ = env.reset(seed=seed)
    total = 0.0
    for t in range(periods):
        obs, _, _, _, info = env.step(agent_orders(obs))
        if t >= warm_up:
            total += float(info["cost"].mean())
    return total / (periods - warm_up)


def _normal_optimum(mean, std, lead, h, p):
    sigma = std * np.sqrt(lead + 1)
    z = stats.norm.ppf(p / (p + h))
    return mean * (lead + 1) + z * sigma, (h + p) * sigma * stats.norm.pdf(z)


def _poisson_optimum(mean, lead, h, p):
    horizon = stats.poisson(mean * (lead + 1))
    level = int(horizon.ppf(p / (p + h)))
    k = np.arange(0, 200)
    pmf = horizon.pmf(k)
    return level, float(np.sum((h * np.maximum(level - k, 0) + p * np.maximum(k - level, 0)) * pmf))


@pytest.mark.parametrize(
    ("kwargs", "optimum"),
    [
        (
            dict(demand="normal", lead_time=0, underage_cost=4.0),
            lambda: _normal_optimum(5.0, 2.0, 0, 1.0, 4.0),
        ),
        (
            dict(demand="normal", lead_time=2, underage_cost=4.0),
            lambda: _normal_optimum(5.0, 2.0, 2, 1.0, 4.0),
        ),
        (dict(demand="poisson", lead_time=2, underage_cost=9.0), lambda: _poisson_optimum(5.0, 2, 1.0, 9.0)),
    ],
    ids=["normal-L0-p4", "normal-L2-p4", "poisson-L2-p9"],
)
def test_optimal_base_stock_simulated_cost_matches_critical_fractile_closed_form(kwargs, optimum):
    """Backlog, h = 1, demand mean 5 (std 2 when normal, untruncated): the agent's default level is the
    critical-fractile level and simulating it costs the closed-form optimum within 0.5 %.

    Closed forms from scipy: normal S = mu_L + z sigma_L, cost (h + p) sigma_L phi(z); Poisson S* = the
    smallest S with P(D_{L+1} <= S) >= p / (p + h) and the cost summed over the pmf. 4096 x 450 periods after
    a 50-period warm-up give a standard error near 0.1 % of the cost, so 0.5 % is 5 standard errors."""
    kwargs = dict(demand_mean=5.0, demand_std=2.0, holding_cost=1.0, truncate_demand=False, **kwargs)
    level, cost = optimum()
    env = gym.make("arena/InventorySingleStore-v0", **kwargs)
    agent = agents.make("inventory/base_stock", env)
    env.close()
    assert agent.levels[0] == pytest.approx(level, rel=1e-9)
    assert agent.expected_cost == pytest.approx(cost, rel=1e-9)
    simulated = _simulated_cost(lambda obs: (level - obs.sum(1, keepdim=True)).clamp_min(0), kwargs)
    assert simulated == pytest.approx(cost, rel=0.005)


def test_base_stock_agent_orders_the_shortfall_of_the_inventory_position():
    """Through the Agent protocol on the single env: each order is max(0, S - on-hand - pipeline)."""
    env = gym.make("arena/InventorySingleStore-v0")
    agent = agents.make("inventory/base_stock", env)
    obs, info = env.reset(seed=3)
    for _ in range(30):
        action = agent.act(obs, info)
        assert action[0] == max(0.0, agent.levels[0] - info["inventory_position"][0])
        obs, _, _, _, info = env.step(action)


@pytest.mark.parametrize("p", sorted(ZIPKIN_OPTIMAL))
def test_lost_sales_dp_reproduces_zipkins_published_optimal_costs(p):
    """Relative value iteration on the truncated state space gives Zipkin's optimal costs to two decimals
    (his table prints two), for Poisson(5), h = 1 and lead times 1 to 4."""
    from agents.baselines.inventory_theory import lost_sales_dp

    for lead, published in ZIPKIN_OPTIMAL[p].items():
        assert round(lost_sales_dp(5.0, lead, 1.0, float(p)).cost, 2) == published, f"L={lead}"


@pytest.mark.slow
def test_lost_sales_dp_policy_simulated_in_the_env_costs_its_computed_optimum():
    """Poisson(5), p = 9, L = 2, lost sales: playing the DP's order table in the batched env costs the DP's
    value (6.09) within 0.5 % (standard error near 0.1 %), so the env's lost-sales timing is Zipkin's."""
    kwargs = dict(demand="poisson", lead_time=2, underage_cost=9.0, lost_sales=True)
    env = gym.make("arena/InventorySingleStore-v0", **kwargs)
    agent = agents.make("inventory/lost_sales_dp", env)
    env.close()
    table = torch.as_tensor(agent.solution.order, dtype=torch.float64)

    def orders(obs):
        state = obs[:, :2].round().long().clamp(0, table.shape[0] - 1)
        return table[state[:, 0], state[:, 1]].clamp_min(0)[:, None]

    assert _simulated_cost(orders, kwargs) == pytest.approx(agent.expected_cost, rel=0.005)


def test_newsvendor_agent_ignores_lead_time_and_costs_more_than_base_stock():
    """The myopic newsvendor level covers one period (S = 7 for Poisson(5), p = 9), far below the lead-time
    optimum (S = 20): over 200 periods it costs clearly more than the optimal base-stock level."""
    env = gym.make("arena/InventorySingleStore-v0")
    costs = {}
    for name in ("inventory/newsvendor", "inventory/base_stock"):
        agent = agents.make(name, env)
        obs, info = env.reset(seed=0)
        total = 0.0
        for _ in range(200):
            obs, reward, _, _, info = env.step(agent.act(obs, info))
            total -= reward
        costs[name] = total / 200
    assert agents.make("inventory/newsvendor", env).levels[0] == stats.poisson(5).ppf(0.9)
    assert costs["inventory/newsvendor"] > 2 * costs["inventory/base_stock"]


@pytest.mark.parametrize("name", ["inventory/base_stock", "inventory/newsvendor"])
@pytest.mark.parametrize("env_id", ["arena/InventoryWarehouseStores-v0", "arena/InventoryNetwork-v0"])
def test_order_up_to_baselines_stay_inside_the_action_space(name, env_id):
    """An order above the capacity is an invalid action (a forfeit in the arena), however far below its level
    a node has fallen."""
    env = gym.make(env_id, max_episode_steps=60)
    agent = agents.make(name, env)
    observation, info = env.reset(seed=3)
    done = False
    while not done:
        action = agent.act(observation, info)
        assert env.action_space.contains(action), action
        observation, _, terminated, truncated, info = env.step(action)
        done = terminated or truncated


@pytest.mark.parametrize("level", [[10.0, 12.0], [[10.0, 12.0, 14.0, 16.0]]])
def test_base_stock_level_of_the_wrong_shape_is_refused_naming_level(level):
    env = gym.make("arena/InventoryWarehouseStores-v0")  # a warehouse and three stores: four nodes
    with pytest.raises(ValueError, match=r"level must be one number or 4 numbers"):
        agents.make("inventory/base_stock", env, level=level)
