"""Werewolf agents that learn: the LSPO-style latent-strategy player (``werewolf/lspo``).

The face: ``lspo`` (the factory ``agents.make("werewolf/lspo", spaces)`` calls) and ``LSPOAgent``;
``StrategySpace`` (the latent strategies over utterances); ``train`` with its ``LSPOConfig`` (what
``python -m agents.werewolf.lspo`` runs); ``compare_with_pool`` (paired win rates against the scripted pool).
"""

from agents.werewolf.games import compare_with_pool
from agents.werewolf.policy import LSPOAgent, lspo
from agents.werewolf.strategies import StrategySpace
from agents.werewolf.training import LSPOConfig, train

__all__ = ["LSPOAgent", "LSPOConfig", "StrategySpace", "compare_with_pool", "lspo", "train"]
