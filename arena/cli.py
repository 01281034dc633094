"""The ``arena`` command line: list envs and agents, play episodes (and, as they land, train, bench, ...)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any, NoReturn

import gymnasium as gym
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

import agents
import arena
import envs
from agents.base import MANIFEST, AgentPackageError
from arena.episodes import play_episodes, summarize
from envs._core.registry import unknown_message

app = typer.Typer(
    help="pg-arena: RL tasks, policy-gradient agents and an arena that ranks them.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
console = Console()
errors = Console(stderr=True)


def fail(message: str) -> NoReturn:
    """Print one line to stderr and exit with status 2 (bad input)."""
    errors.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def parse_kwargs(pairs: list[str], option: str) -> dict[str, Any]:
    """``["k=v", ...]`` to a dict; each value is parsed as JSON when it parses, else kept as a string."""
    kwargs = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.isidentifier():
            fail(f"{option} {pair!r} must look like key=value (e.g. {option} tau=1e-4)")
        try:
            kwargs[key] = json.loads(raw)
        except json.JSONDecodeError:
            kwargs[key] = raw
    return kwargs


def _version(value: bool) -> None:
    if value:
        console.print(f"pg-arena {arena.__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """pg-arena: RL tasks, policy-gradient agents and an arena that ranks them."""


@app.command("envs")
def list_envs_command(
    domain: Annotated[str | None, typer.Option(help="Only this domain (e.g. motor).")] = None,
    kind: Annotated[str | None, typer.Option(help="Only 'single' or 'multi' agent envs.")] = None,
) -> None:
    """List the registered environments.

    Example: [bold]arena envs --domain motor[/]
    """
    if kind not in (None, "single", "multi"):
        fail(f"--kind {kind!r} is not allowed; use 'single' or 'multi'")
    records = envs.list_envs(domain=domain, kind=kind)
    if not records:
        where = " matching the filter" if domain or kind else ""
        console.print(f"No environments are registered{where} yet.")
        return
    table = Table(title=f"{len(records)} environments")
    for column in ("id", "domain", "agents", "action", "observation", "batched", "summary"):
        table.add_column(column, overflow="fold")
    for r in records:
        table.add_row(
            r.id,
            r.domain,
            "multi" if r.multi_agent else "single",
            r.action_kind,
            r.observation_kind,
            "yes" if r.batched else "",
            r.summary,
        )
    console.print(table)


@app.command("agents")
def list_agents_command(
    domain: Annotated[str | None, typer.Option(help="Only this domain (e.g. motor).")] = None,
) -> None:
    """List the built-in agents that rosters and [bold]arena play --agent[/] can name.

    Example: [bold]arena agents --domain motor[/]
    """
    table = Table(title="built-in agents")
    for column in ("name", "domain", "summary"):
        table.add_column(column, overflow="fold")
    for r in agents.list_agents(domain=domain):
        table.add_row(r.name, r.domain, r.summary)
    console.print(table)


@app.command("play")
def play_command(
    env_id: Annotated[str, typer.Argument(help="A single-agent env id, e.g. arena/DCMotorSpeed-v0.")],
    agent: Annotated[
        str, typer.Option(help="A built-in agent name or an agent package directory.")
    ] = "random",
    episodes: Annotated[int, typer.Option(min=1, help="Number of episodes.")] = 10,
    seed: Annotated[int, typer.Option(help="Episode k is seeded with seed + k.")] = 0,
    env_kwarg: Annotated[
        list[str] | None,
        typer.Option(help="An env constructor argument key=value (JSON values); repeatable."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Where to write the JSON summary [default: results/play/...].")
    ] = None,
) -> None:
    """Play episodes of a single-agent env with one agent; print return statistics and write a JSON summary.

    Example: [bold]arena play CartPole-v1 --agent random --episodes 20 --seed 0[/]
    """
    env_kwargs = parse_kwargs(env_kwarg or [], "--env-kwarg")
    env = _make_env(env_id, env_kwargs)
    player = _make_agent(agent, env)
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )
    with progress:
        task = progress.add_task(f"{agent} on {env_id}", total=episodes)
        results = play_episodes(
            env, player, episodes=episodes, seed=seed, on_episode=lambda _: progress.advance(task)
        )
    env.close()
    summary = {"env_id": env_id, "env_kwargs": env_kwargs, "agent": agent, "seed": seed, **summarize(results)}
    out = out or Path("results/play") / f"{_slug(env_id)}__{_slug(agent)}__seed{seed}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2))
    table = Table(title=f"{agent} on {env_id}, {episodes} episodes from seed {seed}")
    for column in ("return mean ± std", "min", "max", "mean length"):
        table.add_column(column, justify="right")
    table.add_row(
        f"{summary['return_mean']:.4g} ± {summary['return_std']:.3g}",
        f"{summary['return_min']:.4g}",
        f"{summary['return_max']:.4g}",
        f"{summary['length_mean']:.1f}",
    )
    console.print(table)
    console.print(f"summary written to {out}")


def _make_env(env_id: str, env_kwargs: dict[str, Any]) -> gym.Env:
    if env_id in {r.id for r in envs.list_envs(kind="multi")}:
        fail(f"{env_id!r} is a multi-agent game; play it in a tournament, not with 'arena play'")
    if env_id not in gym.registry:
        fail(unknown_message("env id", env_id, list(gym.registry)))
    try:
        return gym.make(env_id, **env_kwargs)
    except (ValueError, TypeError) as error:
        fail(f"cannot make {env_id!r}: {error}")


def _make_agent(name: str, env: gym.Env) -> agents.Agent:
    try:
        if (Path(name) / MANIFEST).is_file():
            return agents.load_agent(name, env)
        return agents.make(name, env)
    except agents.UnknownAgentError as error:
        fail(f"{error} (or give an agent package directory with an {MANIFEST})")
    except (AgentPackageError, ValueError) as error:
        fail(str(error))


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")
