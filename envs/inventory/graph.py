"""The simulator's state as graphs for graph policies: one ``torch_geometric`` graph per scenario.

Graph node 0 is the outside supplier, node ``i + 1`` the simulator's node ``i``; edges are the network's, in
action order, so a policy with one output per edge gives the env's action directly.

Every stock quantity of a node is divided by the mean demand per period that node serves (its own for a
store, the sum over the stores below it otherwise), so features read as periods of cover and stay of order
one however many stores a warehouse supplies: the same policy weights then mean the same thing for 3 stores
or 20. Node features (:data:`NODE_FEATURES` then one per pipeline slot): kind (supplier, store, warehouse,
transshipment, one-hot), on-hand stock, holding cost, underage cost (stores), lead time, the log of the
demand served relative to the mean store demand, its coefficient of variation (standard deviation over mean,
the stores below summed as independent), then the pipeline slots. Edge features: the target's lead time and
whether the edge leaves the supplier.

A batch of scenarios is a ``torch_geometric.data.Batch`` of one ``Data`` per scenario
(:meth:`GraphStructure.data`): the graphs side by side, node ids offset per scenario. Every scenario has the
same structure, so a policy builds the batch's structure once per batch size (:meth:`GraphStructure.batch`)
and feeds it the node features of each period.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch_geometric.data import Batch, Data

from envs.inventory.simulator import InventorySimulator, State

NODE_FEATURES = (
    "supplier",
    "store",
    "warehouse",
    "transshipment",
    "on_hand",
    "holding",
    "underage",
    "lead",
    "log_relative_demand",
    "demand_cv",
)


class GraphStructure(NamedTuple):
    """What does not change from period to period: per node (supplier first) the kind one-hot and the static
    features (nodes + 1, 9), the demand served (nodes,), ``edge_index`` (2, edges) and the edge features
    (edges, 2)."""

    static: torch.Tensor
    served: torch.Tensor
    edge_index: torch.Tensor
    edge_attr: torch.Tensor

    def data(self, x: torch.Tensor | None = None) -> Data:
        """One scenario's graph: node features ``x`` (nodes + 1, features), or none (the structure alone)."""
        return Data(x=x, edge_index=self.edge_index, edge_attr=self.edge_attr, num_nodes=len(self.static))

    def batch(self, size: int) -> Batch:
        """``size`` scenarios' graphs without node features, as one ``Batch``: ``edge_index`` (2, size x
        edges) with scenario b's node ids offset by b x (nodes + 1), ``edge_attr`` (size x edges, 2), and
        the ``batch`` vector; on the structure's device."""
        return Batch.from_data_list([self.data()] * size)


def graph_structure(simulator: InventorySimulator) -> GraphStructure:
    """The network's fixed part of the graph features (see the module docstring)."""
    net, like = simulator.network, {"device": simulator.device, "dtype": simulator.dtype}
    n = len(net.names)
    scale = max(sum(net.demand_mean) / len(net.demand_mean), 1e-6)
    served = simulator.served_mean.clamp_min(1e-6)
    kinds = torch.zeros(n + 1, 4, **like)
    kinds[0, 0] = 1.0
    for i, kind in enumerate(net.kinds):
        kinds[i + 1, 1 + ("store", "warehouse", "transshipment").index(kind)] = 1.0
    static = torch.tensor(
        [[0.0] * 5]
        + [
            [
                net.holding_cost[i],
                net.underage_cost[i],
                float(net.lead_time[i]),
                math.log(float(served[i]) / scale),
                float(simulator.served_std[i] / served[i]),
            ]
            for i in range(n)
        ],
        **like,
    )
    edges = torch.tensor(net.edges, device=simulator.device).T + 1
    edge_attr = torch.stack(
        [
            torch.tensor([float(net.lead_time[d]) for _, d in net.edges], **like),
            (edges[0] == 0).to(simulator.dtype),
        ],
        dim=1,
    )
    return GraphStructure(torch.cat([kinds, static], dim=1), served, edges, edge_attr)


def node_features(structure: GraphStructure, state: State) -> torch.Tensor:
    """(batch, nodes + 1, features): the kind, on-hand stock, static features, then the pipeline."""
    static, served = structure.static, structure.served
    batch = state.on_hand.shape[0]
    zero = state.on_hand.new_zeros(batch, 1)
    on_hand = torch.cat([zero, state.on_hand / served], dim=1)
    pipeline = torch.cat(
        [zero[:, :, None].expand(-1, -1, state.pipeline.shape[2]), state.pipeline / served[:, None]], dim=1
    )
    return torch.cat(
        [
            static[None, :, :4].expand(batch, -1, -1),
            on_hand[:, :, None],
            static[None, :, 4:].expand(batch, -1, -1),
            pipeline,
        ],
        dim=2,
    )


def to_graph(simulator: InventorySimulator, state: State) -> Batch:
    """The batch of scenarios as a ``torch_geometric.data.Batch`` (``batch[i]`` is scenario i's ``Data``)."""
    structure = graph_structure(simulator)
    x = node_features(structure, state)
    return Batch.from_data_list([structure.data(x[b]) for b in range(len(x))])
