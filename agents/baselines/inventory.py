"""Classical inventory policies (``inventory/base_stock``, ``inventory/lost_sales_dp``,
``inventory/echelon_base_stock``, ``inventory/newsvendor``; capped base-stock is ``base_stock`` with ``cap``).

Where theory gives the optimum (:mod:`agents.baselines.inventory_theory`: base-stock for a single store with
backlog, Clark & Scarf's echelon base-stock for a serial chain with backlog, relative value iteration for a
small lost-sales store), these agents play it. Every agent has ``expected_cost``: its long-run cost per
period where theory gives it (else None), so that a simulated cost can be reported as an optimality gap.
Only the standard library and numpy are used.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any

import numpy as np

from agents.base import EnvSpaces
from agents.baselines.inventory_theory import (
    LostSalesSolution,
    base_stock_cost_normal,
    base_stock_normal,
    base_stock_poisson,
    lost_sales_dp,
    serial_echelon_optimum,
)


def _problem(spaces: EnvSpaces) -> dict[str, Any]:
    """The env's ``info["problem"]``, built from the spaces' env id and kwargs (the agent knows no more)."""
    import gymnasium as gym

    import envs  # noqa: F401  (registers the ids)

    env = gym.make(spaces.env_id or "arena/InventorySingleStore-v0", **spaces.env_kwargs)
    try:
        return env.reset(seed=0)[1]["problem"]
    finally:
        env.close()


class _OrderUpTo:
    """Orders along each edge what its target node lacks of its level: ``max(0, S - inventory position)``,
    split evenly over the node's incoming edges, optionally capped per order, and never above what the action
    space allows (its ``high``, the env's order capacity). With ``echelon=True`` a node's position is its
    echelon inventory position: its own plus that of every node below it."""

    def __init__(
        self,
        name: str,
        problem: dict[str, Any],
        levels: list[float],
        high: np.ndarray,
        cap: float | None = None,
        echelon: bool = False,
    ):
        self.name, self.problem, self.cap, self.high = name, problem, cap, np.asarray(high, dtype=np.float64)
        self.levels = np.asarray(levels, dtype=np.float64)
        n, lead = len(problem["nodes"]), problem["max_lead_time"]
        self._n, self._lead = n, lead
        targets = np.array([d for _, d in problem["edges"]])
        self._targets = targets
        self._share = 1.0 / np.bincount(targets, minlength=n)[targets]
        self._reach = np.eye(n)
        if echelon:
            for i in range(n):
                self._reach[i, list(_downstream(problem, i))] = 1.0

    def reset(self, seed: int | None = None) -> None:
        pass

    def act(self, observation, info: dict) -> np.ndarray:
        obs = np.asarray(observation, dtype=np.float64)
        position = self._reach @ (obs[: self._n] + obs[self._n :].reshape(self._n, self._lead).sum(1))
        orders = np.maximum(self.levels - position, 0.0)[self._targets] * self._share
        if self.cap is not None:
            orders = np.minimum(orders, self.cap)
        return np.minimum(orders, self.high).astype(np.float32)


def installation_levels(problem: dict[str, Any]) -> tuple[list[float], float | None]:
    """Base-stock level of every node, and the expected cost per period when it is the known optimum.

    A store gets the optimal single-store backlog level for its own demand, costs and lead time (exact for
    Poisson, the normal closed form otherwise). An upstream node gets the normal-approximation level of the
    demand it serves (summed over its stores, independent) over its lead time + 1 periods at the fractile of
    the stores' costs: a heuristic, optimal only for the single store with backlog.
    """
    n = len(problem["nodes"])
    stores, kinds = problem["stores"], problem["kinds"]
    means, stds = problem["demand_mean"], problem["demand_std"]
    levels, cost = [0.0] * n, None
    for j, i in enumerate(stores):
        args = (problem["lead_time"][i], problem["holding_cost"][i], problem["underage_cost"][j])
        if problem["demand"] == "poisson":
            levels[i], cost_i = base_stock_poisson(means[j], *args)
        else:
            levels[i], cost_i = base_stock_normal(means[j], stds[j], *args)
        if n == 1 and not problem["lost_sales"]:
            cost = cost_i if problem["demand"] == "poisson" or not problem["truncated_demand"] else None
    fractile = NormalDist().inv_cdf(
        float(
            np.mean(
                [
                    p / (p + problem["holding_cost"][i])
                    for p, i in zip(problem["underage_cost"], stores, strict=True)
                ]
            )
        )
    )
    reach = {i: {i} for i in stores}
    for i in range(n):
        if kinds[i] != "store":
            reach[i] = _downstream(problem, i) & set(stores)
            mu = sum(means[stores.index(s)] for s in reach[i])
            sd = math.sqrt(sum(stds[stores.index(s)] ** 2 for s in reach[i]))
            lead = problem["lead_time"][i] + 1
            levels[i] = mu * lead + fractile * sd * math.sqrt(lead)
    return levels, cost


def _downstream(problem: dict[str, Any], node: int) -> set[int]:
    seen, frontier = set(), [node]
    while frontier:
        u = frontier.pop()
        for s, d in problem["edges"]:
            if s == u and d not in seen:
                seen.add(d)
                frontier.append(d)
    return seen


def base_stock(spaces: EnvSpaces, level: float | list[float] | None = None, cap: float | None = None):
    """``inventory/base_stock``: order up to ``level`` (one per node, or one number for a single store) on
    the inventory position; without ``level``, the optimal level for the env (see
    :func:`installation_levels`). ``cap`` limits each order (capped base-stock)."""
    problem = _problem(spaces)
    levels, cost = installation_levels(problem)
    if level is not None:
        given = np.asarray(level, dtype=np.float64)
        if given.ndim > 1 or given.size not in (1, len(levels)):
            raise ValueError(f"level must be one number or {len(levels)} numbers (one per node), not {level}")
        levels = list(np.broadcast_to(given, (len(levels),)))
        cost = None
        if len(levels) == 1 and not problem["lost_sales"] and problem["demand"] == "normal":
            i = problem["stores"][0]
            args = (problem["demand_mean"][0], problem["demand_std"][0], problem["lead_time"][i])
            cost = base_stock_cost_normal(
                levels[0], *args, problem["holding_cost"][i], problem["underage_cost"][0]
            )
    agent = _OrderUpTo("inventory/base_stock", problem, levels, spaces.action_space.high, cap)
    agent.expected_cost = cost if cap is None else None
    return agent


def serial_stages(problem: dict[str, Any]) -> list[int]:
    """Node indices of a serial chain (or a single store) from the store up to the node the supplier feeds;
    ``ValueError`` for any other network."""
    stores, edges = problem["stores"], problem["edges"]
    if len(stores) != 1 or len(edges) != len(problem["nodes"]):
        raise ValueError(f"topology={problem['topology']!r} is not a serial chain ending in one store")
    chain = [stores[0]]
    while True:
        sources = [s for s, d in edges if d == chain[-1]]
        if len(sources) != 1:
            raise ValueError(
                f"node {problem['nodes'][chain[-1]]!r} needs exactly one supplier in a serial chain"
            )
        if sources[0] < 0:
            return chain
        chain.append(sources[0])


def echelon_base_stock(spaces: EnvSpaces, levels: list[float] | None = None):
    """``inventory/echelon_base_stock``: each stage of a serial chain orders up to ``levels`` (one per stage,
    store first) on its echelon inventory position; without ``levels``, the Clark-Scarf optimum of the env
    (:func:`serial_echelon_optimum`, backlog, Poisson or normal demand), whose cost is ``expected_cost``."""
    problem = _problem(spaces)
    chain = serial_stages(problem)
    if problem["lost_sales"] or problem["demand"] not in ("poisson", "normal"):
        raise ValueError("inventory/echelon_base_stock needs backlog and demand='poisson' or 'normal'")
    cost = None
    if levels is None:
        solution = serial_echelon_optimum(
            [problem["lead_time"][i] for i in chain],
            [problem["holding_cost"][i] for i in chain],
            problem["underage_cost"][0],
            demand=problem["demand"],
            mean=problem["demand_mean"][0],
            std=problem["demand_std"][0],
            truncate=problem["truncated_demand"],
        )
        levels, cost = list(solution.levels), solution.cost
    if len(levels) != len(chain):
        raise ValueError(f"levels={levels!r} needs one level per stage ({len(chain)}), store first")
    per_node = [0.0] * len(problem["nodes"])
    for i, level in zip(chain, levels, strict=True):
        per_node[i] = float(level)
    agent = _OrderUpTo(
        "inventory/echelon_base_stock", problem, per_node, spaces.action_space.high, echelon=True
    )
    agent.expected_cost = cost
    return agent


def newsvendor(spaces: EnvSpaces):
    """``inventory/newsvendor``: the myopic order-up-to of a newsvendor facing one period's demand at the
    critical fractile, ignoring the lead time (optimal only when L = 0); a weak reference for L > 0."""
    problem = _problem(spaces)
    myopic = {**problem, "lead_time": [0] * len(problem["nodes"])}
    levels, _ = installation_levels(myopic)
    agent = _OrderUpTo("inventory/newsvendor", problem, levels, spaces.action_space.high)
    agent.expected_cost = None
    return agent


class LostSalesDPAgent:
    """Plays the optimal lost-sales policy from :func:`lost_sales_dp` on a single store."""

    name = "inventory/lost_sales_dp"

    def __init__(self, solution: LostSalesSolution, lead_time: int):
        self.solution, self.lead_time = solution, lead_time
        self.expected_cost = solution.cost

    def reset(self, seed: int | None = None) -> None:
        pass

    def act(self, observation, info: dict) -> np.ndarray:
        state = np.rint(np.asarray(observation, dtype=np.float64)[: self.lead_time]).astype(int).clip(0)
        if state.sum() > self.solution.bound:
            return np.zeros(1, dtype=np.float32)
        return np.array([self.solution.order[tuple(state)]], dtype=np.float32)


def lost_sales_optimal(spaces: EnvSpaces) -> LostSalesDPAgent:
    """``inventory/lost_sales_dp``: the exact optimum of a single store with Poisson demand, lost sales and
    lead time 1..4."""
    problem = _problem(spaces)
    if problem["topology"] != "single_store" or problem["demand"] != "poisson" or not problem["lost_sales"]:
        raise ValueError(
            "inventory/lost_sales_dp needs a single store with demand='poisson' and lost_sales=True"
        )
    lead = problem["lead_time"][0]
    solution = lost_sales_dp(
        problem["demand_mean"][0], lead, problem["holding_cost"][0], problem["underage_cost"][0]
    )
    return LostSalesDPAgent(solution, lead)
