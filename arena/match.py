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

Replays. Every result carries a replay (arena.results), recorded once the match is over and never shown to
an agent. Where the env has a text render (``render_mode="ansi"``, which the arena asks for unless the
scenario sets a render mode; agents still see the scenario's kwargs only), a game's replay holds its render
at the end (for Werewolf the public transcript: every announcement, speech and vote, in order) and each
seat's role from its final ``info`` (revealed once the game is over); an episode's replay holds its length,
how it ended and an :class:`EpisodeTrace`. Both are bounded in size, however long the match.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field, replace
from typing import Any

import gymnasium as gym
from gymnasium.envs.registration import load_env_creator

import envs
from agents import EnvSpaces
from arena.launch import start_player
from arena.players import AgentFailure, AgentRef, Limits, Player
from arena.results import REPLAY_KEY, MatchResult, Participant, Status, pack_replay

TEXT_RENDER = "ansi"  # the render mode whose output (text) a replay keeps
TRACE_ROWS = 16  # an episode's trace keeps at most this many evenly spaced steps, and its last
FRAME_CHARS = 4_000  # the text renders an episode's trace keeps, in characters all together
TRANSCRIPT_CHARS = 40_000  # a game's text render kept in its replay, in characters


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
    """Play the match and return its result, with its replay; agent failures become forfeits, never
    exceptions."""
    start = time.perf_counter()
    participants, replay = _play_game(spec) if spec.multi_agent else _play_episode(spec)
    return MatchResult(
        match_id=spec.match_id,
        scenario=spec.scenario,
        env_id=spec.task or spec.env_id,
        seed=spec.seed,
        participants=tuple(participants),
        duration_s=time.perf_counter() - start,
        extra={REPLAY_KEY: pack_replay(replay)},
    )


def _seed_of(spec: MatchSpec, seat: str) -> int:
    if seat not in spec.agent_seeds:
        raise ValueError(
            f"match {spec.match_id}: no agent seed for seat {seat!r} (have {sorted(spec.agent_seeds)})"
        )
    return spec.agent_seeds[seat]


def _play_episode(spec: MatchSpec) -> tuple[list[Participant], dict[str, Any]]:
    (ref,) = spec.roster
    seat = "agent"
    failure, player = None, None
    terminated = truncated = False
    with closing(_make_episode_env(spec)) as env:
        trace = EpisodeTrace(env.render if env.render_mode == TEXT_RENDER else None)
        try:
            player = start_player(ref, _episode_spaces(env, spec), spec.limits)
            shown = envs.agent_view(env, player)
            observation, info = env.reset(seed=spec.env_seed)
            player.reset(seed=_seed_of(spec, seat))
            while not (terminated or truncated):
                action = player.act(observation, shown(info))
                observation, reward, terminated, truncated, info = env.step(action)
                trace.step(float(reward))
        except AgentFailure as error:
            failure = error
        finally:
            if player is not None:
                player.close()
        replay = {"kind": "episode", "terminated": bool(terminated), "truncated": bool(truncated)}
        replay |= trace.summary()
    status, reason = (failure.status, failure.reason) if failure else (Status.OK, "")
    episode = Participant(
        agent=ref.label, seat=seat, team=ref.label, rank=0, score=trace.total, status=status, reason=reason
    )
    return [episode], replay


def _make_episode_env(spec: MatchSpec) -> gym.Env:
    """The suite entry's env, with the text render mode when it has one and the scenario sets no mode."""
    entry_point = gym.spec(spec.env_id).entry_point
    creator = load_env_creator(entry_point) if isinstance(entry_point, str) else entry_point
    modes = getattr(creator, "metadata", {}).get("render_modes", [])
    if "render_mode" in spec.env_kwargs or TEXT_RENDER not in modes:
        return gym.make(spec.env_id, **spec.env_kwargs)
    return gym.make(spec.env_id, **spec.env_kwargs, render_mode=TEXT_RENDER)


def _episode_spaces(env: gym.Env, spec: MatchSpec) -> EnvSpaces:
    """What the agent is told of its env: as the scenario made it, without a render mode the arena added."""
    spaces = EnvSpaces.of(env)
    if "render_mode" in spec.env_kwargs:
        return spaces
    return replace(spaces, env_kwargs={k: v for k, v in spaces.env_kwargs.items() if k != "render_mode"})


class EpisodeTrace:
    """An episode's return and length (``total``, ``length``) and a trace of it: the step number, reward and
    return so far at every ``stride``-th step and at the last, each with the env's text render after that
    step when ``render`` is given.

    The stride starts at 1 and doubles (every other row dropped) whenever more than ``TRACE_ROWS`` rows
    would be kept, so the rows stay evenly spaced whatever the episode's length, and an episode of L steps
    renders O(TRACE_ROWS log L) times. :meth:`summary` keeps as many evenly spaced renders as fit in
    ``FRAME_CHARS`` (at least the last, cut to that length).
    """

    def __init__(self, render: Callable[[], str | None] | None = None):
        self._render = render
        self.stride, self.length, self.total = 1, 0, 0.0
        self._rows: list[dict[str, Any]] = []
        self._reward = 0.0  # the last step's

    def step(self, reward: float) -> None:
        """Count one step that earned ``reward``."""
        self.length += 1
        self.total += reward
        self._reward = reward
        if self.length % self.stride == 0:
            self._rows.append(self._row())
            if len(self._rows) > TRACE_ROWS:
                self.stride *= 2
                self._rows = [row for row in self._rows if row["step"] % self.stride == 0]

    def _row(self) -> dict[str, Any]:
        row = {"step": self.length, "reward": self._reward, "return": self.total}
        frame = self._render() if self._render is not None else None
        return row if frame is None else {**row, "frame": str(frame)}

    def summary(self) -> dict[str, Any]:
        """``length``, ``stride`` and ``trace`` (the rows, the last step's included), as plain JSON data."""
        rows = list(self._rows)
        if self.length and (not rows or rows[-1]["step"] != self.length):
            rows.append(self._row())
        framed = [i for i, row in enumerate(rows) if "frame" in row]
        if framed:
            longest = max(len(rows[i]["frame"]) for i in framed)
            count = max(1, min(len(framed), FRAME_CHARS // max(longest, 1)))
            spacing = (len(framed) - 1) / max(count - 1, 1)
            kept = {framed[len(framed) - 1 - round(k * spacing)] for k in range(count)}  # the last first
            rows = [
                {**row, "frame": clip(row["frame"], FRAME_CHARS)}
                if i in kept
                else {key: value for key, value in row.items() if key != "frame"}
                for i, row in enumerate(rows)
            ]
        return {"length": self.length, "stride": self.stride, "trace": rows}


def clip(text: str, limit: int) -> str:
    """``text`` if it has at most ``limit`` characters, else its start and end around a note of the cut."""
    if len(text) <= limit:
        return text
    cut = len(text) - limit
    return f"{text[: limit // 2]}\n[... {cut} characters cut ...]\n{text[len(text) - limit // 2 :]}"


def _play_game(spec: MatchSpec) -> tuple[list[Participant], dict[str, Any]]:
    env = _make_game(spec)
    env.reset(seed=spec.env_seed)
    known_teams = {seat: env.infos[seat].get("team") for seat in env.possible_agents}
    roles = {seat: env.infos[seat].get("role") for seat in env.possible_agents}  # for the replay only
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
            roles[seat] = info.get("role", roles[seat])
            action = None
            if not (terminated or truncated):
                try:
                    action = players[seat].act(observation, shown[seat](info))
                except AgentFailure as error:
                    offender, failure = seat, error
                    break
            env.step(action)
        text = env.render() if getattr(env, "render_mode", None) == TEXT_RENDER else None
    finally:
        for player in players.values():
            player.close()
        env.close()
    labels = {seat: ref.label for seat, ref in seating}
    ranks = _forfeit_ranks(labels, labels[offender]) if offender is not None else _team_ranks(totals, teams)
    participants = [
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
    replay = {
        "kind": "game",
        "transcript": None if text is None else clip(str(text), TRANSCRIPT_CHARS),
        "roles": {seat: None if role is None else str(role) for seat, role in roles.items()},
    }
    return participants, replay


def _make_game(spec: MatchSpec) -> Any:
    """The game (PettingZoo AEC), with the text render mode when it has one and the scenario sets no mode."""
    env = envs.make_multi(spec.env_id, **spec.env_kwargs)
    if "render_mode" in spec.env_kwargs or TEXT_RENDER not in env.metadata.get("render_modes", []):
        return env
    env.close()
    return envs.make_multi(spec.env_id, **spec.env_kwargs, render_mode=TEXT_RENDER)


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
