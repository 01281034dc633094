"""Cascaded PI control for the electric-drive tasks (``motor/pi``), and the PI tuning rules it uses.

The controller knows nothing of the env's code: on the first ``act`` after a reset it reads the plant's
description, ``info["plant"]`` (motor type and parameters, limits, tau, supply, converter, controlled
quantities), tunes itself, and from then on acts on the physical states in ``info``.

Structure (the classic cascade):

* current loop(s), tuned by the symmetrical optimum on the winding (plant 1 / (s L) with the converter's
  small lag ``T_sigma = tau``), back-EMF and (PMSM) cross-coupling fed forward, reference smoothed by the
  integrator time constant (the optimum's usual prefilter);
* speed loop around it, also by the symmetrical optimum, on the mechanics 1 / (s J) with the closed current
  loop's equivalent lag ``a T_sigma``; its output torque becomes current references (``i_a = T / flux`` for
  DC motors, ``i_q = T / (1.5 p psi_p)`` with ``i_d = 0`` for the PMSM), clamped to 80 % of the limits;
* the voltage becomes a duty cycle for a continuous converter, or a switching state chosen by sigma-delta
  modulation (the state nearest to the wanted voltage plus the error carried so far) for a finite one.

The externally excited motor's field is held at its nominal current by its own PI loop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from agents.base import EnvSpaces

# Finite converters: per channel, the switching states and the voltage each gives (fraction of u_supply).
_SWITCH_LEVELS = {
    "finite_1qc": ((0, 0.0), (1, 1.0)),
    "finite_2qc": ((2, 0.0), (1, 1.0)),
    "finite_4qc": ((0, 0.0), (1, 1.0), (2, -1.0)),
    "finite_b6": ((0, -0.5), (1, 0.5)),
}
# Continuous converters: output voltage range per channel (fraction of u_supply).
_VOLTAGE_RANGE = {
    "cont_1qc": (0.0, 1.0),
    "cont_2qc": (0.0, 1.0),
    "cont_4qc": (-1.0, 1.0),
    "cont_b6": (-0.5, 0.5),
}


@dataclass(frozen=True)
class PIGains:
    """``u = kp e + ki integral(e dt)``: kp in output units per error unit, ki per second."""

    kp: float
    ki: float


def tune_pi(
    gain: float, time_constant: float, t_sigma: float, method: str = "symmetrical_optimum", a: float = 4.0
) -> PIGains:
    """PI gains for a plant ``gain / (1 + s time_constant)`` with a small lag ``1 / (1 + s t_sigma)``.

    * ``"symmetrical_optimum"``: treats the plant as the integrator ``gain / (s time_constant)``
      (time_constant >> t_sigma, or a true integrator such as the mechanics 1 / (s J)):
      ``kp = time_constant / (a gain t_sigma)``, integral time ``a^2 t_sigma``. ``a`` trades speed for
      damping (a = 2 is the classic optimum; a = 4 damps better); the crossover is near ``1 / (a t_sigma)``.
    * ``"magnitude_optimum"`` (technical optimum): the PI zero cancels the plant pole,
      ``kp = time_constant / (2 gain t_sigma)``, integral time ``time_constant``.
    """
    if min(gain, time_constant, t_sigma) <= 0 or a <= 1:
        raise ValueError(
            f"gain, time_constant, t_sigma must be > 0 and a > 1; got {gain}, {time_constant}, {t_sigma}, {a}"
        )
    if method == "symmetrical_optimum":
        kp = time_constant / (a * gain * t_sigma)
        return PIGains(kp, kp / (a * a * t_sigma))
    if method == "magnitude_optimum":
        kp = time_constant / (2 * gain * t_sigma)
        return PIGains(kp, kp / time_constant)
    raise ValueError(f"method={method!r}; allowed: symmetrical_optimum, magnitude_optimum")


@dataclass(frozen=True)
class PDGains:
    """``u = kp (e + td de/dt)``: kp in output units per error unit, td (derivative time) in seconds."""

    kp: float
    td: float


def tune_pd(gain: float, time_constant: float, t_sigma: float) -> PDGains:
    """PD gains for an integrating plant ``gain / (s (1 + s time_constant) (1 + s t_sigma))``, e.g. a position
    loop around a speed-controlled drive, by the magnitude optimum: the derivative zero cancels the larger lag
    (``td = time_constant``), and ``kp = 1 / (2 gain t_sigma)`` leaves the closed loop
    ``1 / (2 t_sigma^2 s^2 + 2 t_sigma s + 1)``, damping ratio 1/sqrt(2): 4.3 % overshoot, no steady-state
    error to a step (the plant integrates).
    """
    if min(gain, time_constant, t_sigma) <= 0:
        raise ValueError(f"gain, time_constant, t_sigma must be > 0; got {gain}, {time_constant}, {t_sigma}")
    return PDGains(kp=1.0 / (2.0 * gain * t_sigma), td=time_constant)


class PIController:
    """Discrete PI with output limits and conditional integration (the integral stops while saturated), and
    an optional first-order smoothing of the reference."""

    def __init__(self, gains: PIGains, tau: float, low: float, high: float, smoothing: float = 0.0):
        self.gains, self.tau, self.low, self.high = gains, tau, low, high
        self._alpha = tau / (smoothing + tau)
        self.reset()

    def reset(self) -> None:
        self.integral, self.reference = 0.0, None

    def __call__(self, reference: float, measured: float, feedforward: float = 0.0) -> float:
        self.reference = (
            reference
            if self.reference is None
            else self.reference + self._alpha * (reference - self.reference)
        )
        error = self.reference - measured
        integral = self.integral + self.gains.ki * self.tau * error
        output = self.gains.kp * error + integral + feedforward
        clipped = min(max(output, self.low), self.high)
        if clipped == output or (output > self.high) == (error < 0):
            self.integral = integral
        return clipped


class MotorPIAgent:
    """Cascaded PI control of any registered motor task (see the module docstring)."""

    name = "motor/pi"

    def __init__(self, spaces: EnvSpaces, a: float = 4.0, current_margin: float = 0.8):
        if not 1 < a <= 10:
            raise ValueError(f"a={a} must be in (1, 10]")
        if not 0 < current_margin <= 1:
            raise ValueError(f"current_margin={current_margin} must be in (0, 1]")
        self.spaces, self.a, self.margin = spaces, a, current_margin
        self.plant: dict[str, Any] | None = None

    def reset(self, seed: int | None = None) -> None:
        self.plant = None  # re-tune from the next reset's info["plant"]

    def act(self, observation, info: dict):
        if "plant" in info:
            self._tune(info["plant"])
        if self.plant is None:
            raise ValueError("motor/pi needs the reset's info['plant'] before its first action")
        voltages = self._voltages(info)
        return self._action(voltages)

    # --- tuning -------------------------------------------------------------------------------------------
    def _tune(self, plant: dict[str, Any]) -> None:
        self.plant = plant
        p, lim, tau, a = plant["motor_params"], plant["limits"], plant["tau"], self.a
        self.motor, self.tau, self.u_supply = plant["motor"], tau, plant["u_supply"]
        finite = plant["converter_finite"]
        if finite:
            levels = [v for _, v in _SWITCH_LEVELS[plant["converter"]]]
            self.u_low, self.u_high = min(levels) * self.u_supply, max(levels) * self.u_supply
        else:
            low, high = _VOLTAGE_RANGE[plant["converter"]]
            self.u_low, self.u_high = low * self.u_supply, high * self.u_supply
        j = p["j_rotor"] + (plant["load_params"]["j_load"] if plant["load"] != "constant_speed" else 0.0)
        t_current = a * tau  # equivalent lag of the closed current loop seen by the speed loop
        self.current_loops: dict[str, PIController] = {}
        inductance = {
            "permanent": {"i_a": p.get("l_a")},
            "externally_excited": {"i_a": p.get("l_a"), "i_e": p.get("l_e")},
            "shunt": {"i_a": p.get("l_a")},
            "series": {"i_a": p.get("l_a", 0) + p.get("l_e", 0)},
            "pmsm": {"i_d": p.get("l_d"), "i_q": p.get("l_q")},
        }[self.motor]
        for name, l_winding in inductance.items():
            gains = tune_pi(1.0, l_winding, tau, "symmetrical_optimum", a)
            self.current_loops[name] = PIController(
                gains, tau, self.u_low, self.u_high, smoothing=a * a * tau
            )
        if self.motor == "pmsm":
            self.i_max = self.margin * lim["i_d"]
            self.torque_max = 1.5 * p["p"] * p["psi_p"] * self.i_max
        else:
            self.i_max = self.margin * lim["i_a"]
            self.torque_max = self.margin * lim["torque"]
        speed_gains = tune_pi(1.0, j, t_current, "symmetrical_optimum", a)
        self.speed_loop = PIController(
            speed_gains, tau, -self.torque_max, self.torque_max, smoothing=a * a * t_current
        )
        self.field_current = min(plant["nominal"].get("i_e", 0.0), 0.8 * self.u_high / p.get("r_e", 1.0))
        self.nominal_flux = p["psi_e"] if "psi_e" in p else p.get("l_e_prime", 0.0) * self.field_current
        self.carry = np.zeros(
            self.spaces.action_space.shape or (1,) if not finite else _channels(self.spaces)
        )

    # --- control law --------------------------------------------------------------------------------------
    def _torque_reference(self, info: dict) -> float:
        reference = info["reference"]
        if "omega" in reference:
            return self.speed_loop(reference["omega"], info["omega"])
        return min(max(reference.get("torque", 0.0), -self.torque_max), self.torque_max)

    def _voltages(self, info: dict) -> list[float]:
        p, reference, omega = self.plant["motor_params"], info["reference"], info["omega"]
        if self.motor == "pmsm":
            return self._pmsm_voltages(info)
        if self.motor == "permanent":
            flux = p["psi_e"]
        elif self.motor == "series":
            flux = p["l_e_prime"] * abs(info["i_a"])
        else:
            flux = p["l_e_prime"] * info["i_e"]
        if "i_a" in reference:
            i_ref = reference["i_a"]
        elif self.motor == "series":
            i_ref = math.sqrt(max(self._torque_reference(info), 0.0) / p["l_e_prime"])
        else:
            i_ref = self._torque_reference(info) / max(flux, 0.2 * self.nominal_flux)
        i_ref = min(max(i_ref, -self.i_max), self.i_max)
        u_a = self.current_loops["i_a"](i_ref, info["i_a"], feedforward=flux * omega)
        if self.motor != "externally_excited":
            return [u_a]
        u_e = self.current_loops["i_e"](
            self.field_current, info["i_e"], feedforward=p["r_e"] * self.field_current
        )
        return [u_a, u_e]

    def _pmsm_voltages(self, info: dict) -> list[float]:
        p, reference = self.plant["motor_params"], info["reference"]
        w_el = p["p"] * info["omega"]
        if "i_q" in reference:
            i_d_ref, i_q_ref = reference.get("i_d", 0.0), reference["i_q"]
        else:
            i_d_ref, i_q_ref = 0.0, self._torque_reference(info) / (1.5 * p["p"] * p["psi_p"])
        i_q_ref = min(max(i_q_ref, -self.i_max), self.i_max)
        i_d, i_q = info["i_d"], info["i_q"]
        u_d = self.current_loops["i_d"](i_d_ref, i_d, feedforward=-w_el * p["l_q"] * i_q)
        u_q = self.current_loops["i_q"](i_q_ref, i_q, feedforward=w_el * (p["l_d"] * i_d + p["psi_p"]))
        magnitude, available = math.hypot(u_d, u_q), self.u_supply / math.sqrt(3)
        if magnitude > available:
            u_d, u_q = u_d * available / magnitude, u_q * available / magnitude
        phases = _dq_to_abc(u_d, u_q, info["epsilon"])
        shift = 0.5 * (max(phases) + min(phases))  # zero-sequence injection: the full u_supply / sqrt(3)
        return [v - shift for v in phases]

    def _action(self, voltages: list[float]):
        converter = self.plant["converter"]
        if converter in _VOLTAGE_RANGE:
            low, high = _VOLTAGE_RANGE[converter]
            duty = [(v / self.u_supply - low) / (high - low) * 2.0 - 1.0 for v in voltages]
            return np.clip(np.array(duty, dtype=np.float32), -1.0, 1.0)
        levels = _SWITCH_LEVELS[converter]
        states = []
        for k, v in enumerate(voltages):
            wanted = v / self.u_supply + self.carry[k]
            state, level = min(levels, key=lambda s: abs(s[1] - wanted))
            self.carry[k] = wanted - level
            states.append(state)
        return states[0] if len(states) == 1 else np.array(states, dtype=np.int64)


def _channels(spaces: EnvSpaces) -> int:
    space = spaces.action_space
    return 1 if not hasattr(space, "nvec") else len(space.nvec)


def _dq_to_abc(d: float, q: float, epsilon: float) -> list[float]:
    """Rotor-frame (amplitude-invariant) voltages to the three phase voltages at electrical angle epsilon."""
    alpha = math.cos(epsilon) * d - math.sin(epsilon) * q
    beta = math.sin(epsilon) * d + math.cos(epsilon) * q
    return [alpha, -0.5 * alpha + 0.5 * math.sqrt(3) * beta, -0.5 * alpha - 0.5 * math.sqrt(3) * beta]


def make_pi_agent(spaces: EnvSpaces, **kwargs: Any) -> MotorPIAgent:
    """The ``motor/pi`` factory: ``a`` (symmetrical-optimum spacing, 4) and ``current_margin`` (0.8)."""
    return MotorPIAgent(spaces, **kwargs)
