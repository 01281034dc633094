"""Play one match: a multi-agent game (PettingZoo AEC) or one episode of a task suite.

A :class:`MatchSpec` holds everything a worker needs (it pickles, for process pools and Ray). Agents play
through :func:`arena.launch.start_player`: built-ins in-process, agent packages in a sandboxed process.

What an agent learns. Its observations; the public part of every ``info`` (``envs.public_info`` without the
env's ``envs.privileged_info_keys``; only a trusted in-process built-in whose player has
``uses_privileged_info`` gets the whole ``info``); and its own seat's seed from ``spec.agent_seeds``. The
env is reset with ``spec.env_seed``. Both are keyed by the board's secret (arena.seeding) and computed by
the tournament, so a worker never holds the secret; the logical seed ``spec.seed`` only names the result.

Seating. A game's roster lists its agents in side order. In a team game (every seat's reset info names its
``team`` and there are as many teams as agents) the i-th agent plays every seat of the i-th team in sorted
order, so a mirrored game (roster reversed, same env seed, so the same deal) swaps the sides exactly.
Otherwise seat k goes to agent k mod n, so a mirrored game swaps the seats.

Forfeits: when an agent fails (raises, times out, returns an invalid action, dies) the match ends there.
Every seat that agent plays is ranked last (the failing seat carries the status and reason); every other
seat shares first place, which is no result between them: ratings read a forfeited match only as the
offender losing to each other agent (arena.ratings), never as draws among the others. Scores are the
returns collected so far.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym

import envs
from agents import EnvSpaces
from arena.launch import start_player
from arena.players import AgentFailure, AgentRef, Limits, Player
from arena.results import MatchResult, Participant, Status


@dataclass(frozen=True, kw_only=True)
class MatchSpec:
    match_id: str
    scenario: str  # the scenario's hash
    env_id: str
    roster: tuple[AgentRef, ...]  # the agents in side order (see Seating); one agent for an episode
    seed: int  # the logical seed (``header.seed + k``): in the match id and the result, given to no one
    env_seed: int  # what the env is reset with: arena.seeding.env_seed
    agent_seeds: dict[str, int]  # seat -> what that seat's player is reset with: arena.seeding.agent_seed
    multi_agent: bool
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)
    task: str = ""  # a suite entry's name in results and tables (default: env_id)


def match_id(scenario_hash: str, env_id: str, roster: list[str], seed: int) -> str:
    """Deterministic id: the same scenario, env, roster (agent labels in side order) and seed, the same id."""
    key = "|".join([scenario_hash, env_id, str(seed), *roster])
    return hashlib.sha256(key.encode()).hexdigest()[:20]


def play(spec: MatchSpec) -> MatchResult:
    """Play the match and return its result; agent failures become forfeits, never exceptions."""
    start = time.perf_counter()
    participants = _play_game(spec) if spec.multi_agent else _play_episode(spec)
    return MatchResult(
        match_id=spec.match_id,
        scenario=spec.scenario,
        env_id=spec.task or spec.env_id,
        seed=spec.seed,
        participants=tuple(participants),
        duration_s=time.perf_counter() - start,
    )


def _seed_of(spec: MatchSpec, seat: str) -> int:
    if seat not in spec.agent_seeds:
        raise ValueError(
            f"match {spec.match_id}: no agent seed for seat {seat!r} (have {sorted(spec.agent_seeds)})"
        )
    return spec.agent_seeds[seat]


def _play_episode(spec: MatchSpec) -> list[Participant]:
    (ref,) = spec.roster
    seat = "agent"
    env = gym.make(spec.env_id, **spec.env_kwargs)
    total, failure, player = 0.0, None, None
    try:
        player = start_player(ref, EnvSpaces.of(env), spec.limits)
        shown = envs.agent_view(env, player)
        observation, info = env.reset(seed=spec.env_seed)
        player.reset(seed=_seed_of(spec, seat))
        done = False
        while not done:
            action = player.act(observation, shown(info))
            observation, reward, terminated, truncated, info = env.step(action)
            total += float(reward)
            done = terminated or truncated
    except AgentFailure as error:
        failure = error
    finally:
        if player is not None:
            player.close()
        env.close()
    status, reason = (failure.status, failure.reason) if failure else (Status.OK, "")
    return [
        Participant(
            agent=ref.label, seat=seat, team=ref.label, rank=0, score=total, status=status, reason=reason
        )
    ]


def _play_game(spec: MatchSpec) -> list[Participant]:
    env = envs.make_multi(spec.env_id, **spec.env_kwargs)
    env.reset(seed=spec.env_seed)
    known_teams = {seat: env.infos[seat].get("team") for seat in env.possible_agents}
    seating = seat_agents(list(env.possible_agents), known_teams, spec.roster)
    totals = {seat: 0.0 for seat, _ in seating}
    teams = {seat: str(known_teams[seat] or seat) for seat, _ in seating}
    players: dict[str, Player] = {}
    offender: str | None = None  # the seat whose agent failed, if any
    failure: AgentFailure | None = None  # and how it failed
    try:
        # Start every seat's player first: sandboxed ones then build their agents in parallel.
        for seat, ref in seating:
            spaces = EnvSpaces(
                observation_space=env.observation_space(seat),
                action_space=env.action_space(seat),
                env_id=spec.env_id,
                env_kwargs=spec.env_kwargs,
            )
            try:
                players[seat] = start_player(ref, spaces, spec.limits)
            except AgentFailure as error:
                offender, failure = seat, error
                break
        shown = {seat: envs.agent_view(env, player) for seat, player in players.items()}
        for seat, _ in seating if offender is None else ():
            try:
                players[seat].reset(seed=_seed_of(spec, seat))
            except AgentFailure as error:
                offender, failure = seat, error
                break
        for seat in env.agent_iter() if offender is None else ():
            observation, reward, terminated, truncated, info = env.last()
            totals[seat] += float(reward)
            teams[seat] = str(info.get("team", teams[seat]))
            action = None
            if not (terminated or truncated):
                try:
                    action = players[seat].act(observation, shown[seat](info))
                except AgentFailure as error:
                    offender, failure = seat, error
                    break
            env.step(action)
    finally:
        for player in players.values():
            player.close()
        env.close()
    labels = {seat: ref.label for seat, ref in seating}
    ranks = _forfeit_ranks(labels, labels[offender]) if offender is not None else _team_ranks(totals, teams)
    return [
        Participant(
            agent=labels[seat],
            seat=seat,
            team=teams[seat],
            rank=ranks[seat],
            score=totals[seat],
            status=failure.status if seat == offender else Status.OK,
            reason=failure.reason if seat == offender else "",
        )
        for seat, _ in seating
    ]


def seat_agents(
    seats: list[str], teams: dict[str, str | None], roster: tuple[AgentRef, ...]
) -> list[tuple[str, AgentRef]]:
    """Who sits where (see Seating in the module docstring), in seat order."""
    names = sorted({team for team in teams.values() if team is not None})
    if None not in teams.values() and len(names) == len(roster):
        return [(seat, roster[names.index(teams[seat])]) for seat in seats]
    return [(seat, roster[k % len(roster)]) for k, seat in enumerate(seats)]


def _team_ranks(totals: dict[str, float], teams: dict[str, str]) -> dict[str, int]:
    """Dense ranks (0 best) of each seat's team by the team's mean return; tied teams share a rank."""
    members: dict[str, list[float]] = {}
    for seat, team in teams.items():
        members.setdefault(team, []).append(totals[seat])
    team_score = {team: sum(scores) / len(scores) for team, scores in members.items()}
    order = sorted(set(team_score.values()), reverse=True)
    return {seat: order.index(team_score[team]) for seat, team in teams.items()}


def _forfeit_ranks(labels: dict[str, str], offender: str) -> dict[str, int]:
    """Every seat the offending agent plays ranks last; all other seats share first place (not a draw: see
    the module docstring)."""
    return {seat: int(label == offender) for seat, label in labels.items()}
