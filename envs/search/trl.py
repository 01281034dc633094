"""The search env in the shape of TRL's ``GRPOTrainer(environment_factory=...)``, without depending on TRL.

TRL builds one environment per rollout with a zero-argument factory, calls ``reset(**row)`` with the dataset
row's extra columns (its return value joins the prompt), exposes the environment's public methods as tools
(their docstrings are the tool descriptions), and passes the environments to the reward functions::

    from envs.search.trl import dataset_rows, environment_factory, exact_match_reward
    trainer = GRPOTrainer(
        model=..., train_dataset=Dataset.from_list(dataset_rows(hops=(1, 2))),
        reward_funcs=exact_match_reward, environment_factory=environment_factory(hops=(1, 2)),
    )
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from envs.search.env import SearchQAEnv

INSTRUCTIONS = (
    "Answer the question by calling the tools: search the corpus for the entity the question names, read "
    "which entity the matching sentence names, search that one, and so on; then call answer with the "
    "final name or number."
)


class SearchToolEnvironment:
    """One episode of the text search env; each tool method is one turn and returns its observation."""

    def __init__(self, **env_kwargs: Any):
        self._env = SearchQAEnv(**{**env_kwargs, "interface": "text"})
        self.reward, self.em, self.f1, self.done = 0.0, 0.0, 0.0, False

    def reset(self, question: int | None = None, seed: int | None = None, **_row: Any) -> str:
        """Start on question index ``question`` of the pool (else one drawn from ``seed``); the question."""
        options = None if question is None else {"question": int(question)}
        observation, _ = self._env.reset(seed=seed, options=options)
        self.reward, self.em, self.f1, self.done = 0.0, 0.0, 0.0, False
        return observation

    def search(self, query: str) -> str:
        """Search the corpus with BM25.

        Args:
            query: Words to search for, e.g. an entity's full name.

        Returns:
            The best documents, one per line, as "[id] Title: text".
        """
        return self._call(f"search[{query}]")

    def open(self, doc_id: int) -> str:
        """Show one document in full and make it the current document.

        Args:
            doc_id: The document's id, as shown in brackets by search.

        Returns:
            The document as "[id] Title: text".
        """
        return self._call(f"open[{doc_id}]")

    def lookup(self, term: str) -> str:
        """Find the next sentence of the current document that contains a term.

        Args:
            term: The text to look for.

        Returns:
            The matching sentence, numbered among all matches.
        """
        return self._call(f"lookup[{term}]")

    def calculate(self, expression: str) -> str:
        """Evaluate an arithmetic expression (numbers, parentheses and + - * / // % ** only).

        Args:
            expression: The expression, e.g. "1990 - 1874".

        Returns:
            Its value.
        """
        return self._call(f"calculate[{expression}]")

    def answer(self, text: str) -> str:
        """Give the final answer; this ends the episode.

        Args:
            text: The answer: a name or a number.

        Returns:
            A confirmation.
        """
        return self._call(f"answer[{text}]")

    def _call(self, action: str) -> str:
        if self.done:
            return "The episode is over; no more tool calls are accepted."
        observation, reward, terminated, truncated, info = self._env.step(action)
        self.reward += reward
        self.done = terminated or truncated
        if self.done:
            self.em, self.f1 = info["em"], info["f1"]
        return observation.rsplit("Observation: ", 1)[-1].rstrip("\n")


def environment_factory(**env_kwargs: Any) -> Callable[[], SearchToolEnvironment]:
    """A zero-argument factory of :class:`SearchToolEnvironment` with the given env keywords."""
    return functools.partial(SearchToolEnvironment, **env_kwargs)


def dataset_rows(**env_kwargs: Any) -> list[dict[str, Any]]:
    """One row per question of the env's pool: a chat prompt and the ``question`` index reset receives."""
    pool = SearchQAEnv(**{**env_kwargs, "interface": "text"}).pool
    return [
        {"prompt": [{"role": "user", "content": f"{INSTRUCTIONS}\nQuestion: {q.text}"}], "question": i}
        for i, q in enumerate(pool)
    ]


def exact_match_reward(completions: list, environments: list[SearchToolEnvironment], **_: Any) -> list[float]:
    """TRL reward function: each rollout's return (exact match, minus any costs the env was given)."""
    return [env.reward for env in environments]
