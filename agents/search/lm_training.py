"""Policy gradients on a language model that searches: a supervised warm start, then GRPO-family updates.

The agent is :mod:`agents.search.lm` (the shipped SmolLM2-135M-Instruct writing ReAct tool calls on the text
interface). Zero-shot it almost never writes a usable call, so RL alone has no signal; training therefore
runs in two stages on LoRA adapters (``peft``; the base weights stay frozen):

1. **Warm start (SFT).** The oracle (``search/oracle``, which reads the gold chain) answers training
   questions; each of its calls, given the transcript before it, is a supervised example. Loss: the mean
   negative log-likelihood of the call's tokens and the end-of-turn token.
2. **RL.** Each update draws ``prompts`` training questions and plays each ``group_size`` times with sampled
   calls (temperature 1); the reward is the exact match (0 or 1). The episodes' rewards become advantages
   with the estimators of :mod:`agents.pg.estimators`: ``grpo``, ``dr_grpo``, ``rloo`` or ``san`` (strata:
   the number of searches an episode made), and every call of an episode gets its episode's advantage. One
   on-policy step on ``-A * log pi(call | transcript)``, aggregated over the calls' tokens as each estimator's
   paper does (:func:`agents.pg.estimators.aggregate_token_loss`).

Questions come from the train split of ``corpus_seeds``; :func:`evaluate` reports exact match on the test
split (held-out questions), greedy, ``questions`` per hop count from each corpus in turn.
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

from agents.base import AgentManifest, EnvSpaces, write_manifest
from agents.language import SHIPPED, LanguageModel, load_model
from agents.pg.estimators import (
    aggregate_token_loss,
    dr_grpo_advantages,
    grpo_advantages,
    rloo_advantages,
    san_advantages,
)
from agents.pg.policy import weights_version
from agents.search.lm import ADAPTER, next_actions, react_prompt

ENV_ID = "arena/SearchQAText-v0"
ESTIMATORS = ("grpo", "dr_grpo", "rloo", "san")
LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


@dataclass
class LMSearchConfig:
    """Hyperparameters of both stages; the env settings are the agent's task (``arena/SearchQAText-v0``)."""

    language_model: str = SHIPPED
    hops: tuple[int, ...] = (1, 2)
    corpus_seeds: tuple[int, ...] = (0, 1)
    top_k: int = 1  # one result per search: shorter transcripts, and the oracle still answers every question
    max_turns: int = 4
    max_action_tokens: int = 32
    lora_rank: int = 16
    lora_alpha: float = 32.0
    # warm start
    sft_examples: int = 320  # oracle calls (about 2.5 per question)
    sft_batch: int = 8
    sft_lr: float = 1e-3
    # RL
    estimator: str = "grpo"
    updates: int = 12
    prompts: int = 4
    group_size: int = 4
    rl_lr: float = 2e-4
    temperature: float = 1.0
    san_alpha: float = 1.0
    micro_batch: int = 8  # calls per forward/backward pass of an RL update (gradients accumulate)
    budget_s: float | None = None  # stop training (either stage) after this much wall time

    def __post_init__(self):
        if self.estimator not in ESTIMATORS:
            raise ValueError(f"estimator={self.estimator!r} must be one of {ESTIMATORS}")
        for name in ("sft_examples", "updates"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}={getattr(self, name)} must be >= 0")
        for name in ("sft_batch", "prompts", "max_turns", "max_action_tokens", "lora_rank", "micro_batch"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}={getattr(self, name)} must be >= 1")
        if self.group_size < 2:
            raise ValueError(f"group_size={self.group_size} must be >= 2 (advantages are group-relative)")

    def env(self, hops: int, split: str, corpus_seed: int) -> gym.Env:
        return gym.make(
            ENV_ID,
            hops=hops,
            split=split,
            corpus_seed=corpus_seed,
            top_k=self.top_k,
            max_turns=self.max_turns,
        )


@dataclass
class Episode:
    """One played question: each call's prompt and sampled tokens, the reward and the searches made."""

    prompts: list[list[int]] = field(default_factory=list)
    calls: list[list[int]] = field(default_factory=list)
    reward: float = 0.0
    searches: int = 0


def add_lora(model: LanguageModel, config: LMSearchConfig, seed: int = 0) -> LanguageModel:
    """``model`` with fresh LoRA adapters on every attention and MLP projection (only they train), drawn
    from ``seed`` (torch's global generator is left as it was)."""
    from peft import LoraConfig, get_peft_model

    lora = LoraConfig(
        r=config.lora_rank, lora_alpha=config.lora_alpha, target_modules=list(LORA_TARGETS), lora_dropout=0.0
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        adapted = get_peft_model(model.model, lora)
    return LanguageModel(adapted, model.tokenizer, model.name, model.device)


def oracle_examples(config: LMSearchConfig, count: int, seed: int) -> list[tuple[str, str]]:
    """``count`` (transcript, oracle call) pairs from training questions drawn with ``seed``."""
    from agents.baselines.search import SearchOracle

    rng = np.random.default_rng(seed)
    envs = {(h, c): config.env(h, "train", c) for h in config.hops for c in config.corpus_seeds}
    examples: list[tuple[str, str]] = []
    while len(examples) < count:
        env = envs[list(envs)[rng.integers(len(envs))]]
        oracle = SearchOracle(EnvSpaces(env.observation_space, env.action_space))
        observation, info = env.reset(options={"question": int(rng.integers(len(env.unwrapped.pool)))})
        done = False
        while not done:
            call = oracle.act(observation, info)
            examples.append((observation, call))
            observation, _, terminated, truncated, info = env.step(call)
            done = terminated or truncated
    return examples[:count]


def play(
    model: LanguageModel,
    config: LMSearchConfig,
    questions: list[tuple[int, int, int]],
    *,
    split: str,
    temperature: float,
    generator: torch.Generator | None = None,
    batch: int = 16,
) -> list[Episode]:
    """Play each (hops, corpus seed, question index) to its end, ``batch`` episodes at a time, every call
    of the active episodes in one generation."""
    episodes = []
    for start in range(0, len(questions), batch):
        chunk = questions[start : start + batch]
        envs = [config.env(h, split, c) for h, c, _ in chunk]
        observations = [
            env.reset(options={"question": q})[0] for env, (_, _, q) in zip(envs, chunk, strict=True)
        ]
        played = [Episode() for _ in chunk]
        active = list(range(len(chunk)))
        while active:
            generation = next_actions(
                model,
                [observations[i] for i in active],
                max_action_tokens=config.max_action_tokens,
                temperature=temperature,
                generator=generator,
            )
            still = []
            for row, i in enumerate(active):
                played[i].prompts.append(model.encode(react_prompt(model, observations[i])))
                played[i].calls.append([t for t in generation.token_ids[row].tolist() if t >= 0])
                observations[i], _, terminated, truncated, info = envs[i].step(generation.texts[row])
                if terminated or truncated:
                    played[i].reward, played[i].searches = float(info.get("em", 0.0)), info["num_searches"]
                else:
                    still.append(i)
            active = still
        episodes += played
    return episodes


def evaluate(model: LanguageModel, config: LMSearchConfig, questions: int = 50) -> dict[str, float]:
    """Greedy exact match on held-out (test split) questions: ``questions`` per hop count and corpus seed,
    the first of each test pool; ``em`` over all of them and ``em_<h>hop`` per hop count."""
    result = {}
    for hops in config.hops:
        chosen = [(hops, c, q) for c in config.corpus_seeds for q in range(questions)]
        with torch.no_grad():
            episodes = play(model, config, chosen, split="test", temperature=0.0)
        result[f"em_{hops}hop"] = float(np.mean([e.reward for e in episodes]))
    result["em"] = float(np.mean([result[f"em_{h}hop"] for h in config.hops]))
    return result


def sft(
    model: LanguageModel,
    config: LMSearchConfig,
    examples: list[tuple[str, str]],
    *,
    seed: int,
    deadline: float,
    log: Callable[[dict], None],
) -> int:
    """Warm start on ``examples`` in shuffled minibatches until they run out or ``deadline`` (a
    ``time.perf_counter()`` value) passes; returns the number of examples trained on."""
    trainable = [p for p in model.model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=config.sft_lr)
    order = np.random.default_rng(seed).permutation(len(examples))
    seen = 0
    for start in range(0, len(order), config.sft_batch):
        if time.perf_counter() > deadline:
            break
        batch = [examples[i] for i in order[start : start + config.sft_batch]]
        prompts = [model.encode(react_prompt(model, transcript)) for transcript, _ in batch]
        targets = [[*model.encode(call), model.end_id] for _, call in batch]
        log_probs = model.sequence_log_probs(prompts, targets)
        lengths = torch.tensor([len(t) for t in targets], dtype=log_probs.dtype)
        loss = -(log_probs.sum(1) / lengths).mean()
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        optimizer.step()
        seen += len(batch)
        log({"stage": "sft", "examples": seen, "loss": loss.item()})
    return seen


def episode_advantages(episodes: list[Episode], config: LMSearchConfig) -> torch.Tensor:
    """One advantage per episode (groups of ``group_size`` consecutive episodes share a question)."""
    rewards = torch.tensor([e.reward for e in episodes], dtype=torch.float32).view(-1, config.group_size)
    if config.estimator == "grpo":
        advantages = grpo_advantages(rewards)
    elif config.estimator == "dr_grpo":
        advantages = dr_grpo_advantages(rewards)
    elif config.estimator == "rloo":
        advantages = rloo_advantages(rewards)
    else:
        strata = torch.tensor([e.searches for e in episodes]).view(-1, config.group_size)
        advantages = san_advantages(rewards, strata, alpha=config.san_alpha)
    return advantages.flatten()


def rl_update(
    model: LanguageModel, optimizer: torch.optim.Optimizer, episodes: list[Episode], config: LMSearchConfig
) -> dict[str, float]:
    """One policy-gradient step on the calls of ``episodes`` (see the module docstring)."""
    advantages = episode_advantages(episodes, config)
    prompts, calls, call_advantages = [], [], []
    for episode, advantage in zip(episodes, advantages.tolist(), strict=True):
        prompts += episode.prompts
        calls += episode.calls
        call_advantages += [advantage] * len(episode.calls)
    stats = {"reward": float(np.mean([e.reward for e in episodes])), "loss": 0.0}
    if not any(call_advantages):
        return stats  # every group had equal rewards: no signal
    mode = "dr_grpo" if config.estimator == "dr_grpo" else "grpo"
    signal = [i for i, advantage in enumerate(call_advantages) if advantage != 0]  # the others add 0
    optimizer.zero_grad()
    total = 0.0
    for start in range(0, len(signal), config.micro_batch):  # gradients accumulate: the memory of one chunk
        chunk = signal[start : start + config.micro_batch]
        log_probs = model.sequence_log_probs([prompts[i] for i in chunk], [calls[i] for i in chunk])
        lengths = torch.tensor([len(calls[i]) for i in chunk])[:, None]  # calls are right-aligned
        mask = torch.arange(log_probs.shape[1])[None] >= log_probs.shape[1] - lengths
        per_token = -torch.tensor([call_advantages[i] for i in chunk])[:, None] * log_probs
        # Both aggregations average over rows, so a chunk's share of the batch loss is its rows' fraction.
        loss = aggregate_token_loss(per_token, mask, mode=mode, max_length=config.max_action_tokens)
        loss = loss * len(chunk) / len(calls)
        loss.backward()
        total += loss.item()
    torch.nn.utils.clip_grad_norm_([p for p in model.model.parameters() if p.requires_grad], 1.0)
    optimizer.step()
    stats["loss"] = total
    return stats


def train(
    config: LMSearchConfig,
    *,
    seed: int,
    base: LanguageModel | None = None,
    log: Callable[[dict], None] = lambda row: None,
    after_sft: Callable[[LanguageModel], None] = lambda model: None,
) -> tuple[LanguageModel, dict]:
    """Warm start, then RL, within ``config.budget_s`` of wall time in all; the trained model (LoRA) and a
    record of what each stage did. ``after_sft`` sees the model between the stages (a bench evaluates it;
    its time is not charged to the budget)."""
    model = add_lora(base if base is not None else load_model(config.language_model, seed=seed), config, seed)
    model.model.train()
    budget = config.budget_s if config.budget_s is not None else float("inf")
    start = time.perf_counter()
    examples = oracle_examples(config, config.sft_examples, seed)
    sft_seen = sft(model, config, examples, seed=seed, deadline=start + budget, log=log)
    sft_s = time.perf_counter() - start
    paused = time.perf_counter()
    after_sft(model)
    start += time.perf_counter() - paused
    optimizer = torch.optim.AdamW([p for p in model.model.parameters() if p.requires_grad], lr=config.rl_lr)
    generator = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed + 1)
    pools = {
        (h, c): len(config.env(h, "train", c).unwrapped.pool)
        for h in config.hops
        for c in config.corpus_seeds
    }
    updates = 0
    for update in range(config.updates):
        if time.perf_counter() > start + budget:
            break
        questions = []
        for _ in range(config.prompts):
            hops, corpus = int(rng.choice(config.hops)), int(rng.choice(config.corpus_seeds))
            questions += [(hops, corpus, int(rng.integers(pools[hops, corpus])))] * config.group_size
        with torch.no_grad():
            episodes = play(
                model, config, questions, split="train", temperature=config.temperature, generator=generator
            )
        stats = rl_update(model, optimizer, episodes, config)
        updates += 1
        log({"stage": "rl", "update": update + 1, **stats})
    model.model.eval()
    record = {
        "sft_examples": sft_seen,
        "sft_wall_s": sft_s,
        "rl_updates": updates,
        "train_wall_s": time.perf_counter() - start,
    }
    return model, record


def save_package(model: LanguageModel, config: LMSearchConfig, out: Path, training: dict) -> Path:
    """An agent package in ``out``: the LoRA adapter (``adapter/``, safetensors), ``agent.toml`` (factory
    :func:`agents.search.lm.load`, version a hash of the adapter) and ``training.json``."""
    from peft import get_peft_model_state_dict

    out.mkdir(parents=True, exist_ok=True)
    model.model.save_pretrained(str(out / ADAPTER))
    for written in (out / ADAPTER).iterdir():  # safetensors writes 0600; a sandbox reads as another user
        written.chmod(0o644)
    (out / "training.json").write_text(json.dumps(training, indent=2) + "\n")
    manifest = AgentManifest(
        name=f"search-lm-{config.estimator}",
        version=weights_version(get_peft_model_state_dict(model.model)),
        entry_point="agents.search.lm:load",
        envs=[ENV_ID],
        kwargs={"language_model": config.language_model},
    )
    write_manifest(out, manifest)
    return out


def train_package(
    env_id: str,
    env_kwargs: dict,
    *,
    out: str | Path,
    steps: int,
    seed: int,
    device: str,
    progress: bool = True,
    console=None,
    estimator: str = "grpo",
    **options,
) -> Path:
    """Warm start, then ``steps`` RL updates with ``estimator``, on the text search env's train questions
    (hops, ``top_k``, ``max_turns`` and ``corpus_seed`` from ``env_kwargs``; ``split`` is ignored: training
    reads the train split). ``options`` set :class:`LMSearchConfig` fields. Runs on the CPU. Writes the
    package, ``progress.csv`` (one row per minibatch or update) and ``training.json`` (config, seed, what
    each stage did, held-out EM after training) to ``out``."""
    if env_id != ENV_ID:
        raise ValueError(f"env_id={env_id!r}: the language-model search learners train on {ENV_ID}")
    allowed = {f.name for f in fields(LMSearchConfig)} - {"estimator", "updates"}
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise ValueError(f"unknown option(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")
    kwargs = {k: v for k, v in env_kwargs.items() if k not in ("split", "max_episode_steps", "render_mode")}
    hops = kwargs.pop("hops", LMSearchConfig.hops)
    settings = {
        "hops": (hops,) if isinstance(hops, int) else tuple(hops),
        **({"corpus_seeds": (kwargs.pop("corpus_seed"),)} if "corpus_seed" in kwargs else {}),
        **{k: kwargs.pop(k) for k in ("top_k", "max_turns") if k in kwargs},
    }
    if kwargs:
        raise ValueError(
            f"env_kwargs: {', '.join(sorted(kwargs))} not supported by the language-model learners"
        )
    config = LMSearchConfig(estimator=estimator, updates=steps, **settings, **options)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []

    def log(row: dict) -> None:
        rows.append(row)
        if progress and console is not None:
            console.print(
                ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items())
            )

    model, record = train(config, seed=seed, log=log)
    with open(out / "progress.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=sorted({k for r in rows for k in r}))
        writer.writeheader()
        writer.writerows(rows)
    training = {
        "algo": f"lm_{estimator}",
        "env_id": env_id,
        "env_kwargs": env_kwargs,
        "training_split": "train",
        "seed": seed,
        "steps": steps,
        "budget": "updates",
        "device": "cpu",
        "config": asdict(config),
        **record,
        "held_out": evaluate(model, config),
    }
    return save_package(model, config, out, training)
