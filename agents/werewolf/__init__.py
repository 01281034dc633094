"""Werewolf agents that learn: the LSPO-style latent-strategy player (``werewolf/lspo``)."""
