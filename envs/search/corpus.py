"""A seeded generator of fictional knowledge graphs, their documents, and multi-hop questions over them.

:func:`build_corpus` draws people, places, regions, organisations and works with typed relations
(:data:`RELATIONS`), aliases and look-alike names, renders each entity as one short document of
``"<Name> <cue> <object>."`` sentences, indexes the documents with BM25 (``bm25s``) and writes questions of
1 to 4 hops, each the nested noun phrase of a relation path, e.g. "What is the birthplace of the author of
The Silent Harbor?". A question's gold chain is the documents of the entities on its path; its answer is the
last relation's object. Questions are kept only if

* the answer (or its alias) does not appear in the question;
* no entity repeats along the path, and every entity on it is the top BM25 result for its own name;
* no earlier question of the same relation path has the same answer (name or alias), so the answers of a path
  never repeat: the training answers of a path are never the answer of a held-out question of that path;
* with 2 or more hops, no document among the top :data:`MAX_TOP_K` (the most a search shows) BM25 results
  for the question text, nor for the name of the entity it names, contains the answer. So no single search
  shows the answer of a multi-hop question, whatever ``top_k``.

Every answer pool is large (:data:`COUNTS`: the smallest, the regions and their capitals, holds 100), so an
agent that knew each relation path's answer distribution could still not guess much: one that never searches
and answers the most frequent training answer of the question's relation path scores 0 on the held-out
questions, and its variants (the most frequent answer of the last relation, or of the answer's type) about
1 %.

Everything follows from ``corpus_seed`` through one ``numpy`` Generator, so the same seed gives the same
corpus and questions (:attr:`Corpus.digest`) on every machine; nothing is downloaded or shipped.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass

import numpy as np

from envs.search.scoring import normalize

MAX_HOPS = 4
SPLITS = ("train", "test")
TEST_FRACTION = 0.2
MAX_TOP_K = 10  # the most results one search shows; the leak filter checks this many


@dataclass(frozen=True)
class Relation:
    """A typed relation: its subject and object kinds, the sentence cue, and the question phrase."""

    name: str
    subject: str
    object: str  # an entity kind, or "number"
    cue: str  # documents say "<subject> <cue> <object>."
    phrase: str  # questions say "<phrase> <subject>", nested for several hops


RELATIONS = (
    Relation("birthplace", "person", "place", "is a native of", "the birthplace of"),
    Relation("employer", "person", "organisation", "works for", "the employer of"),
    Relation("mentor", "person", "person", "was a student of", "the mentor of"),
    Relation("birth_year", "person", "number", "was born in the year", "the birth year of"),
    Relation("headquarters", "organisation", "place", "is headquartered in", "the home city of"),
    Relation("founder", "organisation", "person", "was founded by", "the founder of"),
    Relation(
        "founding_year", "organisation", "number", "was established in the year", "the founding year of"
    ),
    Relation("author", "work", "person", "was written by", "the author of"),
    Relation("publisher", "work", "organisation", "was published by", "the publisher of"),
    Relation("publication_year", "work", "number", "first appeared in the year", "the publication year of"),
    Relation("region", "place", "region", "lies in the region of", "the region of"),
    Relation("governor", "place", "person", "is governed by", "the governor of"),
    Relation("population", "place", "number", "has a population of", "the population of"),
    Relation("capital", "region", "place", "has its capital in", "the capital of"),
)
RELATION_IDS = {r.name: i + 1 for i, r in enumerate(RELATIONS)}  # 0 is "no relation" in observations
KINDS = ("person", "place", "region", "organisation", "work")
COUNTS = {"person": 600, "place": 300, "region": 100, "organisation": 200, "work": 300}
QUESTIONS_PER_HOP = 250

_ONSETS = ("b", "br", "c", "d", "dr", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "th", "v", "z")
_VOWELS = ("a", "e", "i", "o", "u", "ae", "ei", "ou")
_CODAS = ("", "", "l", "n", "r", "s", "th", "m", "x", "nd")
_ORG_KINDS = ("Guild", "Company", "Institute", "Press", "Foundry", "Society", "Bank", "Works", "Trust")
_ADJECTIVES = (
    "Silent", "Amber", "Hollow", "Crimson", "Distant", "Broken", "Golden", "Quiet", "Winter", "Iron",
    "Pale", "Hidden", "Bitter", "Northern", "Endless", "Sunken", "Scarlet", "Velvet", "Frozen", "Gentle",
    "Lonely", "Burning", "Silver", "Wandering",
)  # fmt: skip
_NOUNS = (
    "Harbor", "Lantern", "Orchard", "Tide", "Compass", "Garden", "Archive", "Bridge", "Meadow", "Crown",
    "Mirror", "River", "Tower", "Voyage", "Ember", "Citadel", "Falcon", "Chapel", "Island", "Letter",
    "Furnace", "Glacier", "Banner", "Quarry",
)  # fmt: skip
_PROFESSIONS = ("painter", "engineer", "historian", "merchant", "poet", "physician", "architect", "sailor")
_EPITHETS = ("Old", "Young", "Red", "Tall", "Little", "Wise")
_REGION_SUFFIXES = ("Vale", "Reach", "Marches", "Downs")


@dataclass(frozen=True)
class Entity:
    """One node of the knowledge graph; its document has the same id."""

    id: int
    kind: str
    name: str
    alias: str | None
    description: str
    facts: tuple[tuple[str, int | str], ...]  # (relation name, object entity id or number as text)


@dataclass(frozen=True)
class Question:
    """A question, its gold answers (name and alias) and its gold chain."""

    text: str
    hops: int
    subject: str  # the entity named in the question
    relations: tuple[str, ...]  # the relation path, first hop first
    doc_ids: tuple[int, ...]  # the gold chain: the document of each entity on the path
    answers: tuple[str, ...]


class Corpus:
    """The generated entities, their documents, a BM25 index over them, and the questions by split/hops."""

    def __init__(self, corpus_seed: int):
        import bm25s

        self._bm25s = bm25s
        self.seed = corpus_seed
        rng = np.random.default_rng(corpus_seed)
        self.entities = _draw_entities(rng)
        self.titles = [e.name for e in self.entities]
        self.texts = [_render(e, self.entities) for e in self.entities]
        tokens = bm25s.tokenize(
            [f"{t} {x}" for t, x in zip(self.titles, self.texts, strict=True)],
            stopwords="en",
            return_ids=False,
            show_progress=False,
        )
        self._index = bm25s.BM25()
        self._index.index(tokens, show_progress=False)
        self._vocab = self._index.vocab_dict
        self.questions = _write_questions(self, rng)
        self.digest = _digest(self)

    def tokenize(self, text: str) -> list[str]:
        """The query's BM25 tokens that occur in the corpus (lower case, English stopwords removed)."""
        tokens = self._bm25s.tokenize([text], stopwords="en", return_ids=False, show_progress=False)[0]
        return [t for t in tokens if t in self._vocab]

    def search(self, query: str, k: int) -> list[int]:
        """The ids of the ``k`` best documents for ``query`` by BM25 score, ties broken by lower id."""
        tokens = self.tokenize(query)
        if not tokens:
            return list(range(min(k, len(self.texts))))
        scores = self._index.get_scores(tokens)
        order = np.lexsort((np.arange(scores.size), -scores))
        return order[:k].tolist()

    def document(self, doc_id: int) -> str:
        """One document as shown by the tools: ``[id] Title: text``."""
        return f"[{doc_id}] {self.titles[doc_id]}: {self.texts[doc_id]}"

    def pool(self, split: str, hops: tuple[int, ...]) -> list[Question]:
        """The questions of ``split`` with any of the hop counts ``hops``, fewest hops first."""
        return [q for h in sorted(hops) for q in self.questions[split][h]]


@functools.lru_cache(maxsize=8)
def build_corpus(corpus_seed: int) -> Corpus:
    """The corpus of ``corpus_seed`` (built once per process, then shared read-only)."""
    if not isinstance(corpus_seed, (int, np.integer)) or corpus_seed < 0:
        raise ValueError(f"corpus_seed must be an integer >= 0, got {corpus_seed!r}")
    return Corpus(int(corpus_seed))


def answer_text(entities: list[Entity], value: int | str) -> str:
    """A fact's object as text: an entity's name, or the number itself."""
    return entities[value].name if isinstance(value, int) else value


def _syllable(rng: np.random.Generator) -> str:
    return str(rng.choice(_ONSETS)) + str(rng.choice(_VOWELS)) + str(rng.choice(_CODAS))


def _word(rng: np.random.Generator, syllables: int) -> str:
    return "".join(_syllable(rng) for _ in range(syllables)).capitalize()


def _draw_entities(rng: np.random.Generator) -> list[Entity]:
    """Names (unique), descriptions and facts of every entity, in kind order."""
    used: set[str] = set()
    first_names = [_word(rng, 2) for _ in range(80)]
    surnames = [_word(rng, int(rng.integers(1, 3)) + 1) for _ in range(200)]  # fewer than people: namesakes

    def unique(draw) -> str:
        while (name := draw()) in used or name.lower() in {u.lower() for u in used}:
            pass
        used.add(name)
        return name

    names: dict[str, list[str]] = {
        "person": [
            unique(lambda: f"{rng.choice(first_names)} {rng.choice(surnames)}")
            for _ in range(COUNTS["person"])
        ],
        "place": [unique(lambda: _word(rng, int(rng.integers(2, 4)))) for _ in range(COUNTS["place"])],
        "region": [
            unique(lambda: f"{_word(rng, 2)} {rng.choice(_REGION_SUFFIXES)}") for _ in range(COUNTS["region"])
        ],
        "organisation": [
            unique(lambda: f"{rng.choice(surnames)} {rng.choice(_ORG_KINDS)}")
            for _ in range(COUNTS["organisation"])
        ],
        "work": [
            unique(lambda: f"The {rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}")
            for _ in range(COUNTS["work"])
        ],
    }
    first_id, next_id = {}, 0
    for kind in KINDS:
        first_id[kind] = next_id
        next_id += len(names[kind])

    def some(kind: str) -> int:
        return first_id[kind] + int(rng.integers(len(names[kind])))

    def year(low: int, high: int) -> str:
        return str(int(rng.integers(low, high)))

    capitals = first_id["place"] + rng.permutation(len(names["place"]))[: len(names["region"])]  # distinct
    # each region holds len(place) / len(region) places, so every region is an answer of "the region of"
    regions = first_id["region"] + rng.permutation(np.arange(len(names["place"])) % len(names["region"]))

    entities = []
    for kind in KINDS:
        for i, name in enumerate(names[kind]):
            eid = first_id[kind] + i
            if kind == "person":
                alias = f"{rng.choice(_EPITHETS)} {name.split()[1]}"
                description = f"a {rng.choice(_PROFESSIONS)}"
                mentor = some("person")
                facts = [("birthplace", some("place")), ("employer", some("organisation"))]
                facts += [("mentor", mentor)] if mentor != eid else []
                facts += [("birth_year", year(1700, 1990))]
            elif kind == "place":
                alias, description = None, "a city"
                facts = [("region", int(regions[i])), ("governor", some("person"))]
                facts += [("population", str(int(rng.integers(2_000, 900_000))))]
            elif kind == "region":
                alias, description = None, "a region"
                facts = [("capital", int(capitals[i]))]
            elif kind == "organisation":
                alias = "".join(w[0] for w in name.split()) + str(int(rng.integers(2, 99)))
                description = "an organisation"
                facts = [("headquarters", some("place")), ("founder", some("person"))]
                facts += [("founding_year", year(1600, 1990))]
            else:
                alias, description = None, f"a {rng.choice(('novel', 'play', 'atlas', 'chronicle'))}"
                facts = [("author", some("person")), ("publisher", some("organisation"))]
                facts += [("publication_year", year(1650, 2000))]
            entities.append(Entity(eid, kind, name, alias, description, tuple(facts)))
    return entities


def _render(entity: Entity, entities: list[Entity]) -> str:
    """The entity's document: what it is (and its alias), then one sentence per fact."""
    also = f", also known as {entity.alias}" if entity.alias else ""
    sentences = [f"{entity.name} is {entity.description}{also}."]
    cues = {r.name: r.cue for r in RELATIONS}
    sentences += [f"{entity.name} {cues[rel]} {answer_text(entities, value)}." for rel, value in entity.facts]
    return " ".join(sentences)


def _write_questions(corpus: Corpus, rng: np.random.Generator) -> dict[str, dict[int, list[Question]]]:
    """Draw relation paths from random start entities and keep the questions that pass every check."""
    entities = corpus.entities
    relations = {r.name: r for r in RELATIONS}
    self_found = [corpus.search(e.name, 1) == [e.id] for e in entities]
    by_kind = {kind: [e.id for e in entities if e.kind == kind and self_found[e.id]] for kind in KINDS}
    shown = [f" {normalize(corpus.document(d))} " for d in range(len(entities))]
    out: dict[str, dict[int, list[Question]]] = {s: {} for s in SPLITS}
    for hops in range(1, MAX_HOPS + 1):
        kept: dict[str, Question] = {}
        answered: dict[tuple[str, ...], set[str]] = {}  # the normalised answers of each relation path so far
        for _attempt in range(QUESTIONS_PER_HOP * 40):
            if len(kept) == QUESTIONS_PER_HOP:
                break
            kind = KINDS[int(rng.integers(len(KINDS)))]
            if not by_kind[kind]:
                continue
            path, value = [int(rng.choice(by_kind[kind]))], None
            names: list[str] = []
            for hop in range(hops):
                facts = entities[path[-1]].facts
                if hop < hops - 1:  # inner hops must lead to another entity
                    facts = tuple(f for f in facts if isinstance(f[1], int))
                if not facts:
                    break
                rel, value = facts[int(rng.integers(len(facts)))]
                names.append(rel)
                if hop < hops - 1:
                    if value in path or not self_found[value]:
                        break
                    path.append(value)
            if len(names) < hops:
                continue
            phrase = entities[path[0]].name
            for rel in names:
                phrase = f"{relations[rel].phrase} {phrase}"
            asks = "Who" if relations[names[-1]].object == "person" else "What"
            text = f"{asks} is {phrase}?"
            final = entities[value] if isinstance(value, int) else None
            answers = (final.name,) + ((final.alias,) if final.alias else ()) if final else (value,)
            golds = {normalize(a) for a in answers}
            if text in kept or golds & answered.get(tuple(names), set()):
                continue
            if _leaks(corpus, shown, text, entities[path[0]].name, golds, hops):
                continue
            answered.setdefault(tuple(names), set()).update(golds)
            kept[text] = Question(text, hops, entities[path[0]].name, tuple(names), tuple(path), answers)
        questions = list(kept.values())
        n_test = round(TEST_FRACTION * len(questions))
        out["train"][hops], out["test"][hops] = questions[n_test:], questions[:n_test]
    return out


def _leaks(corpus: Corpus, shown: list[str], text: str, subject: str, golds: set[str], hops: int) -> bool:
    """Whether the question gives its answer away: in its own words, or (2+ hops) in a document among the
    top :data:`MAX_TOP_K` results of searching its text or the entity it names. ``shown`` holds each
    document as the tools show it, normalised and padded with spaces; ``golds`` the normalised answers."""
    if any(f" {g} " in f" {normalize(text)} " for g in golds):
        return True
    if hops == 1:
        return False
    results = set(corpus.search(text, MAX_TOP_K)) | set(corpus.search(subject, MAX_TOP_K))
    return any(f" {g} " in shown[d] for g in golds for d in results)


def _digest(corpus: Corpus) -> str:
    """SHA-256 over the documents and the questions of every split."""
    payload = {
        "documents": list(zip(corpus.titles, corpus.texts, strict=True)),
        "questions": {
            split: {str(h): [q.__dict__ for q in qs] for h, qs in by_hops.items()}
            for split, by_hops in corpus.questions.items()
        },
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
