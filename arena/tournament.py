"""Tournaments: the schedule of a scenario, played on a local process pool or Ray, stored match by match.

Sides and seeds. In a game, a pairing (A, B) plays ``games_per_pairing`` games in mirrored couples: both
games of a couple use the same seed (so the same deal of roles), with the roster (A, B) in the first and
(B, A) in the second, so each agent plays each side (or seat) of every deal once (see arena.match, Seating).
All pairings use the same seeds (common random numbers). In a suite, every agent plays the same seeds on
each env.

These are logical seeds (``header.seed + k``): they name matches and results. The schedule turns each into
the seeds actually used, keyed by the board's secret (arena.seeding): the env's seed from the scenario, the
env and the logical seed (never the roster, so the common random numbers above hold), and one seed per seat
from the match id. The specs carry those, so a worker never needs the secret.

Resuming. Match ids are deterministic, so a tournament started again (after a crash or SIGKILL) skips the
matches already stored and plays only the rest: none is lost or played twice. A stored match is reused only
if it was played by the current versions of its env and agents (arena.versions, computed once per
tournament); otherwise it is replayed and its row replaced under the same id.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from multiprocessing import get_context

import envs
from arena import isolation, versions
from arena.leaderboard import Board
from arena.match import MatchSpec, match_id, play
from arena.players import AgentRef, Limits
from arena.results import MatchResult, Status
from arena.scenario import Scenario, task_labels
from arena.seeding import agent_seed, env_seed
from arena.versions import MatchVersions

BACKENDS = ("local", "ray")


@dataclass(frozen=True, kw_only=True)
class TournamentSummary:
    scheduled: int
    already_stored: int  # reused as they were (played by the current versions)
    played: int  # including the replayed ones
    forfeits: int
    replayed: int = 0  # stored matches played again because their env's or an agent's version changed


def agent_refs(scenario: Scenario) -> dict[str, AgentRef]:
    """The roster as AgentRefs keyed by label."""
    return {
        label: AgentRef(label=label, builtin=entry.name, path=entry.path, kwargs=dict(entry.kwargs))
        for label, entry in zip(scenario.labels, scenario.spec.agents, strict=True)
    }


def _identity(scenario: Scenario, label: str, ref: AgentRef) -> str:
    """What must not change under a label: a package's content, or a built-in's name and kwargs."""
    if ref.path:
        return scenario.package_hashes[label]
    built_in = json.dumps({"builtin": ref.builtin, "kwargs": ref.kwargs}, sort_keys=True)
    return hashlib.sha256(built_in.encode()).hexdigest()[:16]


def _limits(scenario: Scenario) -> Limits:
    header, sandbox = scenario.header, scenario.spec.sandbox
    return Limits(
        move_time_s=header.move_time_s,
        match_time_s=header.match_time_s,
        memory_mb=sandbox.memory_mb,
        max_processes=sandbox.max_processes,
        cpus=sandbox.cpus,
        gpu=sandbox.gpu,
    )


def _env_key(env_id: str, env_kwargs: dict) -> str:
    return f"{env_id}{json.dumps(env_kwargs, sort_keys=True)}"


def suite_schedule(scenario: Scenario, secret: bytes) -> list[MatchSpec]:
    """Every agent on every env of a task suite, episodes at logical seeds seed, seed + 1, ..."""
    header, refs, specs = scenario.header, agent_refs(scenario), []
    for env, task in zip(scenario.spec.envs, task_labels(scenario.spec.envs), strict=True):
        env_key = _env_key(env.id, env.kwargs)
        for label, ref in refs.items():
            for k in range(env.episodes or header.episodes):
                seed = header.seed + k
                mid = match_id(scenario.hash, env_key, [label], seed)
                specs.append(
                    MatchSpec(
                        match_id=mid,
                        scenario=scenario.hash,
                        env_id=env.id,
                        roster=(ref,),
                        seed=seed,
                        env_seed=env_seed(secret, scenario.hash, env_key, seed),
                        agent_seeds={"agent": agent_seed(secret, mid, "agent")},
                        multi_agent=False,
                        env_kwargs=env.kwargs,
                        limits=_limits(scenario),
                        task=task,
                    )
                )
    return specs


def game_seats(scenario: Scenario) -> list[str]:
    """The seats of a match scenario's game (its ``possible_agents``)."""
    env = envs.make_multi(scenario.header.env, **scenario.header.env_kwargs)
    try:
        return list(env.possible_agents)
    finally:
        env.close()


def pairing_games(
    scenario: Scenario, a: str, b: str, first_seed: int, *, secret: bytes, seats: list[str]
) -> list[MatchSpec]:
    """The mirrored games of one pairing (see the module docstring); ``seats`` from :func:`game_seats`."""
    header, refs, specs = scenario.header, agent_refs(scenario), []
    env_key = _env_key(header.env, header.env_kwargs)
    for game in range(header.games_per_pairing):
        roster = (a, b) if game % 2 == 0 else (b, a)
        seed = first_seed + game // 2
        mid = match_id(scenario.hash, header.env, list(roster), seed)
        specs.append(
            MatchSpec(
                match_id=mid,
                scenario=scenario.hash,
                env_id=header.env,
                roster=tuple(refs[label] for label in roster),
                seed=seed,
                env_seed=env_seed(secret, scenario.hash, env_key, seed),
                agent_seeds={seat: agent_seed(secret, mid, seat) for seat in seats},
                multi_agent=True,
                env_kwargs=header.env_kwargs,
                limits=_limits(scenario),
            )
        )
    return specs


def pairings(scenario: Scenario) -> list[tuple[str, str]]:
    """Round robin: every pair of the roster; gauntlet: every agent against the reference."""
    labels = list(scenario.labels)
    if scenario.header.format == "gauntlet":
        reference = scenario.header.reference
        return [(reference, label) for label in labels if label != reference]
    return list(itertools.combinations(labels, 2))


def swiss_pairings(
    labels: list[str], results: list[MatchResult], played: set[frozenset]
) -> list[tuple[str, str]]:
    """Pair agents with close points (per game: 1 to the sole agent holding the best rank, 0.5 each when
    several share it, 0 otherwise), avoiding rematches where possible; an odd agent out sits the round out.
    Results of agents no longer in ``labels`` are ignored."""
    points = dict.fromkeys(labels, 0.0)
    for result in results:
        best = min(p.rank for p in result.participants)
        leaders = {p.agent for p in result.participants if p.rank == best}
        for label in leaders & points.keys():
            points[label] += 1.0 / len(leaders)
    waiting = sorted(labels, key=lambda label: (-points[label], label))
    chosen = []
    while len(waiting) >= 2:
        a = waiting.pop(0)
        b = next((x for x in waiting if frozenset((a, x)) not in played), waiting[0])
        waiting.remove(b)
        chosen.append((a, b))
    return chosen


def run_tournament(
    scenario: Scenario,
    board: Board,
    *,
    workers: int = 1,
    backend: str = "local",
    trust_agents: bool = False,
    on_result: Callable[[MatchResult], None] | None = None,
    on_schedule: Callable[[int, int], None] | None = None,
) -> TournamentSummary:
    """Play every match of the scenario not yet on the board, or stored from other versions of its env or
    agents, storing each as it finishes.

    ``on_schedule(total, already_stored)`` is called when a batch of matches is known (once, or once per Swiss
    round), ``on_result`` after each stored match. Agent packages run in every layer of the sandbox; where
    a layer is missing the tournament is refused (ValueError) unless ``trust_agents`` (the user's
    ``--trust-agents``), which runs them without (``Limits.confined=False``).
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend={backend!r} is not allowed; allowed: {', '.join(BACKENDS)}")
    if workers < 1:
        raise ValueError(f"workers={workers} must be >= 1")
    packages = [label for label, ref in agent_refs(scenario).items() if ref.path]
    confined = isolation.confine_packages(packages, trust_agents)
    board.add_scenario(
        scenario.hash, scenario.name, scenario.kind, scenario.source, scenario.spec.model_dump()
    )
    for label, ref in agent_refs(scenario).items():
        board.add_agent(
            label, ref.path or f"builtin:{ref.builtin}", content_hash=_identity(scenario, label, ref)
        )
    versions_of = _versions(scenario)
    totals = dict.fromkeys(("scheduled", "already_stored", "played", "forfeits", "replayed"), 0)

    def play_batch(specs: list[MatchSpec]) -> None:
        stored = board.match_versions(scenario.hash)
        todo = [spec for spec in specs if stored.get(spec.match_id) != versions_of(spec)]
        if not confined:
            todo = [replace(spec, limits=replace(spec.limits, confined=False)) for spec in todo]
        replays = {spec.match_id for spec in todo if spec.match_id in stored}
        wanted = {spec.match_id: versions_of(spec) for spec in todo}
        totals["scheduled"] += len(specs)
        totals["already_stored"] += len(specs) - len(todo)
        if on_schedule:
            on_schedule(len(specs), len(specs) - len(todo))
        for result in _execute(todo, workers=workers, backend=backend):
            replay = result.match_id in replays
            if board.record(result, wanted[result.match_id], overwrite=replay):
                totals["played"] += 1
                totals["replayed"] += replay
                totals["forfeits"] += sum(p.status is not Status.OK for p in result.participants)
            if on_result:
                on_result(result)

    secret = board.secret
    if scenario.kind == "suite":
        play_batch(suite_schedule(scenario, secret))
    elif scenario.header.format == "swiss":
        seats = game_seats(scenario)
        for round_index in range(scenario.header.rounds):
            # Standings from earlier rounds only (told apart by their seeds), so a resumed run pairs the same.
            first_seed = scenario.header.seed + round_index * scenario.header.games_per_pairing
            earlier = [r for r in board.results(scenario.hash) if r.seed < first_seed]
            played = {frozenset(p.agent for p in r.participants) for r in earlier}
            round_pairs = swiss_pairings(list(scenario.labels), earlier, played)
            play_batch(
                [
                    spec
                    for a, b in round_pairs
                    for spec in pairing_games(scenario, a, b, first_seed, secret=secret, seats=seats)
                ]
            )
    else:
        seats = game_seats(scenario)
        play_batch(
            [
                spec
                for a, b in pairings(scenario)
                for spec in pairing_games(scenario, a, b, scenario.header.seed, secret=secret, seats=seats)
            ]
        )
    return TournamentSummary(**totals)


def _versions(scenario: Scenario) -> Callable[[MatchSpec], MatchVersions]:
    """The current versions of a match's env and agents, each hashed once for the whole tournament."""
    env_ids = [env.id for env in scenario.spec.envs] if scenario.kind == "suite" else [scenario.header.env]
    env_versions = {env_id: versions.env_version(env_id) for env_id in dict.fromkeys(env_ids)}
    refs = agent_refs(scenario)
    builtins = versions.builtin_agents_version() if any(not ref.path for ref in refs.values()) else None
    agent_versions = {
        label: versions.package_version(scenario.package_hashes[label]) if ref.path else builtins
        for label, ref in refs.items()
    }
    return lambda spec: MatchVersions(
        env=env_versions[spec.env_id], agents={ref.label: agent_versions[ref.label] for ref in spec.roster}
    )


def _execute(specs: list[MatchSpec], *, workers: int, backend: str) -> Iterable[MatchResult]:
    """Play matches, yielding results as they finish (in any order)."""
    if not specs:
        return
    if backend == "ray":
        yield from _execute_on_ray(specs, workers)
    elif workers == 1:
        from agents.pg import torch_threads

        with torch_threads(1):  # as each parallel worker does (_one_torch_thread)
            yield from map(play, specs)
    else:
        pool = ProcessPoolExecutor(
            max_workers=workers, mp_context=get_context("spawn"), initializer=_one_torch_thread
        )
        try:
            for future in as_completed([pool.submit(play, spec) for spec in specs]):
                yield future.result()
        finally:  # on an error (or an interrupt), drop the queued matches instead of playing them for nothing
            pool.shutdown(wait=True, cancel_futures=True)


def _one_torch_thread() -> None:
    """Matches run torch on one thread (in each parallel worker, and in the arena's process when it plays
    them itself): a match's agents act on one observation at a time, and more threads than free cores make
    OpenMP spin (an inventory GNN episode took minutes instead of a fraction of a second on a busy machine,
    and with two workers on two cores)."""
    import torch

    torch.set_num_threads(1)


def _execute_on_ray(specs: list[MatchSpec], workers: int) -> Iterable[MatchResult]:
    try:
        import ray
    except ModuleNotFoundError:
        raise ValueError("backend='ray' needs the ray extra: pip install -e '.[ray]'") from None
    if not ray.is_initialized():
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, _node_ip_address="127.0.0.1")
    # Matches go out in chunks (about four per worker) so that Ray's per-task cost is paid per chunk.
    size = max(1, len(specs) // (4 * workers))
    remote_play = ray.remote(_play_all)
    pending = [remote_play.remote(specs[i : i + size]) for i in range(0, len(specs), size)]
    while pending:
        done, pending = ray.wait(pending, num_returns=1)
        yield from ray.get(done[0])


def _play_all(specs: list[MatchSpec]) -> list[MatchResult]:
    _one_torch_thread()
    return [play(spec) for spec in specs]
