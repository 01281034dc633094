"""One archive elite as an Agent: a saved ``MLPPolicySpec`` parameter row played deterministically."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from agents.base import EnvSpaces

# Shipped elites, data/<task>_elite.pt. pointmaze: the best elite of a MAP-Elites run (4000 evaluations of
# 100 steps, seed 0, cpu_config("me")): fitness -84.9, final position (-0.73, 0.20). walker2d_uni: the best
# elite of a PGA-ME run (5000 evaluations of 250 steps, seed 0, cpu_config("pga_me")): fitness 439.6, both
# feet on the floor 57 % of the steps.
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
    """Factory: the elite saved in ``weights`` (default: the shipped elite of the env's QD task)."""
    from envs.qd import MLPPolicySpec

    saved = torch.load(weights or shipped_elite(spaces.env_id), weights_only=True)
    spec = MLPPolicySpec(saved["obs_dim"], saved["action_dim"], tuple(saved["hidden"]))
    if spaces.observation_space.shape != (spec.obs_dim,):
        raise ValueError(
            f"observation_space shape {spaces.observation_space.shape} does not match "
            f"the elite's ({spec.obs_dim},)"
        )
    return ElitePolicy(spec.to_module(saved["row"]).eval())


def shipped_elite(env_id: str | None) -> Path:
    """The shipped elite file of the QD task registered as ``env_id``; ValueError naming the tasks that have
    one."""
    from envs.qd import TASKS

    shipped = {task.env_id: DATA / f"{name}_elite.pt" for name, task in TASKS.items()}
    shipped = {env: path for env, path in shipped.items() if path.is_file()}
    if env_id not in shipped:
        raise ValueError(
            f"env_id: no elite is shipped for {env_id!r}; pass weights=, or use one of {sorted(shipped)}"
        )
    return shipped[env_id]
