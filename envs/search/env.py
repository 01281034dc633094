"""Tool-use question answering over a generated corpus: text (transcript in, tool call out) or structured."""

from __future__ import annotations

import string
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from envs._core.render import check_render_mode, warn_without_render_mode
from envs.search.corpus import MAX_HOPS, MAX_TOP_K, RELATION_IDS, RELATIONS, SPLITS, answer_text, build_corpus
from envs.search.scoring import exact_match, normalize, token_f1
from envs.search.tools import CalculationError, calculate, parse_call

MAX_TURNS = 64
MAX_TRANSCRIPT = 32_768  # characters; older turns are dropped beyond it
MAX_ACTION = 512  # characters of a text action
CHARSET = string.ascii_letters + string.digits + string.punctuation + " \n"
INTERFACES = ("text", "structured")
STRUCTURED_TOOLS = ("search", "open", "answer")
EMPTY, QUESTION, SUBJECT, TITLE, FACT = range(5)  # item kinds of the structured interface
SLOT_FIELDS = ("kind", "relation", "rank", "found_at", "searched")
_CUES = {r.name: r.cue for r in RELATIONS}
_HELP = "Use search[query], open[doc_id], lookup[term], calculate[expression] or answer[text]."


class SearchQAEnv(gym.Env):
    """Answer a multi-hop question about fictional entities by searching a generated corpus.

    ## Description
    A seeded generator (:mod:`envs.search.corpus`) draws a knowledge graph of people, places, regions,
    organisations and works, writes one short document per entity and questions of 1 to 4 hops ("Who is the
    governor of the birthplace of Maexlon Fuxpoulaen?"). The agent calls tools, one per turn:

    * ``search[query]``: the ``top_k`` documents by BM25 score, each shown in full as ``[id] Title: text``;
    * ``open[doc_id]``: one document; ``lookup[term]``: the next sentence of the current document (the last
      opened one, else the last search's top result) containing ``term``, as in ReAct;
    * ``calculate[expression]``: safe arithmetic (:func:`envs.search.tools.calculate`);
    * ``answer[text]``: ends the episode.

    An h-hop question needs h searches: each document names the next entity of the chain, and the generator
    guarantees for h >= 2 that no single search shows the answer: no document among the top ``MAX_TOP_K``
    (10, the largest ``top_k``) results for the question text, or for the name of the entity it names,
    contains it. Nor can an agent guess it without searching: the answers of a relation path never repeat
    and every answer pool holds at least 100 names or numbers, so answering the most frequent training
    answer of the question's relation path scores 0 on the held-out questions (see
    :mod:`envs.search.corpus`).

    ## Action Space
    ``interface="text"``: ``Text(512)``, a tool call such as ``"search[The Silent Harbor]"``.
    ``interface="structured"``: ``Discrete(3 * num_slots)``, action ``tool * num_slots + slot`` applies
    ``search``/``open``/``answer`` (tool 0/1/2) to an item of the slot table: search and answer use the
    item's text, open its document (only document titles can be opened). ``info["action_mask"]`` and
    :meth:`action_masks` mark the legal actions: filled slots, and for ``open`` title slots.

    ## Observation Space
    Text: ``Text(32768)``, the transcript ``Question: ...`` then ``Action: ...``/``Observation: ...`` per turn
    (oldest turns dropped beyond 32768 characters). Structured: ``Dict`` of

    * ``question``: ``MultiDiscrete([15] * 4)``, the question's relation path as relation ids (1-14 in the
      order of :data:`envs.search.corpus.RELATIONS`), first hop first, 0 after the last hop;
    * ``progress``: ``MultiDiscrete([max_turns + 1] * 2)``, turns taken and searches made;
    * ``slots``: ``MultiDiscrete`` of shape ``(num_slots, 5)``, one row per item seen: kind (0 empty, 1 the
      question text, 2 the entity the question names, 3 a result's title, 4 a fact's object), the fact's
      relation id, the result's rank (1 = top), the search that found it (0 for the question's items) and
      whether its text has been searched. Each search appends its results' titles and facts in rank order;
      items beyond ``num_slots`` are dropped.

    Info keys. Public: ``question`` (text, subject, relations, cues, hops), ``turn``, ``num_searches``,
    ``tool_calls`` (the tools called, in order: the strata for SAN); structured infos add ``action_mask``,
    ``items`` (each slot's text) and ``item_docs`` (the document each item was read from, -1 for none); the
    final info adds ``em``, ``f1`` and ``answer`` (the agent's own answer). ``question`` is a parse of the
    question the observation shows (its entity, relation path and hop count, and each relation's fixed
    wording in the documents). Privileged (:attr:`privileged_info_keys`): ``gold``, the gold chain's document
    ids (``gold["doc_ids"]``); no other key holds the gold chain or the answer. The arena removes ``gold``
    before an agent sees the info, and only trusted built-in oracles read it. A learning policy should read
    only the observation.

    ## Rewards
    At ``answer``: exact match (0 or 1) after SQuAD normalisation against the answer and its alias; minus
    ``search_cost`` per search; ``invalid_penalty`` (<= 0) for a malformed or illegal call. The final info has
    ``em``, ``f1`` (token F1) and ``answer``. With the default costs of 0 the return is the exact match, so
    ending an episode early never scores better.

    ## Starting State
    A question drawn with the env's ``np_random`` from ``split``'s questions with a hop count in ``hops``
    (``options={"question": i}`` picks the i-th of that pool, see :attr:`pool`).

    ## Episode End
    Terminated at ``answer``; truncated after ``max_turns`` turns without one (em = f1 = 0, reward 0).

    ## Arguments
    ``hops`` (int or list of ints in 1..4, default all), ``interface`` (``"structured"`` or ``"text"``),
    ``corpus_seed`` (int >= 0, default 0), ``max_turns`` (1..64, default 10), ``top_k`` (1..10, default 3),
    ``split`` (``"train"``: 80% of the questions, for training; ``"test"``: the held-out 20%, the one split
    every evaluation and benchmark reports), ``num_slots`` (8..512,
    default 96), ``search_cost`` (>= 0, default 0), ``invalid_penalty`` (<= 0, default 0), ``render_mode``
    (None, ``"ansi"``: :meth:`render` returns the episode so far as text, the question, each call with its
    result and, once given, the answer with its score; ``"human"``: the same printed as it grows). It shows
    only what the agent saw, never the privileged ``gold``.

    ## Version History
    * v0: initial version; the corpus grew (1,500 entities), each relation path's answers became distinct and
      the leak filter covers ``top_k`` up to 10 and the question's entity (corpus seed 0 has a new digest).
    """

    metadata = {"render_modes": ["ansi", "human"], "render_fps": 1}
    privileged_info_keys: ClassVar[frozenset[str]] = frozenset({"gold"})  # the gold chain's documents

    def __init__(
        self,
        hops: int | list[int] | tuple[int, ...] = (1, 2, 3, 4),
        interface: str = "structured",
        corpus_seed: int = 0,
        max_turns: int = 10,
        top_k: int = 3,
        split: str = "train",
        num_slots: int = 96,
        search_cost: float = 0.0,
        invalid_penalty: float = 0.0,
        render_mode: str | None = None,
    ):
        self.render_mode = check_render_mode(render_mode, self.metadata)
        hop_list = (hops,) if isinstance(hops, (int, np.integer)) else tuple(hops)
        if not hop_list or any(
            not isinstance(h, (int, np.integer)) or not 1 <= h <= MAX_HOPS for h in hop_list
        ):
            raise ValueError(f"hops must be an int or a list of ints in 1..{MAX_HOPS}, got {hops!r}")
        if interface not in INTERFACES:
            raise ValueError(f"interface={interface!r} must be one of {INTERFACES}")
        _check_int("max_turns", max_turns, 1, MAX_TURNS)
        _check_int("top_k", top_k, 1, MAX_TOP_K)
        _check_int("num_slots", num_slots, 8, 512)
        if split not in SPLITS:
            raise ValueError(f"split={split!r} must be one of {SPLITS}")
        if not search_cost >= 0:
            raise ValueError(f"search_cost must be >= 0, got {search_cost}")
        if not invalid_penalty <= 0:
            raise ValueError(f"invalid_penalty must be <= 0, got {invalid_penalty}")
        self.corpus = build_corpus(corpus_seed)
        self.hops = tuple(sorted({int(h) for h in hop_list}))
        self.interface, self.max_turns, self.top_k, self.num_slots = interface, max_turns, top_k, num_slots
        self.search_cost, self.invalid_penalty = float(search_cost), float(invalid_penalty)
        self.pool = self.corpus.pool(split, self.hops)
        if interface == "text":
            self.observation_space = gym.spaces.Text(MAX_TRANSCRIPT, min_length=0, charset=CHARSET)
            self.action_space = gym.spaces.Text(MAX_ACTION, min_length=0, charset=CHARSET)
        else:
            slot_nvec = [5, len(RELATIONS) + 1, MAX_TOP_K + 1, max_turns + 1, 2]
            self.observation_space = gym.spaces.Dict(
                {
                    "question": gym.spaces.MultiDiscrete([len(RELATIONS) + 1] * MAX_HOPS),
                    "progress": gym.spaces.MultiDiscrete([max_turns + 1] * 2),
                    "slots": gym.spaces.MultiDiscrete(np.tile(slot_nvec, (num_slots, 1))),
                }
            )
            self.action_space = gym.spaces.Discrete(len(STRUCTURED_TOOLS) * num_slots)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        index = (options or {}).get("question")
        if index is None:
            index = int(self.np_random.integers(len(self.pool)))
        elif not 0 <= index < len(self.pool):
            raise ValueError(f"options['question'] must be in 0..{len(self.pool) - 1}, got {index}")
        q = self.question = self.pool[index]
        self._turn, self._searches, self._page, self._lookup = 0, 0, None, ("", 0)
        self._calls: list[str] = []
        self._blocks: list[str] = []
        self._question_info = {
            "text": q.text,
            "subject": q.subject,
            "relations": q.relations,
            "cues": tuple(_CUES[r] for r in q.relations),
            "hops": q.hops,
        }
        self._gold = {"doc_ids": q.doc_ids}
        if self.interface == "structured":
            self._relations = np.zeros(MAX_HOPS, dtype=np.int64)
            self._relations[: q.hops] = [RELATION_IDS[r] for r in q.relations]
            self._slots = np.zeros((self.num_slots, len(SLOT_FIELDS)), dtype=np.int64)
            self._mask = np.zeros(self.action_space.n, dtype=bool)
            self._items: list[str] = []
            self._item_docs: list[int] = []
            self._searched: set[str] = set()
            self._add_item(q.text, QUESTION, 0, 0, -1)
            self._add_item(q.subject, SUBJECT, 0, 0, -1)
        self._outcome, self._printed = "", 0
        if self.render_mode == "human":
            self.render()
        return self._observation(), self._info()

    def step(self, action):
        if self.interface == "structured":
            tool, argument, echo = self._decode(action)
        else:
            if not isinstance(action, str):
                raise ValueError(f"action must be a str tool call such as 'search[query]', got {action!r}")
            echo = "".join(c if c in CHARSET else "?" for c in action[:MAX_ACTION])
            tool, argument = parse_call(action) or (None, "")
        self._turn += 1
        self._calls.append(tool or "invalid")
        reward, terminated, info_end = 0.0, False, {}
        if tool is None:
            result, reward = f"Invalid action. {_HELP}", self.invalid_penalty
        elif tool == "search":
            result, reward = self._search(argument), 0.0 - self.search_cost
        elif tool == "open":
            result = self._open(argument)
        elif tool == "lookup":
            result = self._lookup_term(argument)
        elif tool == "calculate":
            try:
                result = calculate(argument)
            except CalculationError as error:
                result = f"Cannot calculate: {error}."
        else:
            answers = self.question.answers
            em, f1 = exact_match(argument, answers), token_f1(argument, answers)
            result, terminated = "Answer submitted.", True
            reward += em
            info_end = {"em": em, "f1": f1, "answer": argument}
        truncated = not terminated and self._turn >= self.max_turns
        if truncated:
            info_end = {"em": 0.0, "f1": 0.0, "answer": None}
        self._blocks.append(f"Action: {echo}\nObservation: {result}\n")
        if terminated:
            self._outcome = (
                f"Answer: {info_end['answer']} (exact match {info_end['em']:g}, F1 {info_end['f1']:.2f})\n"
            )
        elif truncated:
            self._outcome = f"No answer after {self._turn} turns.\n"
        if self.render_mode == "human":
            self.render()
        return self._observation(), float(reward), terminated, truncated, {**self._info(), **info_end}

    def render(self) -> str | None:
        """``"ansi"``: the whole episode so far as text (question, calls and results, the answer and its
        score); ``"human"``: prints what was added since the last call and returns None."""
        if self.render_mode is None:
            warn_without_render_mode(self.metadata)
            return None
        text = f"Question: {self.question.text}\n" + "".join(self._blocks) + self._outcome
        if self.render_mode == "ansi":
            return text
        print(text[self._printed :], end="")
        self._printed = len(text)
        return None

    def action_masks(self) -> np.ndarray:
        """The legal structured actions (all True for the text interface's single pseudo-action)."""
        if self.interface == "text":
            return np.ones(1, dtype=bool)
        return self._mask.copy()

    # -- tools --------------------------------------------------------------------------------------------

    def _search(self, query: str) -> str:
        ids = self.corpus.search(query, self.top_k)
        self._searches += 1
        self._page, self._lookup = ids[0], ("", 0)
        if self.interface == "structured":
            self._mark_searched(query)
            for rank, doc in enumerate(ids, start=1):
                self._add_item(self.corpus.titles[doc], TITLE, 0, rank, doc)
                for rel, value in self.corpus.entities[doc].facts:
                    text = answer_text(self.corpus.entities, value)
                    self._add_item(text, FACT, RELATION_IDS[rel], rank, doc)
        return "\n".join(self.corpus.document(d) for d in ids)

    def _open(self, argument: str) -> str:
        doc = argument.strip().lstrip("[").rstrip("]")
        if not doc.isdigit() or int(doc) >= len(self.corpus.texts):
            return f"No document {argument!r}; ids are 0..{len(self.corpus.texts) - 1}."
        self._page, self._lookup = int(doc), ("", 0)
        return self.corpus.document(int(doc))

    def _lookup_term(self, term: str) -> str:
        if self._page is None:
            return "No current document; search or open one first."
        if not term:
            return "lookup needs a term."
        sentences = self.corpus.texts[self._page].split(". ")  # documents hold no other full stops
        sentences = [s if s.endswith(".") else s + "." for s in sentences]
        hits = [s for s in sentences if term.lower() in s.lower()]
        if not hits:
            return f"No sentence of [{self._page}] contains {term!r}."
        count = self._lookup[1] if self._lookup[0] == term.lower() else 0
        self._lookup = (term.lower(), count + 1)
        return f"(Result {count % len(hits) + 1} / {len(hits)}) {hits[count % len(hits)]}"

    # -- structured interface -----------------------------------------------------------------------------

    def _decode(self, action) -> tuple[str | None, str, str]:
        """The structured action as (tool or None when illegal, argument, the call as text)."""
        index = int(action)
        if not 0 <= index < self.action_space.n:
            raise ValueError(f"action must be in 0..{self.action_space.n - 1}, got {action!r}")
        if not self._mask[index]:
            return None, "", f"illegal action {index}"
        tool, slot = divmod(index, self.num_slots)
        name = STRUCTURED_TOOLS[tool]
        argument = str(self._item_docs[slot]) if name == "open" else self._items[slot]
        return name, argument, f"{name}[{argument}]"

    def _add_item(self, text: str, kind: int, relation: int, rank: int, doc: int) -> None:
        slot = len(self._items)
        if slot >= self.num_slots:
            return
        self._items.append(text)
        self._item_docs.append(doc)
        self._slots[slot] = (kind, relation, rank, self._searches, normalize(text) in self._searched)
        self._mask[slot] = self._mask[2 * self.num_slots + slot] = True
        self._mask[self.num_slots + slot] = kind == TITLE

    def _mark_searched(self, query: str) -> None:
        key = normalize(query)
        self._searched.add(key)
        for slot, text in enumerate(self._items):
            if normalize(text) == key:
                self._slots[slot, 4] = 1

    # -- observations -------------------------------------------------------------------------------------

    def _observation(self):
        if self.interface == "structured":
            return {
                "question": self._relations.copy(),
                "progress": np.array([self._turn, self._searches], dtype=np.int64),
                "slots": self._slots.copy(),
            }
        head = f"Question: {self.question.text}\n"
        blocks, size = [], len(head)
        for block in reversed(self._blocks):
            size += len(block)
            if size > MAX_TRANSCRIPT - 32:
                blocks.append("(earlier turns omitted)\n")
                break
            blocks.append(block)
        return head + "".join(reversed(blocks))

    def _info(self) -> dict[str, Any]:
        info = {
            "question": dict(self._question_info),
            "gold": dict(self._gold),
            "turn": self._turn,
            "num_searches": self._searches,
            "tool_calls": tuple(self._calls),
        }
        if self.interface == "structured":
            info["action_mask"] = self._mask.copy()
            info["items"] = tuple(self._items)
            info["item_docs"] = tuple(self._item_docs)
        return info


def _check_int(name: str, value: Any, low: int, high: int) -> None:
    if not isinstance(value, (int, np.integer)) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer in {low}..{high}, got {value!r}")
