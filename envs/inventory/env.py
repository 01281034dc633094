"""The single inventory-network env: one scenario of the batched simulator, stepped in float64."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import torch

from envs._core.render import AggFigure, Panel, StripChart, check_render_mode, warn_without_render_mode
from envs.inventory.simulator import InventorySimulator, State, make_simulator

RENDER_WINDOW = 50  # periods shown by the rgb_array plot


def spaces_of(simulator: InventorySimulator) -> tuple[gym.spaces.Box, gym.spaces.Box]:
    """(observation space, action space) of one scenario of ``simulator``."""
    n, lead = simulator.num_nodes, simulator.max_lead
    low = np.zeros(simulator.observation_size, dtype=np.float32)
    if not simulator.lost_sales:  # backlogged stores carry negative stock
        low[list(simulator.network.stores)] = -np.inf
    observation = gym.spaces.Box(low, np.full(n * (1 + lead), np.inf, np.float32), dtype=np.float32)
    capacity = simulator.capacity.cpu().numpy().astype(np.float32)
    action = gym.spaces.Box(np.zeros_like(capacity), capacity, dtype=np.float32)
    return observation, action


def check_reward_scale(reward_scale: float) -> float:
    """``reward_scale`` as a float; ValueError unless it is a finite number > 0."""
    if isinstance(reward_scale, bool) or not (
        isinstance(reward_scale, (int, float)) and 0 < reward_scale < math.inf
    ):
        raise ValueError(f"reward_scale={reward_scale!r} must be a finite number > 0")
    return float(reward_scale)


class InventoryEnv(gym.Env):
    """Order stock through a supply network to meet random customer demand at least cost.

    ## Description
    A network (a networkx graph, :mod:`envs.inventory.network`) of stores, warehouses and transshipment
    centres is supplied from outside. Each period the agent orders along every edge; goods take the target
    node's lead time to arrive; stores meet customer demand from stock, and unmet demand is backlogged or
    lost. The timing, the allocation rule when a node is asked for more than it holds, and the costs are those
    of :mod:`envs.inventory.simulator`: an order placed in period t with lead time L arrives at the start of
    period t + L, before that period's demand (L = 0 is the newsvendor). This env is one scenario of that
    batched simulator, in float64; ``gym.make_vec`` gives the batched one
    (:class:`envs.inventory.vector_env.InventoryVectorEnv`).

    ## Action Space
    ``Box(0, order_capacity, (edges,), float32)``: units ordered along each edge, in the order of
    ``info["problem"]["edges"]`` (pairs of node indices, -1 = the outside supplier); for a single store, one
    number. Quantities are continuous (Poisson demand keeps integer stock under integer orders).

    ## Observation Space
    ``Box(float32)`` of ``nodes * (1 + max lead time)``: every node's on-hand stock (negative = backlog), then
    per node its pipeline, slot k arriving at the start of the period k + 1 from now (shorter lead times leave
    trailing zeros). Nodes are ordered stores first (``info["problem"]["nodes"]``). ``info`` carries the
    same state as ``on_hand``, ``pipeline`` and ``inventory_position``; after a step also the period's
    ``demand``, ``sales``, ``unmet``, ``cost``, ``holding_cost``, ``underage_cost`` and ``shipped`` (per
    edge). The reset's ``info["problem"]`` describes the instance (costs, lead times, demand model and its
    mean and standard deviation, topology) for classical agents.

    ## Rewards
    Minus the period's cost (holding + underage + fixed order + purchase), or the profit with
    ``objective="profit"``, times ``reward_scale`` (1.0; ``info["cost"]`` stays unscaled). Costs are never
    negative, so with ``objective="cost"`` every reward is <= 0.

    ## Starting State
    Each node holds one period's mean demand of the stores it serves, and so does each of its pipeline slots
    (rounded for Poisson demand). Time-series demand starts at a random period of its split (or at its first
    with ``csv_random_start=False``).

    ## Episode End
    Never terminates; truncated at ``max_episode_steps`` (the registered ids: 100 periods).

    ## Arguments
    ``gym.make("arena/InventorySingleStore-v0", **kwargs)``, any id, with

    * ``topology``: ``"single_store"``, ``"serial"`` (``echelons``), ``"warehouse_stores"`` (``num_stores``),
      ``"network"`` (``num_warehouses``, ``num_stores``, ``adjacency``), ``"transshipment"`` (``num_stores``),
      or ``graph=``: your own networkx DiGraph (see :mod:`envs.inventory.network`).
    * ``demand``: ``"poisson"`` (default), ``"normal"`` (``max(0, N)``; ``truncate_demand=False`` keeps
      negative draws), ``"csv"`` (``demand_csv`` path, one column per store; ``demand_split`` train / dev /
      test by period with ``demand_split_fractions`` (0.6, 0.2, 0.2)); ``demand_mean`` (5.0),
      ``demand_std`` (2.0, normal only), ``demand_correlation`` (0.0, between every pair of stores, normal).
    * ``lead_time`` (2), ``holding_cost`` (1.0), ``underage_cost`` (9.0): per store, a number or a list.
    * ``warehouse_lead_time`` (2), ``warehouse_holding_cost`` (0.5): upstream nodes.
    * ``lost_sales`` (False: backlog), ``objective`` ("cost" or "profit"), ``selling_price``,
      ``purchase_cost``, ``fixed_order_cost`` (0.0 each), ``order_capacity`` (per edge; default 4 x the
      mean demand served x (lead time + 1)).
    * ``reward_scale`` (1.0): multiplies every reward, e.g. to bring returns to order one for value-based
      policy-gradient learners.
    * ``render_mode``: None (default), ``"ansi"`` (a table of each node's stock and pipeline, and the last
      period's demand and orders) or ``"rgb_array"`` (a 640 x 480 plot: stock on hand and in the pipeline
      per node as bars, and over the last ``RENDER_WINDOW`` periods the demand per store and the units
      ordered into each node). A frame is one period.

    ## Version History
    * v0: initial version.
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}
    # the demand in info is the period's realised demand (the past); the problem gives the demand model's
    # mean and std, not draws; the demand generator and a time series' start period are not in info
    privileged_info_keys: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, reward_scale: float = 1.0, render_mode: str | None = None, **kwargs: Any):
        self.render_mode = check_render_mode(render_mode, self.metadata)
        self.reward_scale = check_reward_scale(reward_scale)
        self.simulator = make_simulator(**kwargs, device="cpu", dtype=torch.float64)
        self.observation_space, self.action_space = spaces_of(self.simulator)
        self._generator = torch.Generator()
        self._state: State | None = None
        network = self.simulator.network
        self._chart = (
            StripChart(
                [
                    Panel("demand (units)", tuple(network.names[i] for i in network.stores)),
                    Panel("ordered into (units)", tuple(network.names)),
                ],
                RENDER_WINDOW,
                xlabel="period",
                steps=True,
            )
            if render_mode == "rgb_array"
            else None
        )
        self._figure: AggFigure | None = None
        self._bars: tuple[Any, Any] | None = None

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        if seed is not None or self._state is None:
            self._generator.manual_seed(int(self.np_random.integers(2**62)))
        self._state = self.simulator.initial_state(1)
        self._start = self.simulator.sample_start(1, self._generator)
        info = self._info(self._state)
        info["problem"] = self.simulator.problem()
        self._period, self._last = 0, None
        if self._chart is not None:
            self._chart.clear()
        return self._observation(), info

    def step(self, action):
        orders = torch.as_tensor(np.asarray(action, dtype=np.float64).reshape(1, -1))
        if orders.shape[1] != self.simulator.num_edges:
            raise ValueError(f"action={action!r} must have {self.simulator.num_edges} value(s), one per edge")
        demand = self.simulator.sample_demand(1, 1, self._generator, self._start)[:, 0]
        self._start = self._start + 1
        self._state, reward, record = self.simulator.step(self._state, orders, demand)
        info = self._info(self._state)
        info["demand"] = demand[0].numpy()
        info.update({k: (v[0].numpy() if v.dim() > 1 else float(v[0])) for k, v in record.items()})
        self._period += 1
        if self.render_mode is not None:
            self._last = (info["demand"], self._inbound(orders[0].numpy()))
            if self._chart is not None:
                self._chart.append(self._period, *self._last)
        return self._observation(), float(reward[0]) * self.reward_scale, False, False, info

    def render(self) -> str | np.ndarray | None:
        """The stock now and the last period's demand and orders as a text table (``"ansi"``), or as an RGB
        plot with the recent history (``"rgb_array"``, (480, 640, 3) uint8); None without a render mode."""
        if self.render_mode is None:
            warn_without_render_mode(self.metadata)
            return None
        network = self.simulator.network
        on_hand = self._state.on_hand[0].numpy()
        pipeline = self._state.pipeline[0].numpy()
        if self.render_mode == "ansi":
            return self._table(on_hand, pipeline)
        if self._figure is None:
            self._figure = AggFigure(3, height_ratios=(1.3, 1, 1))
            ax = self._figure.axes[0]
            x = np.arange(self.simulator.num_nodes)
            self._bars = (
                ax.bar(x, np.zeros(len(x)), label="on hand"),
                ax.bar(x, np.zeros(len(x)), label="pipeline", alpha=0.6),
            )
            ax.set_xticks(x, network.names, fontsize="small")
            ax.set_ylabel("stock (units)")
            ax.axhline(0.0, color="black", linewidth=0.8)
            ax.legend(loc="upper right", fontsize="x-small")
        in_transit = pipeline.sum(axis=1)
        for held, moving, level, coming in zip(*self._bars, on_hand, in_transit, strict=True):
            held.set_height(level)
            moving.set_y(max(level, 0.0))
            moving.set_height(coming)
        top = max(float(np.max(np.maximum(on_hand, 0.0) + in_transit)), 1.0)
        self._figure.axes[0].set_ylim(min(float(on_hand.min()), 0.0) * 1.1, top * 1.15)
        self._figure.axes[0].set_title(f"period {self._period}", fontsize="small")
        self._chart.draw(self._figure.axes[1:])
        return self._figure.to_rgb()

    def _inbound(self, orders: np.ndarray) -> np.ndarray:
        """Units ordered into each node: the sum of ``orders`` over its incoming edges."""
        into = np.zeros(self.simulator.num_nodes)
        np.add.at(into, [dst for _, dst in self.simulator.network.edges], orders)
        return into

    def _table(self, on_hand: np.ndarray, pipeline: np.ndarray) -> str:
        network = self.simulator.network
        demand = dict(zip(network.stores, self._last[0], strict=True)) if self._last else {}
        lines = [f"period {self._period}", f"{'node':<14}{'on hand':>9}{'demand':>9}{'ordered':>9}  pipeline"]
        for i, name in enumerate(network.names):
            slots = " ".join(f"{v:.4g}" for v in pipeline[i, : network.lead_time[i]])
            lines.append(
                f"{name:<14}{on_hand[i]:>9.4g}{_cell(demand.get(i)):>9}"
                f"{_cell(self._last[1][i] if self._last else None):>9}  [{slots}]"
            )
        return "\n".join(lines)

    def graph_observation(self):
        """The current state as a ``torch_geometric.data.Data`` (see :mod:`envs.inventory.graph`)."""
        from envs.inventory.graph import to_graph

        return to_graph(self.simulator, self._state)[0]

    def _observation(self) -> np.ndarray:
        return self.simulator.observation(self._state)[0].numpy().astype(np.float32)

    def _info(self, state: State) -> dict[str, Any]:
        return {
            "on_hand": state.on_hand[0].numpy().copy(),
            "pipeline": state.pipeline[0].numpy().copy(),
            "inventory_position": self.simulator.inventory_position(state)[0].numpy(),
        }


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"
