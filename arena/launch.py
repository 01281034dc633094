"""Starting players: for a match (:func:`start_player`), for an agent package played on its own
(:func:`package_player`), and to check a submission (:func:`probe_agent`)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import gymnasium as gym

from agents import MANIFEST, AgentPackageError, EnvSpaces, read_manifest
from arena import isolation
from arena.players import DEFAULT_LIMITS, AgentFailure, AgentRef, InProcessPlayer, Limits, Player
from arena.sandbox import SandboxPlayer


def start_player(
    ref: AgentRef, spaces: EnvSpaces, limits: Limits = DEFAULT_LIMITS, *, sandbox: bool | None = None
) -> Player:
    """A player for ``ref``: in-process for a trusted built-in unless ``sandbox=True``, else sandboxed.

    A sandboxed player returns at once and builds the agent in the background (several players of a match
    start in parallel); a failure to build surfaces at its first ``reset``/``act``.
    """
    spaces = EnvSpaces.of(spaces)
    if sandbox is False and not ref.trusted:
        raise ValueError(
            f"sandbox=False: agent {ref.label!r} comes from a directory and always runs sandboxed"
        )
    if sandbox or not ref.trusted:
        return SandboxPlayer(ref, spaces, limits)
    return InProcessPlayer(ref, spaces, limits)


def package_player(
    directory: str | Path,
    env: gym.Env,
    kwargs: dict | None = None,
    *,
    trust_agents: bool = False,
    limits: Limits = DEFAULT_LIMITS,
) -> SandboxPlayer:
    """A sandboxed player for an agent package played outside a tournament (``arena play``, ``arena eval``):
    it has an agent's ``reset``/``act`` and a ``name`` (the manifest's), and must be closed. Raises
    AgentPackageError for a bad manifest and ValueError where a sandbox layer is missing and the user does
    not trust the agent (see :func:`arena.isolation.confine_packages`)."""
    directory = Path(directory).resolve()
    name = read_manifest(directory).name
    confined = isolation.confine_packages([name], trust_agents)
    ref = AgentRef(label=name, path=str(directory), kwargs=dict(kwargs or {}))
    return SandboxPlayer(ref, EnvSpaces.of(env), replace(limits, confined=confined))


def probe_agent(
    path: str | Path,
    env_ids: list[str] | None = None,
    limits: Limits = DEFAULT_LIMITS,
    *,
    files: str | Path | None = None,
) -> list[str]:
    """Check a submission: its ``agent.toml``, then, in a sandbox per env, that the agent builds, resets and
    answers the env's first observation (``reset(seed=0)``) with a valid action within ``limits``.

    Probes the manifest's ``envs`` (or ``env_ids``); a multi-agent id is probed with the first seat's
    observation and spaces. Returns the ids probed. Raises :class:`AgentPackageError` for a package that
    cannot be loaded (manifest, unknown env, import) and :class:`AgentFailure` for an agent that misbehaves;
    both messages start with the env id. ``files``: a copy of the package for the sandbox to read (messages
    still name ``path``).
    """
    directory = Path(path).resolve()
    manifest = read_manifest(directory)
    ids = list(manifest.envs if env_ids is None else env_ids)
    ref = AgentRef(label=manifest.name, path=str(Path(files).resolve() if files else directory))
    for env_id in ids:
        spaces, observation, info = _first_observation(env_id, directory)
        try:
            with SandboxPlayer(ref, spaces, limits) as player:
                player.reset(0)
                player.act(observation, info)
        except AgentFailure as failure:
            if failure.error_type == AgentPackageError.__name__:
                raise AgentPackageError(f"{env_id}: {failure.reason}") from None
            raise AgentFailure(failure.status, f"{env_id}: {failure.reason}", failure.error_type) from None
    return ids


def _first_observation(env_id: str, directory: Path) -> tuple[EnvSpaces, Any, dict]:
    """The spaces, first observation and info of ``env_id`` after ``reset(seed=0)`` (first seat if multi)."""
    import envs

    if env_id in {record.id for record in envs.list_envs(kind="multi")}:
        env = envs.make_multi(env_id)
        env.reset(seed=0)
        seat = env.agents[0]
        spaces = EnvSpaces(env.observation_space(seat), env.action_space(seat), env_id=env_id)
        result = spaces, env.observe(seat), envs.public_info(env.infos[seat], envs.privileged_info_keys(env))
    elif env_id in gym.registry:
        env = gym.make(env_id)
        observation, info = env.reset(seed=0)
        result = EnvSpaces.of(env), observation, envs.public_info(info, envs.privileged_info_keys(env))
    else:
        raise AgentPackageError(
            f"{directory / MANIFEST}: field 'envs': {env_id!r} is not a registered env "
            "(see `arena envs` for the ids)"
        )
    env.close()
    return result
