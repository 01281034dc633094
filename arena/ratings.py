"""Ratings from the match log: Bradley–Terry with bootstrap intervals, OpenSkill, and task-suite scores.

Everything here is a pure function of a sequence of :class:`~arena.results.MatchResult` records, so ratings
are always recomputed from the whole stored log and never depend on how a tournament got there.

- :func:`bradley_terry` fits P(i beats j) = sigmoid(s_i - s_j) by maximum likelihood on every informative
  pair of every match, where a seat's strength s is its agent's strength plus a *virtual side* strength for
  its team name (wolves/village, first/second player), so uneven sides do not leak into the agents' ratings.
  Intervals come from resampling whole matches (pairs inside one match are correlated) and refitting.
- :func:`openskill_ratings` runs OpenSkill's Plackett–Luce model over the log in order, with the same virtual
  side player added to every team.
Task-suite scores are in :mod:`arena.suite_scores`.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import NamedTuple

import numpy as np
from openskill.models import PlackettLuce

from arena.results import MatchResult, Status

ELO_PER_NAT = 400.0 / math.log(10.0)  # Elo points per unit of log-odds
ELO_ANCHOR = 1000.0  # mean rating of the agents with informative games
RIDGE = 1e-3  # L2 penalty on log-strengths: pins the free offsets; one game carries information ~0.25


@dataclass(frozen=True, kw_only=True)
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


@dataclass(frozen=True, kw_only=True)
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


class _Pair(NamedTuple):
    """One informative pair of seats: agent and side indices of each seat, and the first seat's points."""

    match: int
    first: int
    second: int
    first_side: int
    second_side: int
    score: float


def check_log(results: Sequence[MatchResult]) -> list[MatchResult]:
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
    log = check_log(results)
    agents = tuple(sorted({p.agent for r in log for p in r.participants}))
    sides = tuple(sorted({p.team for r in log for p in r.participants}))
    agent_index = {a: i for i, a in enumerate(agents)}
    side_index = {s: i for i, s in enumerate(sides)}
    pairs: list[_Pair] = []
    for m, result in enumerate(log):
        seats = result.participants
        for a, pa in enumerate(seats):
            for pb in seats[a + 1 :]:
                if pa.team == pb.team and pa.rank == pb.rank:
                    continue
                if pa.agent == pb.agent and pa.team == pb.team:
                    continue
                pairs.append(
                    _Pair(
                        match=m,
                        first=agent_index[pa.agent],
                        second=agent_index[pb.agent],
                        first_side=side_index[pa.team],
                        second_side=side_index[pb.team],
                        score=1.0 if pa.rank < pb.rank else 0.5 if pa.rank == pb.rank else 0.0,
                    )
                )

    def column(name: str, dtype: type) -> np.ndarray:
        return np.array([getattr(pair, name) for pair in pairs], dtype=dtype)

    return PairwiseOutcomes(
        agents=agents,
        sides=sides,
        match_ids=tuple(r.match_id for r in log),
        match=column("match", np.int64),
        first=column("first", np.int64),
        second=column("second", np.int64),
        first_side=column("first_side", np.int64),
        second_side=column("second_side", np.int64),
        score=column("score", float),
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


@dataclass
class _Record:
    """An agent's match counts, as in :class:`RatingRow`."""

    games: int = 0
    wins: int = 0
    draws: int = 0
    losses: int = 0
    forfeits: int = 0


def _match_records(log: list[MatchResult]) -> dict[str, _Record]:
    """Per agent: games, wins, draws, losses and forfeits."""
    records: dict[str, _Record] = defaultdict(_Record)
    for result in log:
        by_agent: dict[str, list] = defaultdict(list)
        for p in result.participants:
            by_agent[p.agent].append(p)
        for agent, seats in by_agent.items():
            record = records[agent]
            record.games += 1
            record.forfeits += any(p.status is not Status.OK for p in seats)
            my_teams = {p.team for p in seats}
            rivals = [p.rank for p in result.participants if p.team not in my_teams]
            if not rivals:  # alone, or on every team: no opponent to win or lose against
                continue
            mine, best_rival = min(p.rank for p in seats), min(rivals)
            if mine < best_rival:
                record.wins += 1
            elif mine == best_rival:
                record.draws += 1
            else:
                record.losses += 1
    return records


def percentile_interval(
    lows: np.ndarray, highs: np.ndarray, confidence: float
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval along axis 0: the low end from ``lows``, the high end from ``highs`` (replicates
    that may hold -inf / +inf; order statistics, no interpolation, so infinities stay exact)."""
    alpha = (1.0 - confidence) / 2.0
    low = np.quantile(lows, alpha, axis=0, method="inverted_cdf")
    high = np.quantile(highs, 1.0 - alpha, axis=0, method="inverted_cdf")
    return low, high


def check_bootstrap(bootstrap: int, confidence: float) -> None:
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
    check_bootstrap(bootstrap, confidence)
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
    low, high = percentile_interval(lows, highs, confidence)
    rating = np.where(informed, rating, ELO_ANCHOR)

    skill = openskill_ratings(log)
    records = _match_records(log)
    rows = [
        RatingRow(
            agent=agent,
            rating=float(rating[i]),
            low=float(low[i]),
            high=float(high[i]),
            **asdict(records[agent]),
            mu=skill[agent].mu,
            sigma=skill[agent].sigma,
        )
        for i, agent in enumerate(outcomes.agents)
    ]
    return sorted(rows, key=lambda row: (-row.rating, -row.low, row.agent))


class Skill(NamedTuple):
    """An OpenSkill rating: mean and standard deviation of the skill (OpenSkill's units)."""

    mu: float
    sigma: float


class _Player(NamedTuple):
    """Who is rated: an agent (``kind == "agent"``) or a team name's virtual side player (``"side"``)."""

    kind: str
    name: str


class _Group(NamedTuple):
    """The seats of one team that share a rank in one match."""

    rank: int
    team: str


def openskill_ratings(results: Sequence[MatchResult]) -> dict[str, Skill]:
    """OpenSkill Plackett–Luce (mu, sigma) per agent, processing the matches in the order given.

    Each match's teams are its team names, split by rank where a member forfeited; each team name also has a
    virtual side player, rated like an agent and placed with the team's best-ranked group, which absorbs the
    advantage of a side (larger team, first move). An agent seated in several groups of one match (self-play)
    takes the mean of its updated ratings. Side players are not returned.
    """
    check_log(results)
    model = PlackettLuce()
    ratings: dict[_Player, object] = {}

    def current(player: _Player):
        if player not in ratings:
            ratings[player] = model.rating(name=player.name)
        return ratings[player]

    for result in results:
        groups: dict[_Group, list[_Player]] = defaultdict(list)
        for p in result.participants:
            agent, group = _Player(kind="agent", name=p.agent), _Group(rank=p.rank, team=p.team)
            if agent not in groups[group]:
                groups[group].append(agent)
        for team in {p.team for p in result.participants}:
            best = min(group.rank for group in groups if group.team == team)
            groups[_Group(rank=best, team=team)].append(_Player(kind="side", name=team))
        order = sorted(groups)
        teams = [[current(player) for player in groups[group]] for group in order]
        updated = model.rate(teams, ranks=[group.rank for group in order])
        new: dict[_Player, list[tuple[float, float]]] = defaultdict(list)
        for group, team in zip(order, updated, strict=True):
            for player, rating in zip(groups[group], team, strict=True):
                new[player].append((rating.mu, rating.sigma))
        for player, values in new.items():
            mu, sigma = np.mean(values, axis=0)
            ratings[player] = model.rating(mu=float(mu), sigma=float(sigma), name=player.name)
    return {
        player.name: Skill(mu=rating.mu, sigma=rating.sigma)
        for player, rating in ratings.items()
        if player.kind == "agent"
    }
