"""The trained LSPO player: the per-side actor nets over :class:`~agents.werewolf.features.SeatView`'s
features, the agent that plays one seat with them, and the factory of LSPO agent packages."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import torch

from agents.base import EnvSpaces
from agents.language import shared_model
from agents.nets import mlp
from agents.werewolf.features import GLOBAL, PER_PLAYER, SIDES, WEREWOLF, view_for
from agents.werewolf.speech import ModelSpeaker
from agents.werewolf.strategies import StrategySpace

WEIGHTS = "policy.pt"  # the per-side actor nets, beside the strategy space's space.json


class LSPOAgent:
    """A trained latent-strategy player for one seat: features -> actor net -> (strategy, target) -> move.

    The side's net is chosen from the seat's own role (or fixed by ``side``). With ``greedy`` it plays the
    most likely (strategy, target); otherwise it samples from its own seeded generator. With a ``speaker``
    (:class:`~agents.werewolf.speech.ModelSpeaker`), a language model says each chosen strategy in its own
    words instead of the strategy's template.
    """

    def __init__(
        self,
        spaces: EnvSpaces,
        space: StrategySpace,
        actors: dict[str, torch.nn.Module],
        side: str | None = None,
        greedy: bool = True,
        seed: int | None = None,
        speaker: ModelSpeaker | None = None,
    ):
        if side is not None and side not in SIDES:
            raise ValueError(f"side={side!r} must be None or one of {', '.join(SIDES)}")
        self.name = "werewolf/lspo"
        self.spaces, self.space, self.actors, self.side, self.greedy = spaces, space, actors, side, greedy
        self.speaker = speaker
        self.generator = torch.Generator()
        self.reset(seed)

    def reset(self, seed: int | None = None) -> None:
        self.generator.manual_seed(0 if seed is None else seed)
        if self.speaker is not None:
            self.speaker.reset(seed)
        self.view = view_for(self.space, self.spaces)

    @torch.no_grad()
    def act(self, observation: dict[str, Any], info: dict) -> dict[str, Any]:
        side = self.side or SIDES[int(observation["role"]) == WEREWOLF]
        features = torch.from_numpy(self.view.features(observation))
        mask = torch.from_numpy(self.view.mask(observation, info)).bool()
        logits = self.actors[side](features).masked_fill(~mask, -torch.inf)
        k = self.space.k
        parts = logits[:k], logits[k:]
        if self.greedy:
            action = tuple(int(p.argmax()) for p in parts)
        else:
            action = tuple(int(torch.multinomial(p.softmax(-1), 1, generator=self.generator)) for p in parts)
        move = self.view.move(action, observation)
        if self.speaker is not None and move["text"]:
            move["text"] = self.speaker(move["text"], observation, self.view.max_text)
        return move


def load_actors(path: Path) -> dict[str, torch.nn.Module]:
    """The per-side actor nets saved in ``path`` (a torch state file, loaded with ``weights_only``)."""
    saved = torch.load(path, map_location="cpu", weights_only=True)
    actors = {}
    for side in SIDES:
        actor = mlp(saved["obs_dim"], saved["action_dim"], tuple(saved["hidden"]), activation="tanh")
        actor.load_state_dict(saved[side])
        actors[side] = actor.eval()
    return actors


def lspo(
    spaces: EnvSpaces,
    side: str | None = None,
    weights: str | Path | None = None,
    seed: int | None = None,
    greedy: bool = True,
    agent_dir: str | Path | None = None,
    language_model: str | None = None,
) -> LSPOAgent:
    """Factory of the agent packages ``arena train lspo`` writes (``agents.make("werewolf/lspo", spaces)``
    plays the shipped one, ``agents/trained/werewolf-lspo``): the strategy space and per-side weights
    (``space.json`` and ``policy.pt``) in the directory ``weights``, else in ``agent_dir``; one of the two is
    required. With ``language_model`` (e.g. ``"smollm2-135m-instruct"``), that model says the strategies
    (:class:`~agents.werewolf.speech.ModelSpeaker`; one copy shared by the process's players)."""
    if weights is None and agent_dir is None:
        raise ValueError(
            "lspo needs agent_dir= (an agent package) or weights= (a folder with space.json and policy.pt)"
        )
    directory = Path(weights if weights is not None else agent_dir)
    policy_file = directory / WEIGHTS
    stamp = policy_file.stat().st_mtime_ns if policy_file.is_file() else None
    space, actors = _load(str(directory), stamp)
    trained = actors[SIDES[0]][0].in_features
    if view_for(space, spaces).obs_dim != trained:
        players = spaces.action_space["target"].n - 1
        sized = (trained - GLOBAL) / (PER_PLAYER + 4 * space.k)  # SeatView.obs_dim solved for n
        raise ValueError(
            f"spaces: the weights in {directory} play {sized:g}-player games, not num_players={players}"
        )
    speaker = ModelSpeaker(shared_model(language_model)) if language_model is not None else None
    return LSPOAgent(spaces, space, actors, side=side, greedy=greedy, seed=seed, speaker=speaker)


@functools.lru_cache(maxsize=4)
def _load(directory: str, stamp: int | None) -> tuple[StrategySpace, dict[str, torch.nn.Module]]:
    """The space and actors saved in ``directory``, read once per version of the weights (``stamp``, the
    file's modification time): every seat's agent shares them read-only."""
    return StrategySpace.from_json(Path(directory) / "space.json"), load_actors(Path(directory) / WEIGHTS)
