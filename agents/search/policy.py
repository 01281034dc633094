"""A small pointer policy for the search env's structured interface, the Agent that plays it, and checkpoints.

The policy scores every (tool, slot) pair with one shared MLP over the slot's features, so its size does
not depend on the number of slots (a pointer network). A slot's features are one-hot codes of its kind, the
rank of the result it came from, how many searches ago it was found (0-4+) and whether its text was
searched, and where the relation it was read by sits in the question's relation path *relative to the
current hop* (hop = searches made; the same hop, the next, later, or earlier), as relative position
encodings do; plus the episode's searches so far (0-4+) and the hops left (hops - searches, -1..3). The
features come from the observation alone (never from ``info``). With absolute hop positions instead, the
1-hop skill (answer the fact of the first relation) blocked the 2-hop one (search it) in our runs.

An agent package (:meth:`SearchPolicyAgent.save`) holds ``policy.pt`` and an ``agent.toml`` with entry point
:func:`load`, so ``agents.load_agent(directory)`` plays it.
"""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import torch
from torch import Tensor, nn

from agents.base import AgentManifest, EnvSpaces, write_manifest
from agents.nets import mlp
from agents.pg import Categorical
from agents.pg.policy import weights_version

WEIGHTS = "policy.pt"
TOOLS = 3  # search, open, answer
KINDS = 5  # empty, question, subject, title, fact
MAX_AGE = 4  # searches since a slot was found, clipped
HOPS = 4  # relation slots in the question


class SlotPolicy(nn.Module):
    """Logits over ``tool * num_slots + slot`` from a structured search observation."""

    def __init__(
        self, num_slots: int, num_ranks: int, hidden: int = 64, generator: torch.Generator | None = None
    ):
        super().__init__()
        if num_slots < 1 or num_ranks < 1 or hidden < 1:
            raise ValueError(
                f"num_slots, num_ranks and hidden must be >= 1, got {num_slots}, {num_ranks}, {hidden}"
            )
        self.num_slots, self.num_ranks, self.hidden = num_slots, num_ranks, hidden
        features = KINDS + 4 + num_ranks + (MAX_AGE + 1) + 1 + (MAX_AGE + 1) + 5
        self.net = mlp(features, TOOLS, (hidden, hidden), out_gain=0.01, generator=generator)

    def features(self, obs: dict[str, Tensor]) -> Tensor:
        """``[B, S, F]`` float features of a batch of observations (integer tensors)."""
        slots, question, progress = obs["slots"].long(), obs["question"].long(), obs["progress"].long()
        searches = progress[:, 1]
        hops = (question > 0).sum(-1)
        # hop of the question whose relation the slot was read by, relative to the current hop (searches - 1)
        relation = slots[..., 1:2]
        matches = (relation == question[:, None, :]) & (relation > 0)  # [B, S, hops]
        relative = (torch.arange(HOPS) - (searches[:, None] - 1))[:, None, :].clamp(-1, 2) + 1
        aligned = torch.zeros(*slots.shape[:2], 4).scatter_add_(
            -1, relative.expand_as(matches), matches.float()
        )
        age = (searches[:, None] - slots[..., 3]).clamp(0, MAX_AGE)
        per_episode = torch.cat(
            [
                _one_hot(searches.clamp(max=MAX_AGE), MAX_AGE + 1),
                _one_hot((hops - searches).clamp(-1, 3) + 1, 5),
            ],
            dim=-1,
        )
        return torch.cat(
            [
                _one_hot(slots[..., 0], KINDS),
                aligned.clamp(max=1),
                _one_hot(slots[..., 2].clamp(max=self.num_ranks - 1), self.num_ranks),
                _one_hot(age, MAX_AGE + 1),
                slots[..., 4:5].float(),
                per_episode[:, None, :].expand(-1, slots.shape[1], -1),
            ],
            dim=-1,
        )

    def forward(self, obs: dict[str, Tensor]) -> Tensor:
        """Logits ``[B, 3 * num_slots]``; slots after the batch's last filled one get 0 (they are masked)."""
        used = int((obs["slots"][..., 0] > 0).sum(-1).max())
        scores = self.net(self.features({**obs, "slots": obs["slots"][:, :used]}))  # [B, used, tools]
        logits = torch.zeros(scores.shape[0], TOOLS, self.num_slots)
        logits[:, :, :used] = scores.transpose(1, 2)
        return logits.reshape(scores.shape[0], -1)

    def distribution(self, obs: dict[str, Tensor], mask: Tensor) -> Categorical:
        return Categorical(self(obs), mask)

    def arch(self) -> dict:
        return {"num_slots": self.num_slots, "num_ranks": self.num_ranks, "hidden": self.hidden}


def _one_hot(index: Tensor, size: int) -> Tensor:
    return torch.nn.functional.one_hot(index, size).float()


def make_policy(spaces: EnvSpaces, hidden: int = 64, seed: int = 0) -> SlotPolicy:
    """A freshly initialised policy for the structured search env's spaces (seeded, no global RNG)."""
    space = spaces.observation_space
    if not (isinstance(space, gym.spaces.Dict) and "slots" in space.spaces):
        raise ValueError("spaces: the search policy needs the structured interface (a Dict with 'slots')")
    slots_nvec = space["slots"].nvec
    generator = torch.Generator().manual_seed(seed)
    return SlotPolicy(slots_nvec.shape[0], int(slots_nvec[0, 2]), hidden, generator=generator)


def as_tensors(observation: dict) -> dict[str, Tensor]:
    """A single observation or a batch (leading env axis) as batched integer tensors."""
    batch = {k: torch.as_tensor(np.asarray(v), dtype=torch.long) for k, v in observation.items()}
    if batch["question"].dim() == 1:
        batch = {k: v.unsqueeze(0) for k, v in batch.items()}
    return batch


class SearchPolicyAgent:
    """Plays a :class:`SlotPolicy`: its most likely legal action, or a sample when ``deterministic=False``."""

    name = "search/policy"

    def __init__(self, policy: SlotPolicy, deterministic: bool = True):
        self.policy, self.deterministic = policy.eval(), deterministic
        self._generator = torch.Generator()

    def reset(self, seed: int | None = None) -> None:
        self._generator.manual_seed(0 if seed is None else seed)

    @torch.no_grad()
    def act(self, observation, info: dict) -> int:
        mask = torch.as_tensor(np.asarray(info["action_mask"]), dtype=torch.bool).reshape(1, -1)
        dist = self.policy.distribution(as_tensors(observation), mask)
        action = dist.mode() if self.deterministic else dist.sample(self._generator)
        return int(action[0])

    def save(
        self,
        directory: str | Path,
        *,
        name: str = "search-policy",
        envs: tuple[str, ...] = ("arena/SearchQA-v0",),
    ) -> Path:
        """Write the agent package (``policy.pt`` and ``agent.toml``, its version a hash of the weights, its
        factory :func:`load`) to ``directory``; returns it."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().cpu() for k, v in self.policy.state_dict().items()}
        torch.save({"arch": self.policy.arch(), "state": state}, directory / WEIGHTS)
        manifest = AgentManifest(
            name=name,
            version=weights_version(state),
            entry_point="agents.search.policy:load",
            envs=list(envs),
            weights=WEIGHTS,
        )
        write_manifest(directory, manifest)
        return directory


def load(spaces: EnvSpaces, *, agent_dir: str, deterministic: bool = True) -> SearchPolicyAgent:
    """Agent-package factory: the policy saved in ``agent_dir`` by :meth:`SearchPolicyAgent.save`, for a
    structured search env with ``spaces`` (greedy play unless ``deterministic=False``)."""
    saved = torch.load(Path(agent_dir) / WEIGHTS, weights_only=True)
    policy = SlotPolicy(**saved["arch"])
    policy.load_state_dict(saved["state"])
    expected = make_policy(spaces).arch()
    if (expected["num_slots"], expected["num_ranks"]) != (policy.num_slots, policy.num_ranks):
        raise ValueError(f"agent_dir: the policy was trained for {policy.arch()}, the env has {expected}")
    return SearchPolicyAgent(policy, deterministic)
