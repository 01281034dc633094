"""Electric motor models with gym-electric-motor's parameter names, units, defaults and limits.

Each model is a handful of equations on per-state columns (Python floats or torch tensors, see
:mod:`envs.motor.ops`). The ODE state always starts with the mechanical speed ``omega`` (rad/s), followed by
the electrical states:

=====================  ==============================  ====================================================
motor                  ODE state                       inputs (held over a step)
=====================  ==============================  ====================================================
``permanent``          omega, i_a                      u_a
``externally_excited`` omega, i_a, i_e                 u_a, u_e
``shunt``              omega, i_a, i_e                 u_a (= u_e: both circuits on one voltage)
``series``             omega, i_a (= i_e)              u_a (across armature and field in series)
``pmsm``               omega, i_d, i_q, epsilon        u_d, u_q (rotor frame; epsilon: electrical angle)
=====================  ==============================  ====================================================

Equations (SI units; ``p`` pole pairs, ``omega`` mechanical speed):

* permanent: ``l_a di_a/dt = u_a - r_a i_a - psi_e omega``, torque ``psi_e i_a``
* externally excited / shunt: ``l_a di_a/dt = u_a - r_a i_a - l_e_prime i_e omega``,
  ``l_e di_e/dt = u_e - r_e i_e``, torque ``l_e_prime i_a i_e``
* series: ``(l_a + l_e) di/dt = u - (r_a + r_e) i - l_e_prime i omega``, torque ``l_e_prime i^2``
* PMSM: ``l_d di_d/dt = u_d - r_s i_d + p omega l_q i_q``,
  ``l_q di_q/dt = u_q - r_s i_q - p omega (l_d i_d + psi_p)``, ``depsilon/dt = p omega``,
  torque ``1.5 p (psi_p + (l_d - l_q) i_d) i_q``
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_DC_LIMITS = {"omega": 400.0, "torque": 38.0, "i_a": 210.0, "i_e": 210.0, "u_a": 60.0, "u_e": 60.0}
_DC_NOMINAL = {"omega": 300.0, "torque": 16.0, "i_a": 97.0, "i_e": 97.0, "u_a": 60.0, "u_e": 60.0}
# PMSM: GEM gives one current limit i (peak phase current) and one voltage limit u of which the dq voltages
# get half; the torque limit is the MTPA torque at the nominal current (see pmsm_torque_limit).
_PMSM_LIMITS = {"omega": 4000 * math.pi / 30, "i_d": 400.0, "i_q": 400.0, "u_d": 150.0, "u_q": 150.0}
_PMSM_NOMINAL = {"omega": 3000 * math.pi / 30, "i_d": 240.0, "i_q": 240.0, "u_d": 150.0, "u_q": 150.0}


@dataclass(frozen=True)
class MotorModel:
    """One motor type: GEM defaults, what is observed and limited, and its equations.

    ``electrical(p, x, u, ops) -> (torque, [d/dt of x[1:]])``; ``quantities(p, x, u) -> [values of
    observed]`` (x the ODE state, u the motor input voltages); ``inputs(v, x, ops)`` maps the converter's
    channel voltages to the motor inputs and ``channel_currents(x)`` gives the current each converter
    channel carries (for converters whose output depends on the current's sign).
    """

    name: str
    default_params: dict[str, float]
    default_limits: dict[str, float]
    default_nominal: dict[str, float]
    observed: tuple[str, ...]  # quantities in the observation, in this order
    limited: tuple[str, ...]  # currents whose limit ends the episode (PMSM: the dq current magnitude)
    channels: int  # converter channels: DC converters 1 or 2, the B6 bridge 3
    electrical: Callable
    quantities: Callable
    inputs: Callable
    channel_currents: Callable

    @property
    def state_size(self) -> int:
        return {"permanent": 2, "series": 2, "pmsm": 4}.get(self.name, 3)


def _permanent(p, x, u, ops):
    omega, i_a = x
    return p["psi_e"] * i_a, [(u[0] - p["r_a"] * i_a - p["psi_e"] * omega) / p["l_a"]]


def _externally_excited(p, x, u, ops):
    omega, i_a, i_e = x
    di_a = (u[0] - p["r_a"] * i_a - p["l_e_prime"] * i_e * omega) / p["l_a"]
    di_e = (u[1] - p["r_e"] * i_e) / p["l_e"]
    return p["l_e_prime"] * i_a * i_e, [di_a, di_e]


def _series(p, x, u, ops):
    omega, i = x
    di = (u[0] - (p["r_a"] + p["r_e"]) * i - p["l_e_prime"] * i * omega) / (p["l_a"] + p["l_e"])
    return p["l_e_prime"] * i * i, [di]


def _pmsm(p, x, u, ops):
    omega, i_d, i_q, _ = x
    w_el = p["p"] * omega
    di_d = (u[0] - p["r_s"] * i_d + w_el * p["l_q"] * i_q) / p["l_d"]
    di_q = (u[1] - p["r_s"] * i_q - w_el * (p["l_d"] * i_d + p["psi_p"])) / p["l_q"]
    torque = 1.5 * p["p"] * (p["psi_p"] + (p["l_d"] - p["l_q"]) * i_d) * i_q
    return torque, [di_d, di_q, w_el]


def abc_to_dq(u_a, u_b, u_c, epsilon, ops):
    """Amplitude-invariant Clarke then Park transform: phase quantities to the rotor frame at ``epsilon``."""
    alpha = (2.0 / 3.0) * (u_a - 0.5 * (u_b + u_c))
    beta = (u_b - u_c) / math.sqrt(3.0)
    cos, sin = ops.cos(epsilon), ops.sin(epsilon)
    return cos * alpha + sin * beta, cos * beta - sin * alpha


def dq_to_abc(d, q, epsilon, ops):
    """Inverse of :func:`abc_to_dq` (phase quantities without a zero-sequence part)."""
    cos, sin = ops.cos(epsilon), ops.sin(epsilon)
    alpha, beta = cos * d - sin * q, sin * d + cos * q
    root3 = math.sqrt(3.0)
    return alpha, 0.5 * (root3 * beta - alpha), -0.5 * (root3 * beta + alpha)


def wrap_angle(epsilon):
    """An angle (rad) mapped into [-pi, pi)."""
    return (epsilon + math.pi) % (2 * math.pi) - math.pi


def pmsm_torque_limit(p, i_nominal: float, ops) -> Any:
    """Largest torque (N m) at the current magnitude ``i_nominal`` (maximum torque per ampere).

    Maximising ``(psi_p + dl i_d) i_q`` with ``i_d^2 + i_q^2 = i^2`` (``dl = l_d - l_q``) gives
    ``i_d = 2 dl i^2 / (psi_p + sqrt(psi_p^2 + 8 dl^2 i^2))``, which is 0 for a round rotor.
    """
    dl = p["l_d"] - p["l_q"]
    i_d = 2 * dl * i_nominal**2 / (p["psi_p"] + ops.sqrt(p["psi_p"] ** 2 + 8 * dl**2 * i_nominal**2))
    i_q = ops.sqrt(i_nominal**2 - i_d**2)
    return 1.5 * p["p"] * (p["psi_p"] + dl * i_d) * i_q


_DC_EXCITED = {
    "r_a": 16e-3,
    "r_e": 16e-2,
    "l_a": 19e-6,
    "l_e_prime": 1.7e-3,
    "l_e": 5.4e-3,
    "j_rotor": 0.0025,
}

MOTORS: dict[str, MotorModel] = {
    "permanent": MotorModel(
        name="permanent",
        default_params={"r_a": 16e-3, "l_a": 19e-6, "psi_e": 0.165, "j_rotor": 0.025},
        default_limits={k: _DC_LIMITS[k] for k in ("omega", "torque", "i_a", "u_a")},
        default_nominal={k: _DC_NOMINAL[k] for k in ("omega", "torque", "i_a", "u_a")},
        observed=("omega", "torque", "i_a", "u_a"),
        limited=("i_a",),
        channels=1,
        electrical=_permanent,
        quantities=lambda p, x, u: [x[0], p["psi_e"] * x[1], x[1], u[0]],
        inputs=lambda v, x, ops: v,
        channel_currents=lambda x: [x[1]],
    ),
    "externally_excited": MotorModel(
        name="externally_excited",
        default_params=dict(_DC_EXCITED),
        default_limits=dict(_DC_LIMITS),
        default_nominal=dict(_DC_NOMINAL),
        observed=("omega", "torque", "i_a", "i_e", "u_a", "u_e"),
        limited=("i_a", "i_e"),
        channels=2,
        electrical=_externally_excited,
        quantities=lambda p, x, u: [x[0], p["l_e_prime"] * x[1] * x[2], x[1], x[2], u[0], u[1]],
        inputs=lambda v, x, ops: v,
        channel_currents=lambda x: [x[1], x[2]],
    ),
    "shunt": MotorModel(
        name="shunt",
        default_params={**_DC_EXCITED, "r_e": 4e-1},
        default_limits=dict(_DC_LIMITS),
        default_nominal=dict(_DC_NOMINAL),
        observed=("omega", "torque", "i_a", "i_e", "u_a", "u_e"),
        limited=("i_a", "i_e"),
        channels=1,
        electrical=lambda p, x, u, ops: _externally_excited(p, x, [u[0], u[0]], ops),
        quantities=lambda p, x, u: [x[0], p["l_e_prime"] * x[1] * x[2], x[1], x[2], u[0], u[0]],
        inputs=lambda v, x, ops: v,
        channel_currents=lambda x: [x[1] + x[2]],
    ),
    "series": MotorModel(
        name="series",
        default_params={**_DC_EXCITED, "r_e": 48e-3},
        default_limits={k: _DC_LIMITS[k] for k in ("omega", "torque", "i_a", "u_a")},
        default_nominal={k: _DC_NOMINAL[k] for k in ("omega", "torque", "i_a", "u_a")},
        observed=("omega", "torque", "i_a", "u_a"),
        limited=("i_a",),
        channels=1,
        electrical=_series,
        quantities=lambda p, x, u: [x[0], p["l_e_prime"] * x[1] * x[1], x[1], u[0]],
        inputs=lambda v, x, ops: v,
        channel_currents=lambda x: [x[1]],
    ),
    "pmsm": MotorModel(
        name="pmsm",
        default_params={
            "p": 3,
            "l_d": 0.37e-3,
            "l_q": 1.2e-3,
            "j_rotor": 0.03883,
            "r_s": 18e-3,
            "psi_p": 66e-3,
        },
        default_limits={**_PMSM_LIMITS, "epsilon": math.pi},
        default_nominal={**_PMSM_NOMINAL, "epsilon": math.pi},
        observed=("omega", "torque", "i_d", "i_q", "u_d", "u_q", "epsilon"),
        limited=("i_d", "i_q"),
        channels=3,
        electrical=_pmsm,
        quantities=lambda p, x, u: [
            x[0],
            1.5 * p["p"] * (p["psi_p"] + (p["l_d"] - p["l_q"]) * x[1]) * x[2],
            x[1],
            x[2],
            u[0],
            u[1],
            x[3],
        ],
        inputs=lambda v, x, ops: list(abc_to_dq(v[0], v[1], v[2], x[3], ops)),
        channel_currents=lambda x: [0.0, 0.0, 0.0],  # the B6 bridge's output does not depend on them
    ),
}
