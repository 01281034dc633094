"""Supply networks as networkx graphs, and the index arrays the simulator steps them with.

A network is a ``networkx.DiGraph`` whose edges point the way goods flow. One node, ``"supplier"``, is the
outside source with unlimited stock; every other node has a ``kind``:

* ``"store"``: meets customer demand; attributes ``holding_cost``, ``underage_cost``, ``lead_time``,
  ``demand_mean``, ``demand_std``;
* ``"warehouse"``: holds stock and ships it to the nodes it points to; ``holding_cost``, ``lead_time``;
* ``"transshipment"``: a cross-dock that holds no stock: all it receives leaves again the same period.

``lead_time`` (periods, an integer >= 0) is the time from ordering to arrival for goods *into* that node. The
builders below make the topologies the envs offer; any graph following these rules works too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import networkx as nx

SUPPLIER = "supplier"
KINDS = ("store", "warehouse", "transshipment")


def _per(name: str, value, count: int) -> list[float]:
    """One number per item: a scalar repeated, or a sequence of exactly ``count`` numbers."""
    values = list(value) if isinstance(value, Sequence) and not isinstance(value, str) else [value] * count
    if len(values) != count:
        raise ValueError(f"{name} has {len(values)} values; give one number or {count}")
    return [float(v) for v in values]


def _store(graph: nx.DiGraph, name: str, i: int, stores: dict) -> None:
    graph.add_node(
        name,
        kind="store",
        holding_cost=stores["holding_cost"][i],
        underage_cost=stores["underage_cost"][i],
        lead_time=int(stores["lead_time"][i]),
        demand_mean=stores["demand_mean"][i],
        demand_std=stores["demand_std"][i],
    )


def build_graph(
    topology: str = "single_store",
    *,
    num_stores: int = 1,
    num_warehouses: int = 1,
    echelons: int = 2,
    adjacency: Sequence[Sequence[int]] | None = None,
    demand_mean=5.0,
    demand_std=2.0,
    lead_time=2,
    holding_cost=1.0,
    underage_cost=9.0,
    warehouse_lead_time=2,
    warehouse_holding_cost=0.5,
) -> nx.DiGraph:
    """The graph of a named topology.

    * ``single_store``: supplier -> store.
    * ``serial``: supplier -> echelon ``echelons - 1`` -> ... -> echelon 1 -> store (``echelons`` stock points
      in all); ``warehouse_lead_time``/``warehouse_holding_cost`` may be one number or one per upstream
      echelon, nearest the store first.
    * ``warehouse_stores``: supplier -> one warehouse -> ``num_stores`` stores.
    * ``network``: supplier -> ``num_warehouses`` warehouses -> ``num_stores`` stores; ``adjacency[w][s]`` = 1
      where warehouse ``w`` may supply store ``s`` (default: all).
    * ``transshipment``: supplier -> a transshipment centre (no stock) -> ``num_stores`` stores.

    Store attributes may be one number or one per store.
    """
    builders = ("single_store", "serial", "warehouse_stores", "network", "transshipment")
    if topology not in builders:
        raise ValueError(f"topology={topology!r} is not one of {', '.join(builders)}")
    if topology in ("single_store", "serial"):
        num_stores = 1
    if not (isinstance(num_stores, int) and num_stores >= 1):
        raise ValueError(f"num_stores={num_stores!r} must be an int >= 1")
    stores = {
        "demand_mean": _per("demand_mean", demand_mean, num_stores),
        "demand_std": _per("demand_std", demand_std, num_stores),
        "lead_time": _per("lead_time", lead_time, num_stores),
        "holding_cost": _per("holding_cost", holding_cost, num_stores),
        "underage_cost": _per("underage_cost", underage_cost, num_stores),
    }
    graph = nx.DiGraph(topology=topology)
    graph.add_node(SUPPLIER, kind="supplier")
    store_names = [f"store{i}" for i in range(num_stores)]
    for i, name in enumerate(store_names):
        _store(graph, name, i, stores)
    if topology == "single_store":
        graph.add_edge(SUPPLIER, store_names[0])
    elif topology == "serial":
        if not (isinstance(echelons, int) and echelons >= 2):
            raise ValueError(f"echelons={echelons!r} must be an int >= 2 (the store and one upstream)")
        leads = _per("warehouse_lead_time", warehouse_lead_time, echelons - 1)
        holds = _per("warehouse_holding_cost", warehouse_holding_cost, echelons - 1)
        downstream = store_names[0]
        for k in range(1, echelons):
            name = f"echelon{k}"
            graph.add_node(name, kind="warehouse", holding_cost=holds[k - 1], lead_time=int(leads[k - 1]))
            graph.add_edge(name, downstream)
            downstream = name
        graph.add_edge(SUPPLIER, downstream)
    elif topology in ("warehouse_stores", "transshipment"):
        kind = "warehouse" if topology == "warehouse_stores" else "transshipment"
        hold = float(warehouse_holding_cost) if kind == "warehouse" else 0.0
        graph.add_node("warehouse0", kind=kind, holding_cost=hold, lead_time=int(warehouse_lead_time))
        graph.add_edge(SUPPLIER, "warehouse0")
        for name in store_names:
            graph.add_edge("warehouse0", name)
    else:
        if not (isinstance(num_warehouses, int) and num_warehouses >= 1):
            raise ValueError(f"num_warehouses={num_warehouses!r} must be an int >= 1")
        leads = _per("warehouse_lead_time", warehouse_lead_time, num_warehouses)
        holds = _per("warehouse_holding_cost", warehouse_holding_cost, num_warehouses)
        links = adjacency if adjacency is not None else [[1] * num_stores] * num_warehouses
        if len(links) != num_warehouses or any(len(row) != num_stores for row in links):
            raise ValueError(f"adjacency must be {num_warehouses} rows of {num_stores} 0/1 entries")
        for w in range(num_warehouses):
            name = f"warehouse{w}"
            graph.add_node(name, kind="warehouse", holding_cost=holds[w], lead_time=int(leads[w]))
            graph.add_edge(SUPPLIER, name)
            for s, linked in enumerate(links[w]):
                if linked:
                    graph.add_edge(name, store_names[s])
    return graph


@dataclass(frozen=True)
class Network:
    """A checked supply graph as flat lists: nodes (supplier excluded) in a fixed order, and edges.

    ``edges[e] = (source, target)`` as node indices, with ``-1`` for the supplier; the action of an env is one
    order quantity per edge, in this order.
    """

    names: tuple[str, ...]
    kinds: tuple[str, ...]
    holding_cost: tuple[float, ...]
    underage_cost: tuple[float, ...]  # 0 for non-stores
    lead_time: tuple[int, ...]
    demand_mean: tuple[float, ...]  # stores only, in store order
    demand_std: tuple[float, ...]
    stores: tuple[int, ...]  # node indices of the stores
    edges: tuple[tuple[int, int], ...]
    topology: str

    @property
    def max_lead_time(self) -> int:
        return max(self.lead_time)

    @classmethod
    def from_graph(cls, graph: nx.DiGraph) -> Network:
        """Check ``graph`` (see the module docstring) and index it: stores first, then the others."""
        if SUPPLIER not in graph:
            raise ValueError(f"graph has no {SUPPLIER!r} node (the outside source)")
        if not nx.is_directed_acyclic_graph(graph):
            raise ValueError("graph must be acyclic: goods cannot flow in a circle")
        others = [n for n in graph.nodes if n != SUPPLIER]
        for n in others:
            data = graph.nodes[n]
            if data.get("kind") not in KINDS:
                raise ValueError(f"node {n!r}: kind={data.get('kind')!r} must be one of {', '.join(KINDS)}")
            if graph.in_degree(n) == 0:
                raise ValueError(f"node {n!r} has no supplier: every node needs an incoming edge")
            lead = data.get("lead_time", 0)
            if not (int(lead) == lead and lead >= 0):
                raise ValueError(f"node {n!r}: lead_time={lead!r} must be an integer >= 0")
            if data.get("holding_cost", 0.0) < 0:
                raise ValueError(f"node {n!r}: holding_cost must be >= 0")
            if data["kind"] == "store":
                if graph.out_degree(n):
                    raise ValueError(f"store {n!r} cannot ship onwards (no outgoing edges)")
                if data["underage_cost"] < 0 or data["demand_mean"] < 0 or data["demand_std"] < 0:
                    raise ValueError(f"store {n!r}: underage_cost, demand_mean, demand_std must be >= 0")
            elif graph.out_degree(n) == 0:
                raise ValueError(f"{data['kind']} {n!r} ships to nobody (needs an outgoing edge)")
        order = sorted(others, key=lambda n: graph.nodes[n]["kind"] != "store")  # stable: graph order
        index = {n: i for i, n in enumerate(order)}
        index[SUPPLIER] = -1
        data = [graph.nodes[n] for n in order]
        stores = tuple(i for i, d in enumerate(data) if d["kind"] == "store")
        return cls(
            names=tuple(str(n) for n in order),
            kinds=tuple(d["kind"] for d in data),
            holding_cost=tuple(float(d.get("holding_cost", 0.0)) for d in data),
            underage_cost=tuple(float(d.get("underage_cost", 0.0)) for d in data),
            lead_time=tuple(int(d.get("lead_time", 0)) for d in data),
            demand_mean=tuple(float(data[i]["demand_mean"]) for i in stores),
            demand_std=tuple(float(data[i]["demand_std"]) for i in stores),
            stores=stores,
            edges=tuple(
                (index[u], index[v]) for u, v in sorted(graph.edges, key=lambda e: (index[e[1]], index[e[0]]))
            ),
            topology=str(graph.graph.get("topology", "custom")),
        )
