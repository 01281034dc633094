"""Answer scoring as in SQuAD: normalisation, exact match and token F1 against a list of gold answers."""

from __future__ import annotations

import re
from collections import Counter


def normalize(text: str) -> str:
    """SQuAD's answer normalisation: lower case, no punctuation, no articles, single spaces."""
    text = re.sub(r"[^\w\s]", " ", text.lower())
    return " ".join(w for w in text.split() if w not in ("a", "an", "the"))


def exact_match(prediction: str, answers: tuple[str, ...]) -> float:
    """1.0 when the normalised prediction equals any normalised gold answer, else 0.0."""
    guess = normalize(prediction)
    return float(any(guess == normalize(a) for a in answers))


def token_f1(prediction: str, answers: tuple[str, ...]) -> float:
    """The best token-overlap F1 of the prediction against any gold answer (SQuAD's definition)."""
    guess = normalize(prediction).split()
    best = 0.0
    for answer in answers:
        gold = normalize(answer).split()
        common = sum((Counter(guess) & Counter(gold)).values())
        if common:
            precision, recall = common / len(guess), common / len(gold)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best
