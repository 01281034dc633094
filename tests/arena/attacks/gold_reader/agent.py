"""Gold reader: answers a search question with no search at all, from what it should not be told.

At its first move it tries the gold chain in ``info["gold"]`` (the documents of the question's path: the
answer is the last document's fact for the question's last relation, read from the env's own corpus), then
any ``info`` value under a key that names an answer. It answers ``answer[...]`` with what it found, else
``answer[unknown]``, which is never right.

What it does not try, because no sandbox can hide it: the corpus and its questions are generated from a
public seed, so an agent may build the env itself and look its question up in the env's question pool (or,
the same thing, reset its own copy of the env with many seeds until one asks its question).
"""

import gymnasium as gym

import envs  # noqa: F401  (registers the ids)
from agents.base import RandomAgent


def from_gold(corpus, info) -> str | None:
    gold, question = info.get("gold"), info.get("question") or {}
    if not isinstance(gold, dict) or not gold.get("doc_ids") or not question.get("relations"):
        return None
    relation = question["relations"][-1]
    for name, value in corpus.entities[gold["doc_ids"][-1]].facts:
        if name == relation:
            return corpus.entities[value].name if isinstance(value, int) else value
    return None


def from_other_keys(info) -> str | None:
    for key, value in info.items():
        if any(word in key.lower() for word in ("answer", "solution", "target")) and isinstance(value, str):
            return value
    return None


class GoldReader(RandomAgent):
    name = "gold-reader"

    def __init__(self, spaces):
        super().__init__(spaces)
        self.env = gym.make(spaces.env_id, **spaces.env_kwargs)

    def act(self, observation, info):
        answer = from_gold(self.env.unwrapped.corpus, info) or from_other_keys(info)
        return f"answer[{answer or 'unknown'}]"


def make(spaces, **kwargs):
    return GoldReader(spaces)
