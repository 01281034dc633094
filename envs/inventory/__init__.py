"""Inventory networks on networkx graphs, over one batched differentiable torch simulator.

Ids (all take the keyword arguments of :class:`envs.inventory.env.InventoryEnv`; ``gym.make_vec`` gives the
batched :class:`envs.inventory.vector_env.InventoryVectorEnv`):

* ``arena/InventorySingleStore-v0``: one store, Poisson(5) demand, lead time 2, h = 1, p = 9, backlog.
* ``arena/InventorySerial-v0``: a serial chain of 3 stock points ending in a store, backlog.
* ``arena/InventoryWarehouseStores-v0``: one warehouse supplying 3 stores, lost sales.
* ``arena/InventoryNetwork-v0``: 2 warehouses x 4 stores, each store reachable from one or both.
* ``arena/InventoryTransshipment-v0``: a transshipment centre (no stock) allocating to 3 stores, lost sales.

The face (what agents use; loaded on first use, so registering the ids imports no torch):

- the batched differentiable simulator: ``make_simulator`` (from an env's keyword arguments),
  ``InventorySimulator`` and its ``State``;
- graphs for graph policies: ``graph_structure`` (a simulator's ``GraphStructure``), ``node_features`` and
  ``to_graph`` (a batch of scenarios as a ``torch_geometric`` ``Batch``).
"""

from typing import TYPE_CHECKING

from envs._core import lazy_exports
from envs._core.registry import register_single

if TYPE_CHECKING:
    from envs.inventory.graph import GraphStructure, graph_structure, node_features, to_graph
    from envs.inventory.simulator import InventorySimulator, State, make_simulator

__all__ = [
    "GraphStructure",
    "InventorySimulator",
    "State",
    "graph_structure",
    "make_simulator",
    "node_features",
    "to_graph",
]
__getattr__ = lazy_exports(
    __name__,
    {
        **dict.fromkeys(("InventorySimulator", "State", "make_simulator"), "simulator"),
        **dict.fromkeys(("GraphStructure", "graph_structure", "node_features", "to_graph"), "graph"),
    },
)

_ENTRY = "envs.inventory.env:InventoryEnv"
_VECTOR_ENTRY = "envs.inventory.vector_env:InventoryVectorEnv"
_TASKS = {
    "arena/InventorySingleStore-v0": (
        "One store, Poisson(5) demand, lead time 2, holding 1, backlog 9 per unit: base-stock is optimal.",
        {},
    ),
    "arena/InventorySerial-v0": (
        "Serial supply chain of 3 stock points (2 upstream echelons and a store), backlog at the store.",
        {"topology": "serial", "echelons": 3, "warehouse_lead_time": 1, "warehouse_holding_cost": 0.5},
    ),
    "arena/InventoryWarehouseStores-v0": (
        "One warehouse supplying 3 stores with different demands, lost sales; orders per edge.",
        {
            "topology": "warehouse_stores",
            "num_stores": 3,
            "demand_mean": [3.0, 5.0, 7.0],
            "lost_sales": True,
            "lead_time": 1,
        },
    ),
    "arena/InventoryNetwork-v0": (
        "Two warehouses and four stores with an adjacency (some stores reachable from both), backlog.",
        {
            "topology": "network",
            "num_warehouses": 2,
            "num_stores": 4,
            "adjacency": [[1, 1, 1, 0], [0, 1, 1, 1]],
            "lead_time": 1,
        },
    ),
    "arena/InventoryTransshipment-v0": (
        "A transshipment centre that holds no stock allocates all it receives among 3 stores, lost sales.",
        {"topology": "transshipment", "num_stores": 3, "lost_sales": True, "lead_time": 1},
    ),
}

for _id, (_summary, _kwargs) in _TASKS.items():
    register_single(
        _id,
        _ENTRY,
        domain="inventory",
        summary=_summary,
        action_kind="Box",
        observation_kind="Box",
        max_episode_steps=100,
        vector_entry_point=_VECTOR_ENTRY,
        kwargs=_kwargs,
    )
