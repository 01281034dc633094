"""Classical inventory policies and their known optima (``inventory/base_stock``, ``inventory/lost_sales_dp``,
``inventory/echelon_base_stock``, ``inventory/newsvendor``; capped base-stock is ``base_stock`` with ``cap``).

Theory, for one store with i.i.d. demand D per period, holding cost h per unit of end-of-period stock,
underage cost p and lead time L (an order placed in period t arrives at the start of period t + L, before
that period's demand, as in :mod:`envs.inventory.simulator`):

* Backlog: a base-stock policy on the inventory position (on-hand + pipeline, ordering up to S) is optimal;
  the stock after period t + L's demand is ``S - D_{L+1}`` with ``D_{L+1}`` the demand over L + 1 periods, so
  the cost per period is ``h E(S - D_{L+1})^+ + p E(D_{L+1} - S)^+``, minimised at the critical fractile
  ``P(D_{L+1} <= S) >= p / (p + h)``. Normal demand: ``S = mu_L + z sigma_L`` and the cost is
  ``(h + p) sigma_L phi(z)`` with ``z = Phi^-1(p / (p + h))`` (untruncated demand; the env's default
  ``max(0, N)`` demand differs by ``P(N < 0)``, negligible when the mean is several standard deviations).
  Poisson demand: exact search over integer S.
* Serial chains with backlog: echelon base-stock is optimal (Clark & Scarf 1960);
  :func:`serial_echelon_optimum` computes the levels and the cost by the exact recursion on discretised
  demand. Simulated in the serial env (2048 scenarios x 350 periods, Poisson(5)) the optimal levels cost
  what it predicts within one standard error: K = 2 (L = 2, 1; h = 1, 0.5; p = 9; levels 22, 26) 8.087 vs
  8.084; K = 3 (L = 1, 2, 1; h = 1, 0.6, 0.3; p = 19; levels 17, 29, 35) 9.995 vs 10.002; likewise with
  normal demand and with a zero-lead upstream stage.
* Lost sales: no simple optimal policy; :func:`lost_sales_dp` solves the average-cost Bellman equation by
  relative value iteration over the on-hand stock and the pipeline, for small lead times.

Every agent has ``expected_cost``: its long-run cost per period where theory gives it (else None), so that
a simulated cost can be reported as an optimality gap. Only the standard library and numpy are used.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from statistics import NormalDist
from typing import Any

import numpy as np

from agents.base import EnvSpaces

# ---------------------------------------------------------------- theory


def poisson_pmf(mean: float, up_to: int) -> np.ndarray:
    """P(D = k) for k = 0..up_to, D ~ Poisson(mean)."""
    k = np.arange(up_to + 1)
    if mean == 0:
        return (k == 0).astype(float)
    log = k * math.log(mean) - mean - np.array([math.lgamma(i + 1.0) for i in k])
    return np.exp(log)


def _poisson_tail_sums(mean: float, level: int) -> tuple[float, float]:
    """(E(S - D)^+, E(D - S)^+) for D ~ Poisson(mean) and the integer S = ``level``."""
    pmf = poisson_pmf(mean, level)
    over = float(np.sum((level - np.arange(level + 1)) * pmf))  # E(S - D)^+
    return over, over - (level - mean)  # E(D - S)^+ = E(S - D)^+ - (S - E D)


def base_stock_poisson(mean: float, lead_time: int, holding: float, underage: float) -> tuple[int, float]:
    """Optimal base-stock level and cost per period, Poisson(``mean``) demand with backlog (exact)."""
    horizon_mean = mean * (lead_time + 1)
    fractile = underage / (underage + holding)
    level, cdf = 0, 0.0
    pmf = poisson_pmf(horizon_mean, int(horizon_mean + 20 * math.sqrt(horizon_mean + 1) + 20))
    while cdf + pmf[level] < fractile:
        cdf += pmf[level]
        level += 1
    over, under = _poisson_tail_sums(horizon_mean, level)
    return level, holding * over + underage * under


def base_stock_normal(
    mean: float, std: float, lead_time: int, holding: float, underage: float
) -> tuple[float, float]:
    """Optimal base-stock level and cost per period, normal(``mean``, ``std``) demand with backlog."""
    sigma = std * math.sqrt(lead_time + 1)
    z = NormalDist().inv_cdf(underage / (underage + holding))
    if sigma == 0:
        return mean * (lead_time + 1), 0.0
    return mean * (lead_time + 1) + z * sigma, (holding + underage) * sigma * NormalDist().pdf(z)


def base_stock_cost_normal(
    level: float, mean: float, std: float, lead_time: int, h: float, p: float
) -> float:
    """Cost per period of base-stock ``level`` with normal demand and backlog."""
    mu, sigma = mean * (lead_time + 1), std * math.sqrt(lead_time + 1)
    if sigma == 0:
        return h * max(level - mu, 0.0) + p * max(mu - level, 0.0)
    z = (level - mu) / sigma
    loss = sigma * (NormalDist().pdf(z) - z * (1 - NormalDist().cdf(z)))  # E(D - S)^+
    return h * (level - mu + loss) + p * loss


@dataclass(frozen=True)
class LostSalesSolution:
    """The optimum of a single-store lost-sales problem: cost per period, and the order for each state.

    ``order[x0, x1, ..., x_{L-1}]`` (on-hand after arrivals, then the pipeline nearest first) is the optimal
    order where the state's total is at most ``bound``; -1 elsewhere (never reached under the policy).
    """

    cost: float
    order: np.ndarray
    bound: int
    iterations: int


@cache
def lost_sales_dp(
    mean: float, lead_time: int, holding: float, underage: float, tol: float = 1e-6, margin: int = 2
) -> LostSalesSolution:
    """Optimal long-run cost per period of the lost-sales store with Poisson(``mean``) demand, 1 <= L <= 4.

    Relative value iteration over states ``x = (x0, ..., x_{L-1})`` (integer on-hand and pipeline) with
    ``V(x) = c(x0) + min_q E V((x0 - D)^+ + x1, x2, ..., x_{L-1}, q)`` and the period cost
    ``c(x0) = h E(x0 - D)^+ + p E(D - x0)^+``. The state space is truncated to totals at most ``bound``: the
    optimal backlog base-stock level for the same costs plus ``margin``, since the optimal lost-sales policy
    never raises the inventory position above that level (Morton 1969), so no reachable state is cut. Stops
    when the bounds on the average cost, min and max of ``V_new - V`` (Odoni 1969), are within ``tol``.
    """
    if not (isinstance(lead_time, int) and 1 <= lead_time <= 4):
        raise ValueError(f"lead_time={lead_time!r} must be an int in 1..4 (the state space grows as bound^L)")
    bound = base_stock_poisson(mean, lead_time, holding, underage)[0] + margin
    L = lead_time
    grids = np.meshgrid(*[np.arange(bound + 1)] * L, indexing="ij")
    states = np.stack([g.ravel() for g in grids], axis=1)
    states = states[states.sum(1) <= bound]
    index = np.full((bound + 1,) * L, -1, dtype=np.int64)
    index[tuple(states.T)] = np.arange(len(states))
    # post-decision tuples (x, q), grouped by state, q ascending
    room = bound - states.sum(1)
    owner = np.repeat(np.arange(len(states)), room + 1)
    q = np.arange(len(owner)) - np.repeat(np.cumsum(room + 1) - (room + 1), room + 1)
    post = np.concatenate([states[owner], q[:, None]], axis=1)
    # outcomes of the demand: leftover r = (x0 - D)^+ in 0..x0
    pmf = poisson_pmf(mean, bound)
    x0 = post[:, 0]
    term_owner = np.repeat(np.arange(len(post)), x0 + 1)
    r = np.arange(len(term_owner)) - np.repeat(np.cumsum(x0 + 1) - (x0 + 1), x0 + 1)
    y0 = x0[term_owner]
    prob = np.where(r == 0, 1.0 - np.concatenate([[0.0], np.cumsum(pmf)])[y0], pmf[y0 - r])
    nxt = post[term_owner, 1:].copy()
    nxt[:, 0] += r
    term_index = index[tuple(nxt.T)]
    post_starts = np.concatenate([[0], np.cumsum(x0 + 1)[:-1]])
    state_starts = np.concatenate([[0], np.cumsum(room + 1)[:-1]])
    k = np.arange(bound + 1)
    over = np.array([np.sum((s - k[: s + 1]) * pmf[: s + 1]) for s in k])  # E(x0 - D)^+
    cost = holding * over + underage * (over - (k - mean))
    stage = cost[states[:, 0]]
    value = np.zeros(len(states))
    for iteration in range(1, 100_000):  # noqa: B007  (reported)
        expected = np.add.reduceat(value[term_index] * prob, post_starts)
        new = stage + np.minimum.reduceat(expected, state_starts)
        diff = new - value
        value = new - new[0]
        if diff.max() - diff.min() < tol:
            break
    best = expected - np.repeat(np.minimum.reduceat(expected, state_starts), room + 1)
    choice = np.full(len(states), -1)
    first = np.flatnonzero(best <= 1e-12)  # the smallest optimal order of each state
    choice[owner[first][::-1]] = q[first][::-1]
    order = np.full(index.shape, -1, dtype=np.int64)
    order[tuple(states.T)] = choice
    return LostSalesSolution(float((diff.max() + diff.min()) / 2), order, bound, iteration)


@dataclass(frozen=True)
class EchelonSolution:
    """The optimum of a serial system with backlog: echelon base-stock levels (store first) and the expected
    cost per period in the env's accounting (pipeline stock is not charged)."""

    levels: tuple[float, ...]
    cost: float
    step: float  # grid step of the discretised demand (1 for Poisson: exact)


def _period_demand(demand: str, mean: float, std: float, truncate: bool, step: float):
    """One period's demand on the grid ``step * (first + i)``: (first, pmf). Poisson exactly (``step`` 1);
    normal by rounding to the nearest grid point, ``max(0, N)`` when ``truncate``."""
    if demand == "poisson":
        return 0, poisson_pmf(mean, int(mean + 12 * math.sqrt(mean) + 20))
    if std == 0:
        return round(mean / step), np.ones(1)
    low = 0 if truncate else math.floor((mean - 9 * std) / step)
    points = np.arange(low, math.ceil((mean + 9 * std) / step) + 1)
    edges = [NormalDist(mean, std).cdf((k + 0.5) * step) for k in points]
    cdf = np.array(edges)
    pmf = np.diff(np.concatenate([[0.0], cdf]))
    if not truncate:
        pmf[0] = cdf[0] - NormalDist(mean, std).cdf((low - 0.5) * step)
    return int(low), pmf / pmf.sum()


def _periods(first: int, pmf: np.ndarray, periods: int):
    """The demand over ``periods`` independent periods: (first, pmf) convolved ``periods`` times."""
    out_first, out = 0, np.ones(1)
    for _ in range(periods):
        out_first, out = out_first + first, np.convolve(out, pmf)
    return out_first, out


def serial_echelon_optimum(
    lead_times: list[int],
    holding: list[float],
    underage: float,
    *,
    demand: str = "poisson",
    mean: float = 5.0,
    std: float = 2.0,
    truncate: bool = True,
    step: float | None = None,
) -> EchelonSolution:
    """Optimal echelon base-stock levels and cost of a serial chain with backlog (Clark & Scarf 1960).

    Stages k = 1..K, the store first; ``lead_times[k]`` and ``holding[k]`` (installation holding cost H_k
    per unit of end-of-period stock, non-increasing upstream) belong to the goods flowing *into* stage k;
    ``underage`` is the store's backlog cost p. Stage k orders up to its echelon inventory position (all
    stock at or below k, and in transit to it). Writing the cost with echelon holding costs
    h_k = H_k - H_{k+1} and echelon net stock (Federgruen & Zipkin 1984), the exact recursion on the
    discretised demand (D^(n) = demand over n periods) is

    * ``C_1(y) = h_1 E(y - D^(L_1+1)) + (p + H_1) E(D^(L_1+1) - y)^+``, ``S_1 = argmin C_1``;
    * ``C_k(y) = h_k E(y - D^(L_k+1)) + E C_{k-1}(min(S_{k-1}, y - D^(a_k)))``, ``S_k = argmin C_k``,

    where ``a_k = max(L_k, 1)``: what arrives at stage k at the start of period t + L_k can be shipped on in
    that period, while a zero-lead arrival is only shipped from the next (the simulator's timing). Stock in
    transit to stage j costs the env nothing but costs H_{j+1} in the echelon accounting; its mean is
    ``L_j E D`` under any policy, so the env's optimal cost is ``C_K(S_K) - E D sum_j H_{j+1} L_j``. For
    K = 1 this is the single-store base-stock optimum. A level above the next stage's is lowered to it
    (echelon k's position never exceeds echelon k + 1's, so the policy is the same). Normal demand is
    rounded to a grid of ``step`` (default std / 40), which moves the levels by at most a step and the cost
    by O(step^2).
    """
    K = len(lead_times)
    if K < 1 or len(holding) != K:
        raise ValueError(f"lead_times and holding need one value per stage, got {lead_times!r}, {holding!r}")
    if any(not (isinstance(L, int) and L >= 0) for L in lead_times):
        raise ValueError(f"lead_times={lead_times!r} must be integers >= 0")
    echelon = [holding[k] - (holding[k + 1] if k + 1 < K else 0.0) for k in range(K)]
    if min(echelon) < 0 or underage <= 0:
        raise ValueError(
            f"holding={holding!r} must be >= 0 and non-increasing upstream, and underage={underage} > 0"
        )
    if demand not in ("poisson", "normal"):
        raise ValueError(f"demand={demand!r} must be 'poisson' or 'normal'")
    for name, value in (("mean", mean), ("std", std)):
        if not 0 <= value < math.inf:
            raise ValueError(f"{name}={value!r} must be a finite number >= 0")
    if step is not None and not 0 < step < math.inf:
        raise ValueError(f"step={step!r} must be None or a finite number > 0")
    step = 1.0 if demand == "poisson" else (step or max(std, 1e-9) / 40)
    first, pmf = _period_demand(demand, mean, std, truncate, step)
    unit_mean = float(np.dot(first + np.arange(len(pmf)), pmf))  # E D in grid steps
    # C_k is tabulated on grid indices lo..hi; lo leaves room for every upstream stage's demand draw.
    windows = [_periods(first, pmf, L + 1) for L in lead_times]
    shifts = [_periods(first, pmf, max(L, 1)) for L in lead_times]
    hi = sum(f + len(q) for f, q in windows) + 1
    lo = min(0, first * (sum(lead_times) + K)) - sum(f + len(q) for f, q in shifts[1:]) - 1
    grid = np.arange(lo, hi + 1)
    f1, q1 = windows[0]
    shortfall = np.maximum(f1 + np.arange(len(q1))[None, :] - grid[:, None], 0) @ q1  # E(D - y)^+, steps
    cost = step * (
        echelon[0] * (grid - unit_mean * (lead_times[0] + 1)) + (underage + holding[0]) * shortfall
    )
    levels = []
    for k in range(1, K + 1):
        best = int(np.argmax(cost <= cost.min() + 1e-7 * (1 + abs(cost.min()))))  # the smallest minimiser
        levels.append(int(grid[best]))
        if k == K:
            break
        clipped = np.where(grid >= grid[best], cost[best], cost)
        fk, qk = shifts[k]
        pad = max(0, -fk) + 1
        clipped = np.concatenate([clipped, np.full(pad, cost[best])])
        expected = np.convolve(clipped, qk, mode="valid")  # E C(min(S, y - D)) on a shifted grid
        start = grid[0] + len(qk) - 1 + fk
        grid = np.arange(start, start + len(expected))
        keep = grid <= hi
        grid, expected = grid[keep], expected[keep]
        cost = step * echelon[k] * (grid - unit_mean * (lead_times[k] + 1)) + expected
    for k in range(
        K - 2, -1, -1
    ):  # echelon k never holds more than echelon k + 1: same policy, tidier levels
        levels[k] = min(levels[k], levels[k + 1])
    credit = unit_mean * step * sum(holding[j + 1] * lead_times[j] for j in range(K - 1))
    return EchelonSolution(tuple(level * step for level in levels), float(cost.min() - credit), step)


# ---------------------------------------------------------------- agents


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
