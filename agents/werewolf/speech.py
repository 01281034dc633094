"""Latent strategies said in a language model's own words: LSPO's speech, written by the model.

LSPO chooses a latent strategy and a target; its template rendering (:meth:`StrategySpace.render`) is the
*plan*. :class:`ModelSpeaker` puts the plan into the prompt after the observation's text (a prompt prefix per
strategy and target) and lets the model write the line, so a latent-strategy player speaks text, not
templates. The structured part of the move (target, accusation) stays the policy's.
"""

from __future__ import annotations

from typing import Any

import torch

from agents.language import LanguageModel
from agents.lm import SYSTEM_PROMPT, clean_text


class ModelSpeaker:
    """``speaker(plan, observation) -> text``: the model's one-line rendering of ``plan`` (at most
    ``max_tokens`` tokens at ``temperature``, sampled from the speaker's own generator)."""

    def __init__(self, model: LanguageModel, temperature: float = 0.7, max_tokens: int = 32):
        if not 0.0 <= temperature <= 2.0:
            raise ValueError(f"temperature={temperature} must be in [0, 2]")
        if not 1 <= max_tokens <= 256:
            raise ValueError(f"max_tokens={max_tokens} must be in [1, 256]")
        self.model, self.temperature, self.max_tokens = model, temperature, max_tokens
        self.generator = torch.Generator(device=model.device)

    def reset(self, seed: int | None) -> None:
        self.generator.manual_seed(0 if seed is None else int(seed))

    def __call__(self, plan: str, observation: dict[str, Any], max_length: int) -> str:
        request = (
            f'{observation["text"]}\n\nWhat you mean to say: "{plan}"\n'
            "Say it to the other players in your own words, in one sentence. Keep the player numbers."
        )
        said = self.model.generate(
            [self.model.chat(request, system=SYSTEM_PROMPT, reply_prefix="SAY:")],
            max_new_tokens=self.max_tokens,
            temperature=self.temperature,
            stop=("\n",),
            generator=self.generator,
        ).texts[0]
        return clean_text(said, max_length) or plan[:max_length]
