"""Fixtures that register test-only envs for the duration of one test."""

import fixture_envs
import pytest


@pytest.fixture
def registered_test_envs():
    """Register the test-only envs of ``fixture_envs``; yields their ids and removes them afterwards."""
    yield fixture_envs.register()
    fixture_envs.unregister()


@pytest.fixture
def search_questions_played(monkeypatch):
    """Record the questions the search learner plays: ``{"train": {...}, "evaluate": {...}}``, each a set
    of ``(split, hops)`` of the questions collected outside and inside ``grpo.evaluate``."""
    from agents.search import grpo
    from envs.search.corpus import build_corpus

    corpus = build_corpus(0)
    split_of = {
        q.text: split for split, by_hops in corpus.questions.items() for qs in by_hops.values() for q in qs
    }
    seen = {"train": set(), "evaluate": set()}
    phase = ["train"]
    collect, evaluate = grpo.collect, grpo.evaluate

    def recording_collect(policy, venv, questions, *args, **kwargs):
        pool = venv.envs[0].pool
        seen[phase[0]] |= {(split_of[pool[int(i)].text], pool[int(i)].hops) for i in questions}
        return collect(policy, venv, questions, *args, **kwargs)

    def recording_evaluate(*args, **kwargs):
        phase[0] = "evaluate"
        try:
            return evaluate(*args, **kwargs)
        finally:
            phase[0] = "train"

    monkeypatch.setattr(grpo, "collect", recording_collect)
    monkeypatch.setattr(grpo, "evaluate", recording_evaluate)
    return seen
