"""The search env's tools, budget, masks and answers, on both interfaces."""

from collections import Counter

import gymnasium as gym
import numpy as np
import pytest

import envs  # noqa: F401  (registers the ids)
from envs.search.corpus import RELATIONS
from envs.search.env import MAX_TRANSCRIPT, SearchQAEnv


def _first_step(env, action, question):
    env.reset(options={"question": question})
    return env.step(action)


def test_answer_ends_the_episode_with_exact_match_reward_and_f1_in_info():
    env = SearchQAEnv(hops=1, interface="text", split="test")
    question = env.pool[0]
    *_, terminated, truncated, info = _first_step(env, f"answer[{question.answers[0].upper()}!]", 0)
    assert (
        terminated and not truncated and info["em"] == info["f1"] == 1.0 and info["tool_calls"] == ("answer",)
    )
    _, reward, terminated, _, info = _first_step(env, "answer[nobody at all]", 0)
    assert terminated and reward == 0.0 and info["em"] == 0.0


def test_turn_budget_truncates_with_zero_score_and_search_cost_is_charged():
    env = SearchQAEnv(hops=2, interface="text", max_turns=3, search_cost=0.1)
    env.reset(seed=0)
    rewards = [env.step("search[anything]")[1] for _ in range(2)]
    _, reward, terminated, truncated, info = env.step("lookup[is]")
    assert rewards == [-0.1, -0.1] and reward == 0.0
    assert truncated and not terminated and info["em"] == 0.0 and info["num_searches"] == 2


def test_invalid_calls_cost_the_penalty_and_a_turn():
    env = SearchQAEnv(interface="text", invalid_penalty=-0.5)
    env.reset(seed=0)
    observation, reward, *_, info = env.step("fetch[everything]")
    assert reward == -0.5 and info["tool_calls"] == ("invalid",) and "Invalid action" in observation


def test_lookup_cycles_through_matching_sentences_of_the_current_document():
    """The top result of a search becomes the current document; each lookup of the same term shows the
    next matching sentence, wrapping around ("(Result k / n)")."""
    env = SearchQAEnv(hops=1, interface="text", split="test")
    env.reset(options={"question": 0})
    subject = env.pool[0].subject
    env.step(f"search[{subject}]")
    document = env.corpus.texts[env.corpus.search(subject, 1)[0]]
    n = document.count(subject)  # every sentence names its subject once
    shown = [env.step(f"lookup[{subject}]")[0].rsplit("Observation: ", 1)[1] for _ in range(n + 1)]
    assert [s.split(")")[0] for s in shown] == [f"(Result {k} / {n}" for k in (*range(1, n + 1), 1)]
    assert "No document" in env.step("open[99999]")[0]


def test_text_transcript_stays_within_its_space_when_long():
    env = SearchQAEnv(interface="text", max_turns=64, top_k=10)
    observation, _ = env.reset(seed=0)
    for k in range(20):
        observation, *_ = env.step(f"search[{RELATIONS[k % len(RELATIONS)].cue} é]")
    assert len(observation) <= MAX_TRANSCRIPT and env.observation_space.contains(observation)
    assert "(earlier turns omitted)" in observation and observation.startswith("Question: ")


def test_structured_masks_allow_only_filled_slots_and_open_only_titles():
    """At reset only the question and its entity fill slots: search and answer them, open nothing. After
    a search with top_k = 3, three title slots become openable, and an illegal action is an invalid call."""
    env = gym.make("arena/SearchQA-v0", hops=2).unwrapped
    _, info = env.reset(seed=0)
    slots = env.num_slots
    assert np.flatnonzero(info["action_mask"]).tolist() == [0, 1, 2 * slots, 2 * slots + 1]
    observation, *_, info = env.step(1)  # search the entity the question names
    kinds = observation["slots"][:, 0]
    assert np.array_equal(np.flatnonzero(info["action_mask"][slots : 2 * slots]), np.flatnonzero(kinds == 3))
    assert np.count_nonzero(kinds == 3) == 3 and observation["slots"][1, 4] == 1
    assert np.array_equal(env.action_masks(), info["action_mask"])
    *_, info = env.step(slots + 90)  # open an empty slot
    assert info["tool_calls"][-1] == "invalid"


def test_reset_options_pick_the_question_and_seeds_repeat_it():
    env = SearchQAEnv(hops=(1, 3), split="test")
    _, info = env.reset(options={"question": 60})
    assert info["question"]["text"] == env.pool[60].text and info["question"]["hops"] == 3
    assert env.reset(seed=5)[1]["question"] == env.reset(seed=5)[1]["question"]


@pytest.mark.parametrize(
    "kwargs",
    [{"hops": 5}, {"hops": []}, {"interface": "html"}, {"max_turns": 0}, {"top_k": 11}, {"split": "dev"},
     {"search_cost": -1.0}, {"invalid_penalty": 0.5}, {"corpus_seed": -1}, {"num_slots": 4}],
)  # fmt: skip
def test_bad_arguments_are_rejected_naming_the_field(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        SearchQAEnv(**kwargs)


def test_answering_immediately_with_a_span_or_a_frequent_training_answer_scores_at_most_2_percent():
    """Agents that answer at once, without a search, on the held-out questions of corpus seeds 0-2: any
    1-3 word span of the question scores 0 (no answer is in its question), and the most frequent training
    answer of the question's last relation, or of the answer's type (person, place, region, organisation,
    number), scores at most 0.02: every answer pool holds at least 100 answers and none repeats in a path."""
    kind = {r.name: r.object for r in RELATIONS}
    scores = Counter()
    total = 0
    for seed in (0, 1, 2):
        train = SearchQAEnv(corpus_seed=seed, split="train").pool
        env = SearchQAEnv(interface="text", corpus_seed=seed, split="test")
        guesses = {}
        for name, key in (("type", lambda q: kind[q.relations[-1]]), ("relation", lambda q: q.relations[-1])):
            counts = {}
            for q in train:
                counts.setdefault(key(q), Counter())[q.answers[0]] += 1
            guesses[name] = (key, {k: c.most_common(1)[0][0] for k, c in counts.items()})
        for i, q in enumerate(env.pool):
            total += 1
            for name, (key, best) in guesses.items():
                scores[name] += _first_step(env, f"answer[{best[key(q)]}]", i)[4]["em"]
            words = q.text.rstrip("?").split()
            spans = {" ".join(words[s : s + n]) for n in (1, 2, 3) for s in range(len(words))}
            scores["span"] += max(_first_step(env, f"answer[{span}]", i)[4]["em"] for span in spans)
    rates = {name: score / total for name, score in scores.items()}
    assert rates["span"] == 0.0
    assert rates["relation"] <= 0.02 and rates["type"] <= 0.02, rates
