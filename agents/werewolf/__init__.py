"""Werewolf agents that learn: the LSPO-style latent-strategy player (``werewolf/lspo``, the agent package
agents/trained/werewolf-lspo; :mod:`agents.werewolf.training` describes the method and its numbers).

The face: ``lspo`` (the factory of the packages ``arena train lspo`` writes) and ``LSPOAgent``;
``StrategySpace`` (the latent strategies over utterances); ``train`` with its ``LSPOConfig`` (what
``arena train lspo`` runs); ``compare_with_pool`` (paired win rates against the scripted pool).
"""

from agents.werewolf.games import compare_with_pool
from agents.werewolf.policy import LSPOAgent, lspo
from agents.werewolf.strategies import StrategySpace
from agents.werewolf.training import LSPOConfig, train

__all__ = ["LSPOAgent", "LSPOConfig", "StrategySpace", "compare_with_pool", "lspo", "train"]
