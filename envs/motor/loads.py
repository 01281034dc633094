"""Mechanical loads: gym-electric-motor's polynomial static load, a constant-speed load and a stochastic one.

``polynomial``: load torque ``T_L = sign(omega) (a + b |omega| + c omega^2)`` (N m) and the load's inertia
``j_load`` (kg m^2) added to the rotor's. Around standstill the constant term ``a`` rises linearly,
``clip(omega (j_rotor + j_load) / 1e-3 s, -a, a)``, as in GEM, so that static friction does not make the
ODE stiff.

``constant_speed``: the shaft turns at ``omega_fixed`` (rad/s) whatever the torque (a test bench).

``stochastic``: the polynomial load plus a random torque ``T_n`` (N m), an Ornstein-Uhlenbeck process of
stationary standard deviation ``sigma`` (N m) and mean-reversion rate ``theta`` (1/s), sampled exactly at each
step and held over it: ``T_n <- T_n e^(-theta tau) + sigma sqrt(1 - e^(-2 theta tau)) N(0, 1)``.
"""

from __future__ import annotations

LOADS = ("polynomial", "constant_speed", "stochastic")
DEFAULT_LOAD_PARAMS = {
    "a": 0.0,
    "b": 0.0,
    "c": 0.0,
    "j_load": 1e-4,
    "omega_fixed": 100.0,
    "sigma": 1.0,
    "theta": 10.0,
}
FRICTION_DECAY_TIME = 1e-3  # s, the time constant of GEM's smoothing of the constant term a around omega = 0


def static_load_torque(lp, omega, j_total, ops):
    """The polynomial load torque (N m) at speed ``omega`` (rad/s); ``lp`` holds a, b, c."""
    constant = ops.clip(omega * (j_total / FRICTION_DECAY_TIME), -lp["a"], lp["a"])
    return lp["b"] * omega + lp["c"] * omega * ops.abs(omega) + constant


def noise_decay(lp, tau, ops):
    """(decay, spread) of one exact Ornstein-Uhlenbeck step of length tau (s)."""
    decay = ops.exp(-lp["theta"] * tau)
    return decay, lp["sigma"] * ops.sqrt(1.0 - decay * decay)
