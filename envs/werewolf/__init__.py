"""The Werewolf language game, PettingZoo AEC and parallel: ``envs.make_multi("werewolf", num_players=7)``."""

from envs._core.registry import register_multi

register_multi(
    "werewolf",
    "envs.werewolf.env",
    domain="werewolf",
    summary="Werewolf social deduction: free-text speech with structured targets, votes and night roles.",
    action_kind="Dict",
    observation_kind="Dict",
)
