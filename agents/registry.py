"""Built-in agents by name: ``agents.make("motor/pi", env)``; the arena's rosters use these names.

Each family registers its baselines and learners under its domain (``random``, ``motor/pi``,
``inventory/base_stock``, ...) with a string factory, imported only when the agent is made. A factory is
called as ``factory(spaces: EnvSpaces, **kwargs)``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from agents.base import Agent, EnvSpaces
from envs import unknown_message


@dataclass(frozen=True)
class AgentRecord:
    name: str
    domain: str
    factory: str  # "module:callable"
    summary: str
    kwargs: dict[str, Any] = field(default_factory=dict)  # bound factory arguments, below the caller's


class UnknownAgentError(KeyError):
    """An agent name that is not registered; the message lists the closest known names."""

    def __str__(self) -> str:
        return str(self.args[0])


_AGENTS: dict[str, AgentRecord] = {}


def register_agent(
    name: str, factory: str, *, domain: str, summary: str, kwargs: dict[str, Any] | None = None
) -> None:
    """Make ``name`` buildable with :func:`make`; ``factory`` is ``"module:callable"``, called with
    ``kwargs`` and then the caller's keyword arguments (which win)."""
    if ":" not in factory:
        raise ValueError(f"factory={factory!r} must look like 'module:callable'")
    _AGENTS[name] = AgentRecord(
        name=name, domain=domain, factory=factory, summary=summary, kwargs=kwargs or {}
    )


def list_agents(domain: str | None = None) -> list[AgentRecord]:
    """Every built-in agent, sorted by name, optionally only one domain."""
    records = sorted(_AGENTS.values(), key=lambda r: r.name)
    return [r for r in records if domain is None or r.domain == domain]


def make(name: str, env: Any, seat: str | None = None, **kwargs: Any) -> Agent:
    """Build the built-in agent ``name`` for the spaces of ``env``: a Gymnasium env, an EnvSpaces, or a
    PettingZoo env with the ``seat`` the agent plays (see :meth:`EnvSpaces.of`)."""
    if name not in _AGENTS:
        raise UnknownAgentError(unknown_message("agent", name, list(_AGENTS)))
    record = _AGENTS[name]
    module_name, attribute = record.factory.split(":")
    factory = getattr(importlib.import_module(module_name), attribute)
    return factory(EnvSpaces.of(env, seat), **{**record.kwargs, **kwargs})
