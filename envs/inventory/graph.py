"""The simulator's state as graphs for graph policies: one ``torch_geometric`` graph per scenario.

Graph node 0 is the outside supplier, node ``i + 1`` the simulator's node ``i``; edges are the network's, in
action order, so a policy with one output per edge gives the env's action directly. Quantities are divided
by the mean store demand, so one policy can serve networks of different scales.

Node features (:data:`NODE_FEATURES` then one per pipeline slot): kind (supplier, store, warehouse,
transshipment, one-hot), on-hand stock, holding cost, underage cost, lead time, demand mean and standard
deviation (stores; the demand served by the node otherwise), then the pipeline. Edge features: the target's
lead time and whether the edge leaves the supplier.
"""

from __future__ import annotations

import torch

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
    "demand_mean",
    "demand_std",
)


def graph_arrays(
    simulator: InventorySimulator, state: State
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Dense per-scenario arrays: node features (batch, nodes + 1, features), ``edge_index`` (2, edges) and
    edge features (edges, 2), shared by every scenario."""
    net, like = simulator.network, {"device": simulator.device, "dtype": simulator.dtype}
    batch, n = state.on_hand.shape
    scale = max(sum(net.demand_mean) / len(net.demand_mean), 1e-6)
    kinds = torch.zeros(n + 1, 4, **like)
    kinds[0, 0] = 1.0
    for i, kind in enumerate(net.kinds):
        kinds[i + 1, 1 + ("store", "warehouse", "transshipment").index(kind)] = 1.0
    underage = [0.0] * n
    std = [0.0] * n
    for j, i in enumerate(net.stores):
        underage[i], std[i] = net.underage_cost[i], net.demand_std[j]
    static = torch.tensor(
        [[0.0] * 5]
        + [
            [
                net.holding_cost[i],
                underage[i],
                float(net.lead_time[i]),
                float(simulator.served_mean[i]) / scale,
                std[i] / scale,
            ]
            for i in range(n)
        ],
        **like,
    )
    zero = torch.zeros(batch, 1, **like)
    on_hand = torch.cat([zero, state.on_hand / scale], dim=1)
    pipeline = torch.cat([torch.zeros(batch, 1, simulator.max_lead, **like), state.pipeline / scale], dim=1)
    x = torch.cat(
        [kinds.expand(batch, -1, -1), on_hand[:, :, None], static.expand(batch, -1, -1), pipeline], dim=2
    )
    edges = torch.tensor(net.edges, device=simulator.device).T + 1
    edge_attr = torch.stack(
        [
            torch.tensor([float(net.lead_time[d]) for _, d in net.edges], **like),
            (edges[0] == 0).to(simulator.dtype),
        ],
        dim=1,
    )
    return x, edges, edge_attr


def to_graph(simulator: InventorySimulator, state: State):
    """The batch of scenarios as a ``torch_geometric.data.Batch`` (``batch[i]`` is scenario i's ``Data``)."""
    from torch_geometric.data import Batch, Data

    x, edges, edge_attr = graph_arrays(simulator, state)
    return Batch.from_data_list([Data(x=x[b], edge_index=edges, edge_attr=edge_attr) for b in range(len(x))])
