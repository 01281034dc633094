"""A motor control task: the validated configuration both the single and the batched env run.

:func:`make_task` checks every keyword up front (a ``ValueError`` names the field and the allowed range) and
derives what the envs need: merged GEM parameters, limits, spaces, references and the ``info["plant"]``
description a classical controller tunes itself from. :meth:`MotorTask.advance` is the physics of one step,
shared by both envs.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

from envs.motor.converters import CONVERTERS, ConverterModel
from envs.motor.integrator import rk4_step
from envs.motor.loads import DEFAULT_LOAD_PARAMS, LOADS, noise_decay, static_load_torque
from envs.motor.motors import MOTORS, MotorModel, pmsm_torque_limit, wrap_angle
from envs.motor.references import Reference

CONTROLS = ("speed", "current", "torque")
OBSERVATION_BOUND = 2.0  # normalised states are clipped to +-2 limits in the observation; info is unclipped


@dataclass(frozen=True)
class MotorTask:
    """Everything fixed for an env's lifetime. ``params``/``load_params`` values are floats, or arrays of
    per-env values in the batched env."""

    motor: MotorModel
    converter: ConverterModel
    load: str
    params: dict[str, Any]
    load_params: dict[str, Any]
    limits: dict[str, Any]
    nominal: dict[str, Any]
    u_supply: float
    tau: float
    control: str
    references: dict[str, Reference]
    reward_weights: dict[str, float]
    reward_power: float
    limit_penalty: float
    terminate_on_limit: bool

    @property
    def observation_names(self) -> list[str]:
        return [*self.motor.observed, *(f"{q}_ref" for q in self.references)]

    def spaces(self) -> tuple[gym.Space, gym.Space]:
        """(observation space, action space) of one env."""
        n_states, n_refs = len(self.motor.observed), len(self.references)
        low = np.concatenate([np.full(n_states, -OBSERVATION_BOUND), -np.ones(n_refs)]).astype(np.float32)
        observation = gym.spaces.Box(low, -low, dtype=np.float32)
        return observation, self.converter.action_space(self.motor.channels)

    def j_total(self, params, load_params):
        return params["j_rotor"] + load_params["j_load"]

    def initial_omega(self, load_params):
        """Speed at reset (rad/s): at rest, or the fixed speed of a constant-speed load."""
        return load_params["omega_fixed"] if self.load == "constant_speed" else 0.0

    def advance(self, params, load_params, u_supply, x, channels, load_noise, ops, rk4_map=None):
        """One step of ``tau``: the converter's voltages from the action ``channels`` and the state at the
        step's start, held while RK4 integrates the motor and load (see :mod:`envs.motor.integrator`).
        ``rk4_map(x, u, load_noise)``, where given, is the same RK4 step as one affine map (see
        :meth:`linear_rk4_map`).

        Returns (new ODE state, motor input voltages held over the step).
        """
        motor, converter = self.motor, self.converter
        currents = motor.channel_currents(x)
        volts = [converter.voltage(a, i, u_supply, ops) for a, i in zip(channels, currents, strict=True)]
        u = motor.inputs(volts, x, ops)
        j_total = self.j_total(params, load_params)
        fixed_speed = self.load == "constant_speed"

        def derivatives(y):
            torque, d_electrical = motor.electrical(params, y, u, ops)
            if fixed_speed:
                return [0.0 * torque, *d_electrical]
            load_torque = static_load_torque(load_params, y[0], j_total, ops) + load_noise
            return [(torque - load_torque) / j_total, *d_electrical]

        x = rk4_map(x, u, load_noise) if rk4_map is not None else rk4_step(derivatives, x, self.tau)
        if motor.name == "pmsm":
            x[3] = wrap_angle(x[3])
        return x, u

    def linear_rk4_map(self, params, load_params) -> np.ndarray | None:
        """The RK4 step as one affine map ``G`` (float64, shape (2, 4) or (n, 2, 4) for per-env parameters)
        where the ODE is linear, else None.

        Linear is the permanently excited DC motor with a load without the constant and quadratic terms
        (``a = c = 0``), or at constant speed: ``x' = A x + B w`` with ``x = (omega, i_a)`` and the inputs
        ``w = (u_a, load noise torque)`` held over the step. RK4 on it is exactly
        ``x <- (I + hA + (hA)^2/2 + (hA)^3/6 + (hA)^4/24) x + h (I + hA/2 + (hA)^2/6 + (hA)^3/24) B w``
        (h = tau), so ``G = [that matrix | that input matrix]`` maps ``(omega, i_a, u_a, noise)`` to the new
        state: the same integrator as :func:`envs.motor.integrator.rk4_step`, equal up to rounding.
        """
        if self.motor.name != "permanent":
            return None
        fixed_speed = self.load == "constant_speed"
        nonlinear_load = any(np.any(np.asarray(load_params[name]) != 0) for name in ("a", "c"))
        if nonlinear_load and not fixed_speed:
            return None
        values = (params["r_a"], params["l_a"], params["psi_e"], load_params["b"])
        r_a, l_a, psi_e, b, j = np.broadcast_arrays(
            *(np.asarray(v, dtype=float) for v in (*values, self.j_total(params, load_params)))
        )
        zero = np.zeros_like(j)
        mech = 0.0 if fixed_speed else 1.0
        a = np.stack(
            [np.stack([-mech * b / j, mech * psi_e / j], -1), np.stack([-psi_e / l_a, -r_a / l_a], -1)], -2
        )
        inputs = np.stack([np.stack([zero, -mech / j], -1), np.stack([1.0 / l_a, zero], -1)], -2)
        ha, eye = self.tau * a, np.eye(2)
        ha2 = ha @ ha
        ha3 = ha2 @ ha
        state = eye + ha + ha2 / 2 + ha3 / 6 + ha3 @ ha / 24
        forced = self.tau * (eye + ha / 2 + ha2 / 6 + ha3 / 24) @ inputs
        return np.concatenate([state, forced], axis=-1)

    def noise_step(self, load_params, ops):
        """(decay, spread) of the stochastic load torque per step; (0, 0) for the deterministic loads."""
        if self.load != "stochastic":
            return 0.0, 0.0
        return noise_decay(load_params, self.tau, ops)

    def plant(self) -> dict[str, Any]:
        """A fresh plain dict describing the plant and task for classical controllers (``info["plant"]``)."""
        plain = {k: _plain(v) for k, v in self.params.items()}
        load_params = {k: _plain(v) for k, v in self.load_params.items()}
        return copy.deepcopy(
            {
                "motor": self.motor.name,
                "motor_params": plain,
                "limits": {k: _plain(v) for k, v in self.limits.items()},
                "nominal": {k: _plain(v) for k, v in self.nominal.items()},
                "tau": self.tau,
                "u_supply": self.u_supply,
                "converter": self.converter.name,
                "converter_finite": self.converter.finite,
                "load": self.load,
                "load_params": load_params,
                "control": self.control,
                "controlled": list(self.references),
                "observation_names": self.observation_names,
                "terminate_on_limit": self.terminate_on_limit,
            }
        )


def _plain(value):
    array = np.asarray(value, dtype=float)
    return float(array) if array.ndim == 0 else array.tolist()


def make_task(
    motor: str = "permanent",
    motor_params: dict[str, Any] | None = None,
    load: str = "polynomial",
    load_params: dict[str, Any] | None = None,
    converter: str | None = None,
    u_supply: float | None = None,
    tau: float = 1e-4,
    control: str = "speed",
    reference: dict[str, Any] | None = None,
    limits: dict[str, float] | None = None,
    reward_weights: dict[str, float] | None = None,
    reward_power: float = 1.0,
    limit_penalty: float = -10.0,
    terminate_on_limit: bool = True,
) -> MotorTask:
    """Validate the env keywords (documented on :class:`envs.motor.env.MotorEnv`) and build the task."""
    if motor not in MOTORS:
        raise ValueError(f"motor={motor!r} is not known; allowed: {', '.join(MOTORS)}")
    model = MOTORS[motor]
    params = _merge("motor_params", model.default_params, motor_params)
    if load not in LOADS:
        raise ValueError(f"load={load!r} is not known; allowed: {', '.join(LOADS)}")
    lp = _merge("load_params", DEFAULT_LOAD_PARAMS, load_params, allow_zero=True)
    for name in ("a", "b", "c", "sigma", "theta"):
        if np.any(np.asarray(lp[name]) < 0):
            raise ValueError(f"load_params[{name!r}]={lp[name]} must be >= 0")
    if np.any(np.asarray(lp["j_load"]) < 0):
        raise ValueError(f"load_params['j_load']={lp['j_load']} must be >= 0 (kg m^2)")
    converter = converter or ("cont_b6" if motor == "pmsm" else "cont_4qc")
    if converter not in CONVERTERS or CONVERTERS[converter].for_pmsm != (motor == "pmsm"):
        fitting = [k for k, c in CONVERTERS.items() if c.for_pmsm == (motor == "pmsm")]
        raise ValueError(
            f"converter={converter!r} cannot drive motor {motor!r}; allowed: {', '.join(fitting)}"
        )
    if not (isinstance(tau, (int, float)) and 1e-7 <= tau <= 1e-2):
        raise ValueError(f"tau={tau!r} must be a step length in [1e-7, 1e-2] seconds")
    if control not in CONTROLS:
        raise ValueError(f"control={control!r} is not known; allowed: {', '.join(CONTROLS)}")
    limit_values, nominal = _limits(model, params, limits)
    u_supply = (
        float(limit_values.get("u_a", 2 * limit_values.get("u_d", 0.0))) if u_supply is None else u_supply
    )
    if not (isinstance(u_supply, (int, float)) and 0 < u_supply <= 10_000):
        raise ValueError(f"u_supply={u_supply!r} must be in (0, 10000] volts")
    references = _references(model, control, reference, float(tau))
    weights = reward_weights or dict.fromkeys(references, 1.0)
    if set(weights) - set(references) or any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
        raise ValueError(
            f"reward_weights={weights!r} must give non-negative weights (not all 0) to "
            f"controlled quantities only: {', '.join(references)}"
        )
    total = sum(weights.values())
    if not (isinstance(reward_power, (int, float)) and 0 < reward_power <= 4):
        raise ValueError(f"reward_power={reward_power!r} must be in (0, 4]")
    if not (isinstance(limit_penalty, (int, float)) and limit_penalty <= 0):
        raise ValueError(f"limit_penalty={limit_penalty!r} must be <= 0")
    return MotorTask(
        motor=model,
        converter=CONVERTERS[converter],
        load=load,
        params=params,
        load_params=lp,
        limits=limit_values,
        nominal=nominal,
        u_supply=float(u_supply),
        tau=float(tau),
        control=control,
        references=references,
        reward_weights={q: w / total for q, w in weights.items()},
        reward_power=float(reward_power),
        limit_penalty=float(limit_penalty),
        terminate_on_limit=bool(terminate_on_limit),
    )


def _merge(field: str, defaults: dict, given: dict | None, allow_zero: bool = False) -> dict:
    given = dict(given or {})
    unknown = set(given) - set(defaults)
    if unknown:
        raise ValueError(f"{field}: unknown name(s) {sorted(unknown)}; allowed: {', '.join(defaults)}")
    merged = {**defaults, **given}
    for name, value in merged.items():
        array = np.asarray(value, dtype=float)
        if not np.all(np.isfinite(array)) or (not allow_zero and np.any(array <= 0)):
            raise ValueError(f"{field}[{name!r}]={value!r} must be finite and > 0")
    return merged


def _limits(model: MotorModel, params: dict, given: dict | None) -> tuple[dict, dict]:
    """GEM's limits and nominal values, updated by ``given``; the PMSM torque limit follows its parameters."""
    given = dict(given or {})
    allowed = [*model.default_limits, "torque"]
    bad = {k: v for k, v in given.items() if k not in allowed or not (isinstance(v, (int, float)) and v > 0)}
    if bad:
        raise ValueError(f"limits={bad!r}: names must be among {', '.join(allowed)} with values > 0")
    limits = {**model.default_limits, **given}
    nominal = dict(model.default_nominal)
    if model.name == "pmsm":
        nominal["torque"] = pmsm_torque_limit(params, nominal["i_d"], np)
        limits.setdefault("torque", nominal["torque"])
    return limits, nominal


def _references(model: MotorModel, control: str, reference: dict | None, tau: float) -> dict[str, Reference]:
    """Controlled quantity -> Reference. ``reference`` is one spec (for the control's default quantities) or
    a dict mapping quantities to specs."""
    defaults = {"speed": ("omega",), "torque": ("torque",)}
    quantities = defaults.get(control, ("i_d", "i_q") if model.name == "pmsm" else ("i_a",))
    if reference is None:
        reference = {"kind": "random_step"}
    if "kind" in reference:
        return {q: Reference.from_spec(reference, tau, f"reference[{q!r}]") for q in quantities}
    bad = [q for q in reference if q not in model.observed or q == "epsilon"]
    if bad or not reference:
        allowed = [q for q in model.observed if q != "epsilon"]
        raise ValueError(f"reference: quantities {bad} cannot be controlled; allowed: {', '.join(allowed)}")
    return {q: Reference.from_spec(spec, tau, f"reference[{q!r}]") for q, spec in reference.items()}
