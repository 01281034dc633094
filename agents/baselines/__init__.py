"""Each domain's classical agents, registered by name with ``agents.make``."""

from agents.registry import register_agent

__all__ = ["register_agent"]

register_agent(
    "motor/pi",
    "agents.baselines.motor:make_pi_agent",
    domain="motor",
    summary="Cascaded PI (symmetrical optimum) speed/current/torque control, tuned from info['plant'].",
)

register_agent(
    "werewolf/scripted",
    "agents.baselines.werewolf:scripted",
    domain="werewolf",
    summary="Rule-based Werewolf players for every role: seer claims, doctor saves, wolves coordinate.",
)

register_agent(
    "werewolf/lm",
    "agents.lm:lm_player",
    domain="werewolf",
    summary="A language model plays Werewolf: model=<str -> str>, or base_url= and model_name= (OpenAI API).",
)
