"""The latent strategy space: Werewolf utterances clustered into K discrete strategies, and back to text.

Utterances are first reduced to *templates*: every ``Player <seat>`` becomes the slot ``Player {target}``,
so ``"I suspect Player 4."`` and ``"I suspect Player 2."`` are one template about different players. Templates
are embedded with scikit-learn's stateless :class:`~sklearn.feature_extraction.text.HashingVectorizer` (word
unigrams and bigrams, l2-normalised; its few settings are saved, so the embedding is rebuilt exactly offline)
and clustered with seeded k-means, each template weighted by how often it was said. Without a given K, K is
the smallest that leaves at most ``residual`` (0.5 %) of the weighted variance within clusters.

Each cluster keeps its templates (most said first) and whether its utterances came with an accusation (or a
night-chat suggestion) of the player they mention, a fact read from the speakers' structured moves. Then

- :meth:`StrategySpace.encode` maps anyone's utterance to the id of the nearest centroid, so a policy
  observes what others said as latent ids (:func:`mention` gives the player it is about);
- :meth:`StrategySpace.render` maps a chosen strategy back to text: its first template, about ``target``.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.cluster import KMeans
from sklearn.feature_extraction.text import HashingVectorizer

PLAYER = re.compile(r"Player (\d+)")
SLOT = "Player {target}"
VECTORIZER = {"n_features": 1024, "ngram_range": [1, 2], "alternate_sign": False, "norm": "l2"}


def template_of(text: str) -> str:
    """``text`` with every ``Player <seat>`` replaced by the slot ``Player {target}``, spaces trimmed."""
    return PLAYER.sub(SLOT, " ".join(text.split()))


def mention(text: str) -> int | None:
    """The first seat ``text`` names (``Player <seat>``), or None."""
    found = PLAYER.search(text)
    return int(found.group(1)) if found else None


@dataclass(frozen=True)
class Utterance:
    """One thing a player said: its text, whether its move also accused (or, in night chat, suggested) the
    seat the text names, and whether it was said in the werewolves' night chat."""

    text: str
    accuses: bool
    chat: bool = False


class StrategySpace:
    """K strategies: k-means centroids of embedded templates, each with its templates and accusation flag."""

    def __init__(
        self, centroids: np.ndarray, templates: list[list[str]], accuses: list[bool], counts: list[int]
    ):
        if not len(centroids) == len(templates) == len(accuses) == len(counts) >= 1:
            raise ValueError(
                f"centroids, templates, accuses and counts must have one entry per strategy (>= 1), got "
                f"{len(centroids)}, {len(templates)}, {len(accuses)}, {len(counts)}"
            )
        self.centroids = np.asarray(centroids, dtype=np.float64)
        self.templates, self.accuses, self.counts = templates, accuses, counts
        self.vectorizer = HashingVectorizer(**{**VECTORIZER, "ngram_range": tuple(VECTORIZER["ngram_range"])})
        self._cache: dict[str, int] = {}

    @property
    def k(self) -> int:
        """The number of strategies."""
        return len(self.templates)

    @classmethod
    def fit(
        cls,
        utterances: list[Utterance],
        *,
        k: int | None = None,
        k_max: int = 12,
        residual: float = 0.005,
        seed: int = 0,
        like: StrategySpace | None = None,
    ) -> StrategySpace:
        """Cluster ``utterances`` into ``k`` strategies (None: the smallest K up to ``k_max`` whose clusters
        keep at most ``residual`` of the weighted variance). Strategies are numbered by how often they were
        said, except that a strategy whose main template led a strategy of ``like`` keeps that number."""
        said = Counter(template_of(u.text) for u in utterances if u.text.strip())
        accusing = Counter(template_of(u.text) for u in utterances if u.text.strip() and u.accuses)
        if len(said) < 2:
            raise ValueError(f"utterances must hold at least 2 different templates, got {len(said)}")
        names = sorted(said)
        weights = np.array([said[t] for t in names], dtype=np.float64)
        x = cls._embed(names)
        if k is None:
            total = (weights[:, None] * (x - np.average(x, axis=0, weights=weights)) ** 2).sum()
            k = next(
                (
                    c
                    for c in range(2, min(k_max, len(names)))
                    if _kmeans(x, weights, c, seed).inertia_ <= residual * total
                ),
                min(k_max, len(names)),
            )
        elif not 1 <= k <= len(names):
            raise ValueError(f"k={k} must be in [1, {len(names)}] (the number of different templates)")
        labels = _kmeans(x, weights, k, seed).labels_
        centroids, templates, accuses, counts = [], [], [], []
        for cluster in range(k):
            members = sorted(
                (t for t, c in zip(names, labels, strict=True) if c == cluster), key=lambda t: -said[t]
            )
            total = sum(said[t] for t in members)
            centroids.append(np.average(x[labels == cluster], axis=0, weights=weights[labels == cluster]))
            templates.append(members)
            accuses.append(2 * sum(accusing[t] for t in members) > total)
            counts.append(total)
        previous = [t[0] for t in like.templates] if like is not None else []
        rank = [previous.index(t[0]) if t[0] in previous else len(previous) for t in templates]
        order = np.lexsort(([-c for c in counts], rank))  # kept numbers first, then the most said
        return cls(
            np.array(centroids)[order],
            [templates[i] for i in order],
            [accuses[i] for i in order],
            [counts[i] for i in order],
        )

    @staticmethod
    def _embed(templates: list[str]) -> np.ndarray:
        vectorizer = HashingVectorizer(**{**VECTORIZER, "ngram_range": tuple(VECTORIZER["ngram_range"])})
        return vectorizer.transform(templates).toarray()

    def encode(self, text: str) -> int:
        """The strategy whose centroid is nearest to ``text``'s embedding (cached per template)."""
        template = template_of(text)
        strategy = self._cache.get(template)
        if strategy is None:
            x = self.vectorizer.transform([template]).toarray()[0]
            strategy = self._cache[template] = int(np.argmin(((self.centroids - x) ** 2).sum(axis=1)))
        return strategy

    def render(self, strategy: int, target: int) -> str:
        """Strategy ``strategy`` said about seat ``target``: its most said template with the slot filled."""
        if not 0 <= strategy < self.k:
            raise ValueError(f"strategy={strategy} must be in [0, {self.k - 1}]")
        return self.templates[strategy][0].replace("{target}", str(target))

    def to_json(self, path: str | Path) -> None:
        """Save the space (vectorizer settings, centroids, templates, flags, counts) as JSON."""
        data = {
            "vectorizer": VECTORIZER,
            "centroids": np.round(self.centroids, 6).tolist(),
            "templates": self.templates,
            "accuses": self.accuses,
            "counts": self.counts,
        }
        Path(path).write_text(json.dumps(data) + "\n")

    @classmethod
    def from_json(cls, path: str | Path) -> StrategySpace:
        """Load a space saved by :meth:`to_json`."""
        data = json.loads(Path(path).read_text())
        if data["vectorizer"] != VECTORIZER:
            raise ValueError(f"{path}: vectorizer settings {data['vectorizer']} differ from {VECTORIZER}")
        return cls(np.array(data["centroids"]), data["templates"], data["accuses"], data["counts"])


def _kmeans(x: np.ndarray, weights: np.ndarray, k: int, seed: int) -> KMeans:
    return KMeans(n_clusters=k, n_init=10, random_state=seed).fit(x, sample_weight=weights)
