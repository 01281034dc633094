"""The integrator: classic fourth-order Runge-Kutta over one control step, inputs held.

The converter's voltages are held constant over each step of ``tau`` seconds (zero-order hold), so one RK4
step of length ``tau`` integrates the motor and load ODE over the step. Its local error is O(tau^5); for the
default motors at tau = 1e-4 s it agrees with the exact zero-order-hold solution of the linear PM DC motor to
about 1e-7 relative, where explicit Euler with one step per tau is a few percent off on the current.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence


def rk4_step(derivatives: Callable[[list], list], x: Sequence, h: float) -> list:
    """One classic RK4 step of length ``h`` (s) from state ``x``, a list of per-state columns (floats or
    tensors); ``derivatives(x)`` returns the list of their time derivatives."""
    k1 = derivatives(x)
    k2 = derivatives([xi + (0.5 * h) * ki for xi, ki in zip(x, k1, strict=True)])
    k3 = derivatives([xi + (0.5 * h) * ki for xi, ki in zip(x, k2, strict=True)])
    k4 = derivatives([xi + h * ki for xi, ki in zip(x, k3, strict=True)])
    return [
        xi + (h / 6.0) * (a + 2.0 * b + 2.0 * c + d) for xi, a, b, c, d in zip(x, k1, k2, k3, k4, strict=True)
    ]
