"""A language model answers search questions ReAct-style on the text interface (``arena/SearchQAText-v0``).

The env's observation is already a ReAct transcript (``Question: ...``, then ``Action: ...`` and
``Observation: ...`` per turn). The agent shows it to the model as the user message, after a system message
that states the tools and one worked example, and lets the model write the next ``Action:`` line (greedy by
default, one line, at most ``max_action_tokens`` tokens). Only the observation is read, never ``info``.

A trained agent package (:func:`agents.search.lm_training.train_package`) holds a LoRA adapter
(``adapter/``, safetensors) on the shipped model; :func:`load` plays it.
"""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import torch

from agents.base import EnvSpaces
from agents.language import SHIPPED, LanguageModel, load_model, reseed, shared_model

SYSTEM_PROMPT = (
    "You answer questions about fictional people, places and organisations by searching a corpus. "
    "Write one action per turn: search[name] shows the documents about that name, answer[text] ends with "
    "your answer. Each document names the next entity to search for.\n"
    "Example:\n"
    "Question: Who is the founder of the employer of Ana Bell?\n"
    "Action: search[Ana Bell]\n"
    "Observation: [12] Ana Bell: Ana Bell is a painter. Ana Bell works for Tor Mill.\n"
    "Action: search[Tor Mill]\n"
    "Observation: [40] Tor Mill: Tor Mill is an organisation. Tor Mill was founded by Kel Orr.\n"
    "Action: answer[Kel Orr]"
)
ACTION_PREFIX = "Action: "
ADAPTER = "adapter"  # the LoRA adapter's folder inside an agent package
ADAPTER_WEIGHTS = "adapter_model.safetensors"  # what peft's save_pretrained writes there


def react_prompt(model: LanguageModel, transcript: str) -> str:
    """The prompt whose continuation is the next action (the text after ``Action: ``)."""
    return model.chat(transcript, system=SYSTEM_PROMPT, reply_prefix=ACTION_PREFIX)


def next_actions(
    model: LanguageModel,
    transcripts: list[str],
    *,
    max_action_tokens: int = 48,
    temperature: float = 0.0,
    generator: torch.Generator | None = None,
):
    """The model's next action for each transcript (one batch), with its token ids (a
    :class:`~agents.language.Generation`)."""
    prompts = [react_prompt(model, t) for t in transcripts]
    generation = model.generate(
        prompts, max_new_tokens=max_action_tokens, temperature=temperature, stop=("\n",), generator=generator
    )
    generation.texts = [t.strip() for t in generation.texts]
    return generation


class LanguageSearchAgent:
    """Writes each tool call with a language model (see the module docstring)."""

    def __init__(
        self, spaces: EnvSpaces, model: LanguageModel, max_action_tokens: int = 48, temperature: float = 0.0
    ):
        if not isinstance(spaces.observation_space, gym.spaces.Text):
            raise ValueError(
                "search/lm plays the text interface: arena/SearchQAText-v0 (or interface='text')"
            )
        if not 1 <= max_action_tokens <= 512:
            raise ValueError(f"max_action_tokens={max_action_tokens} must be in [1, 512]")
        if not 0.0 <= temperature <= 2.0:
            raise ValueError(f"temperature={temperature} must be in [0, 2]")
        self.name = f"search/lm:{model.name}"
        self.model, self.max_action_tokens, self.temperature = model, max_action_tokens, temperature
        self.generator = torch.Generator(device=model.device)

    def reset(self, seed: int | None = None) -> None:
        reseed(self.generator, seed)

    def act(self, observation: str, info: dict) -> str:
        generation = next_actions(
            self.model,
            [observation],
            max_action_tokens=self.max_action_tokens,
            temperature=self.temperature,
            generator=self.generator,
        )
        return generation.texts[0][:512]


def lm_searcher(
    spaces: EnvSpaces, language_model: str = SHIPPED, device: str = "cpu", **kwargs
) -> LanguageSearchAgent:
    """Factory for ``agents.make("search/lm", spaces)``: the untrained model ``language_model``, shared by
    every agent of the process (kwargs: ``max_action_tokens``, ``temperature``)."""
    return LanguageSearchAgent(spaces, shared_model(language_model, device), **kwargs)


def with_adapter(model: LanguageModel, adapter_dir: str | Path) -> LanguageModel:
    """``model`` (a private copy: it is changed) with the LoRA adapter in ``adapter_dir`` merged in. Only
    safetensors weights are read: an adapter saved any other way (a pickle) is refused."""
    from peft import PeftModel

    if not (Path(adapter_dir) / ADAPTER_WEIGHTS).is_file():
        raise ValueError(f"{adapter_dir}: no {ADAPTER_WEIGHTS} (adapters load from safetensors only)")
    merged = PeftModel.from_pretrained(model.model, str(adapter_dir)).merge_and_unload()
    return LanguageModel(merged, model.tokenizer, model.name, model.device)


def load(
    spaces: EnvSpaces, *, agent_dir: str, language_model: str = SHIPPED, **kwargs
) -> LanguageSearchAgent:
    """A trained package: the base model ``language_model`` with the package's adapter merged in."""
    model = with_adapter(load_model(language_model), Path(agent_dir) / ADAPTER)
    return LanguageSearchAgent(spaces, model, **kwargs)
