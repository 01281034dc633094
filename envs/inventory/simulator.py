"""The batched, differentiable inventory simulator: many scenarios of one network stepped as torch tensors.

Timing of a period t (the same for every node and every topology):

1. The state is observed: on-hand stock after this period's arrivals, and the pipeline (``pipeline[..., k]``
   arrives at the start of period t + k + 1).
2. Orders are placed, one quantity per edge, cut to ``[0, order_capacity]``. A node ships at most its
   on-hand stock: when its outgoing orders ask for more, each is scaled by ``on_hand / requested`` (the same
   fraction for every edge, so the allocation stays proportional to what was asked and differentiable).
   A transshipment centre always ships *all* its stock, split in proportion to the orders (evenly when they
   are all zero), so it never holds any. The supplier ships whatever is asked.
3. Goods shipped into a node with lead time L arrive at the start of period t + L, before that period's
   demand; with L = 0 they arrive now, before this period's demand (the newsvendor).
4. Demand is met from store stock. With backlog, unmet demand is carried as negative stock; with lost
   sales it is lost.
5. Costs: ``holding_cost`` per unit of end-of-period stock at every node, ``underage_cost`` per unit
   backlogged (on the end-of-period backlog) or lost at stores, ``fixed_order_cost`` per edge with a positive
   order, ``purchase_cost`` per unit bought from the supplier. The reward is minus the cost, or with
   ``objective="profit"``, ``selling_price`` per unit sold minus the cost (with backlog every demand is
   eventually sold, so sales are the demand).
6. The pipeline moves one period on: what was due next period is added to on-hand stock.

Every operation is a min, max, sum or product of tensors, so the cost is differentiable in the orders
(almost everywhere; the fixed order cost's indicator has zero gradient), which is what HDPO needs.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import networkx as nx
import torch

from envs.inventory.demand import NormalDemand, PoissonDemand, SeriesDemand
from envs.inventory.network import Network, build_graph


class State(NamedTuple):
    """Stock per node (batch, nodes) after the period's arrivals; the pipeline (batch, nodes, max lead)."""

    on_hand: torch.Tensor
    pipeline: torch.Tensor


class InventorySimulator:
    """A network, its demand model and its costs; :meth:`step` advances a batch of scenarios one period.

    Build one with :func:`make_simulator` from the envs' keyword arguments.
    """

    def __init__(
        self,
        network: Network,
        demand,
        *,
        lost_sales: bool,
        objective: str,
        selling_price: float,
        purchase_cost: float,
        fixed_order_cost: float,
        order_capacity: list[float],
        random_start: bool,
        device: torch.device,
        dtype: torch.dtype,
    ):
        self.network, self.demand = network, demand
        self.lost_sales, self.objective = lost_sales, objective
        self.selling_price, self.purchase_cost, self.fixed_order_cost = (
            selling_price,
            purchase_cost,
            fixed_order_cost,
        )
        self.device, self.dtype, self.random_start = device, dtype, random_start
        like = {"device": device, "dtype": dtype}
        n, lmax = len(network.names), network.max_lead_time
        self.num_nodes, self.num_edges, self.max_lead = n, len(network.edges), lmax
        self.num_stores = len(network.stores)
        src = torch.tensor([s for s, _ in network.edges], device=device)
        self._from_supplier = src < 0
        self._src = src.clamp_min(0)
        self._dst = torch.tensor([d for _, d in network.edges], device=device)
        self._stores = torch.tensor(network.stores, device=device)
        self._transship = torch.tensor([k == "transshipment" for k in network.kinds], device=device)
        self._out_degree = torch.zeros(n, **like).index_add(
            0, self._src[~self._from_supplier], torch.ones(int((~self._from_supplier).sum()), **like)
        )
        self.holding = torch.tensor(network.holding_cost, **like)
        self.underage = torch.tensor([network.underage_cost[i] for i in network.stores], **like)
        lead = torch.tensor(network.lead_time, device=device)
        self._now = (lead == 0).to(dtype)
        # _slot[i, k] = 1 where goods into node i wait k + 1 more periods when shipped (lead time k + 1)
        self._slot = (lead[:, None] - 1 == torch.arange(lmax, device=device)[None, :]).to(dtype)
        self.capacity = torch.tensor(order_capacity, **like)
        self.served_mean = torch.tensor(_served_mean(network), **like)
        variance = [float(v) ** 2 for v in demand.std]
        self.served_std = torch.tensor(_served_sum(network, variance), **like).sqrt()

    @property
    def observation_size(self) -> int:
        return self.num_nodes * (1 + self.max_lead)

    def initial_state(self, batch: int) -> State:
        """Every node holds one period of the mean demand it serves, and so does each pipeline slot."""
        level = self.served_mean
        if isinstance(self.demand, PoissonDemand):
            level = level.round()
        on_hand = level.expand(batch, -1).clone()
        pipeline = (level[:, None] * (self._slot.flip(1).cumsum(1).flip(1) > 0)).expand(batch, -1, -1).clone()
        return State(on_hand, pipeline)

    def observation(self, state: State) -> torch.Tensor:
        """(batch, nodes * (1 + max lead)): on-hand stock of every node, then each node's pipeline slots."""
        return torch.cat([state.on_hand, state.pipeline.flatten(1)], dim=1)

    def inventory_position(self, state: State) -> torch.Tensor:
        """(batch, nodes): on-hand (net, with backlog) plus everything in the pipeline."""
        return state.on_hand + state.pipeline.sum(2)

    def step(
        self, state: State, orders: torch.Tensor, demand: torch.Tensor
    ) -> tuple[State, torch.Tensor, dict]:
        """One period for every scenario: ``orders`` (batch, edges), ``demand`` (batch, stores).

        Returns the next state, the reward (batch,) and a dict of (batch, ...) tensors: ``cost``,
        ``holding_cost``, ``underage_cost``, ``shipped`` (per edge), ``sales`` and ``unmet`` (per store:
        lost, or added to the backlog).
        """
        on_hand, pipeline = state
        orders = torch.minimum(orders.clamp_min(0.0), self.capacity)
        internal = ~self._from_supplier
        requested = torch.zeros_like(on_hand).index_add(1, self._src[internal], orders[:, internal])
        stock = on_hand.clamp_min(0.0)
        fraction = torch.where(requested > 0, stock / requested.clamp_min(1e-12), torch.zeros_like(stock))
        fraction = torch.where(self._transship, fraction, fraction.clamp_max(1.0))
        evenly = stock / self._out_degree.clamp_min(1.0)
        shipped_internal = torch.where(
            self._transship[self._src[internal]] & (requested[:, self._src[internal]] <= 0),
            evenly[:, self._src[internal]],
            orders[:, internal] * fraction[:, self._src[internal]],
        )
        shipped = orders.clone()
        shipped[:, internal] = shipped_internal
        on_hand = on_hand - torch.zeros_like(on_hand).index_add(1, self._src[internal], shipped_internal)
        inbound = torch.zeros_like(on_hand).index_add(1, self._dst, shipped)
        on_hand = on_hand + inbound * self._now
        pipeline = pipeline + inbound[:, :, None] * self._slot
        before = on_hand[:, self._stores]
        if self.lost_sales:
            sales = torch.minimum(before.clamp_min(0.0), demand)
            after = before - sales
            unmet = demand - sales
            underage = (self.underage * unmet).sum(1)
        else:
            after = before - demand
            sales, unmet = demand, (-after).clamp_min(0.0) - (-before).clamp_min(0.0)
            underage = (self.underage * (-after).clamp_min(0.0)).sum(1)
        on_hand = on_hand.index_copy(1, self._stores, after)
        holding = (self.holding * on_hand.clamp_min(0.0)).sum(1)
        cost = holding + underage
        if self.fixed_order_cost:
            cost = cost + self.fixed_order_cost * (orders > 0).to(self.dtype).sum(1)
        if self.purchase_cost:
            cost = cost + self.purchase_cost * shipped[:, self._from_supplier].sum(1)
        reward = -cost
        if self.objective == "profit":
            reward = reward + self.selling_price * sales.sum(1)
        if self.max_lead:
            on_hand = on_hand + pipeline[:, :, 0]
            pipeline = torch.cat([pipeline[:, :, 1:], torch.zeros_like(pipeline[:, :, :1])], dim=2)
        record = {
            "cost": cost,
            "holding_cost": holding,
            "underage_cost": underage,
            "shipped": shipped,
            "sales": sales,
            "unmet": unmet,
        }
        return State(on_hand, pipeline), reward, record

    def sample_demand(self, batch: int, periods: int, generator: torch.Generator, start=None) -> torch.Tensor:
        """(batch, periods, stores) demand from the simulator's model."""
        return self.demand.sample(batch, periods, generator, start)

    def sample_start(self, batch: int, generator: torch.Generator) -> torch.Tensor:
        """(batch,) first period of each scenario within a time series (zeros for other demand models)."""
        if isinstance(self.demand, SeriesDemand) and self.random_start:
            return torch.randint(len(self.demand), (batch,), generator=generator, device=self.device)
        return torch.zeros(batch, dtype=torch.int64, device=self.device)

    def problem(self) -> dict[str, Any]:
        """A plain description of the instance, for classical agents (``info["problem"]``)."""
        net = self.network
        return {
            "topology": net.topology,
            "nodes": list(net.names),
            "kinds": list(net.kinds),
            "holding_cost": list(net.holding_cost),
            "underage_cost": [net.underage_cost[i] for i in net.stores],
            "lead_time": list(net.lead_time),
            "stores": list(net.stores),
            "edges": [list(e) for e in net.edges],
            "max_lead_time": net.max_lead_time,
            "demand": self.demand.name,
            "demand_mean": self.demand.mean.tolist(),
            "demand_std": self.demand.std.tolist(),
            "truncated_demand": bool(getattr(self.demand, "truncate", True)),
            "lost_sales": self.lost_sales,
            "objective": self.objective,
            "fixed_order_cost": self.fixed_order_cost,
            "order_capacity": self.capacity.tolist(),
        }


def _served_mean(network: Network) -> list[float]:
    """Mean demand per period below each node: its own (stores), or the sum over the stores it reaches."""
    return _served_sum(network, network.demand_mean)


def _served_sum(network: Network, per_store) -> list[float]:
    """Per node, the sum of ``per_store`` (one number per store, in store order) over the stores at or below
    it."""
    graph = nx.DiGraph()
    graph.add_nodes_from(range(len(network.names)))
    graph.add_edges_from((s, d) for s, d in network.edges if s >= 0)
    value = dict(zip(network.stores, per_store, strict=True))
    return [
        sum(value[j] for j in ({i} | nx.descendants(graph, i)) if j in value)
        for i in range(len(network.names))
    ]


def make_simulator(
    *,
    topology: str = "single_store",
    graph: nx.DiGraph | None = None,
    num_stores: int = 1,
    num_warehouses: int = 1,
    echelons: int = 2,
    adjacency=None,
    demand: str = "poisson",
    demand_mean=5.0,
    demand_std=2.0,
    demand_correlation: float = 0.0,
    truncate_demand: bool = True,
    demand_csv: str | None = None,
    demand_split: str = "train",
    demand_split_fractions=(0.6, 0.2, 0.2),
    csv_random_start: bool = True,
    lead_time=2,
    holding_cost=1.0,
    underage_cost=9.0,
    warehouse_lead_time=2,
    warehouse_holding_cost=0.5,
    lost_sales: bool = False,
    objective: str = "cost",
    selling_price: float = 0.0,
    purchase_cost: float = 0.0,
    fixed_order_cost: float = 0.0,
    order_capacity=None,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
) -> InventorySimulator:
    """Validate the envs' keyword arguments (see :class:`envs.inventory.env.InventoryEnv`) and build."""
    if graph is None:
        graph = build_graph(
            topology,
            num_stores=num_stores,
            num_warehouses=num_warehouses,
            echelons=echelons,
            adjacency=adjacency,
            demand_mean=demand_mean,
            demand_std=demand_std,
            lead_time=lead_time,
            holding_cost=holding_cost,
            underage_cost=underage_cost,
            warehouse_lead_time=warehouse_lead_time,
            warehouse_holding_cost=warehouse_holding_cost,
        )
    network = Network.from_graph(graph)
    if objective not in ("cost", "profit"):
        raise ValueError(f"objective={objective!r} must be 'cost' or 'profit'")
    for name, value in (
        ("selling_price", selling_price),
        ("purchase_cost", purchase_cost),
        ("fixed_order_cost", fixed_order_cost),
    ):
        if not (isinstance(value, (int, float)) and value >= 0):
            raise ValueError(f"{name}={value!r} must be a number >= 0")
    device = torch.device(device)
    like = {"device": device, "dtype": dtype}
    if demand == "poisson":
        model = PoissonDemand(network.demand_mean, **like)
    elif demand == "normal":
        model = NormalDemand(
            network.demand_mean, network.demand_std, demand_correlation, truncate_demand, **like
        )
    elif demand == "csv":
        if demand_csv is None:
            raise ValueError("demand='csv' needs demand_csv=<path to a CSV file, one column per store>")
        model = SeriesDemand(demand_csv, len(network.stores), demand_split, demand_split_fractions, **like)
    else:
        raise ValueError(f"demand={demand!r} must be 'poisson', 'normal' or 'csv'")
    served = _served_mean(network)
    if order_capacity is None:
        order_capacity = [
            max(1.0, math.ceil(4 * served[d] * (1 + network.lead_time[d]))) for _, d in network.edges
        ]
    else:
        order_capacity = [float(c) for c in _per_edge(order_capacity, len(network.edges))]
        if any(c <= 0 for c in order_capacity):
            raise ValueError(f"order_capacity={order_capacity!r} must be > 0 (per edge)")
    return InventorySimulator(
        network,
        model,
        lost_sales=bool(lost_sales),
        objective=objective,
        selling_price=float(selling_price),
        purchase_cost=float(purchase_cost),
        fixed_order_cost=float(fixed_order_cost),
        order_capacity=order_capacity,
        random_start=bool(csv_random_start),
        device=device,
        dtype=dtype,
    )


def _per_edge(value, count: int) -> list[float]:
    if isinstance(value, (int, float)):
        return [float(value)] * count
    values = list(value)
    if len(values) != count:
        raise ValueError(
            f"order_capacity has {len(values)} values; give one number or {count} (one per edge)"
        )
    return values
