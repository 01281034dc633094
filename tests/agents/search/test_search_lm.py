"""The language-model search agent and its trainer (warm start, then GRPO-family updates on LoRA), on the
tiny random model of the shipped architecture."""

from __future__ import annotations

import json

import gymnasium as gym
import pytest
import torch

import agents
import envs  # noqa: F401  (registers the ids)
from agents import load_agent, read_manifest
from agents.base import EnvSpaces
from agents.language import TINY, load_model
from agents.search.lm import react_prompt, with_adapter
from agents.search.lm_training import (
    Episode,
    LMSearchConfig,
    add_lora,
    episode_advantages,
    oracle_examples,
    rl_update,
    sft,
    train_package,
)
from arena.isolation import unreadable_by_others
from arena.launch import package_player

TEXT = "arena/SearchQAText-v0"
SMALL = dict(language_model=TINY, max_action_tokens=8, prompts=2, group_size=2, sft_examples=8, sft_batch=4)


def spaces(env_id=TEXT, **kwargs):
    env = gym.make(env_id, **kwargs)
    return EnvSpaces(env.observation_space, env.action_space)


def test_search_lm_plays_the_text_interface_only_and_writes_legal_actions():
    env = gym.make(TEXT, hops=1, split="test", max_turns=3)
    agent = agents.make("search/lm", spaces(), language_model=TINY, max_action_tokens=8)
    agent.reset(seed=0)
    observation, info = env.reset(seed=0)
    done = False
    while not done:
        action = agent.act(observation, info)
        assert env.action_space.contains(action)
        observation, _, terminated, truncated, info = env.step(action)
        done = terminated or truncated
    with pytest.raises(ValueError, match="plays the text interface"):
        agents.make("search/lm", spaces("arena/SearchQA-v0"), language_model=TINY)


def test_oracle_examples_are_the_oracle_calls_that_answer_training_questions():
    """The warm start imitates calls that solve the task: replaying them answers every question right."""
    config = LMSearchConfig(**SMALL)
    examples = oracle_examples(config, 12, seed=0)
    assert len(examples) == 12
    assert all(call.startswith(("search[", "answer[")) for _, call in examples)
    assert all(transcript.startswith("Question: ") for transcript, _ in examples)
    assert sum(call.startswith("answer[") for _, call in examples) >= 3  # 1-2 hops: 2-3 calls a question


def test_the_warm_start_raises_the_likelihood_of_the_oracle_calls():
    """Supervised steps on the oracle's calls lower their negative log-likelihood (the loss it minimises)."""
    config = LMSearchConfig(**{**SMALL, "sft_lr": 1e-2})
    model = add_lora(load_model(TINY, seed=0), config)
    examples = oracle_examples(config, 8, seed=1)

    def nll():
        with torch.no_grad():
            prompts = [model.encode(react_prompt(model, t)) for t, _ in examples]
            calls = [[*model.encode(c), model.end_id] for _, c in examples]
            return -float(model.sequence_log_probs(prompts, calls).sum())

    before = nll()
    for _ in range(6):
        sft(model, config, examples, seed=0, deadline=float("inf"), log=lambda row: None)
    assert nll() < 0.95 * before  # the tiny model: frozen random embeddings, so only ~10% in 12 steps


def test_an_rl_step_raises_the_rewarded_call_and_lowers_the_unrewarded_one():
    """Two episodes of one question, one right (reward 1) and one wrong (0): GRPO gives them advantages of
    opposite signs, and one step moves each call's log-probability in its advantage's direction."""
    config = LMSearchConfig(**{**SMALL, "rl_lr": 1e-2})
    model = add_lora(load_model(TINY, seed=0), config)
    prompt = model.encode(react_prompt(model, "Question: Who founded Tor Mill?"))
    good, bad = model.encode("answer[Kel Orr]"), model.encode("search[Tor Mill]")
    episodes = [
        Episode([prompt], [good], reward=1.0, searches=0),
        Episode([prompt], [bad], reward=0.0, searches=1),
    ]
    advantages = episode_advantages(episodes, config)
    assert advantages[0] > 0 > advantages[1]

    def log_probs():
        with torch.no_grad():
            return model.sequence_log_probs([prompt, prompt], [good, bad]).sum(1)

    before = log_probs()
    optimizer = torch.optim.SGD([p for p in model.model.parameters() if p.requires_grad], lr=config.rl_lr)
    rl_update(model, optimizer, episodes, config)
    after = log_probs()
    assert after[0] > before[0] and after[1] < before[1]


@pytest.mark.parametrize("estimator", ["grpo", "dr_grpo", "rloo", "san"])
def test_episode_advantages_follow_each_estimator_within_each_group(estimator):
    """Groups are consecutive runs of group_size episodes; a group of equal rewards gives no signal."""
    config = LMSearchConfig(**{**SMALL, "group_size": 4, "estimator": estimator})
    rewards, searches = [1, 0, 0, 0, 1, 1, 1, 1], [1, 1, 2, 2, 1, 1, 1, 1]
    episodes = [Episode(reward=r, searches=s) for r, s in zip(rewards, searches, strict=True)]
    advantages = episode_advantages(episodes, config).view(2, 4)
    assert torch.all(advantages[1] == 0)
    first = advantages[0]
    if estimator == "rloo":
        assert first.tolist() == pytest.approx([1.0, -1 / 3, -1 / 3, -1 / 3])
    elif estimator == "dr_grpo":
        assert first.tolist() == pytest.approx([0.75, -0.25, -0.25, -0.25])
    elif estimator == "san":  # strata by searches: {0, 1} one search, {2, 3} two (equal rewards: 0)
        assert first.tolist() == pytest.approx([0.5**0.5, -(0.5**0.5), 0.0, 0.0], abs=1e-4)
    else:
        assert first.tolist() == pytest.approx([1.5, -0.5, -0.5, -0.5], abs=1e-4)


@pytest.mark.slow
def test_arena_train_lm_grpo_writes_a_package_the_arena_plays(tmp_path):
    """The learner writes a LoRA adapter package with its held-out EM; loading it merges the adapter into a
    fresh copy of the base model, which then plays the text env, in the process and in the sandbox."""
    out = tmp_path / "pkg"
    train_package(
        TEXT,
        {"hops": 1, "split": "test", "max_turns": 3},
        out=out,
        steps=1,
        seed=0,
        device="cpu",
        progress=False,
        **{k: v for k, v in SMALL.items()},
    )
    training = json.loads((out / "training.json").read_text())
    assert training["rl_updates"] == 1 and training["sft_examples"] == 8
    assert set(training["held_out"]) == {"em_1hop", "em"}
    manifest = read_manifest(out)
    assert manifest.entry_point == "agents.search.lm:load" and manifest.kwargs == {"language_model": TINY}
    agent = load_agent(out, spaces())
    env = gym.make(TEXT, hops=1, split="test", max_turns=3)
    observation, info = env.reset(seed=0)
    assert env.action_space.contains(agent.act(observation, info))
    assert unreadable_by_others(out) is None  # the sandbox plays a package under a uid of its own
    with package_player(out, env) as player:
        player.reset(0)
        assert env.action_space.contains(player.act(observation, {}))
    with pytest.raises(ValueError, match="unknown option"):
        train_package(TEXT, {}, out=tmp_path / "x", steps=1, seed=0, device="cpu", lr=1.0)


def test_an_adapter_saved_as_a_pickle_is_refused(tmp_path):
    """Packages load adapters from safetensors only: a package with peft's pickle format never reaches
    torch.load."""
    (tmp_path / "adapter_config.json").write_text("{}")
    (tmp_path / "adapter_model.bin").write_bytes(b"\x80\x04K\x01.")
    with pytest.raises(ValueError, match=r"adapter_model\.safetensors"):
        with_adapter(load_model(TINY), tmp_path)
