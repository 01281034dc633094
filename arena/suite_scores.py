"""Task-suite scores from the match log: each agent's returns normalised between a low and a high reference
agent, per env and overall, with bootstrap intervals over episodes and the count of forfeited episodes (a pure
function of the log, like :mod:`arena.ratings`)."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from arena.ratings import check_bootstrap, check_log
from arena.results import MatchResult, Status

OVERALL = "overall"  # env_id of the suite row that averages over envs


@dataclass(frozen=True, kw_only=True)
class SuiteRow:
    """An agent's normalised score on one env of a task suite (``env_id == "overall"``: mean over envs).

    ``score`` is 0 at the low reference's mean return and 1 at the high reference's; ``[low, high]`` is its
    bootstrap interval. ``mean_return`` is in the env's units (NaN for the overall row, since returns of
    different envs do not add up); ``episodes`` counts the agent's episodes and ``forfeits`` those it
    forfeited (a status other than OK), both over all envs for the overall row.
    """

    agent: str
    env_id: str
    score: float
    low: float
    high: float
    mean_return: float
    episodes: int
    forfeits: int


class _Normalised(NamedTuple):
    """An agent's normalised score on one env and its bootstrap replicates."""

    score: float
    replicates: np.ndarray


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
    check_bootstrap(bootstrap, confidence)
    if low_ref == high_ref:
        raise ValueError(f"high_ref: {high_ref!r} is also low_ref; the two references must differ")
    returns: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    forfeits: dict[tuple[str, str], int] = defaultdict(int)  # (env, agent) -> forfeited episodes
    for result in sorted(check_log(results), key=lambda r: (r.env_id, r.seed, r.match_id)):
        if len(result.participants) != 1:
            raise ValueError(
                f"participants: suite episode {result.match_id!r} has {len(result.participants)}; "
                "must be exactly 1"
            )
        if result.env_id == OVERALL:
            raise ValueError(f"env_id: {OVERALL!r} is reserved for the mean over envs")
        (p,) = result.participants
        returns[result.env_id][p.agent].append(p.score)
        forfeits[result.env_id, p.agent] += p.status is not Status.OK

    rng = np.random.default_rng(seed)
    scores: dict[str, dict[str, _Normalised]] = {}  # env -> agent -> normalised score
    rows: list[SuiteRow] = []

    def add_row(
        agent: str, env_id: str, normalised: _Normalised, mean_return: float, episodes: int, forfeited: int
    ) -> None:
        quantiles = [(1 - confidence) / 2, (1 + confidence) / 2]
        low, high = np.nanquantile(normalised.replicates, quantiles)
        rows.append(
            SuiteRow(
                agent=agent,
                env_id=env_id,
                score=normalised.score,
                low=float(low),
                high=float(high),
                mean_return=mean_return,
                episodes=episodes,
                forfeits=forfeited,
            )
        )

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
            scores[env_id][agent] = _Normalised(score=score, replicates=normalised)
            add_row(
                agent,
                env_id,
                scores[env_id][agent],
                means[agent],
                len(by_agent[agent]),
                forfeits[env_id, agent],
            )

    env_ids = sorted(scores)
    everywhere = set.intersection(*(set(scores[e]) for e in env_ids)) if env_ids else set()
    for agent in sorted(everywhere):
        overall = _Normalised(
            score=float(np.mean([scores[e][agent].score for e in env_ids])),
            replicates=np.mean([scores[e][agent].replicates for e in env_ids], axis=0),
        )
        episodes = sum(len(returns[e][agent]) for e in env_ids)
        add_row(agent, OVERALL, overall, math.nan, episodes, sum(forfeits[e, agent] for e in env_ids))
    order = {env_id: i for i, env_id in enumerate([*env_ids, OVERALL])}
    return sorted(rows, key=lambda row: (order[row.env_id], -row.score, row.agent))
