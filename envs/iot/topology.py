"""The compute nodes and the network between them: IoT devices -> gateways -> fog nodes -> cloud.

A network is a ``networkx.Graph``. Every node has a ``tier`` (``"device"``, ``"gateway"``, ``"fog"`` or
``"cloud"``); a node with a ``speed`` (work units per second per core) computes, and may also set ``cores``,
``memory_mb``, ``p_idle_w`` and ``p_max_w``. Every edge has ``latency_s`` and ``bandwidth_mb_s``. Data moves
store-and-forward along the lowest-latency path, so moving ``d`` MB over links ``e`` takes
``sum_e (latency_s_e + d / bandwidth_mb_s_e)`` seconds; links are never congested.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

TIERS = ("device", "gateway", "fog", "cloud")


@dataclass(frozen=True)
class NodeSpec:
    """One compute node: speed (work units/s per core), cores, memory (MB), idle and full power (W)."""

    name: str
    tier: str
    speed: float
    cores: int = 1
    memory_mb: float = float("inf")
    p_idle_w: float | None = None  # default 30 W x speed
    p_max_w: float | None = None  # default 60 W x speed^1.5: faster nodes cost more energy per unit of work

    def __post_init__(self):
        if self.tier not in TIERS:
            raise ValueError(f"node {self.name!r}: tier={self.tier!r}; allowed: {', '.join(TIERS)}")
        if not self.speed > 0:
            raise ValueError(f"node {self.name!r}: speed must be > 0, got {self.speed}")
        if not (isinstance(self.cores, (int, np.integer)) and self.cores >= 1):
            raise ValueError(f"node {self.name!r}: cores must be an integer >= 1, got {self.cores!r}")
        if not self.memory_mb > 0:
            raise ValueError(f"node {self.name!r}: memory_mb must be > 0, got {self.memory_mb}")
        if not 0 <= self.idle_w <= self.max_w:
            raise ValueError(
                f"node {self.name!r}: need 0 <= p_idle_w <= p_max_w, got {self.idle_w}, {self.max_w}"
            )

    @property
    def idle_w(self) -> float:
        return 30.0 * self.speed if self.p_idle_w is None else float(self.p_idle_w)

    @property
    def max_w(self) -> float:
        return 60.0 * self.speed**1.5 if self.p_max_w is None else float(self.p_max_w)


@dataclass(frozen=True)
class Topology:
    """Compute nodes, and per (device, node) and (node, node) the path's summed latency (s) and s per MB."""

    nodes: tuple[NodeSpec, ...]
    devices: tuple[str, ...]
    device_latency_s: np.ndarray  # [devices, nodes]
    device_s_per_mb: np.ndarray  # [devices, nodes]
    node_latency_s: np.ndarray  # [nodes, nodes]
    node_s_per_mb: np.ndarray  # [nodes, nodes]


def flat_topology(nodes: list[NodeSpec]) -> Topology:
    """Nodes with no network between them or the single task source: every transfer takes 0 s."""
    n = len(nodes)
    zeros = np.zeros((1, n))
    return Topology(tuple(nodes), ("source",), zeros, zeros.copy(), np.zeros((n, n)), np.zeros((n, n)))


def from_graph(graph: nx.Graph) -> Topology:
    """Read compute nodes, devices and path costs from a networkx graph (see the module docstring)."""
    for name, data in graph.nodes(data=True):
        if data.get("tier") not in TIERS:
            raise ValueError(
                f"network: node {name!r} has tier={data.get('tier')!r}; allowed: {', '.join(TIERS)}"
            )
    for u, v, data in graph.edges(data=True):
        if not (data.get("latency_s", -1) >= 0 and data.get("bandwidth_mb_s", 0) > 0):
            raise ValueError(f"network: edge ({u!r}, {v!r}) needs latency_s >= 0 and bandwidth_mb_s > 0")
    fields = ("cores", "memory_mb", "p_idle_w", "p_max_w")
    nodes = [
        NodeSpec(str(name), data["tier"], float(data["speed"]), **{k: data[k] for k in fields if k in data})
        for name, data in graph.nodes(data=True)
        if "speed" in data
    ]
    devices = [name for name, data in graph.nodes(data=True) if data["tier"] == "device"]
    if not nodes:
        raise ValueError("network: no node has a 'speed' (no compute node)")
    if not devices:
        raise ValueError("network: no node has tier='device' (no task source)")
    names = [n.name for n in nodes]
    keys = {str(k): k for k in graph.nodes}
    latency, s_per_mb = _path_costs(graph, [keys[n] for n in names] + devices, [keys[n] for n in names])
    k = len(nodes)
    return Topology(
        tuple(nodes),
        tuple(str(d) for d in devices),
        latency[k:],
        s_per_mb[k:],
        latency[:k],
        s_per_mb[:k],
    )


def _path_costs(graph: nx.Graph, sources: list, targets: list) -> tuple[np.ndarray, np.ndarray]:
    latency = np.zeros((len(sources), len(targets)))
    s_per_mb = np.zeros_like(latency)
    for i, source in enumerate(sources):
        paths = nx.single_source_dijkstra_path(graph, source, weight="latency_s")
        for j, target in enumerate(targets):
            if target not in paths:
                raise ValueError(f"network: no path from {source!r} to compute node {target!r}")
            edges = [graph.edges[a, b] for a, b in zip(paths[target][:-1], paths[target][1:], strict=True)]
            latency[i, j] = sum(e["latency_s"] for e in edges)
            s_per_mb[i, j] = sum(1.0 / e["bandwidth_mb_s"] for e in edges)
    return latency, s_per_mb


def standard_topology(devices_per_gateway: int = 4) -> nx.Graph:
    """The shipped edge-fog-cloud network: 2 gateways with their devices, 2 fog nodes, 1 cloud.

    Compute: each gateway speed 0.5 (1 core, 512 MB), each fog node speed 1 (2 cores, 4 GB), the cloud speed 4
    (4 cores, unlimited memory). Links: device-gateway 2 ms at 10 MB/s, gateway-fog 5 ms at 50 MB/s,
    fog-fog 2 ms at 100 MB/s, fog-cloud 50 ms at 20 MB/s. Total capacity 0.5 + 0.5 + 2 + 2 + 16 = 21 units/s.
    """
    graph = nx.Graph()
    graph.add_node("cloud", tier="cloud", speed=4.0, cores=4)
    for f in range(2):
        graph.add_node(f"fog{f}", tier="fog", speed=1.0, cores=2, memory_mb=4096.0)
        graph.add_edge(f"fog{f}", "cloud", latency_s=0.05, bandwidth_mb_s=20.0)
    graph.add_edge("fog0", "fog1", latency_s=0.002, bandwidth_mb_s=100.0)
    for g in range(2):
        graph.add_node(f"gw{g}", tier="gateway", speed=0.5, cores=1, memory_mb=512.0)
        graph.add_edge(f"gw{g}", f"fog{g}", latency_s=0.005, bandwidth_mb_s=50.0)
        for d in range(devices_per_gateway):
            graph.add_node(f"dev{g}.{d}", tier="device")
            graph.add_edge(f"dev{g}.{d}", f"gw{g}", latency_s=0.002, bandwidth_mb_s=10.0)
    return graph
