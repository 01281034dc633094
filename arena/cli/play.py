"""``arena play``, ``arena train``, ``arena eval`` and ``arena qd``: episodes, training runs, QD archives."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import gymnasium as gym
import typer
from rich.progress import TimeElapsedColumn

import agents
import envs
from agents import MANIFEST, AgentPackageError, slug
from arena.cli.options import TrustOption, check_qd_task, parse_kwargs
from arena.cli.output import console, fail, progress, table, write_json
from arena.episodes import play_episodes, summarize
from envs import unknown_message

EnvKwargOption = Annotated[
    list[str] | None,
    typer.Option(help="An env constructor argument key=value (JSON values); repeatable."),
]


def play_command(
    env_id: Annotated[str, typer.Argument(help="A single-agent env id, e.g. arena/DCMotorSpeed-v0.")],
    agent: Annotated[
        str, typer.Option(help="A built-in agent name or an agent package directory.")
    ] = "random",
    episodes: Annotated[int, typer.Option(min=1, help="Number of episodes.")] = 10,
    seed: Annotated[int, typer.Option(help="Episode k is seeded with seed + k.")] = 0,
    env_kwarg: EnvKwargOption = None,
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
    from arena.players import AgentFailure

    env_kwargs = parse_kwargs(env_kwarg or [], "--env-kwarg")
    agent_kwargs = parse_kwargs(agent_kwarg or [], "--agent-kwarg")
    env = _make_env(env_id, env_kwargs)
    player = _make_agent(agent, env, agent_kwargs, trust_agents=trust_agents)
    bar = progress(TimeElapsedColumn())
    try:
        with bar:
            task = bar.add_task(f"{agent} on {env_id}", total=episodes)
            results = play_episodes(
                env, player, episodes=episodes, seed=seed, on_episode=lambda *_: bar.advance(task)
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
    out = write_json(summary, out or Path("results/play") / f"{slug(env_id)}__{slug(agent)}__seed{seed}.json")
    stats = table(
        f"{agent} on {env_id}, {episodes} episodes from seed {seed}",
        ("return mean ± std", "min", "max", "mean length"),
        justify="right",
    )
    stats.add_row(
        f"{summary['return_mean']:.4g} ± {summary['return_std']:.3g}",
        f"{summary['return_min']:.4g}",
        f"{summary['return_max']:.4g}",
        f"{summary['length_mean']:.1f}",
    )
    console.print(stats)
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


def _check_trainable(env_id: str, env_kwargs: dict[str, Any]) -> None:
    """Exit with one line for an unknown env id or bad kwargs (single-agent ids and multi-agent games)."""
    if env_id not in {r.id for r in envs.list_envs(kind="multi")}:
        _make_env(env_id, env_kwargs).close()
        return
    try:
        envs.make_multi(env_id, **env_kwargs).close()
    except (ValueError, TypeError) as error:
        fail(f"cannot make {env_id!r}: {error}")


def _make_agent(
    name: str, env: gym.Env, kwargs: dict[str, Any] | None = None, *, trust_agents: bool = False
) -> agents.Agent:
    """A built-in agent, or an agent package played in the sandbox (close it when done)."""
    from arena.launch import package_player

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


def train_command(
    learner: Annotated[
        str, typer.Argument(help="A learner: arena learners lists them (ppo, hdpo, grpo, ...).")
    ],
    env_id: Annotated[
        str | None, typer.Argument(help="The env to train on (any Gymnasium id the learner trains on).")
    ] = None,
    suite: Annotated[
        str | None,
        typer.Option(help="Train on every env of this task suite instead (a built-in name or a file)."),
    ] = None,
    steps: Annotated[
        int | None, typer.Option(min=1, help="Budget, in the learner's unit (arena learners; default there).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the run (same seed, same parameters on CPU).")] = 0,
    device: Annotated[str, typer.Option(help="'cpu', 'cuda' or 'auto' (CUDA when present).")] = "auto",
    out: Annotated[
        Path | None, typer.Option(help="Package directory (default: runs/<learner>-<env or suite>-seed<S>).")
    ] = None,
    env_kwarg: EnvKwargOption = None,
    option: Annotated[
        list[str] | None,
        typer.Option(help="A learner option or hyperparameter key=value (JSON values); repeatable."),
    ] = None,
) -> None:
    """Train a learner into an agent package (agent.toml with the command that made it, weights,
    training.json, progress.csv) that agents.load_agent loads and tournaments play.

    Example: [bold]arena train ppo CartPole-v1 --steps 150000 --seed 0 --out runs/ppo-cartpole[/]

    Example: [bold]arena train hdpo --suite inventory --option policy=gnn --seed 0[/]
    """
    from arena.training import train, train_suite

    try:
        record = agents.learner(learner)
    except agents.UnknownLearnerError as error:
        fail(str(error))
    if (env_id is None) == (suite is None):
        fail("give an env id or --suite (one of them)")
    options = parse_kwargs(option or [], "--option")
    steps = steps or record.default_steps
    out = out or Path("runs") / f"{learner}-{slug(env_id or suite)}-seed{seed}"
    common = dict(steps=steps, seed=seed, device=device, out=out, console=console, **options)
    try:
        if suite is not None:
            if env_kwarg:
                fail("--env-kwarg: a suite gives each env its kwargs; drop --env-kwarg with --suite")
            train_suite(learner, suite, **common)
        else:
            env_kwargs = parse_kwargs(env_kwarg or [], "--env-kwarg")
            _check_trainable(env_id, env_kwargs)
            train(learner, env_id, env_kwargs=env_kwargs, **common)
    except ValueError as error:
        fail(str(error))
    console.print(f"agent written to {out}; try: arena eval {out} {env_id or '<env id>'}")


def eval_command(
    agent_dir: Annotated[Path, typer.Argument(help="An agent package directory (e.g. from arena train).")],
    env_id: Annotated[str, typer.Argument(help="The env to evaluate on.")],
    episodes: Annotated[int, typer.Option(min=1, help="Number of episodes.")] = 10,
    seed: Annotated[int, typer.Option(help="Episode k is seeded with seed + k.")] = 0,
    deterministic: Annotated[
        bool | None, typer.Option("--deterministic/--stochastic", help="Override the agent's own setting.")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="JSON file for the results (default: results/eval/<agent>-<env>-seed<S>.json)."),
    ] = None,
    trust_agents: TrustOption = False,
) -> None:
    """Evaluate an agent package: return statistics, also written as JSON (never into the package, whose
    content hash would change).

    Example: [bold]arena eval runs/ppo-cartpole CartPole-v1 --episodes 100[/]
    """
    from arena.players import AgentFailure
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
    default = Path("results/eval") / f"{slug(summary['agent'])}-{slug(env_id)}-seed{seed}.json"
    out = write_json(summary, out or default)
    console.print(
        f"{summary['agent']} on {env_id}: return {summary['return_mean']:.4g} ± {summary['return_std']:.3g} "
        f"over {episodes} episodes (min {summary['return_min']:.4g}, max {summary['return_max']:.4g}); "
        f"written to {out}"
    )


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
    check_qd_task(task)
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
