"""The ``arena`` command line: envs and agents, playing episodes, tournaments, leaderboards, submissions."""

from __future__ import annotations

import contextlib
import csv
import json
import re
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import gymnasium as gym
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
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


TrustOption = Annotated[
    bool,
    typer.Option(
        "--trust-agents",
        help="Run agent packages even where a sandbox layer is missing (see `arena doctor`): only for code "
        "you trust.",
    ),
]


def say_layers(trust_agents: bool) -> None:
    """One line on the sandbox's layers, printed before agent packages may run."""
    from arena.isolation import layers

    missing = [layer.name for layer in layers() if not layer.active]
    if not missing:
        console.print(f"sandbox for agent packages: all {len(layers())} layers active (`arena doctor`)")
    else:
        action = "runs them anyway (--trust-agents)" if trust_agents else "refuses them unless --trust-agents"
        console.print(f"[yellow]sandbox for agent packages: missing {', '.join(missing)}; {action}[/]")


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
    agent_kwarg: Annotated[
        list[str] | None,
        typer.Option(help="An agent constructor argument key=value (JSON values); repeatable."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Where to write the JSON summary (default: results/play/...).")
    ] = None,
    trust_agents: TrustOption = False,
) -> None:
    """Play episodes of a single-agent env with one agent; print return statistics and write a JSON summary.

    An agent package runs in the sandbox, as in a tournament.

    Example: [bold]arena play CartPole-v1 --agent random --episodes 20 --seed 0[/]
    """
    from arena.sandbox import AgentFailure

    env_kwargs = parse_kwargs(env_kwarg or [], "--env-kwarg")
    agent_kwargs = parse_kwargs(agent_kwarg or [], "--agent-kwarg")
    env = _make_env(env_id, env_kwargs)
    player = _make_agent(agent, env, agent_kwargs, trust_agents=trust_agents)
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )
    try:
        with progress:
            task = progress.add_task(f"{agent} on {env_id}", total=episodes)
            results = play_episodes(
                env, player, episodes=episodes, seed=seed, on_episode=lambda *_: progress.advance(task)
            )
    except AgentFailure as failure:
        fail(f"agent {agent!r} forfeits: {failure}")
    finally:
        if hasattr(player, "close"):
            player.close()
        env.close()
    summary = {
        "env_id": env_id,
        "env_kwargs": env_kwargs,
        "agent": agent,
        "agent_kwargs": agent_kwargs,
        "seed": seed,
        **summarize(results),
    }
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


def _make_agent(
    name: str, env: gym.Env, kwargs: dict[str, Any] | None = None, *, trust_agents: bool = False
) -> agents.Agent:
    """A built-in agent, or an agent package played in the sandbox (close it when done)."""
    from arena.sandbox import package_player

    kwargs = kwargs or {}
    try:
        if (Path(name) / MANIFEST).is_file():
            return package_player(name, env, kwargs, trust_agents=trust_agents)
        return agents.make(name, env, **kwargs)
    except agents.UnknownAgentError as error:
        fail(f"{error} (or give an agent package directory with an {MANIFEST})")
    except (AgentPackageError, ValueError) as error:
        fail(str(error))
    except TypeError as error:
        fail(f"bad agent arguments for {name!r}: {error}")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")


@app.command("train")
def train_command(
    algo: Annotated[str, typer.Argument(help="ppo, a2c or reinforce.")],
    env_id: Annotated[str, typer.Argument(help="Any Gymnasium id; batched envs are used when registered.")],
    steps: Annotated[int, typer.Option(min=1, help="Environment steps to train for.")] = 100_000,
    seed: Annotated[int, typer.Option(help="Seed of the run (same seed, same parameters on CPU).")] = 0,
    device: Annotated[str, typer.Option(help="'cpu', 'cuda' or 'auto' (CUDA when present).")] = "auto",
    out: Annotated[
        Path | None, typer.Option(help="Run directory (default: runs/<algo>-<env>-seed<S>).")
    ] = None,
    env_kwarg: Annotated[
        list[str] | None,
        typer.Option(help="An env constructor argument key=value (JSON values); repeatable."),
    ] = None,
) -> None:
    """Train a policy-gradient agent; the run directory (agent.toml, policy.pt, progress.csv, training.json)
    loads back as an agent with agents.load_agent and plays in tournaments.

    Example: [bold]arena train ppo CartPole-v1 --steps 150000 --seed 0 --out runs/ppo-cartpole[/]
    """
    from arena.training import ALGORITHMS, train

    if algo not in ALGORITHMS:
        fail(unknown_message("algorithm", algo, list(ALGORITHMS)))
    env_kwargs = parse_kwargs(env_kwarg or [], "--env-kwarg")
    _make_env(env_id, env_kwargs).close()  # one-line errors for unknown ids and bad kwargs
    out = out or Path("runs") / f"{algo}-{_slug(env_id)}-seed{seed}"
    try:
        train(
            algo,
            env_id,
            steps=steps,
            seed=seed,
            device=device,
            out=out,
            env_kwargs=env_kwargs,
            console=console,
        )
    except ValueError as error:
        fail(str(error))
    console.print(f"agent written to {out}; try: arena eval {out} {env_id}")


@app.command("eval")
def eval_command(
    agent_dir: Annotated[Path, typer.Argument(help="An agent package directory (e.g. from arena train).")],
    env_id: Annotated[str, typer.Argument(help="The env to evaluate on.")],
    episodes: Annotated[int, typer.Option(min=1, help="Number of episodes.")] = 10,
    seed: Annotated[int, typer.Option(help="Episode k is seeded with seed + k.")] = 0,
    deterministic: Annotated[
        bool | None, typer.Option("--deterministic/--stochastic", help="Override the agent's own setting.")
    ] = None,
    trust_agents: TrustOption = False,
) -> None:
    """Evaluate an agent package: return statistics, also written as JSON into the package directory.

    Example: [bold]arena eval runs/ppo-cartpole CartPole-v1 --episodes 100[/]
    """
    from arena.sandbox import AgentFailure
    from arena.training import evaluate

    _make_env(env_id, {}).close()
    try:
        summary = evaluate(
            agent_dir,
            env_id,
            episodes=episodes,
            seed=seed,
            deterministic=deterministic,
            trust_agents=trust_agents,
        )
    except (AgentPackageError, AgentFailure, ValueError, TypeError) as error:
        fail(str(error))
    out = agent_dir / f"eval-{_slug(env_id)}-seed{seed}.json"
    out.write_text(json.dumps(summary, indent=2))
    console.print(
        f"{summary['agent']} on {env_id}: return {summary['return_mean']:.4g} ± {summary['return_std']:.3g} "
        f"over {episodes} episodes (min {summary['return_min']:.4g}, max {summary['return_max']:.4g}); "
        f"written to {out}"
    )


BoardOption = Annotated[
    str, typer.Option("--board", help="Leaderboard name (under ./leaderboards or $PG_ARENA_HOME).")
]


@app.command("qd")
def qd_command(
    algorithm: Annotated[str, typer.Argument(help="me (MAP-Elites), pga_me or dcg_me.")],
    task: Annotated[
        str, typer.Argument(help="pointmaze, or a MuJoCo task such as walker2d_uni.")
    ] = "pointmaze",
    evals: Annotated[int, typer.Option(min=1, help="Episodes to evaluate in all (the budget).")] = 4000,
    seed: Annotated[int, typer.Option(help="Seed of the run (same seed, same archive).")] = 0,
    archive: Annotated[str, typer.Option(help="'grid' or 'cvt' (centroidal Voronoi cells).")] = "grid",
    episode_length: Annotated[
        int | None, typer.Option(min=1, help="Steps per episode (default: the task's literature length).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Run directory (default: runs/qd-<algorithm>-<task>).")
    ] = None,
    resume: Annotated[
        bool, typer.Option(help="Continue the run in --out up to --evals evaluations in all.")
    ] = False,
) -> None:
    """Grow a quality-diversity archive: QD-score, coverage and max fitness per iteration in progress.csv,
    checkpoint.pt (resumable), archive.png, and for DCG-ME distilled.pt, the descriptor-conditioned policy
    (play it: arena play arena/QDPointMaze-v0 --agent qd/distilled --agent-kwarg weights=OUT/distilled.pt
    --agent-kwarg 'target=\\[x, y]').

    Example: [bold]arena qd dcg_me pointmaze --evals 4000 --out runs/qd-dcg[/]
    """
    if algorithm not in ("me", "pga_me", "dcg_me"):
        fail(unknown_message("algorithm", algorithm, ["me", "pga_me", "dcg_me"]))
    _check_qd_task(task)
    out = out or Path("runs") / f"qd-{algorithm}-{task}"
    from agents.qd import run_qd

    try:
        run = run_qd(
            algorithm,
            task,
            evals,
            seed,
            archive=archive,
            out=out,
            resume=resume,
            episode_length=episode_length,
            progress=True,
            console=console,
        )
    except ValueError as error:
        fail(str(error))
    last = run.rows[-1]
    console.print(
        f"{algorithm} on {task}: qd_score {last['qd_score']:.1f}, coverage {last['coverage']:.3f}, "
        f"max_fitness {last['max_fitness']:.2f} after {last['evaluations']} evaluations; files in {out}"
    )


def _check_qd_task(task: str) -> None:
    """Exit with one line if ``task`` is not a QD task, or needs MuJoCo and MuJoCo is not installed."""
    import importlib.util

    from envs.qd.tasks import TASKS

    if task not in TASKS:
        fail(unknown_message("QD task", task, list(TASKS)))
    if TASKS[task].needs_mujoco and importlib.util.find_spec("mujoco") is None:
        fail(f"task {task!r} needs MuJoCo: pip install 'pg-arena[mujoco]'")


@app.command("tournament")
def tournament_command(
    scenario_file: Annotated[
        Path, typer.Argument(help="A scenario TOML file, e.g. scenarios/quickstart.toml.")
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

    Matches already stored are skipped, so a tournament that was killed resumes where it stopped.

    Example: [bold]arena tournament scenarios/quickstart.toml --board default --workers 2[/]
    """
    from arena.leaderboard import Board
    from arena.scenario import ScenarioError, load_scenarios

    try:
        scenarios = load_scenarios(scenario_file)
    except ScenarioError as error:
        fail(str(error))
    if backend not in ("local", "ray"):
        fail(f"--backend {backend!r} is not allowed; use 'local' or 'ray'")
    if any(entry.path for scenario in scenarios for entry in scenario.spec.agents):
        say_layers(trust_agents)
    played = stored = forfeits = replayed = 0
    try:
        with Board(board) as store:
            for scenario in scenarios:
                if not resume and store.match_ids(scenario.hash):
                    fail(f"board {board!r} already has matches of {scenario.name!r}; resume or pick another")
                summary = _run_with_progress(scenario, store, workers, backend, trust_agents)
                played, stored = played + summary.played, stored + summary.already_stored
                forfeits, replayed = forfeits + summary.forfeits, replayed + summary.replayed
            hashes = {scenario.hash for scenario in scenarios}
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

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("forfeits: {task.fields[forfeits]}"),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(f"{scenario.name}", total=0, forfeits=0)
        forfeits = [0]

        def on_schedule(total: int, stored: int) -> None:
            progress.update(task, total=(progress.tasks[0].total or 0) + total, advance=stored)

        def on_result(result) -> None:
            forfeits[0] += result.forfeited
            progress.update(task, advance=1, forfeits=forfeits[0])

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
    from arena.leaderboard import scenario_table

    for scenario in scenarios:
        rows = scenario_table(store, scenario)
        table = Table(title=f"{store.name} / {scenario['name']} ({scenario['kind']})")
        if scenario["kind"] == "match":
            for column in ("rank", "agent", "rating [95% CI]", "games", "W-D-L", "forfeits"):
                table.add_column(
                    column, justify="left" if column == "agent" else "right", no_wrap=column != "agent"
                )
            for rank, row in enumerate(rows, 1):
                table.add_row(
                    str(rank),
                    row["agent"],
                    f"{row['rating']:.0f} [{_bound(row['low'])}, {_bound(row['high'])}]",
                    str(row["games"]),
                    f"{row['wins']}-{row['draws']}-{row['losses']}",
                    str(row["forfeits"]),
                )
        else:
            env_ids = sorted({r["env_id"] for r in rows} - {"overall"})
            table.add_column("rank", justify="right")
            table.add_column("agent", min_width=max(len(r["agent"]) for r in rows))
            table.add_column("overall [95% CI]", justify="right", no_wrap=True)
            for env_id in env_ids:  # normalised score per env; details in the JSON/CSV
                table.add_column(env_id.removeprefix("arena/"), justify="right")
            score = {(r["agent"], r["env_id"]): r for r in rows}
            overall = sorted((r for r in rows if r["env_id"] == "overall"), key=lambda r: -r["score"])
            for rank, row in enumerate(overall, 1):
                cells = [f"{score[(row['agent'], e)]['score']:.3f}" for e in env_ids]
                interval = f"{row['score']:.3f} [{_bound(row['low'], 3)}, {_bound(row['high'], 3)}]"
                table.add_row(str(rank), row["agent"], interval, *cells)
        console.print(table if rows else f"{scenario['name']}: no table yet (matches still to be played)")


def _bound(value: float | None, decimals: int = 0) -> str:
    """An interval end; None means unbounded (too few games to bound it)."""
    return "?" if value is None else f"{value:.{decimals}f}"


def _write_tables(store) -> list[Path]:
    """Every scenario's table as JSON, CSV and an HTML page (with PNG plots) next to the board's database."""
    from arena.leaderboard import scenario_table
    from arena.report import write_board_html

    rows = [row for scenario in store.scenarios() for row in scenario_table(store, scenario)]
    json_path, csv_path = store.path.parent / "leaderboard.json", store.path.parent / "leaderboard.csv"
    json_path.write_text(json.dumps(rows, indent=2))
    with csv_path.open("w", newline="") as handle:
        fields = sorted(
            {key for row in rows for key in row}, key=lambda k: (k != "scenario", k != "agent", k)
        )
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return [json_path, csv_path, write_board_html(store, store.path.parent / "leaderboard.html")]


@app.command("leaderboard")
def leaderboard_command(
    board: BoardOption = "default",
    scenario: Annotated[str | None, typer.Option(help="Only this scenario (by name).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the rows as JSON.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print the rows as CSV.")] = False,
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write a self-contained HTML page (plots beside it).")
    ] = None,
) -> None:
    """Print a board's ranked tables, recomputed from its match log.

    Example: [bold]arena leaderboard --board default --json[/], or [bold]--html leaderboard.html[/]
    """
    from arena.leaderboard import Board, board_path, scenario_table
    from arena.report import write_board_html

    try:
        if not board_path(board).is_file():
            fail(f"no board {board!r} at {board_path(board)}; run a tournament first")
    except ValueError as error:
        fail(str(error))
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
        print(json.dumps(rows, indent=2))
    else:
        fields = sorted(
            {key for row in rows for key in row}, key=lambda k: (k != "scenario", k != "agent", k)
        )
        writer = csv.DictWriter(sys.stdout, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


@app.command("submit")
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
    from arena.sandbox import AgentFailure
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


@app.command("doctor")
def doctor_command() -> None:
    """List the sandbox's isolation layers on this machine: which are active, and how (or why not).

    Agent packages (submissions, or `path =` agents in a scenario) run only when every layer is active,
    unless `--trust-agents` is given. Exit code 1 when a layer is missing.

    Example: [bold]arena doctor[/]
    """
    from arena.isolation import layers

    table = Table(title="sandbox layers for agent packages")
    for column in ("layer", "active", "how, or why not"):
        table.add_column(column, no_wrap=column != "how, or why not")
    for layer in layers():
        table.add_row(layer.name, "yes" if layer.active else "[red]no[/]", layer.detail)
    console.print(table)
    if not all(layer.active for layer in layers()):
        raise typer.Exit(1)


@app.command("serve")
def serve_command(
    board: BoardOption = "default",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port on 127.0.0.1 (0: any free port).")] = 8000,
    refresh: Annotated[int, typer.Option(min=1, help="Seconds between the page's reloads.")] = 5,
) -> None:
    """Serve a board's leaderboard page on localhost, rebuilt from the match log on every request, and
    reloading itself: leave it open while a tournament runs.

    Example: [bold]arena serve --board default --port 8000[/]
    """
    import http.server
    import tempfile

    from arena.leaderboard import Board, board_path
    from arena.report import render_board

    try:
        if not board_path(board).is_file():
            fail(f"no board {board!r} at {board_path(board)}; run a tournament first")
    except ValueError as error:
        fail(str(error))
    plot_dir = Path(tempfile.mkdtemp(prefix="arena-serve-"))

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path not in ("/", "/index.html"):
                self.send_error(404)
                return
            with Board(board) as store:
                body = render_board(store, plot_dir, refresh_s=refresh).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    with http.server.HTTPServer(("127.0.0.1", port), Page) as server:  # one request at a time (pyplot)
        console.print(
            f"serving board {board!r} on http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C to stop)"
        )
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()


bench_app = typer.Typer(
    help="Benchmarks: each compares implementations in the same run and prints the device it ran on.",
    no_args_is_help=True,
)
app.add_typer(bench_app, name="bench")
BenchOut = Annotated[Path, typer.Option(help="Folder for the JSON results and plots.")]


@bench_app.command("motor")
def bench_motor_command(
    device: Annotated[str, typer.Option(help="'cpu', 'cuda' or 'auto'.")] = "auto",
    steps: Annotated[int, typer.Option(min=10, help="Steps timed per configuration.")] = 2000,
    out: BenchOut = Path("results/bench"),
) -> None:
    """Motor simulation: single env and batched steps/s (batch 1 to 16384), against gym-electric-motor when
    it is installed, plus a step-response plot.

    Example: [bold]arena bench motor --device auto[/]
    """
    from arena.bench.motor import run_motor_bench

    run_motor_bench(device=device, steps=steps, out_dir=out, console=console)


@bench_app.command("pg")
def bench_pg_command(
    env_id: Annotated[str, typer.Argument(help="CartPole-v1 or arena/DCMotorCurrent-v0.")] = "CartPole-v1",
    steps: Annotated[int, typer.Option(min=1000, help="Training steps for each side.")] = 150_000,
    device: Annotated[str, typer.Option(help="'cpu', 'cuda' or 'auto'.")] = "auto",
    seed: Annotated[int, typer.Option(help="Seed of both runs.")] = 0,
    out: BenchOut = Path("results/bench"),
) -> None:
    """Our PPO on the batched env against Stable-Baselines3's PPO (8 envs) with identical updates: training
    steps/s and wall time to a return threshold, with a learning-curve plot.

    Example: [bold]arena bench pg CartPole-v1 --steps 150000[/]
    """
    from arena.bench.pg import run_pg_bench

    try:
        run_pg_bench(env_id, steps=steps, device=device, out_dir=out, console=console, seed=seed)
    except ValueError as error:
        fail(str(error))


@bench_app.command("search")
def bench_search_command(
    seeds: Annotated[int, typer.Option(min=1, help="Training seeds per estimator.")] = 3,
    updates: Annotated[int, typer.Option(min=1, help="Policy updates per training run.")] = 60,
    steps: Annotated[int, typer.Option(min=100, help="Env steps timed per interface.")] = 6000,
    out: BenchOut = Path("results/bench"),
) -> None:
    """Search QA: env steps/s (text and structured), BM25 queries/s, and the learning curves of GRPO,
    Dr. GRPO, RLOO, SAN, SPO and EMPG side by side.

    Example: [bold]arena bench search --seeds 3[/]
    """
    from arena.bench.search import run_search_bench

    run_search_bench(seeds=tuple(range(seeds)), updates=updates, steps=steps, out_dir=out, console=console)


@bench_app.command("inventory")
def bench_inventory_command(
    device: Annotated[str, typer.Option(help="'cpu', 'cuda' or 'auto'.")] = "auto",
    budget: Annotated[float, typer.Option(min=1.0, help="Training seconds for each learner.")] = 60.0,
    out: BenchOut = Path("results/bench"),
) -> None:
    """Inventory: wall time to a 1 % optimality gap for HDPO against REINFORCE and PPO on the same setting,
    GNN vs MLP policies on warehouse + N stores, and the simulator's scenario-periods/s.

    Example: [bold]arena bench inventory --budget 60[/]
    """
    from arena.bench.inventory import run_inventory_bench

    run_inventory_bench(device=device, budget_s=budget, out_dir=out, console=console)


@bench_app.command("iot")
def bench_iot_command(
    tasks: Annotated[int, typer.Option(min=10, help="Tasks per episode in the scheduler table.")] = 1000,
    seeds: Annotated[int, typer.Option(min=1, help="Seeds per scheduler and scenario.")] = 3,
    decisions: Annotated[int, typer.Option(min=100, help="Decisions timed for decisions/s.")] = 30_000,
    policy: Annotated[Path | None, typer.Option(help="A trained PG scheduler package to include.")] = None,
    out: BenchOut = Path("results/bench"),
) -> None:
    """IoT scheduling: decisions/s under a heuristic and the PG policy, every scheduler on the standard
    scenarios (mean/p99 response, energy, SLA misses, utilisation) as CSV, and the energy-latency plot.

    Example: [bold]arena bench iot --seeds 3[/]
    """
    from arena.bench.iot import run_iot_bench

    run_iot_bench(
        tasks=tasks, seeds=seeds, decisions=decisions, policy_dir=policy, out_dir=out, console=console
    )


@bench_app.command("werewolf")
def bench_werewolf_command(
    games: Annotated[int, typer.Option(min=1, help="Games per agent kind.")] = 200,
    seed: Annotated[int, typer.Option(help="Seed of the first game.")] = 0,
    out: BenchOut = Path("results/bench"),
) -> None:
    """Werewolf: turns/s and games/s through the AEC API with scripted and random players, on one core.

    Example: [bold]arena bench werewolf --games 500[/]
    """
    from arena.bench.werewolf import run_werewolf_bench

    run_werewolf_bench(games=games, seed=seed, out_dir=out, console=console)


@bench_app.command("qd")
def bench_qd_command(
    task: Annotated[
        str, typer.Option(help="pointmaze, or a MuJoCo task such as walker2d_uni.")
    ] = "pointmaze",
    evals: Annotated[int, typer.Option(min=1, help="Evaluations per algorithm and seed.")] = 2000,
    seeds: Annotated[int, typer.Option(min=1, help="Seeds 0..K-1 per algorithm.")] = 3,
    episode_length: Annotated[
        int | None, typer.Option(min=1, help="Steps per episode (default: the task's literature length).")
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the results JSON here.")] = None,
    throughput: Annotated[
        bool, typer.Option(help="Also time the batched evaluator against the bare simulator loop.")
    ] = True,
    batch: Annotated[int, typer.Option(min=1, help="Policies per batch for the throughput part.")] = 128,
    out: BenchOut = Path("results/bench"),
) -> None:
    """Quality diversity: MAP-Elites, PGA-ME and DCG-ME at equal evaluations (final QD-score, coverage and max
    fitness per seed, QD-score curves in one plot), then the batched evaluator's evaluations/s against the
    bare simulator loop (raw MuJoCo steps) and a Gymnasium vector env on the same task.

    Example: [bold]arena bench qd --task walker2d_uni --evals 5000 --seeds 1 --episode-length 250[/]
    """
    _check_qd_task(task)
    from arena.bench.qd import run_qd_bench
    from arena.bench.qd_eval import run_qd_eval_bench

    try:
        run_qd_bench(
            task=task,
            evals=evals,
            seeds=seeds,
            json_out=json_out,
            out_dir=out,
            console=console,
            episode_length=episode_length,
        )
        if throughput:
            run_qd_eval_bench(
                task=task,
                batch=batch,
                out_dir=out,
                console=console,
                episode_length=episode_length or 200,
            )
    except ValueError as error:
        fail(str(error))


@bench_app.command("arena")
def bench_arena_command(
    games: Annotated[int, typer.Option(min=2, help="Games per in-process configuration (even).")] = 200,
    sandboxed_games: Annotated[int, typer.Option(min=2, help="Games with sandboxed seats (even).")] = 10,
    moves: Annotated[int, typer.Option(min=1, help="Moves timed for the sandbox round trip.")] = 2000,
    out: BenchOut = Path("results/bench"),
) -> None:
    """The arena: matches/s in-process vs sandboxed, sequential vs process pool vs Ray, and the sandbox's
    per-move round trip.

    Example: [bold]arena bench arena --games 200[/]
    """
    from arena.bench.arena import run_arena_bench

    try:
        run_arena_bench(
            games=games, sandboxed_games=sandboxed_games, moves=moves, out_dir=out, console=console
        )
    except ValueError as error:
        fail(str(error))
