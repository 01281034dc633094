"""TextArena's games that run offline, as PettingZoo envs; registered only when ``textarena`` is installed
(the ``text`` extra)."""

import importlib.util

from envs._core.registry import register_multi

if importlib.util.find_spec("textarena") is not None:
    register_multi(
        "secret_mafia",
        "envs.textarena.adapter",
        domain="textarena",
        summary="TextArena's SecretMafia (6 players, free text and [n] votes), deterministic per seed.",
        action_kind="Text",
        observation_kind="Dict",
        kwargs={"env_id": "SecretMafia-v0", "num_players": 6},
    )
