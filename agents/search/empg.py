"""Entropy-Modulated Policy Gradients (EMPG; Wang et al., 2025): step-wise re-scaling of an outcome advantage.

For episode i with outcome advantage ``A_i`` (e.g. GRPO's) and the policy's entropy ``H_{i,t}`` at each of
its steps t, EMPG uses per step

    A_mod(i, t) = g(H_{i,t}) * A_i + zeta * f(H_{i,t+1}),

* self-calibrating gradient scaling: ``g(H) = exp(-k * H_n) / mean over the batch of exp(-k * H_n)``, with
  ``H_n`` the entropy min-max normalised over all steps of the batch; so confident steps (low entropy) get a
  larger share of the outcome's credit or blame and uncertain ones a smaller one, and g averages to 1;
* future-clarity bonus: ``f(H) = exp(-k_future * H_n)`` of the *next* step's entropy (0 after the last
  step), rewarding steps that lead to states where the policy is sure of itself;

and finally ``A_mod`` is centred to zero mean over the batch's steps.
"""

from __future__ import annotations

import torch
from torch import Tensor


def empg_advantages(
    advantages: Tensor,
    entropies: Tensor,
    valid: Tensor,
    *,
    k: float = 1.0,
    k_future: float = 1.0,
    zeta: float = 0.05,
    eps: float = 1e-8,
) -> Tensor:
    """``[N, T]`` step advantages from episode advantages ``[N]`` and step entropies ``[N, T]``.

    ``valid`` (bool ``[N, T]``) marks the steps each episode took, a prefix of each row; other entries are 0.
    """
    if k < 0 or k_future < 0:
        raise ValueError(f"k and k_future must be >= 0, got k={k}, k_future={k_future}")
    if entropies.shape != valid.shape or advantages.shape != entropies.shape[:1]:
        raise ValueError(
            f"need advantages [N] and entropies, valid [N, T]; got {tuple(advantages.shape)}, "
            f"{tuple(entropies.shape)}, {tuple(valid.shape)}"
        )
    weight = valid.to(entropies.dtype)
    seen = entropies[valid]
    low, high = seen.min(), seen.max()
    normalised = (entropies - low) / (high - low + eps)
    scale = torch.exp(-k * normalised) * weight
    scale = scale / (scale.sum() / weight.sum())
    clarity = torch.exp(-k_future * normalised) * weight
    future = torch.zeros_like(clarity)
    future[:, :-1] = clarity[:, 1:]  # the next step's clarity; 0 after an episode's last step
    modulated = (scale * advantages[:, None] + zeta * future) * weight
    mean = modulated.sum() / weight.sum()
    return (modulated - mean) * weight
