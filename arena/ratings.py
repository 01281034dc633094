"""Ratings from the match log: Bradley–Terry with bootstrap intervals, OpenSkill, and task-suite scores.

Everything here is a pure function of a sequence of :class:`~arena.results.MatchResult` records, so ratings
are always recomputed from the whole stored log and never depend on how a tournament got there.

- :func:`bradley_terry` fits P(i beats j) = sigmoid(s_i - s_j) by maximum likelihood on every informative
  pair of every match, where a seat's strength s is its agent's strength plus a *virtual side* strength for
  its team name (wolves/village, first/second player), so uneven sides do not leak into the agents' ratings.
  Intervals come from resampling whole matches (pairs inside one match are correlated) and refitting.
- :func:`openskill_ratings` runs OpenSkill's Plackett–Luce model over the log in order, with the same virtual
  side player added to every team.
- :func:`suite_scores` normalises task-suite returns between a low and a high reference agent, per env and
  overall, with bootstrap intervals over episodes.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from openskill.models import PlackettLuce

from arena.results import MatchResult, Status

ELO_PER_NAT = 400.0 / math.log(10.0)  # Elo points per unit of log-odds
ELO_ANCHOR = 1000.0  # mean rating of the agents with informative games
RIDGE = 1e-3  # L2 penalty on log-strengths: pins the free offsets; one game carries information ~0.25
OVERALL = "overall"  # env_id of the suite row that averages over envs


@dataclass(frozen=True)
class RatingRow:
    """One agent's line of the leaderboard.

    ``rating`` is the Bradley–Terry strength on the Elo scale (400 points = 10:1 odds, mean of the rated
    agents 1000) with its bootstrap interval ``[low, high]``; an agent without any game against another agent
    gets 1000 with an infinite interval. ``wins``/``draws``/``losses`` compare the agent's rank with the best
    rank of the other teams in each match; ``forfeits`` counts matches where one of its seats did not end OK.
    ``mu``/``sigma`` are its OpenSkill Plackett–Luce rating, for reference.
    """

    agent: str
    rating: float
    low: float
    high: float
    games: int
    wins: int
    draws: int
    losses: int
    forfeits: int
    mu: float
    sigma: float


@dataclass(frozen=True)
class PairwiseOutcomes:
    """Every informative pair of seats in a log, as index arrays (one entry per pair).

    ``agents``, ``sides`` and ``match_ids`` are sorted, so the arrays do not depend on the order of the log.
    Pair k is seat (agent ``first[k]``, side ``first_side[k]``) against (agent ``second[k]``, side
    ``second_side[k]``) in match ``match[k]``; ``score[k]`` is 1 if the first seat ranked better, 0.5 for a
    tie and 0 if it ranked worse.
    """

    agents: tuple[str, ...]
    sides: tuple[str, ...]
    match_ids: tuple[str, ...]
    match: np.ndarray
    first: np.ndarray
    second: np.ndarray
    first_side: np.ndarray
    second_side: np.ndarray
    score: np.ndarray


def _check_log(results: Sequence[MatchResult]) -> list[MatchResult]:
    """Validate a match log and return it sorted by match id; ValueError names the offending field."""
    seen: set[str] = set()
    for result in results:
        if not isinstance(result, MatchResult):
            raise ValueError(f"results: expected MatchResult records, got {type(result).__name__}")
        if result.match_id in seen:
            raise ValueError(
                f"match_id: {result.match_id!r} appears twice in the log; each match counts once"
            )
        seen.add(result.match_id)
        if not result.participants:
            raise ValueError(f"participants: match {result.match_id!r} has none; at least one is required")
        for p in result.participants:
            if not isinstance(p.rank, int) or p.rank < 0:
                raise ValueError(f"rank: {p.rank!r} in match {result.match_id!r}; must be an integer >= 0")
            if not isinstance(p.status, Status):
                raise ValueError(
                    f"status: {p.status!r} in match {result.match_id!r}; "
                    f"must be one of {[s.value for s in Status]}"
                )
            if not math.isfinite(p.score):
                raise ValueError(f"score: {p.score!r} in match {result.match_id!r}; must be finite")
        for p in result.participants:
            # The offender's other seats lose with it; every other agent's seats must rank better.
            others = [q.rank for q in result.participants if q.status is Status.OK and q.agent != p.agent]
            if p.status is not Status.OK and others and p.rank <= max(others):
                raise ValueError(
                    f"rank: {p.agent!r} forfeited ({p.status.value}) in match {result.match_id!r} with rank "
                    f"{p.rank}; a forfeit must rank worse than every other agent's participants"
                )
    return sorted(results, key=lambda r: r.match_id)


def pairwise_outcomes(results: Sequence[MatchResult]) -> PairwiseOutcomes:
    """Break every match into pairs of seats: seats of different teams, or of one team with different ranks.

    Pairs of the same agent on the same side carry no information and are left out; the same agent on two
    sides (self-play) stays in, since it informs the side strengths.
    """
    log = _check_log(results)
    agents = tuple(sorted({p.agent for r in log for p in r.participants}))
    sides = tuple(sorted({p.team for r in log for p in r.participants}))
    agent_index = {a: i for i, a in enumerate(agents)}
    side_index = {s: i for i, s in enumerate(sides)}
    rows: list[tuple[int, int, int, int, int, float]] = []
    for m, result in enumerate(log):
        seats = result.participants
        for a, pa in enumerate(seats):
            for pb in seats[a + 1 :]:
                if pa.team == pb.team and pa.rank == pb.rank:
                    continue
                if pa.agent == pb.agent and pa.team == pb.team:
                    continue
                score = 1.0 if pa.rank < pb.rank else 0.5 if pa.rank == pb.rank else 0.0
                rows.append(
                    (
                        m,
                        agent_index[pa.agent],
                        agent_index[pb.agent],
                        side_index[pa.team],
                        side_index[pb.team],
                        score,
                    )
                )
    table = np.array(rows, dtype=float).reshape(-1, 6)
    ints = table[:, :5].astype(np.int64)
    return PairwiseOutcomes(
        agents=agents,
        sides=sides,
        match_ids=tuple(r.match_id for r in log),
        match=ints[:, 0],
        first=ints[:, 1],
        second=ints[:, 2],
        first_side=ints[:, 3],
        second_side=ints[:, 4],
        score=table[:, 5],
    )


class _Design:
    """Pairs grouped by (agent, agent, side, side): the Bradley–Terry likelihood's sufficient statistics."""

    def __init__(self, outcomes: PairwiseOutcomes):
        n_agents = len(outcomes.agents)
        self.n_agents = n_agents
        self.n_params = n_agents + len(outcomes.sides)
        columns = np.stack(
            [
                outcomes.first,
                outcomes.second,
                n_agents + outcomes.first_side,
                n_agents + outcomes.second_side,
            ],
            1,
        )
        self.columns, self.key = np.unique(columns, axis=0, return_inverse=True)
        self.key = self.key.ravel()
        self.signs = np.array([1.0, -1.0, 1.0, -1.0])
        self.pair_match = outcomes.match
        self.pair_score = outcomes.score
        self.n_matches = len(outcomes.match_ids)
        # Hessian entries each key touches: (row, column) of the 4 x 4 outer product, flattened.
        self.hessian_index = (self.columns[:, :, None] * self.n_params + self.columns[:, None, :]).ravel()
        self.hessian_sign = np.outer(self.signs, self.signs).ravel()

    def statistics(self, match_weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per key: comparisons n and points won w, each match counted ``match_weights[m]`` times."""
        weight = match_weights[self.pair_match]
        n = np.bincount(self.key, weights=weight, minlength=len(self.columns))
        w = np.bincount(self.key, weights=weight * self.pair_score, minlength=len(self.columns))
        return n, w

    def informed(self, n: np.ndarray) -> np.ndarray:
        """Which agents have at least one comparison with a different agent."""
        other = (self.columns[:, 0] != self.columns[:, 1]) & (n > 0)
        counts = np.bincount(self.columns[other, :2].ravel(), minlength=self.n_agents)
        return counts > 0

    def fit(self, n: np.ndarray, w: np.ndarray, *, tol: float = 1e-9, max_iter: int = 200) -> np.ndarray:
        """Maximise the ridge-penalised log-likelihood by Newton's method with step halving.

        Returns log-strengths: the agents' first, then the sides'.
        """
        theta = np.zeros(self.n_params)
        objective = self._objective(theta, n, w)
        for _ in range(max_iter):
            d = self._margin(theta)
            p = 1.0 / (1.0 + np.exp(-d))
            residual = w - n * p
            gradient = np.bincount(
                self.columns.ravel(),
                weights=(residual[:, None] * self.signs).ravel(),
                minlength=self.n_params,
            )
            gradient -= RIDGE * theta
            curvature = np.repeat(n * p * (1.0 - p), 16) * np.tile(self.hessian_sign, len(n))
            hessian = np.bincount(self.hessian_index, weights=curvature, minlength=self.n_params**2)
            hessian = hessian.reshape(self.n_params, self.n_params) + RIDGE * np.eye(self.n_params)
            step = np.linalg.solve(hessian, gradient)
            t = 1.0
            while True:
                candidate = theta + t * step
                value = self._objective(candidate, n, w)
                if value >= objective - 1e-12 or t < 1e-6:
                    break
                t /= 2.0
            theta, objective = candidate, value
            if np.max(np.abs(t * step)) < tol:
                break
        return theta

    def _margin(self, theta: np.ndarray) -> np.ndarray:
        return theta[self.columns] @ self.signs

    def _objective(self, theta: np.ndarray, n: np.ndarray, w: np.ndarray) -> float:
        d = self._margin(theta)
        log_likelihood = -(w * np.logaddexp(0.0, -d) + (n - w) * np.logaddexp(0.0, d)).sum()
        return float(log_likelihood - 0.5 * RIDGE * theta @ theta)


def _centred_fit(design: _Design, match_weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fit with each match counted ``match_weights[m]`` times; returns agents' and sides' log-strengths, each
    centred on its mean (agents: over those with a game against another agent), and that mask of agents."""
    n, w = design.statistics(match_weights)
    theta = design.fit(n, w)
    beta, gamma = theta[: design.n_agents], theta[design.n_agents :]
    informed = design.informed(n)
    if informed.any():
        beta = beta - beta[informed].mean()
    if len(gamma):
        gamma = gamma - gamma.mean()
    return beta, gamma, informed


def fit_bradley_terry(outcomes: PairwiseOutcomes) -> tuple[dict[str, float], dict[str, float]]:
    """Maximum-likelihood log-strengths (natural log-odds units) of the agents and of the virtual sides.

    Agents are centred on the mean of those with a game against another agent; sides on their own mean. The
    difference of two sides' strengths is the log-odds advantage of one side over the other, agents being
    equal.
    """
    design = _Design(outcomes)
    beta, gamma, _ = _centred_fit(design, np.ones(design.n_matches))
    return dict(zip(outcomes.agents, beta.tolist(), strict=True)), dict(
        zip(outcomes.sides, gamma.tolist(), strict=True)
    )


def _match_records(log: list[MatchResult]) -> dict[str, list[int]]:
    """Per agent: [games, wins, draws, losses, forfeits]."""
    records: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for result in log:
        by_agent: dict[str, list] = defaultdict(list)
        for p in result.participants:
            by_agent[p.agent].append(p)
        for agent, seats in by_agent.items():
            record = records[agent]
            record[0] += 1
            record[4] += any(p.status is not Status.OK for p in seats)
            my_teams = {p.team for p in seats}
            rivals = [p.rank for p in result.participants if p.team not in my_teams]
            if not rivals:  # alone, or on every team: no opponent to win or lose against
                continue
            mine, best_rival = min(p.rank for p in seats), min(rivals)
            record[1 if mine < best_rival else 2 if mine == best_rival else 3] += 1
    return records


def _interval(lows: np.ndarray, highs: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval along axis 0: the low end from ``lows``, the high end from ``highs`` (replicates
    that may hold -inf / +inf; order statistics, no interpolation, so infinities stay exact)."""
    alpha = (1.0 - confidence) / 2.0
    low = np.quantile(lows, alpha, axis=0, method="inverted_cdf")
    high = np.quantile(highs, 1.0 - alpha, axis=0, method="inverted_cdf")
    return low, high


def _check_bootstrap(bootstrap: int, confidence: float) -> None:
    if not isinstance(bootstrap, int) or bootstrap < 1:
        raise ValueError(f"bootstrap: {bootstrap!r}; must be an integer >= 1")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence: {confidence!r}; must be in (0, 1)")


def bradley_terry(
    results: Sequence[MatchResult], *, bootstrap: int = 200, seed: int = 0, confidence: float = 0.95
) -> list[RatingRow]:
    """Bradley–Terry ratings with bootstrap intervals, sorted best first.

    Ratings are recomputed from the whole log and do not depend on its order (the log is sorted by match
    id, OpenSkill included). Each bootstrap replicate resamples whole matches with replacement and refits; an
    agent that does not play another agent in a replicate counts as unbounded there (-inf for the low end,
    +inf for the high end), so an agent seen in very few matches gets an honest, possibly infinite, interval.
    Deterministic for a ``seed``.
    """
    _check_bootstrap(bootstrap, confidence)
    if not results:
        return []
    outcomes = pairwise_outcomes(results)
    log = sorted(results, key=lambda r: r.match_id)
    design = _Design(outcomes)

    def elo(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        beta, _, informed = _centred_fit(design, weights)
        return ELO_ANCHOR + ELO_PER_NAT * beta, informed

    rating, informed = elo(np.ones(design.n_matches))
    rng = np.random.default_rng(seed)
    lows = np.empty((bootstrap, design.n_agents))
    highs = np.empty((bootstrap, design.n_agents))
    for b in range(bootstrap):
        counts = np.bincount(rng.integers(0, design.n_matches, design.n_matches), minlength=design.n_matches)
        replicate, present = elo(counts.astype(float))
        lows[b] = np.where(present, replicate, -np.inf)
        highs[b] = np.where(present, replicate, np.inf)
    low, high = _interval(lows, highs, confidence)
    rating = np.where(informed, rating, ELO_ANCHOR)

    skill = openskill_ratings(log)
    records = _match_records(log)
    rows = [
        RatingRow(agent, float(rating[i]), float(low[i]), float(high[i]), *records[agent], *skill[agent])
        for i, agent in enumerate(outcomes.agents)
    ]
    return sorted(rows, key=lambda row: (-row.rating, -row.low, row.agent))


def openskill_ratings(results: Sequence[MatchResult]) -> dict[str, tuple[float, float]]:
    """OpenSkill Plackett–Luce (mu, sigma) per agent, processing the matches in the order given.

    Each match's teams are its team names, split by rank where a member forfeited; each team name also has a
    virtual side player, rated like an agent and placed with the team's best-ranked group, which absorbs the
    advantage of a side (larger team, first move). An agent seated in several groups of one match (self-play)
    takes the mean of its updated ratings. Side players are not returned.
    """
    _check_log(results)
    model = PlackettLuce()
    ratings: dict[tuple[str, str], object] = {}

    def current(key: tuple[str, str]):
        if key not in ratings:
            ratings[key] = model.rating(name=key[1])
        return ratings[key]

    for result in results:
        groups: dict[tuple[int, str], list[tuple[str, str]]] = defaultdict(list)
        for p in result.participants:
            if ("agent", p.agent) not in groups[p.rank, p.team]:
                groups[p.rank, p.team].append(("agent", p.agent))
        for team in {p.team for p in result.participants}:
            best = min(rank for rank, name in groups if name == team)
            groups[best, team].append(("side", team))
        order = sorted(groups)
        teams = [[current(key) for key in groups[group]] for group in order]
        updated = model.rate(teams, ranks=[rank for rank, _ in order])
        new: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
        for group, team in zip(order, updated, strict=True):
            for key, rating in zip(groups[group], team, strict=True):
                new[key].append((rating.mu, rating.sigma))
        for key, values in new.items():
            mu, sigma = np.mean(values, axis=0)
            ratings[key] = model.rating(mu=float(mu), sigma=float(sigma), name=key[1])
    return {name: (r.mu, r.sigma) for (kind, name), r in ratings.items() if kind == "agent"}


@dataclass(frozen=True)
class SuiteRow:
    """An agent's normalised score on one env of a task suite (``env_id == "overall"``: mean over envs).

    ``score`` is 0 at the low reference's mean return and 1 at the high reference's; ``[low, high]`` is its
    bootstrap interval. ``mean_return`` is in the env's units (NaN for the overall row, since returns of
    different envs do not add up); ``episodes`` counts the agent's episodes (all envs for the overall row).
    """

    agent: str
    env_id: str
    score: float
    low: float
    high: float
    mean_return: float
    episodes: int


def suite_scores(
    results: Sequence[MatchResult],
    *,
    low_ref: str,
    high_ref: str,
    bootstrap: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> list[SuiteRow]:
    """Reference-normalised task-suite scores per env and overall, with bootstrap intervals.

    Each result is one episode with one participant whose score is the episode return. Per env, an agent's
    normalised score is (its mean return - low_ref's) / (high_ref's - low_ref's); ``overall`` is the mean over
    the suite's envs, reported only for agents that played every env. A bootstrap replicate resamples each
    agent's episodes on each env (the references' too, and the same draw normalises everybody, so the
    references score exactly 0 and 1 in every replicate). Rows come per env (sorted, ``overall`` last), best
    first. Deterministic for a ``seed`` and independent of the order of ``results``.
    """
    _check_bootstrap(bootstrap, confidence)
    if low_ref == high_ref:
        raise ValueError(f"high_ref: {high_ref!r} is also low_ref; the two references must differ")
    returns: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for result in sorted(_check_log(results), key=lambda r: (r.env_id, r.seed, r.match_id)):
        if len(result.participants) != 1:
            raise ValueError(
                f"participants: suite episode {result.match_id!r} has {len(result.participants)}; "
                "must be exactly 1"
            )
        if result.env_id == OVERALL:
            raise ValueError(f"env_id: {OVERALL!r} is reserved for the mean over envs")
        (p,) = result.participants
        returns[result.env_id][p.agent].append(p.score)

    rng = np.random.default_rng(seed)
    scores: dict[str, dict[str, tuple[float, np.ndarray]]] = {}  # env -> agent -> (score, replicates)
    rows: list[SuiteRow] = []
    for env_id in sorted(returns):
        by_agent = returns[env_id]
        for field, ref in (("low_ref", low_ref), ("high_ref", high_ref)):
            if ref not in by_agent:
                raise ValueError(
                    f"{field}: {ref!r} has no episode on {env_id!r}; every env needs both references"
                )
        means = {agent: float(np.mean(r)) for agent, r in by_agent.items()}
        if means[high_ref] == means[low_ref]:
            raise ValueError(
                f"high_ref: {high_ref!r} has the same mean return as low_ref {low_ref!r} on {env_id!r} "
                f"({means[high_ref]}); the normalisation needs them to differ"
            )
        replicates = {}
        for agent in sorted(by_agent):
            episodes = np.asarray(by_agent[agent])
            draws = rng.integers(0, len(episodes), (bootstrap, len(episodes)))
            replicates[agent] = episodes[draws].mean(axis=1)
        span = means[high_ref] - means[low_ref]
        replicate_span = replicates[high_ref] - replicates[low_ref]
        scores[env_id] = {}
        for agent in sorted(by_agent):
            score = (means[agent] - means[low_ref]) / span
            with np.errstate(divide="ignore", invalid="ignore"):
                normalised = (replicates[agent] - replicates[low_ref]) / replicate_span
            scores[env_id][agent] = (score, normalised)
            low, high = np.nanquantile(normalised, [(1 - confidence) / 2, (1 + confidence) / 2])
            rows.append(
                SuiteRow(agent, env_id, score, float(low), float(high), means[agent], len(by_agent[agent]))
            )

    env_ids = sorted(scores)
    everywhere = set.intersection(*(set(scores[e]) for e in env_ids)) if env_ids else set()
    for agent in sorted(everywhere):
        score = float(np.mean([scores[e][agent][0] for e in env_ids]))
        normalised = np.mean([scores[e][agent][1] for e in env_ids], axis=0)
        low, high = np.nanquantile(normalised, [(1 - confidence) / 2, (1 + confidence) / 2])
        episodes = sum(len(returns[e][agent]) for e in env_ids)
        rows.append(SuiteRow(agent, OVERALL, score, float(low), float(high), math.nan, episodes))
    order = {env_id: i for i, env_id in enumerate([*env_ids, OVERALL])}
    return sorted(rows, key=lambda row: (order[row.env_id], -row.score, row.agent))
