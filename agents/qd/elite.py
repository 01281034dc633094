"""One archive elite as an Agent: a saved ``MLPPolicySpec`` parameter row played deterministically."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from agents.base import EnvSpaces

# The shipped pointmaze_elite.pt is the best elite of a MAP-Elites run on the point maze (4000 evaluations of
# 100 steps, seed 0, cpu_config("me")): fitness -84.9, final position (-0.73, 0.20).
DATA = Path(__file__).resolve().parent / "data"


def save_elite(spec, row: torch.Tensor, path: str | Path) -> None:
    """Save one policy row with the sizes needed to rebuild its network."""
    torch.save(
        {
            "row": row.float(),
            "obs_dim": spec.obs_dim,
            "action_dim": spec.action_dim,
            "hidden": tuple(spec.hidden),
        },
        path,
    )


class ElitePolicy:
    name = "qd/elite"

    def __init__(self, net: torch.nn.Module):
        self.net = net

    def reset(self, seed: int | None = None) -> None:
        """Deterministic policy: nothing to reset."""

    def act(self, observation, info: dict) -> np.ndarray:
        with torch.no_grad():
            obs = torch.as_tensor(np.asarray(observation, dtype=np.float32))
            return self.net(obs).numpy().astype(np.float32)


def elite(spaces: EnvSpaces, weights: str | Path | None = None, seed: int | None = None) -> ElitePolicy:
    """Factory: the elite saved in ``weights`` (default: the shipped pointmaze MAP-Elites elite)."""
    from envs.qd.evaluator import MLPPolicySpec

    saved = torch.load(weights or DATA / "pointmaze_elite.pt", weights_only=True)
    spec = MLPPolicySpec(saved["obs_dim"], saved["action_dim"], tuple(saved["hidden"]))
    if spaces.observation_space.shape != (spec.obs_dim,):
        raise ValueError(
            f"observation_space shape {spaces.observation_space.shape} does not match "
            f"the elite's ({spec.obs_dim},)"
        )
    return ElitePolicy(spec.to_module(saved["row"]).eval())
