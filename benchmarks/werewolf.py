"""``arena bench werewolf``: how fast the Werewolf game plays, and how often each side wins.

Games are played through the PettingZoo AEC API (``envs.make_multi("werewolf")``, order-enforcing wrapper
included) with one agent per seat; a *turn* is one ``env.step`` with a move. Measured in one run, on one CPU
core: turns/s and games/s with the scripted players (``werewolf/scripted``, balanced style), and the
villagers' and werewolves' win rates under scripted and random play with 95 % Wilson intervals. Writes
``werewolf.json`` to out_dir.
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
from benchmarks import BenchOut, benchmark
from benchmarks._machine import device_name


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


def run_werewolf_bench(
    *, games: int = 200, seed: int = 0, out_dir: Path = Path("results/bench"), console: Console | None = None
) -> dict[str, Any]:
    """Time ``games`` scripted games and ``games`` random games (default rules) on one CPU core, print the
    table, write ``werewolf.json`` in ``out_dir`` and return the numbers."""
    console = console or Console()
    torch.set_num_threads(1)
    results: dict[str, Any] = {
        "games": games,
        "seed": seed,
        "device": "cpu",
        "cpu": device_name(torch.device("cpu")),
    }
    for label, agent in (("scripted", "werewolf/scripted"), ("random", "random")):
        tally = play_werewolf(games, seed=seed, agent=agent)
        results[label] = {
            **asdict(tally),
            "turns_per_s": tally.turns / tally.seconds,
            "games_per_s": tally.games / tally.seconds,
            "villager_win_rate": tally.win_rate("villagers"),
            "werewolf_win_rate": tally.win_rate("werewolves"),
        }
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "werewolf.json").write_text(json.dumps(results, indent=2))
    _print(console, results)
    return results


def _print(console: Console, results: dict[str, Any]) -> None:
    table = Table(title=f"Werewolf, AEC API, one core of {results['cpu']} ({results['games']} games each)")
    for column in ("players", "turns/s", "games/s", "turns/game", "villagers win", "werewolves win"):
        table.add_column(column, justify="right")
    for label in ("scripted", "random"):
        row = results[label]

        def rate(key: str, row: dict = row) -> str:
            p, low, high = row[key]
            return f"{p:.1%} [{low:.1%}, {high:.1%}]"

        table.add_row(
            label,
            f"{row['turns_per_s']:,.0f}",
            f"{row['games_per_s']:,.1f}",
            f"{row['turns'] / row['games']:.1f}",
            rate("villager_win_rate"),
            rate("werewolf_win_rate"),
        )
    console.print(table)


@benchmark("werewolf")
def werewolf_command(
    games: Annotated[int, typer.Option(min=1, help="Games per agent kind.")] = 200,
    seed: Annotated[int, typer.Option(help="Seed of the first game.")] = 0,
    out: BenchOut = Path("results/bench"),
) -> None:
    """Werewolf: turns/s and games/s through the AEC API with scripted and random players, on one core.

    Example: [bold]arena bench werewolf --games 500[/]
    """
    run_werewolf_bench(games=games, seed=seed, out_dir=out, console=output.console)
