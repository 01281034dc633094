"""Scripted players of the search env, for both of its interfaces (text and structured).

* ``search/oracle``: follows the gold chain through the tools. It searches the entity the question names,
  reads in the gold document of that hop (``info["gold"]["doc_ids"]``) the sentence with the hop's cue
  (``info["question"]["cues"]``), searches the entity it names, and so on; after the last hop it answers
  what the last sentence names. So an h-hop question takes exactly h searches.
* ``search/retrieve_once``: searches the question text once and answers from the top result: the object of
  its sentence for the question's last relation, else its title. It solves every 1-hop question and no
  multi-hop one: the corpus keeps a multi-hop answer out of the top 10 results of its question text.
* ``search/random``: uniformly random legal actions (structured); random tools on random words of the
  transcript (text).

``search/retrieve_once`` and ``search/random`` read only the observation and the public part of ``info``
(``question``, ``num_searches``, ``items``, ``item_docs``, ``action_mask``).

``search/oracle`` also reads ``info["gold"]``, which the env declares privileged
(``SearchQAEnv.privileged_info_keys``). It is the one documented way for a built-in oracle to do that: its
class sets ``uses_privileged_info = True``, and the arena passes the full ``info`` only to a built-in agent it
runs in its own process with that attribute; every other agent, and every sandboxed one, gets
``envs.public_info(info, envs.privileged_info_keys(env))``, without ``gold``. The oracle is an upper
reference point, not a competitor.
"""

from __future__ import annotations

import re

import gymnasium as gym
import numpy as np

from agents.base import EnvSpaces

QUESTION, SUBJECT, TITLE, FACT = 1, 2, 3, 4  # slot kinds of the structured observation
SEARCH, OPEN, ANSWER = range(3)  # structured tools
RESULT = re.compile(r"^\[(\d+)\] ([^:\n]*): (.*)$", re.MULTILINE)
TEXT_TOOLS = ("search", "open", "lookup", "calculate", "answer")


def _is_text(spaces: EnvSpaces) -> bool:
    return isinstance(spaces.action_space, gym.spaces.Text)


def _last_results(transcript: str) -> dict[int, tuple[str, str]]:
    """The documents (title, text) shown by the last observation of a transcript, by id, in rank order."""
    last = transcript.rsplit("Observation: ", 1)[-1]
    return {int(doc): (title, text) for doc, title, text in RESULT.findall(last)}


def _read(text: str, cue: str) -> str | None:
    """The object of the sentence ``<subject> <cue> <object>.`` in a document's text."""
    match = re.search(re.escape(cue) + r" ([^.]+)\.", text)
    return match.group(1) if match else None


class SearchOracle:
    """Follows the gold chain: exactly h searches, then the answer the last gold document gives."""

    name = "search/oracle"
    uses_privileged_info = True  # reads info["gold"]: a trusted in-process built-in only

    def __init__(self, spaces: EnvSpaces):
        self._text = _is_text(spaces)
        self._slots = None if self._text else spaces.action_space.n // 3

    def reset(self, seed: int | None = None) -> None:
        pass

    def act(self, observation, info: dict):
        hop, hops = info["num_searches"], info["question"]["hops"]
        if self._text:
            if hop == 0:
                return f"search[{info['question']['subject']}]"
            _, document = _last_results(observation).get(info["gold"]["doc_ids"][hop - 1], ("", ""))
            found = _read(document, info["question"]["cues"][hop - 1]) or ""
            return f"{'search' if hop < hops else 'answer'}[{found}]"
        slots = observation["slots"]
        if hop == 0:
            return SEARCH * self._slots + int(np.flatnonzero(slots[:, 0] == SUBJECT)[0])
        seen = slots[: len(info["item_docs"])]
        candidates = np.flatnonzero(
            (seen[:, 0] == FACT)
            & (seen[:, 1] == observation["question"][hop - 1])
            & (np.asarray(info["item_docs"]) == info["gold"]["doc_ids"][hop - 1])
        )
        slot = int(candidates[-1]) if candidates.size else 0  # the latest reading of that document
        return (SEARCH if hop < hops else ANSWER) * self._slots + slot


class RetrieveOnce:
    """Searches the question text, then answers from the top result without a second search."""

    name = "search/retrieve_once"

    def __init__(self, spaces: EnvSpaces):
        self._text = _is_text(spaces)
        self._slots = None if self._text else spaces.action_space.n // 3

    def reset(self, seed: int | None = None) -> None:
        pass

    def act(self, observation, info: dict):
        if self._text:
            if info["num_searches"] == 0:
                return f"search[{info['question']['text']}]"
            title, text = next(iter(_last_results(observation).values()), ("", ""))
            return f"answer[{_read(text, info['question']['cues'][-1]) or title}]"
        slots = observation["slots"]
        if info["num_searches"] == 0:
            return SEARCH * self._slots + int(np.flatnonzero(slots[:, 0] == QUESTION)[0])
        top = (slots[:, 2] == 1) & (slots[:, 3] == 1)  # read from the first search's top result
        hops = int(np.count_nonzero(observation["question"]))
        matching = np.flatnonzero(
            top & (slots[:, 0] == FACT) & (slots[:, 1] == observation["question"][hops - 1])
        )
        chosen = matching if matching.size else np.flatnonzero(top & (slots[:, 0] == TITLE))
        return ANSWER * self._slots + int(chosen[0])


class RandomSearcher:
    """Random legal actions (structured), or a random tool on 1-3 random words of the transcript (text)."""

    name = "search/random"

    def __init__(self, spaces: EnvSpaces, seed: int | None = None):
        self._text = _is_text(spaces)
        self.reset(seed)

    def reset(self, seed: int | None = None) -> None:
        self._rng = np.random.default_rng(seed)

    def act(self, observation, info: dict):
        if not self._text:
            return int(self._rng.choice(np.flatnonzero(info["action_mask"])))
        tool = TEXT_TOOLS[int(self._rng.integers(len(TEXT_TOOLS)))]
        if tool == "open":
            return f"open[{int(self._rng.integers(300))}]"
        words = re.findall(r"[A-Za-z0-9]+", observation)
        start = int(self._rng.integers(len(words)))
        return f"{tool}[{' '.join(words[start : start + 1 + int(self._rng.integers(3))])}]"


def oracle(spaces: EnvSpaces) -> SearchOracle:
    return SearchOracle(spaces)


def retrieve_once(spaces: EnvSpaces) -> RetrieveOnce:
    return RetrieveOnce(spaces)


def random_searcher(spaces: EnvSpaces, seed: int | None = None) -> RandomSearcher:
    return RandomSearcher(spaces, seed)
