"""pg-arena's agents: the Agent protocol, built-in agents by name, and agent packages from directories."""

from agents.base import Agent, AgentManifest, AgentPackageError, EnvSpaces, RandomAgent, load_agent
from agents.registry import AgentRecord, UnknownAgentError, list_agents, make, register_agent

register_agent(
    "random",
    "agents.base:RandomAgent",
    domain="any",
    summary="Uniformly random legal actions (respects info['action_mask']), seeded.",
)

import agents.baselines  # noqa: E402, F401  (registers each domain's baselines)

__all__ = [
    "Agent",
    "AgentManifest",
    "AgentPackageError",
    "AgentRecord",
    "EnvSpaces",
    "RandomAgent",
    "UnknownAgentError",
    "list_agents",
    "load_agent",
    "make",
    "register_agent",
]
