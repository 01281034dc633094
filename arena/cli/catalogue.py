"""``arena envs``, ``arena agents``, ``arena scenarios`` and ``arena doctor``: what is registered or shipped,
and what this machine isolates."""

from __future__ import annotations

from typing import Annotated

import typer

import agents
import envs
from arena.cli.output import console, fail, table


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
    columns = ("id", "domain", "agents", "action", "observation", "batched", "summary")
    listing = table(f"{len(records)} environments", columns, overflow="fold")
    for r in records:
        listing.add_row(
            r.id,
            r.domain,
            "multi" if r.multi_agent else "single",
            r.action_kind,
            r.observation_kind,
            "yes" if r.batched else "",
            r.summary,
        )
    console.print(listing)


def list_agents_command(
    domain: Annotated[str | None, typer.Option(help="Only this domain (e.g. motor).")] = None,
) -> None:
    """List the built-in agents that rosters and [bold]arena play --agent[/] can name.

    Example: [bold]arena agents --domain motor[/]
    """
    listing = table("built-in agents", ("name", "domain", "summary"), overflow="fold")
    for r in agents.list_agents(domain=domain):
        listing.add_row(r.name, r.domain, r.summary)
    console.print(listing)


def list_learners_command() -> None:
    """List the learners [bold]arena train[/] runs, with what --steps counts for each.

    Example: [bold]arena learners[/]
    """
    listing = table("learners", ("name", "domain", "--steps counts", "default", "summary"), overflow="fold")
    for r in agents.list_learners():
        listing.add_row(r.name, r.domain, r.budget, f"{r.default_steps:,}", r.summary)
    console.print(listing)


def list_scenarios_command() -> None:
    """List the built-in scenarios that [bold]arena tournament NAME[/] plays, with their files (copy one to
    make your own).

    Example: [bold]arena scenarios[/], then [bold]arena tournament quickstart[/]
    """
    from arena.scenario import builtin_scenarios, outline

    listing = table("built-in scenarios", ("name", "kind", "plays", "file"), overflow="fold")
    for name, path in builtin_scenarios().items():
        listing.add_row(name, *outline(path), str(path))
    console.print(listing)


def doctor_command() -> None:
    """List the sandbox's isolation layers on this machine: which are active, and how (or why not).

    Agent packages (submissions, or `path =` agents in a scenario) run only when every layer is active,
    unless `--trust-agents` is given. Exit code 1 when a layer is missing.

    Example: [bold]arena doctor[/]
    """
    from arena.isolation import layers

    listing = table("sandbox layers for agent packages", ())
    for column in ("layer", "active", "how, or why not"):
        listing.add_column(column, no_wrap=column != "how, or why not")
    for layer in layers():
        listing.add_row(layer.name, "yes" if layer.active else "[red]no[/]", layer.detail)
    console.print(listing)
    if not all(layer.active for layer in layers()):
        raise typer.Exit(1)
