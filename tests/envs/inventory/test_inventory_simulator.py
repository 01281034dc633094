"""The inventory simulator: timing, allocation, gradients, batched vs single, and the Gymnasium contract."""

import math

import gymnasium as gym
import numpy as np
import pytest
import torch
from scipy import stats

import envs  # noqa: F401  (registers the ids)
from envs import list_envs
from envs._core.conformance import (
    check_declared_kinds,
    check_gymnasium_api,
    check_sb3_api,
    check_seed_determinism,
)
from envs.inventory.env import InventoryEnv
from envs.inventory.network import build_graph
from envs.inventory.simulator import make_simulator
from envs.inventory.vector_env import InventoryVectorEnv

INVENTORY_IDS = [r.id for r in list_envs(domain="inventory")]


@pytest.mark.parametrize("env_id", INVENTORY_IDS)
def test_inventory_ids_pass_the_conformance_checks(env_id):
    check_gymnasium_api(env_id)
    check_sb3_api(env_id)
    check_declared_kinds(env_id)
    check_seed_determinism(env_id)


@pytest.mark.parametrize("lead_time", [0, 1, 3])
def test_order_placed_in_period_t_arrives_at_start_of_t_plus_lead_time_before_demand(lead_time):
    """Deterministic demand of 2 per period (normal, std 0); the start state holds 2 units and 2 in each of
    the L pipeline slots; one order of 7 units in period 0, none after. The stock observed at the start of
    period t is 2 + 2 min(t, L) - 2 t, plus 7 from period L on: with L = 0 the order already serves period
    0. Exact arithmetic, so exact equality."""
    env = InventoryEnv(demand="normal", demand_mean=2.0, demand_std=0.0, lead_time=lead_time)
    _, info = env.reset(seed=0)
    assert info["on_hand"][0] == 2.0 and np.all(info["pipeline"][0, :lead_time] == 2.0)
    for t in range(1, lead_time + 4):
        *_, info = env.step([7.0 if t == 1 else 0.0])
        expected = 2.0 + 2.0 * min(t, lead_time) - 2.0 * t + (7.0 if t >= lead_time else 0.0)
        assert info["on_hand"][0] == expected, f"start of period {t}"


def test_newsvendor_end_stock_includes_the_same_period_order_when_lead_time_is_zero():
    """L = 0: holding cost h (S + q - D) is charged on the stock after this period's order and demand."""
    env = InventoryEnv(demand="normal", demand_mean=3.0, demand_std=0.0, lead_time=0, holding_cost=2.0)
    _, info = env.reset(seed=0)
    on_hand = info["on_hand"][0]
    _, reward, *_, info = env.step([4.0])
    assert info["on_hand"][0] == on_hand + 4.0 - 3.0
    assert reward == -2.0 * (on_hand + 4.0 - 3.0)


def test_warehouse_ships_at_most_its_stock_proportionally_to_the_orders():
    """Stores ask for 6, 3 and 3 units from a warehouse holding w: each gets its order times
    min(1, w / 12), so the warehouse never ships more than it holds."""
    simulator = make_simulator(
        topology="warehouse_stores", num_stores=3, lead_time=0, warehouse_lead_time=1, dtype=torch.float64
    )
    state = simulator.initial_state(2)
    warehouse = simulator.network.names.index("warehouse0")
    state.on_hand[:, warehouse] = torch.tensor([6.0, 20.0])
    orders = torch.zeros(2, simulator.num_edges, dtype=torch.float64)
    store_edges = [e for e, (s, _) in enumerate(simulator.network.edges) if s == warehouse]
    orders[:, store_edges] = torch.tensor([6.0, 3.0, 3.0], dtype=torch.float64)
    _, _, record = simulator.step(state, orders, torch.zeros(2, 3, dtype=torch.float64))
    shipped = record["shipped"][:, store_edges]
    assert torch.allclose(shipped[0], torch.tensor([3.0, 1.5, 1.5], dtype=torch.float64))
    assert torch.allclose(shipped[1], torch.tensor([6.0, 3.0, 3.0], dtype=torch.float64))


def test_transshipment_centre_ships_everything_it_receives_and_holds_nothing():
    """Whatever the store orders, the centre's end-of-period stock is zero and its shipments sum to what it
    held; with all store orders zero it splits evenly."""
    simulator = make_simulator(topology="transshipment", num_stores=3, lost_sales=True, dtype=torch.float64)
    state = simulator.initial_state(3)
    centre = simulator.network.names.index("warehouse0")
    held = state.on_hand[:, centre].clone()
    store_edges = [e for e, (s, _) in enumerate(simulator.network.edges) if s == centre]
    orders = torch.zeros(3, simulator.num_edges, dtype=torch.float64)
    orders[0, store_edges] = torch.tensor([1.0, 0.0, 3.0], dtype=torch.float64)
    orders[1, store_edges] = torch.tensor([50.0, 50.0, 50.0], dtype=torch.float64)
    next_state, _, record = simulator.step(state, orders, torch.zeros(3, 3, dtype=torch.float64))
    shipped = record["shipped"][:, store_edges]
    assert torch.allclose(shipped.sum(1), held)
    assert torch.allclose(shipped[0], held[0] * torch.tensor([0.25, 0.0, 0.75], dtype=torch.float64))
    assert torch.allclose(shipped[2], held[2].expand(3) / 3)
    lead_into_centre = simulator.network.lead_time[centre]
    assert lead_into_centre > 0  # so nothing arrives at the centre between shipping and the period's end
    assert torch.all(next_state.on_hand[:, centre] == state.pipeline[:, centre, 0])


def test_gradient_of_newsvendor_cost_in_the_order_is_h_F_minus_p_times_1_minus_F():
    """L = 0, normal(5, 2) demand, stock 0 before ordering q: cost h (q - D)^+ + p (D - q)^+ has derivative
    h P(D < q) - p P(D > q) (the textbook newsvendor condition). The mean of the pathwise gradients over
    200 000 draws is within 4 standard errors (about 0.02) of the value from scipy."""
    h, p, q = 1.0, 4.0, 6.0
    simulator = make_simulator(
        demand="normal",
        demand_mean=5.0,
        demand_std=2.0,
        truncate_demand=False,
        lead_time=0,
        holding_cost=h,
        underage_cost=p,
        dtype=torch.float64,
    )
    n = 200_000
    state = simulator.initial_state(n)
    state = state._replace(on_hand=torch.zeros_like(state.on_hand))
    orders = torch.full((n, 1), q, dtype=torch.float64, requires_grad=True)
    demand = simulator.sample_demand(n, 1, torch.Generator().manual_seed(0))[:, 0]
    _, reward, _ = simulator.step(state, orders, demand)
    (-reward).mean().backward()
    expected = h * stats.norm.cdf(q, 5, 2) - p * stats.norm.sf(q, 5, 2)
    assert float(orders.grad.sum()) == pytest.approx(expected, abs=4 * (h + p) * 0.5 / np.sqrt(n))


def test_batched_float64_equals_single_env_step_for_step_across_autoresets(tmp_path):
    """Warehouse + 3 stores, lost sales, demand replayed from a CSV time series (the same in every env), the
    same random orders given to a 4-env batch and to 4 single envs (each reset when its time limit ends):
    observations, rewards, costs and flags are identical (the same float64 operations on each row)."""
    rng = np.random.default_rng(0)
    path = tmp_path / "demand.csv"
    rows = ["a,b,c"] + [",".join(str(v) for v in rng.poisson([3, 5, 8])) for _ in range(50)]
    path.write_text("\n".join(rows))
    kwargs = dict(
        topology="warehouse_stores",
        num_stores=3,
        lost_sales=True,
        lead_time=[0, 1, 2],
        demand="csv",
        demand_csv=str(path),
        demand_split="test",
        csv_random_start=False,
        warehouse_lead_time=1,
    )
    n, limit = 4, 25
    vector = InventoryVectorEnv(
        num_envs=n, device="cpu", dtype=torch.float64, max_episode_steps=limit, **kwargs
    )
    singles = [gym.wrappers.TimeLimit(InventoryEnv(**kwargs), limit) for _ in range(n)]
    obs, _ = vector.reset(seed=0)
    single_obs = [env.reset(seed=i)[0] for i, env in enumerate(singles)]
    assert np.array_equal(obs.numpy().astype(np.float32), np.stack(single_obs))
    high = vector.single_action_space.high
    for t in range(60):
        actions = rng.uniform(0, high / 4, size=(n, len(high)))
        obs, rewards, terminated, truncated, info = vector.step(torch.as_tensor(actions))
        for i, env in enumerate(singles):
            o, r, te, tr, single_info = env.step(actions[i])
            assert r == float(rewards[i]) and single_info["cost"] == float(info["cost"][i]), f"step {t}"
            assert (te, tr) == (bool(terminated[i]), bool(truncated[i]))
            if tr:
                assert np.array_equal(info["final_obs"][i].numpy().astype(np.float32), o)
                o, _ = env.reset()
            assert np.array_equal(obs[i].numpy().astype(np.float32), o), f"step {t} env {i}"


def test_csv_demand_splits_periods_into_train_dev_test(tmp_path):
    """Rows 0..9 of a one-store series: train = rows 0-5, dev = 6-7, test = 8-9 (fractions 0.6/0.2/0.2);
    replayed from the start, the test split's demand is 8, 9, 8, 9, ..."""
    path = tmp_path / "d.csv"
    path.write_text("store\n" + "\n".join(str(k) for k in range(10)))
    env = InventoryEnv(demand="csv", demand_csv=str(path), demand_split="test", csv_random_start=False)
    env.reset(seed=0)
    seen = [env.step([0.0])[4]["demand"][0] for _ in range(4)]
    assert seen == [8.0, 9.0, 8.0, 9.0]
    assert env.reset(seed=0)[1]["problem"]["demand_mean"] == [8.5]


def test_correlated_normal_demand_has_the_requested_correlation():
    """Two stores, correlation 0.6: the sample correlation of 100 000 draws is within 0.01 of 0.6 (its
    standard error is about (1 - 0.36) / sqrt(n) = 0.002)."""
    simulator = make_simulator(
        topology="warehouse_stores",
        num_stores=2,
        demand="normal",
        demand_mean=[20.0, 30.0],
        demand_std=[3.0, 4.0],
        demand_correlation=0.6,
        dtype=torch.float64,
    )
    demand = simulator.sample_demand(100_000, 1, torch.Generator().manual_seed(1))[:, 0]
    assert float(torch.corrcoef(demand.T)[0, 1]) == pytest.approx(0.6, abs=0.01)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"topology": "ring"}, "topology"),
        ({"demand": "uniform"}, "demand"),
        ({"objective": "revenue"}, "objective"),
        ({"lead_time": -1}, "lead_time"),
        ({"topology": "warehouse_stores", "num_stores": 3, "demand_mean": [1.0, 2.0]}, "demand_mean"),
        ({"topology": "serial", "echelons": 1}, "echelons"),
        ({"order_capacity": 0.0}, "order_capacity"),
        ({"demand": "csv"}, "demand_csv"),
        ({"fixed_order_cost": -1.0}, "fixed_order_cost"),
    ],
)
def test_bad_constructor_arguments_raise_value_error_naming_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        InventoryEnv(**kwargs)


def test_custom_networkx_graph_is_accepted_and_checked():
    graph = build_graph("warehouse_stores", num_stores=2)
    env = InventoryEnv(graph=graph)
    assert env.action_space.shape == (3,)
    graph.add_edge("store0", "store1")
    with pytest.raises(ValueError, match="store"):
        InventoryEnv(graph=graph)


def test_reward_scale_multiplies_rewards_but_not_the_reported_cost():
    """Single and batched env: reward = -reward_scale x info["cost"]; a scale that is not a finite number > 0
    (zero, infinite, NaN, a bool) is refused."""
    env = InventoryEnv(reward_scale=0.1)
    env.reset(seed=0)
    _, reward, *_, info = env.step([5.0])
    assert reward == pytest.approx(-0.1 * info["cost"])
    vector = InventoryVectorEnv(num_envs=4, device="cpu", reward_scale=0.1)
    vector.reset(seed=0)
    _, rewards, *_, info = vector.step(np.full((4, 1), 5.0))
    assert torch.allclose(rewards, -0.1 * info["cost"])
    for bad in (0.0, math.inf, math.nan, True):
        with pytest.raises(ValueError, match="reward_scale"):
            InventoryEnv(reward_scale=bad)
        with pytest.raises(ValueError, match="reward_scale"):
            InventoryVectorEnv(num_envs=2, device="cpu", reward_scale=bad)


def test_graph_features_read_in_periods_of_cover_whatever_the_number_of_stores():
    """Stock features are divided by the demand each node serves: at the start every node holds one period of
    it (see the env's starting state), so on-hand and pipeline features are 1 for the warehouse of 3 stores
    and of 20 alike, and the graph's edges are the action's edges (supplier = graph node 0)."""
    from envs.inventory.graph import NODE_FEATURES, to_graph

    for stores in (3, 20):
        simulator = make_simulator(topology="warehouse_stores", num_stores=stores, demand="normal")
        graph = to_graph(simulator, simulator.initial_state(2))[1]
        on_hand = NODE_FEATURES.index("on_hand")
        assert torch.allclose(graph.x[1:, on_hand], torch.ones(stores + 1))
        assert torch.allclose(graph.x[1:, len(NODE_FEATURES) :], torch.ones(stores + 1, 2))
        assert graph.edge_index.T.tolist() == [[s + 1, d + 1] for s, d in simulator.network.edges]


def test_a_batch_of_the_structure_is_the_batch_of_scenario_graphs_without_their_features():
    """A graph policy builds the batch's structure once (``GraphStructure.batch``) and feeds it node features;
    that is the same ``torch_geometric`` batch as one ``Data`` per scenario (``to_graph``): scenario b's node
    ids offset by b x (nodes + 1), the edge features repeated, the ``batch`` vector, exactly."""
    from envs.inventory.graph import graph_structure, node_features, to_graph

    simulator = make_simulator(
        topology="network", num_warehouses=2, num_stores=4, adjacency=[[1, 1, 1, 0], [0, 1, 1, 1]]
    )
    state = simulator.initial_state(3)
    structure = graph_structure(simulator)
    template, graphs = structure.batch(3), to_graph(simulator, state)
    nodes, edges = len(simulator.network.names) + 1, simulator.num_edges
    assert torch.equal(template.edge_index, graphs.edge_index)
    assert torch.equal(
        template.edge_index[:, edges:],
        structure.edge_index.repeat(1, 2) + nodes * torch.tensor([1] * edges + [2] * edges),
    )
    assert torch.equal(template.edge_attr, graphs.edge_attr)
    assert torch.equal(template.batch, graphs.batch)
    assert torch.equal(graphs.x, node_features(structure, state).reshape(3 * nodes, -1))
