"""Language models as Werewolf players: the shipped local model, any ``str -> str`` callable, and an
OpenAI-compatible HTTP client.

:class:`LanguageModelPlayer` turns an observation into a prompt (the observation's text, then what to answer
and which targets are legal), calls the model, and parses its reply into a legal move::

    SAY: I think Player 3 is lying.
    TARGET: 3
    BID: 2

Whatever the model writes, the move is legal: text is cut to printable ASCII of the allowed length, and a
missing or illegal target or bid becomes none / the lowest legal bid (counted in ``unparsed``). Without a
``TARGET:`` line, a player named as TextArena games do (``[3]`` or ``[Player 3]``) is the target, so agents
written for TextArena's Mafia play this game too. A model may be a local function, a TextArena-style agent
(``agent(observation) -> str``), or :class:`OpenAIChatModel`, which speaks to any server with an
OpenAI-compatible ``/chat/completions`` endpoint (vLLM, llama.cpp, Ollama...).

By default (no ``model``, no ``base_url``) :class:`LocalModelPlayer` plays with the shipped small model
(:mod:`agents.language`): it writes its speech after ``SAY:`` and picks its target and bid among the legal
ones by the model's likelihood of each after ``TARGET:`` / ``BID:``, so every move is legal and follows the
model. The seats of a match (and the matches of a worker process) share one loaded model.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from agents.base import EnvSpaces
from agents.language import SHIPPED, LanguageModel, reseed, shared_model

SAY = re.compile(r"^\s*SAY:\s*(.*)$", re.IGNORECASE | re.MULTILINE)
TARGET = re.compile(r"^\s*TARGET:\s*(?:player\s*)?(\d+|none)", re.IGNORECASE | re.MULTILINE)
BID = re.compile(r"^\s*BID:\s*(\d+)", re.IGNORECASE | re.MULTILINE)
BRACKETED = re.compile(r"\[(?:player\s*)?(\d+)\]", re.IGNORECASE)  # TextArena's way to name a player: [3]
SYSTEM_PROMPT = (
    "You are playing the social deduction game Werewolf. Play to win for your side. "
    "Answer only in the format you are asked for."
)


class LanguageModelError(RuntimeError):
    """The model server could not be reached or answered something other than a chat completion."""


def build_prompt(observation: dict[str, Any], mask: dict[str, Any]) -> str:
    """The observation's text followed by the answer format for the parts of the move the phase reads."""
    lines = [observation["text"], "", "Answer with these lines:"]
    if mask["text"] is None:
        lines.append("SAY: <what you say, one line>")
    targets = [str(t) for t in np.flatnonzero(mask["target"][:-1])]
    if targets:
        lines.append(f"TARGET: <one of {', '.join(targets)}, or none>")
    bids = np.flatnonzero(mask["bid"]) if "bid" in mask else []
    if len(bids) > 1:
        lines.append(f"BID: <{bids[0]} to {bids[-1]}: how much you want to speak next>")
    return "\n".join(lines)


def parse_reply(reply: str, mask: dict[str, Any], max_text_length: int) -> tuple[dict[str, Any], bool]:
    """A legal move from a model's reply, and whether the reply followed the format."""
    none = len(mask["target"]) - 1
    move: dict[str, Any] = {"text": "", "target": none}
    understood = True
    if mask["text"] is None:
        said = SAY.search(reply)
        understood &= said is not None
        move["text"] = clean_text(said.group(1) if said else reply, max_text_length)
    if mask["target"][:-1].any():
        chosen = TARGET.search(reply) or BRACKETED.search(reply)
        value = chosen.group(1).lower() if chosen else None
        if value is not None and value != "none" and int(value) < none and mask["target"][int(value)]:
            move["target"] = int(value)
        else:
            understood &= value == "none"
    if "bid" in mask:
        legal = np.flatnonzero(mask["bid"])
        bid = BID.search(reply)
        move["bid"] = int(legal[0])
        if len(legal) > 1:
            if bid is not None and int(bid.group(1)) in legal:
                move["bid"] = int(bid.group(1))
            else:
                understood = False
    return move, understood


def clean_text(text: str, max_length: int) -> str:
    """``text`` on one line of printable ASCII (other whitespace becomes spaces, other characters are
    dropped), at most ``max_length`` characters."""
    printable = "".join(c if " " <= c <= "~" else " " if c.isspace() else "" for c in text)
    return " ".join(printable.split())[:max_length].rstrip()


class LanguageModelPlayer:
    """A Werewolf player whose every move comes from ``model(prompt) -> reply``."""

    def __init__(self, spaces: EnvSpaces, model: Callable[[str], str], name: str = "lm"):
        if not callable(model):
            raise ValueError(f"model={model!r} must be callable as model(prompt: str) -> str")
        self.name = name
        self.model = model
        self.max_text_length = spaces.action_space["text"].max_length
        self.unparsed = 0  # replies that did not follow the format (their move fell back to a default)

    def reset(self, seed: int | None = None) -> None:
        self.unparsed = 0

    def act(self, observation: dict[str, Any], info: dict) -> dict[str, Any]:
        mask = info["action_mask"]
        reply = self.model(build_prompt(observation, mask))
        move, understood = parse_reply(str(reply), mask, self.max_text_length)
        self.unparsed += not understood
        return move


class OpenAIChatModel:
    """``str -> str`` through an OpenAI-compatible chat completions endpoint.

    ``base_url`` is the API root (e.g. ``http://127.0.0.1:8000/v1``); the request goes to
    ``{base_url}/chat/completions`` with ``model``, a system and a user message, ``temperature`` and
    ``max_tokens``; ``api_key``, when given, is sent as a bearer token. ``timeout_s`` bounds each request.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        system_prompt: str = SYSTEM_PROMPT,
        temperature: float = 0.7,
        max_tokens: int = 256,
        timeout_s: float = 60.0,
    ):
        if not isinstance(base_url, str) or not re.match(r"https?://[^/\s]+", base_url):
            raise ValueError(f"base_url={base_url!r} must be an http:// or https:// URL")
        if not isinstance(model, str) or not model:
            raise ValueError(f"model={model!r} must be a non-empty model name")
        if not 0.0 <= temperature <= 2.0:
            raise ValueError(f"temperature={temperature} must be in [0, 2]")
        if not 1 <= max_tokens <= 100_000:
            raise ValueError(f"max_tokens={max_tokens} must be in [1, 100000]")
        if not timeout_s > 0:
            raise ValueError(f"timeout_s={timeout_s} must be > 0")
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.api_key = api_key
        self.system_prompt = system_prompt
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.timeout_s = timeout_s

    def __call__(self, prompt: str) -> str:
        body = {
            "model": self.model,
            "messages": [
                {"role": "system", "content": self.system_prompt},
                {"role": "user", "content": prompt},
            ],
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
        }
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(self.url, data=json.dumps(body).encode(), headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                data = json.load(response)
        except urllib.error.HTTPError as error:
            raise LanguageModelError(
                f"{self.url} answered HTTP {error.code}: {error.read()[:200]!r}"
            ) from None
        except (urllib.error.URLError, TimeoutError, json.JSONDecodeError) as error:
            raise LanguageModelError(f"{self.url}: {error}") from None
        try:
            return str(data["choices"][0]["message"]["content"])
        except (KeyError, IndexError, TypeError):
            raise LanguageModelError(
                f"{self.url} answered without choices[0].message.content: {data!r}"
            ) from None


class LocalModelPlayer:
    """A Werewolf player on a local :class:`~agents.language.LanguageModel`: speech sampled after ``SAY:``
    (at most ``max_speech_tokens`` tokens, one line), target and bid sampled among the legal ones from the
    model's likelihoods at ``temperature`` (0: the likeliest), with a generator seeded by ``reset``."""

    def __init__(
        self,
        spaces: EnvSpaces,
        model: LanguageModel,
        temperature: float = 0.7,
        max_speech_tokens: int = 32,
    ):
        if not 0.0 <= temperature <= 2.0:
            raise ValueError(f"temperature={temperature} must be in [0, 2]")
        if not 1 <= max_speech_tokens <= 256:
            raise ValueError(f"max_speech_tokens={max_speech_tokens} must be in [1, 256]")
        self.name = f"lm:{model.name}"
        self.model = model
        self.temperature, self.max_speech_tokens = temperature, max_speech_tokens
        self.max_text_length = spaces.action_space["text"].max_length
        self.generator = torch.Generator(device=model.device)

    def reset(self, seed: int | None = None) -> None:
        reseed(self.generator, seed)

    def act(self, observation: dict[str, Any], info: dict) -> dict[str, Any]:
        mask = info["action_mask"]
        reply = self.model.chat(build_prompt(observation, mask), system=SYSTEM_PROMPT)
        none = len(mask["target"]) - 1
        move: dict[str, Any] = {"text": "", "target": none}
        if mask["text"] is None:
            said = self.model.generate(
                [reply + "SAY:"],
                max_new_tokens=self.max_speech_tokens,
                temperature=self.temperature,
                stop=("\n",),
                generator=self.generator,
            ).texts[0]
            move["text"] = clean_text(said, self.max_text_length)
            reply += f"SAY: {move['text']}\n"
        targets = [int(t) for t in np.flatnonzero(mask["target"])]
        if targets != [none]:
            names = ["none" if t == none else str(t) for t in targets]
            move["target"] = targets[self._pick(reply + "TARGET: ", names)]
            reply += f"TARGET: {names[targets.index(move['target'])]}\n"
        if "bid" in mask:
            bids = [int(b) for b in np.flatnonzero(mask["bid"])]
            move["bid"] = (
                bids[self._pick(reply + "BID: ", [str(b) for b in bids])] if len(bids) > 1 else bids[0]
            )
        return move

    def _pick(self, prompt: str, options: list[str]) -> int:
        scores = self.model.log_likelihoods(prompt, options)
        return int(self.model.sample(scores[None], self.temperature, self.generator))


def lm_player(
    spaces: EnvSpaces,
    model: Callable[[str], str] | None = None,
    base_url: str | None = None,
    model_name: str | None = None,
    language_model: str = SHIPPED,
    device: str = "cpu",
    **kwargs: Any,
) -> LanguageModelPlayer | LocalModelPlayer:
    """Factory for ``agents.make("werewolf/lm", spaces)``: the shipped local model ``language_model``
    (kwargs: ``temperature``, ``max_speech_tokens``), or ``model=fn`` (a ``str -> str`` callable), or an
    OpenAI-compatible server with ``base_url`` and ``model_name`` (kwargs go to :class:`OpenAIChatModel`)."""
    if model is not None:
        return LanguageModelPlayer(spaces, model)
    if base_url is not None or model_name is not None:
        if base_url is None or model_name is None:
            raise ValueError("an HTTP model needs both base_url and model_name")
        return LanguageModelPlayer(
            spaces, OpenAIChatModel(base_url, model_name, **kwargs), name=f"lm:{model_name}"
        )
    return LocalModelPlayer(spaces, shared_model(language_model, device), **kwargs)
