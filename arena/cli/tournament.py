"""``arena tournament``, ``arena leaderboard`` and ``arena submit``: play scenarios onto a board, show its
tables, add an agent package to it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import TextColumn, TimeRemainingColumn
from rich.table import Table

from agents import AgentPackageError
from arena.cli.options import BoardOption, TrustOption, check_board
from arena.cli.output import console, errors, fail, print_json, progress, say_layers, write_csv, write_json
from envs import unknown_message


def tournament_command(
    scenario: Annotated[
        str,
        typer.Argument(
            help="A built-in scenario's name (quickstart, werewolf, motor, ...: `arena scenarios`) or a "
            "scenario TOML file (a file that exists wins over a built-in of the same name)."
        ),
    ],
    board: BoardOption = "default",
    workers: Annotated[int, typer.Option(min=1, help="Matches played in parallel (local process pool).")] = 1,
    backend: Annotated[
        str, typer.Option(help="'local' (process pool) or 'ray' (needs the ray extra).")
    ] = "local",
    resume: Annotated[
        bool, typer.Option("--resume/--no-resume", help="Skip matches already on the board (the default).")
    ] = True,
    trust_agents: TrustOption = False,
) -> None:
    """Play a scenario (or each scenario of a collection file), store every match on a leaderboard, and print
    the ranked tables; JSON, CSV and an HTML page are written next to the board.

    Matches already stored are skipped, so a tournament that was killed resumes where it stopped. Boards live
    under $PG_ARENA_HOME, else ./leaderboards when there is one, else the user's data directory.

    Example: [bold]arena tournament quickstart --board default --workers 2[/], or [bold]arena tournament
    my_scenario.toml[/]
    """
    from arena.leaderboard import Board
    from arena.scenario import ScenarioError, find_scenario, load_scenarios
    from arena.submit import with_submissions

    try:
        scenarios = load_scenarios(find_scenario(scenario))
    except ScenarioError as error:
        fail(str(error))
    if backend not in ("local", "ray"):
        fail(f"--backend {backend!r} is not allowed; use 'local' or 'ray'")
    if any(entry.path for one in scenarios for entry in one.spec.agents):
        say_layers(trust_agents)
    played = stored = forfeits = replayed = 0
    try:
        with Board(board) as store:
            console.print(f"board {board!r}: {store.path}")
            scenarios = [with_submissions(one, store) for one in scenarios]
            for one in scenarios:
                if not resume and store.match_ids(one.hash):
                    fail(f"board {board!r} already has matches of {one.name!r}; resume or pick another")
                summary = _run_with_progress(one, store, workers, backend, trust_agents)
                played, stored = played + summary.played, stored + summary.already_stored
                forfeits, replayed = forfeits + summary.forfeits, replayed + summary.replayed
            hashes = {one.hash for one in scenarios}
            _print_tables(store, [s for s in store.scenarios() if s["hash"] in hashes])
            written = _write_tables(store)
    except ValueError as error:
        fail(str(error))
    console.print(
        f"{played} matches played ({replayed} of them replayed for a changed env or agent version), "
        f"{stored} already on board {board!r}, {forfeits} forfeits; "
        f"tables written to {', '.join(map(str, written))}"
    )


def _run_with_progress(scenario, store, workers: int, backend: str, trust_agents: bool):
    from arena.tournament import run_tournament

    bar = progress(TextColumn("forfeits: {task.fields[forfeits]}"), TextColumn("ETA"), TimeRemainingColumn())
    with bar:
        task = bar.add_task(f"{scenario.name}", total=0, forfeits=0)
        forfeits = [0]

        def on_schedule(total: int, stored: int) -> None:
            bar.update(task, total=(bar.tasks[0].total or 0) + total, advance=stored)

        def on_result(result) -> None:
            forfeits[0] += result.forfeited
            bar.update(task, advance=1, forfeits=forfeits[0])

        return run_tournament(
            scenario,
            store,
            workers=workers,
            backend=backend,
            trust_agents=trust_agents,
            on_result=on_result,
            on_schedule=on_schedule,
        )


def _print_tables(store, scenarios: list[dict]) -> None:
    """Each scenario's ranked table on the console, every column in view at the console's width: long names
    wrap, and a suite whose per-env scores do not fit beside its overall score gets them in further tables."""
    from arena.leaderboard import scenario_table

    for scenario in scenarios:
        rows = scenario_table(store, scenario)
        if not rows:
            console.print(f"{scenario['name']}: no table yet (matches still to be played)")
            continue
        title = f"{store.name} / {scenario['name']} ({scenario['kind']})"
        tables = _match_tables(title, rows) if scenario["kind"] == "match" else _suite_tables(title, rows)
        for table in tables:
            console.print(table)


def _ranked_table(title: str, columns: list[str], agent_width: int | None = None) -> Table:
    """A table whose ``agent`` column folds names longer than ``agent_width`` (None: than the console allows),
    whose interval columns (``[95% CI]``) never wrap, and whose other columns are right-aligned."""
    result = Table(title=title)
    for column in columns:
        if column == "agent":
            result.add_column(column, overflow="fold", min_width=8, max_width=agent_width)
        else:
            result.add_column(column, justify="right", no_wrap=column.endswith("[95% CI]"))
    return result


def _match_tables(title: str, rows: list[dict]) -> list[Table]:
    table = _ranked_table(title, ["rank", "agent", "rating [95% CI]", "games", "W-D-L", "forfeits"])
    for rank, row in enumerate(rows, 1):
        table.add_row(
            str(rank),
            row["agent"],
            f"{row['rating']:.0f} [{_bound(row['low'])}, {_bound(row['high'])}]",
            str(row["games"]),
            f"{row['wins']}-{row['draws']}-{row['losses']}",
            str(row["forfeits"]),
        )
    return [table]


def _suite_tables(title: str, rows: list[dict]) -> list[Table]:
    """The overall ranking with each env's normalised score beside it when that fits the console; else the
    ranking, then the per-env scores in as many tables as it takes to show every column."""
    score = {(r["agent"], r["env_id"]): r["score"] for r in rows}
    overall = sorted((r for r in rows if r["env_id"] == "overall"), key=lambda r: -r["score"])
    env_ids = sorted({r["env_id"] for r in rows} - {"overall"})

    def build(table_title: str, envs: list[str], with_overall: bool) -> Table:
        first = ["overall [95% CI]", "forfeits"] if with_overall else []
        columns = ["rank", "agent", *first, *(e.removeprefix("arena/") for e in envs)]
        table = _ranked_table(table_title, columns, agent_width=None if with_overall else 20)
        for rank, row in enumerate(overall, 1):
            interval = f"{row['score']:.3f} [{_bound(row['low'], 3)}, {_bound(row['high'], 3)}]"
            cells = [interval, str(row["forfeits"])] if with_overall else []
            table.add_row(str(rank), row["agent"], *cells, *(f"{score[(row['agent'], e)]:.3f}" for e in envs))
        return table

    def fits(table: Table) -> bool:  # at its natural width, with nothing wrapped
        return console.measure(table, options=console.options.update_width(10_000)).maximum <= console.width

    whole = build(title, env_ids, with_overall=True)
    if fits(whole):
        return [whole]
    tables = [build(title, [], with_overall=True)]
    chunk: list[str] = []
    for env_id in env_ids:
        if chunk and not fits(build("", [*chunk, env_id], with_overall=False)):
            tables.append(build(f"{title}: normalised score per env", chunk, with_overall=False))
            chunk = []
        chunk.append(env_id)
    return [*tables, build(f"{title}: normalised score per env", chunk, with_overall=False)]


def _bound(value: float | None, decimals: int = 0) -> str:
    """An interval end; None means unbounded (too few games to bound it)."""
    return "?" if value is None else f"{value:.{decimals}f}"


def _write_tables(store) -> list[Path]:
    """Every scenario's table as JSON, CSV and a self-contained HTML page next to the board's database."""
    from arena.leaderboard import scenario_table
    from arena.report import write_board_html

    rows = [row for scenario in store.scenarios() for row in scenario_table(store, scenario)]
    folder = store.path.parent
    json_path = write_json(rows, folder / "leaderboard.json")
    csv_path = folder / "leaderboard.csv"
    write_csv(rows, csv_path)
    return [json_path, csv_path, write_board_html(store, folder / "leaderboard.html")]


def leaderboard_command(
    board: BoardOption = "default",
    scenario: Annotated[str | None, typer.Option(help="Only this scenario (by name).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the rows as JSON.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print the rows as CSV.")] = False,
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write the board as one self-contained HTML page.")
    ] = None,
) -> None:
    """Print a board's ranked tables, recomputed from its match log.

    Example: [bold]arena leaderboard --board default --json[/], or [bold]--html leaderboard.html[/]
    """
    from arena.leaderboard import Board, scenario_table
    from arena.report import write_board_html

    check_board(board)
    with Board(board) as store:
        scenarios = [s for s in store.scenarios() if scenario is None or s["name"] == scenario]
        if scenario is not None and not scenarios:
            fail(unknown_message("scenario", scenario, [s["name"] for s in store.scenarios()]))
        if html is not None:
            errors.print(f"page written to {write_board_html(store, html)}")
        if not (as_json or as_csv):
            _print_tables(store, scenarios)
            return
        rows = [row for s in scenarios for row in scenario_table(store, s)]
    if as_json:
        print_json(rows)
    else:
        write_csv(rows)


def submit_command(
    directory: Annotated[Path, typer.Argument(help="An agent package directory (with agent.toml).")],
    board: BoardOption = "default",
    workers: Annotated[int, typer.Option(min=1, help="Matches played in parallel.")] = 1,
    trust_agents: TrustOption = False,
) -> None:
    """Check an agent package in a sandbox, add it to a board, and play its matches in the board's scenarios.

    Example: [bold]arena submit my_agents/bot --board default[/]
    """
    from arena.leaderboard import Board
    from arena.players import AgentFailure
    from arena.submit import submit

    say_layers(trust_agents)
    try:
        with Board(board) as store:
            submission = submit(directory, store, trust_agents=trust_agents)
            console.print(
                f"{submission.label} stored at {submission.stored_at} (content {submission.content_hash}); "
                f"probed on {', '.join(submission.probed_envs)}"
            )
            for scenario in submission.scenarios:
                _run_with_progress(scenario, store, workers, "local", trust_agents)
            _print_tables(
                store, [s for s in store.scenarios() if s["hash"] in {x.hash for x in submission.scenarios}]
            )
            _write_tables(store)
    except (AgentPackageError, AgentFailure, ValueError) as error:
        fail(str(error))
    if not submission.scenarios:
        console.print(f"no scenario on board {board!r} plays its envs yet; it will join those that do")
