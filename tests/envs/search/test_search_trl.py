"""The TRL-shaped adapter: tool methods drive the text env, rewards come from the environments."""

import inspect
import re

from envs.search.trl import SearchToolEnvironment, dataset_rows, environment_factory, exact_match_reward


def test_adapter_tools_follow_the_gold_chain_to_reward_one():
    """Reading each gold document's cue sentence through the search tool and answering scores EM 1; a tool
    call after the answer is refused and changes nothing."""
    rows = dataset_rows(hops=2, split="test")
    make = environment_factory(hops=2, split="test")
    env = make()
    env.reset(**{k: v for k, v in rows[4].items() if k != "prompt"})
    question = env._env.question
    cues = [env._env._question_info["cues"][k] for k in range(2)]
    query = question.subject
    for hop, doc in enumerate(question.doc_ids):
        shown = env.search(query)
        line = next(x for x in shown.splitlines() if x.startswith(f"[{doc}] "))
        query = re.search(re.escape(cues[hop]) + r" ([^.]+)\.", line).group(1)
    assert env.answer(query) == "Answer submitted." and env.done
    assert env.search("more").startswith("The episode is over")
    assert exact_match_reward(["..."], [env]) == [1.0] and env.em == env.f1 == 1.0


def test_dataset_rows_cover_the_pool_and_tools_are_documented_public_methods():
    rows = dataset_rows(hops=(1, 2), split="test")
    assert len(rows) == 100 and [r["question"] for r in rows] == list(range(100))
    env = environment_factory(hops=(1, 2), split="test")()
    assert rows[7]["prompt"][0]["content"].endswith(env.reset(question=7).strip())
    tools = [
        n for n, f in inspect.getmembers(SearchToolEnvironment, inspect.isfunction) if not n.startswith("_")
    ]
    assert sorted(tools) == ["answer", "calculate", "lookup", "open", "reset", "search"]
    assert all("Args:" in inspect.getdoc(getattr(SearchToolEnvironment, n)) for n in tools if n != "reset")
    env = environment_factory()()
    assert env.reset(seed=3).startswith("Question: ") and env.calculate("6 * 7") == "42"
