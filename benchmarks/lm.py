"""``arena bench lm``: the shipped language model's speed, and its held-out exact match on text search QA
before training, after the supervised warm start and after RL (:mod:`agents.search.lm_training`)."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import torch
import typer
from rich.table import Table

from agents.language import MODELS, SHIPPED, LanguageModel, load_model
from agents.search.lm_training import ESTIMATORS, LMSearchConfig, evaluate, train
from arena.cli import output
from benchmarks import BenchOut, Seeds, benchmark
from benchmarks._machine import cpu_name


def generation_tokens_per_s(model: LanguageModel, batch: int, tokens: int = 48) -> float:
    """New tokens per second, greedy, ``batch`` prompts at a time (every row runs ``tokens`` steps)."""
    prompts = [model.chat(f"Write a long story about fox number {i}.") for i in range(batch)]
    start = time.perf_counter()
    generation = model.generate(prompts, max_new_tokens=tokens)
    return int((generation.token_ids >= 0).sum()) / (time.perf_counter() - start)


def training_tokens_per_s(model: LanguageModel, batch: int = 8, length: int = 256) -> float:
    """Tokens per second through one forward and backward pass over ``batch`` rows of ``length`` tokens, of
    which the last 32 are scored (the shape of a warm-start minibatch)."""
    rows = [model.encode(f"Question: fact number {i}. " * 64)[:length] for i in range(batch)]
    model.model.train()
    start = time.perf_counter()
    loss = -model.sequence_log_probs([r[:-32] for r in rows], [r[-32:] for r in rows]).sum()
    loss.backward()
    elapsed = time.perf_counter() - start
    model.model.zero_grad(set_to_none=True)
    model.model.eval()
    return batch * length / elapsed


def run_lm_bench(
    seed: int, config: LMSearchConfig, questions: int, console, progress: bool = True
) -> dict[str, Any]:
    """One seed: speed, then EM before training, after the warm start and after RL."""
    start = time.perf_counter()
    base = load_model(config.language_model, seed=seed)
    load_s = time.perf_counter() - start
    tokens_per_s = {
        "generate_batch_1": generation_tokens_per_s(base, 1),
        "generate_batch_8": generation_tokens_per_s(base, 8),
        "train": training_tokens_per_s(base),
    }
    console.print(f"seed {seed}: tokens/s {', '.join(f'{k} {v:.0f}' for k, v in tokens_per_s.items())}")
    before = evaluate(base, config, questions)
    console.print(f"seed {seed}: EM before training {before}")
    after_sft: dict[str, float] = {}

    def evaluate_warm_start(model: LanguageModel) -> None:
        after_sft.update(evaluate(model, config, questions))
        console.print(f"seed {seed}: EM after the warm start {after_sft}")

    def log(row: dict) -> None:
        if progress and (row["stage"] == "rl" or row["examples"] % 80 == 0):
            console.print(_row(row))

    model, record = train(config, seed=seed, base=base, log=log, after_sft=evaluate_warm_start)
    after = evaluate(model, config, questions)
    console.print(f"seed {seed}: EM after RL {after}")
    return {
        "model": config.language_model,
        "device": cpu_name(),
        "torch_threads": torch.get_num_threads(),
        "seed": seed,
        "load_s": load_s,
        "tokens_per_s": tokens_per_s,
        "questions_per_hop": questions * len(config.corpus_seeds),
        "em_before": before["em"],
        "em_after_sft": after_sft["em"],
        "em_after": after["em"],
        "em_by_hops": {"before": before, "after_sft": after_sft, "after": after},
        **record,
        "config": asdict(config),
    }


def _row(row: dict) -> str:
    return ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items())


@benchmark("lm")
def lm_command(
    seeds: Seeds = "10",
    budget_s: Annotated[
        float, typer.Option(min=1, help="Wall time for training (warm start and RL), evaluation excluded.")
    ] = 1800,
    questions: Annotated[
        int, typer.Option(min=1, max=50, help="Held-out questions per hop count and corpus (2 corpora).")
    ] = 50,
    estimator: Annotated[str, typer.Option(help=f"RL estimator: {', '.join(ESTIMATORS)}.")] = "grpo",
    sft_examples: Annotated[int, typer.Option(min=0, help="Oracle calls for the warm start.")] = 320,
    rl_lr: Annotated[float, typer.Option(min=0, help="Learning rate of the RL updates (LoRA).")] = 1e-4,
    model: Annotated[str, typer.Option(help=f"Language model: {', '.join(MODELS)}.")] = SHIPPED,
    out: BenchOut = Path("results/bench"),
) -> None:
    """Language model on text search QA (1 and 2 hops): generation and training tokens/s, and held-out exact
    match before training, after the warm start on the oracle's calls and after RL, within --budget-s of
    training. Writes lm-seed<S>.json per seed.

    Example: [bold]arena bench lm --seeds 10 --budget-s 1800 --out results/bench[/]
    """
    if estimator not in ESTIMATORS:
        output.fail(f"estimator={estimator!r} must be one of {', '.join(ESTIMATORS)}")
    if model not in MODELS:
        output.fail(f"model={model!r} must be one of {', '.join(MODELS)}")
    config = LMSearchConfig(
        language_model=model,
        estimator=estimator,
        sft_examples=sft_examples,
        rl_lr=rl_lr,
        updates=100_000,
        budget_s=budget_s,
    )
    out.mkdir(parents=True, exist_ok=True)
    table = Table(title=f"arena bench lm ({cpu_name()}, {torch.get_num_threads()} torch threads)")
    for column in (
        "seed",
        "gen tok/s (1 / 8)",
        "train tok/s",
        "EM before",
        "after SFT",
        "after RL",
        "train s",
    ):
        table.add_column(column)
    for seed in seeds:
        result = run_lm_bench(seed, config, questions, output.console)
        (out / f"lm-seed{seed}.json").write_text(json.dumps(result, indent=2) + "\n")
        speed = result["tokens_per_s"]
        table.add_row(
            str(seed),
            f"{speed['generate_batch_1']:.0f} / {speed['generate_batch_8']:.0f}",
            f"{speed['train']:.0f}",
            f"{result['em_before']:.3f}",
            f"{result['em_after_sft']:.3f}",
            f"{result['em_after']:.3f}",
            f"{result['train_wall_s']:.0f}",
        )
    output.console.print(table)
    output.console.print(f"results: {out}/lm-seed<S>.json")
