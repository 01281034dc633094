"""The table of every environment pg-arena ships.

Single-agent ids are registered with Gymnasium under the namespace ``arena/`` (so ``gym.make("arena/...")``
and ``gym.make_vec`` work as usual); multi-agent games live in our own table and are built with
:func:`make_multi`. Both kinds also get an :class:`EnvRecord`, the tags that ``arena envs`` prints and that
the conformance suite checks against the real spaces.
"""

from __future__ import annotations

import difflib
import importlib
import weakref
from dataclasses import asdict, dataclass
from typing import Any, Literal

import gymnasium as gym

NAMESPACE = "arena"
SPACE_KINDS = ("Box", "Discrete", "MultiDiscrete", "MultiBinary", "Dict", "Tuple", "Text", "Graph")


@dataclass(frozen=True)
class EnvRecord:
    """What a user needs to know about an env before making it."""

    id: str
    domain: str
    multi_agent: bool
    action_kind: str
    observation_kind: str
    batched: bool
    summary: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _MultiAgentEntry:
    module: str  # a module exposing PettingZoo's env(**kwargs) and parallel_env(**kwargs)
    kwargs: dict[str, Any]


_RECORDS: dict[str, EnvRecord] = {}
_MULTI: dict[str, _MultiAgentEntry] = {}
_MADE: weakref.WeakKeyDictionary[Any, tuple[str, dict[str, Any]]] = weakref.WeakKeyDictionary()


class UnknownEnvError(KeyError):
    """An env id or name that is not registered; the message lists the closest known ones."""

    def __str__(self) -> str:
        return str(self.args[0])


def _check_kind(field: str, kind: str) -> None:
    if kind not in SPACE_KINDS:
        raise ValueError(f"{field}={kind!r} is not a space kind; allowed: {', '.join(SPACE_KINDS)}")


def register_single(
    id: str,
    entry_point: str,
    *,
    domain: str,
    summary: str,
    action_kind: str,
    observation_kind: str,
    max_episode_steps: int,
    vector_entry_point: str | None = None,
    kwargs: dict[str, Any] | None = None,
) -> None:
    """Register a single-agent env with Gymnasium (id ``arena/<Name>-v<k>``) and in our table."""
    if not id.startswith(f"{NAMESPACE}/"):
        raise ValueError(f"id={id!r} must start with '{NAMESPACE}/'")
    _check_kind("action_kind", action_kind)
    _check_kind("observation_kind", observation_kind)
    if id not in gym.registry:
        gym.register(
            id=id,
            entry_point=entry_point,
            vector_entry_point=vector_entry_point,
            max_episode_steps=max_episode_steps,
            kwargs=kwargs or {},
        )
    _RECORDS[id] = EnvRecord(
        id=id,
        domain=domain,
        multi_agent=False,
        action_kind=action_kind,
        observation_kind=observation_kind,
        batched=vector_entry_point is not None,
        summary=summary,
    )


def register_multi(
    name: str,
    module: str,
    *,
    domain: str,
    summary: str,
    action_kind: str,
    observation_kind: str,
    kwargs: dict[str, Any] | None = None,
) -> None:
    """Register a PettingZoo game: ``module`` exposes ``env(**kwargs)`` and ``parallel_env(**kwargs)``."""
    _check_kind("action_kind", action_kind)
    _check_kind("observation_kind", observation_kind)
    _MULTI[name] = _MultiAgentEntry(module=module, kwargs=dict(kwargs or {}))
    _RECORDS[name] = EnvRecord(
        id=name,
        domain=domain,
        multi_agent=True,
        action_kind=action_kind,
        observation_kind=observation_kind,
        batched=False,
        summary=summary,
    )


def unregister(id: str) -> None:
    """Remove an id from our table and from Gymnasium's registry (for tests and plug-ins)."""
    _RECORDS.pop(id, None)
    _MULTI.pop(id, None)
    gym.registry.pop(id, None)


def list_envs(domain: str | None = None, kind: Literal["single", "multi"] | None = None) -> list[EnvRecord]:
    """Every registered env, sorted by id, optionally only one domain or one kind."""
    if kind not in (None, "single", "multi"):
        raise ValueError(f"kind={kind!r} is not allowed; allowed: 'single', 'multi'")
    records = sorted(_RECORDS.values(), key=lambda r: r.id)
    if domain is not None:
        records = [r for r in records if r.domain == domain]
    if kind is not None:
        records = [r for r in records if r.multi_agent == (kind == "multi")]
    return records


def get_record(id: str) -> EnvRecord:
    """The record of ``id``; :class:`UnknownEnvError` names the closest known ids."""
    try:
        return _RECORDS[id]
    except KeyError:
        raise UnknownEnvError(unknown_message("env", id, list(_RECORDS))) from None


def make_multi(name: str, *, parallel: bool = False, **kwargs: Any):
    """Build a registered multi-agent game: PettingZoo AEC, or the parallel API with ``parallel=True``."""
    if name not in _MULTI:
        raise UnknownEnvError(unknown_message("multi-agent env", name, list(_MULTI)))
    entry = _MULTI[name]
    module = importlib.import_module(entry.module)
    factory = module.parallel_env if parallel else module.env
    env = factory(**{**entry.kwargs, **kwargs})
    _MADE[env.unwrapped] = (name, {**entry.kwargs, **kwargs})
    return env


def multi_agent_spec(env: Any) -> tuple[str, dict[str, Any]] | None:
    """The registered name and kwargs a multi-agent env was made with by :func:`make_multi`, else None."""
    return _MADE.get(getattr(env, "unwrapped", env))


def unknown_message(what: str, name: str, known: list[str]) -> str:
    """One line: the unknown name and the closest known ones (or all of them when few)."""
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.4)
    if close:
        return f"unknown {what} {name!r}; closest: {', '.join(close)}"
    if known:
        return f"unknown {what} {name!r}; known: {', '.join(sorted(known)[:8])}"
    return f"unknown {what} {name!r}; none are registered yet"
