"""What the batched torch simulators (``vector_entry_point`` envs) share: the device and argument checks."""

from __future__ import annotations

import torch


def resolve_device(device: str | torch.device) -> torch.device:
    """``"auto"``: CUDA when available, else the CPU."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def check_vector_args(num_envs: int, dtype: torch.dtype | str, max_episode_steps: int | None) -> torch.dtype:
    """Validate a batched env's common arguments (ValueError naming the field); returns the torch dtype."""
    if not (isinstance(num_envs, int) and num_envs >= 1):
        raise ValueError(f"num_envs={num_envs!r} must be an int >= 1")
    if isinstance(dtype, str):
        dtype = {"float32": torch.float32, "float64": torch.float64}.get(dtype, dtype)
    if dtype not in (torch.float32, torch.float64):
        raise ValueError(f"dtype={dtype!r} must be torch.float32 or torch.float64")
    if max_episode_steps is not None and not (isinstance(max_episode_steps, int) and max_episode_steps >= 1):
        raise ValueError(f"max_episode_steps={max_episode_steps!r} must be None or an int >= 1")
    return dtype
