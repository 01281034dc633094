"""``arena bench werewolf``: how often each side wins Werewolf between equal players, by roster size and rule.

Every seat plays ``werewolf/scripted`` (balanced style), so both sides have the same policy quality. For each
roster size (5..12 players unless ``--players`` says otherwise) and each rule variant of :data:`VARIANTS` (the
default rules, plurality voting with random tie-breaks, no doctor) it plays ``games_per_seed`` games for each
of ``--seeds``: seed s plays the games seeded ``s * SEED_BLOCK``, ``s * SEED_BLOCK + 1``, ... Each game gets
the env's default roster for its size (``envs.werewolf.game.ROSTERS``), or with ``--legacy-roster`` the one
every size had before (:data:`LEGACY_ROSTER`). Printed and written to ``werewolf.json`` in out_dir: the
villagers' win rate of every cell with its 95 % Wilson interval, and turns/s and games/s (games run through
the PettingZoo AEC API, order-enforcing wrapper included, in one process on one CPU core; a *turn* is one
``env.step`` with a move); plotted to ``werewolf.png``.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Any

import torch
import typer
from rich.console import Console
from rich.table import Table

from agents.stats import wilson_interval
from arena.cli import output
from benchmarks import EVALUATION_SEEDS, BenchOut, Seeds, benchmark, seeds_text
from benchmarks._machine import device_name
from envs.werewolf.game import Rules

VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},
    "plurality": {"vote_rule": "plurality", "tie_rule": "random"},
    "no doctor": {"num_doctors": 0},
}
"""The rule variants the table compares, as env arguments on top of the roster."""

LEGACY_ROSTER = {"num_werewolves": 2, "num_seers": 1, "num_doctors": 1, "doctor_self_protect": True}
"""The roster every game size had before ``ROSTERS``: 2 werewolves, a seer and a doctor who may protect
itself."""

ROSTER_SIZES = tuple(range(5, 13))
SEED_BLOCK = 1_000_000
"""Seed s plays the games seeded ``s * SEED_BLOCK`` onwards, so the games of different seeds never meet."""


@dataclass(frozen=True)
class WerewolfTally:
    """The outcome of a series of games: wins per side, draws, and the turns and seconds they took."""

    games: int
    villager_wins: int
    werewolf_wins: int
    draws: int
    turns: int
    seconds: float

    def win_rate(self, side: str) -> tuple[float, float, float]:
        """``side``'s win rate and its 95 % Wilson interval (low, high)."""
        wins = self.villager_wins if side == "villagers" else self.werewolf_wins
        return wins / self.games, *wilson_interval(wins, self.games)

    def __add__(self, other: WerewolfTally) -> WerewolfTally:
        """Both series together."""
        return WerewolfTally(
            *(a + b for a, b in zip(asdict(self).values(), asdict(other).values(), strict=True))
        )


def play_werewolf(
    games: int,
    *,
    seed: int = 0,
    agent: str = "werewolf/scripted",
    agent_kwargs: dict[str, Any] | None = None,
    env_kwargs: dict[str, Any] | None = None,
) -> WerewolfTally:
    """Play ``games`` games with the built-in ``agent`` in every seat; game k has seed ``seed + k`` and seat
    i's agent is reset with seed ``(seed + k) * num_players + i``."""
    import agents
    import envs
    from agents.base import EnvSpaces

    if games < 1:
        raise ValueError(f"games={games} must be >= 1")
    env_kwargs = dict(env_kwargs or {})
    env = envs.make_multi("werewolf", **env_kwargs)
    players = {
        name: agents.make(
            agent,
            EnvSpaces(env.observation_space(name), env.action_space(name), "werewolf", env_kwargs),
            **(agent_kwargs or {}),
        )
        for name in env.possible_agents
    }
    wins = {"villagers": 0, "werewolves": 0, None: 0}
    turns = 0
    start = time.perf_counter()
    for k in range(games):
        env.reset(seed=seed + k)
        for i, player in enumerate(players.values()):
            player.reset(seed=(seed + k) * len(players) + i)
        winner = None
        for name in env.agent_iter():
            observation, _, terminated, truncated, info = env.last()
            if terminated or truncated:
                winner = info["winner"]
                env.step(None)
            else:
                env.step(players[name].act(observation, info))
                turns += 1
        wins[winner] += 1
    seconds = time.perf_counter() - start
    return WerewolfTally(games, wins["villagers"], wins["werewolves"], wins[None], turns, seconds)


def play_seeds(seeds: tuple[int, ...], games_per_seed: int, **kwargs: Any) -> WerewolfTally:
    """``games_per_seed`` games for each of ``seeds`` (seed s: the games seeded from ``s * SEED_BLOCK``),
    played by :func:`play_werewolf` with ``kwargs``, tallied together."""
    if not seeds or games_per_seed > SEED_BLOCK:
        raise ValueError(f"seeds must not be empty and games_per_seed={games_per_seed} <= {SEED_BLOCK}")
    tallies = [play_werewolf(games_per_seed, seed=seed * SEED_BLOCK, **kwargs) for seed in seeds]
    return sum(tallies[1:], tallies[0])


def run_werewolf_bench(
    *,
    seeds: tuple[int, ...] = tuple(EVALUATION_SEEDS),
    games_per_seed: int = 100,
    players: tuple[int, ...] = ROSTER_SIZES,
    legacy_roster: bool = False,
    out_dir: Path = Path("results/bench"),
    console: Console | None = None,
) -> dict[str, Any]:
    """Play every cell (roster size x variant) with balanced scripted players on one CPU core, print the
    table, write ``werewolf.json`` and ``werewolf.png`` in ``out_dir`` and return the numbers."""
    console = console or Console()
    torch.set_num_threads(1)
    roster = LEGACY_ROSTER if legacy_roster else {}
    cells = []
    for n in players:
        for variant, rules in VARIANTS.items():
            env_kwargs = {"num_players": n, **roster, **rules}
            config = Rules(**env_kwargs)
            tally = play_seeds(seeds, games_per_seed, env_kwargs=env_kwargs)
            cells.append(
                {
                    "num_players": n,
                    "variant": variant,
                    "roles": config.role_counts,
                    "doctor_self_protect": config.doctor_self_protect,
                    **asdict(tally),
                    "villager_win_rate": tally.win_rate("villagers"),
                    "turns_per_s": tally.turns / tally.seconds,
                    "games_per_s": tally.games / tally.seconds,
                }
            )
    results = {
        "agent": "werewolf/scripted",
        "style": "balanced",
        "seeds": seeds_text(seeds),
        "games_per_seed": games_per_seed,
        "games_per_cell": games_per_seed * len(seeds),
        "legacy_roster": legacy_roster,
        "variants": VARIANTS,
        "device": "cpu",
        "cpu": device_name(torch.device("cpu")),
        "cells": cells,
    }
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "werewolf.json").write_text(json.dumps(results, indent=2))
    _plot(results, out_dir / "werewolf.png")
    _print(console, results)
    return results


def _roster_text(cell: dict[str, Any]) -> str:
    roles = cell["roles"]
    text = f"{roles['werewolf']}W {roles['seer']}S {roles['doctor']}D {roles['villager']}V"
    return text if cell["doctor_self_protect"] or not roles["doctor"] else f"{text}, no self-protect"


def _print(console: Console, results: dict[str, Any]) -> None:
    roster = "legacy rosters" if results["legacy_roster"] else "default rosters"
    table = Table(
        title=f"Werewolf: villagers' win rate [95 % Wilson], balanced scripted players, {roster}, "
        f"{results['games_per_cell']:,} games per cell (seeds {results['seeds']}), "
        f"one core of {results['cpu']}"
    )
    table.add_column("players", justify="right")
    table.add_column("roster (default rules)")
    for variant in VARIANTS:
        table.add_column(variant, justify="right")
    table.add_column("games/s", justify="right")
    for n in dict.fromkeys(cell["num_players"] for cell in results["cells"]):
        row = {cell["variant"]: cell for cell in results["cells"] if cell["num_players"] == n}
        rates = []
        for variant in VARIANTS:
            p, low, high = row[variant]["villager_win_rate"]
            rates.append(f"{p:.1%} [{low:.1%}, {high:.1%}]")
        table.add_row(str(n), _roster_text(row["default"]), *rates, f"{row['default']['games_per_s']:,.0f}")
    console.print(table)


def _plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.5))
    axes.axhspan(0.45, 0.55, color="0.9", label="0.45 to 0.55")
    for shift, variant in zip((-0.12, 0.0, 0.12), VARIANTS, strict=True):
        cells = [cell for cell in results["cells"] if cell["variant"] == variant]
        x = [cell["num_players"] + shift for cell in cells]
        p = [cell["villager_win_rate"][0] for cell in cells]
        error = [
            [cell["villager_win_rate"][0] - cell["villager_win_rate"][1] for cell in cells],
            [cell["villager_win_rate"][2] - cell["villager_win_rate"][0] for cell in cells],
        ]
        axes.errorbar(x, p, yerr=error, marker="o", capsize=3, label=variant)
    axes.set_xlabel("players")
    axes.set_ylabel("villagers' win rate (95 % Wilson)")
    axes.set_ylim(0, 1)
    roster = "legacy rosters" if results["legacy_roster"] else "default rosters"
    axes.set_title(f"Werewolf, balanced scripted players, {roster}, {results['games_per_cell']:,} games each")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


@benchmark("werewolf")
def werewolf_command(
    seeds: Seeds = "10-19",
    games_per_seed: Annotated[int, typer.Option(min=1, help="Games per seed in every cell.")] = 100,
    players: Annotated[
        list[int] | None, typer.Option(min=4, max=20, help="Roster sizes (rows); repeat. Default 5..12.")
    ] = None,
    legacy_roster: Annotated[
        bool, typer.Option(help="Every size: 2 werewolves, seer, self-protecting doctor (the old roster).")
    ] = False,
    out: BenchOut = Path("results/bench"),
) -> None:
    """Werewolf: the villagers' win rate between balanced scripted players by roster size and rule variant
    (default, plurality voting with random ties, no doctor), with 95 % Wilson intervals and games/s.

    Example: [bold]arena bench werewolf --seeds 10-19 --games-per-seed 100[/]
    """
    run_werewolf_bench(
        seeds=seeds,
        games_per_seed=games_per_seed,
        players=tuple(players or ROSTER_SIZES),
        legacy_roster=legacy_roster,
        out_dir=out,
        console=output.console,
    )
