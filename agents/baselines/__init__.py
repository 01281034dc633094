"""Each domain's classical agents, registered by name with ``agents.make``."""

from agents.registry import register_agent

__all__ = ["register_agent"]
