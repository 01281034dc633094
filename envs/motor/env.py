"""The single electric-drive env: one motor, converter and load, stepped in float64 with RK4."""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from envs._core.render import AggFigure, Panel, StripChart, check_render_mode, warn_without_render_mode
from envs.motor.ops import FLOAT_OPS
from envs.motor.task import OBSERVATION_BOUND, make_task

RENDER_WINDOW = 1000  # steps shown by the rgb_array plot (0.1 s at the default tau)
_CURRENTS = ("i_a", "i_e", "i_d", "i_q")
_VOLTAGES = ("u_a", "u_e", "u_d", "u_q")
_UNITS = {"omega": "rad/s", "torque": "N m"}


class _FloatSampler:
    """Random numbers for references and loads, from the env's own ``np_random``."""

    def __init__(self, rng: np.random.Generator):
        self._rng = rng

    def uniform(self, low: float, high: float) -> float:
        return float(self._rng.uniform(low, high))

    def normal(self) -> float:
        return float(self._rng.standard_normal())

    def zero(self) -> float:
        return 0.0


class MotorEnv(gym.Env):
    """Control an electric motor fed by a power converter, with gym-electric-motor's physics.

    ## Description
    A supply of ``u_supply`` volts feeds a power converter whose output voltage drives a DC motor
    (permanently excited, externally excited, shunt, series) or a permanent-magnet synchronous motor (PMSM,
    in the rotor dq frame) turning a mechanical load. The agent sets the converter every ``tau`` seconds to
    make a quantity (speed ``omega``, armature current ``i_a`` or the PMSM's ``i_d``/``i_q``, or torque)
    follow a reference. Motor parameters, limits and defaults are GEM's (see :mod:`envs.motor.motors`), so
    published parameter sets carry over. The converter's voltage is held over each step while classic RK4
    integrates the motor and load ODE over it (:mod:`envs.motor.integrator`), in float64.

    ## Action Space
    Continuous converters: ``Box(-1, 1, (channels,), float32)``, the normalised duty cycle or voltage per
    channel (1 for DC motors, 2 for the externally excited motor: armature then field, 3 phases for the B6
    bridge); e.g. with ``cont_4qc`` the armature voltage is ``a u_supply``. Finite converters: ``Discrete``
    (one channel) or ``MultiDiscrete`` (several) switching states. See :mod:`envs.motor.converters`.

    ## Observation Space
    ``Box(float32)``: the motor's states divided by their limits, in the order
    ``omega, torque, i_a, u_a`` (permanent, series), ``omega, torque, i_a, i_e, u_a, u_e`` (externally
    excited, shunt) or ``omega, torque, i_d, i_q, u_d, u_q, epsilon`` (PMSM), clipped to [-2, 2]; then each
    reference as a fraction of its quantity's limit, in [-1, 1]. ``info`` holds the same states unclipped in
    SI units under those names (rad/s, N m, A, V, rad) and ``info["reference"]`` the references in SI units.
    The reset's ``info["plant"]`` describes the plant (motor type and parameters in GEM's names, limits,
    nominal values, tau, u_supply, converter, load and its parameters, controlled quantities) for classical
    controllers.

    ## Rewards
    ``-sum_q w_q (|x_q - x*_q| / (2 limit_q)) ** reward_power`` over the controlled quantities ``q``, with the
    weights ``reward_weights`` normalised to sum 1, comparing the state after the step with the reference the
    action was chosen for; so within [-1, 0] while the states are within their limits. A step that takes a
    current beyond its limit (for the PMSM: the dq current magnitude beyond the ``i_d`` limit) gets
    ``limit_penalty`` (-10) instead.

    ## Starting State
    All currents and voltages zero, the motor at rest (or at ``omega_fixed`` with a constant-speed load), the
    electrical angle zero; the references' first values (random ones from the env's ``np_random``).

    ## Episode End
    Terminated when a current limit is exceeded (unless ``terminate_on_limit=False``); truncated at
    ``max_episode_steps`` (given to ``gym.make``; the registered ids use 10 000 steps, 1 s at 1e-4 s).

    ## Arguments
    ``gym.make("arena/DCMotorSpeed-v0", **kwargs)`` with any of

    * ``motor``: ``"permanent"`` (default), ``"externally_excited"``, ``"shunt"``, ``"series"``, ``"pmsm"``.
    * ``motor_params``: dict in GEM's names (``r_a``, ``l_a``, ``psi_e``, ``j_rotor``, ``r_e``, ``l_e``,
      ``l_e_prime``; PMSM ``p``, ``r_s``, ``l_d``, ``l_q``, ``psi_p``, ``j_rotor``), SI units.
    * ``load``: ``"polynomial"`` (default), ``"constant_speed"``, ``"stochastic"``; ``load_params``: dict with
      ``a`` (N m), ``b`` (N m s), ``c`` (N m s^2), ``j_load`` (kg m^2, default 1e-4), ``omega_fixed`` (rad/s,
      default 100), ``sigma`` (N m), ``theta`` (1/s) (:mod:`envs.motor.loads`).
    * ``converter``: ``cont_1qc``, ``cont_2qc``, ``cont_4qc`` (DC default), ``cont_b6`` (PMSM default),
      ``finite_1qc``, ``finite_2qc``, ``finite_4qc``, ``finite_b6``.
    * ``u_supply``: supply voltage (V); default the motor's voltage limit (60 V for DC motors, 300 V PMSM).
    * ``tau``: control step (s), default 1e-4.
    * ``control``: ``"speed"`` (default), ``"current"``, ``"torque"`` — which quantities get references.
    * ``reference``: one spec ``{"kind": ..., ...}`` for the controlled quantities, or a dict quantity -> spec
      (kinds constant, step, sinusoid, random_step, random_walk; see :mod:`envs.motor.references`).
    * ``limits``: dict overriding GEM's limits (e.g. ``{"i_a": 150.0}``).
    * ``reward_weights``, ``reward_power`` (1.0), ``limit_penalty`` (-10.0), ``terminate_on_limit`` (True).
    * ``render_mode``: None (default), ``"ansi"`` (one line: time and every state in SI units, with the
      references) or ``"rgb_array"`` (a 640 x 480 plot of the last ``RENDER_WINDOW`` steps: the controlled
      quantities and their references, the currents, the voltages). A frame is one step, so a video at
      ``render_fps`` runs slower than the motor.

    ## Version History
    * v0: initial version.
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 50}
    # states and references are observed anyway; the plant is the task's documented model; the load noise
    # and the reference generator's state are not in info
    privileged_info_keys: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, render_mode: str | None = None, **kwargs: Any):
        self.render_mode = check_render_mode(render_mode, self.metadata)
        self.task = make_task(**kwargs)
        self.observation_space, self.action_space = self.task.spaces()
        task = self.task
        self._params = {k: float(v) for k, v in task.params.items()}
        self._load_params = {k: float(v) for k, v in task.load_params.items()}
        self._limits = [float(task.limits[q]) for q in task.motor.observed]
        self._ref_limits = [float(task.limits[q]) for q in task.references]
        self._ref_index = [task.motor.observed.index(q) for q in task.references]
        self._ref_weights = [task.reward_weights.get(q, 0.0) for q in task.references]
        self._limited = [task.motor.observed.index(q) for q in task.motor.limited]
        self._noise_decay, self._noise_spread = task.noise_step(self._load_params, FLOAT_OPS)
        self._sampler: _FloatSampler | None = None
        self._chart = _motor_chart(task) if render_mode == "rgb_array" else None
        self._figure: AggFigure | None = None

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        task = self.task
        self._sampler = _FloatSampler(self.np_random)
        self._x = [task.initial_omega(self._load_params)] + [0.0] * (task.motor.state_size - 1)
        self._k = 0
        self._noise = 0.0  # the stochastic load's random torque (N m) starts stationary
        if self._noise_spread:
            self._noise = self._load_params["sigma"] * self._sampler.normal()
        self._refs = [ref.start(self._sampler, FLOAT_OPS) for ref in task.references.values()]
        zero_inputs = [0.0] * (2 if task.motor.name in ("externally_excited", "pmsm") else 1)
        values = task.motor.quantities(self._params, self._x, zero_inputs)
        info = self._info(values)
        info["plant"] = task.plant()
        if self._chart is not None:
            self._chart.clear()
        self._record(values)
        return self._observation(values), info

    def step(self, action):
        task = self.task
        self._x, u = task.advance(
            self._params,
            self._load_params,
            task.u_supply,
            self._x,
            self._channels(action),
            self._noise,
            FLOAT_OPS,
        )
        values = task.motor.quantities(self._params, self._x, u)
        if self._exceeds_limit(values):
            reward, terminated = task.limit_penalty, task.terminate_on_limit
        else:
            reward, terminated = self._tracking_reward(values), False
        self._k += 1
        self._refs = [
            ref.next(r, self._k, self._k * task.tau, self._sampler, FLOAT_OPS)
            for ref, r in zip(task.references.values(), self._refs, strict=True)
        ]
        if self._noise_spread:
            self._noise = self._noise_decay * self._noise + self._noise_spread * self._sampler.normal()
        self._record(values)
        return self._observation(values), float(reward), bool(terminated), False, self._info(values)

    def render(self) -> str | np.ndarray | None:
        """The state now as one line of text (``"ansi"``), or the recent history as an RGB plot
        (``"rgb_array"``, (480, 640, 3) uint8); None without a render mode."""
        if self.render_mode is None:
            warn_without_render_mode(self.metadata)
            return None
        names = self.task.motor.observed
        if self.render_mode == "ansi":
            states = "  ".join(f"{q}={v:.4g}" for q, v in zip(names, self._values, strict=True))
            refs = "  ".join(f"{q}_ref={v:.4g}" for q, v in self._info(self._values)["reference"].items())
            return f"t={self._k * self.task.tau:.4f} s  {states}  {refs}"
        if self._figure is None:
            self._figure = AggFigure(len(self._chart.panels))
        self._chart.draw(self._figure.axes)
        return self._figure.to_rgb()

    def _record(self, values: list[float]) -> None:
        """Keep the state for :meth:`render` (and, for ``"rgb_array"``, add it to the plotted history)."""
        self._values = values
        if self._chart is None:
            return
        task, observed = self.task, self.task.motor.observed
        tracked = [
            x
            for i, r, lim in zip(self._ref_index, self._refs, self._ref_limits, strict=True)
            for x in (values[i], r * lim)
        ]
        currents = [values[observed.index(q)] for q in _CURRENTS if q in observed]
        volts = [values[observed.index(q)] for q in _VOLTAGES if q in observed]
        self._chart.append(self._k * task.tau, tracked, currents, volts)

    def _channels(self, action) -> list[float]:
        """The action as one float per converter channel (continuous actions clipped to [-1, 1])."""
        values = np.asarray(action, dtype=np.float64).reshape(-1)
        if values.size != self.task.motor.channels:
            raise ValueError(f"action={action!r} must have {self.task.motor.channels} value(s)")
        if self.task.converter.finite:
            if np.any(values < 0) or np.any(values >= self.task.converter.states) or np.any(values % 1):
                raise ValueError(
                    f"action={action!r} must be switching states in 0..{self.task.converter.states - 1}"
                )
            return values.tolist()
        return np.clip(values, -1.0, 1.0).tolist()

    def _exceeds_limit(self, values: list[float]) -> bool:
        if self.task.motor.name == "pmsm":
            i_d, i_q = values[2], values[3]
            return i_d * i_d + i_q * i_q > self._limits[2] ** 2
        return any(abs(values[i]) > self._limits[i] for i in self._limited)

    def _tracking_reward(self, values: list[float]) -> float:
        return -sum(
            w * (abs(values[i] / (2 * lim) - r / 2)) ** self.task.reward_power
            for i, w, lim, r in zip(
                self._ref_index, self._ref_weights, self._ref_limits, self._refs, strict=True
            )
        )

    def _observation(self, values: list[float]) -> np.ndarray:
        states = np.clip(np.divide(values, self._limits), -OBSERVATION_BOUND, OBSERVATION_BOUND)
        return np.concatenate([states, self._refs]).astype(np.float32)

    def _info(self, values: list[float]) -> dict[str, Any]:
        info: dict[str, Any] = dict(zip(self.task.motor.observed, values, strict=True))
        info["reference"] = {
            q: r * lim for q, r, lim in zip(self.task.references, self._refs, self._ref_limits, strict=True)
        }
        return info


def _motor_chart(task) -> StripChart:
    """The rgb_array plot: controlled quantities with their references, then currents, then voltages."""
    controlled = list(task.references)
    units = sorted({_UNITS.get(q, "A" if q.startswith("i_") else "V") for q in controlled})
    observed = task.motor.observed
    panels = [
        Panel(
            f"{', '.join(controlled)} ({', '.join(units)})",
            tuple(name for q in controlled for name in (q, f"{q}_ref")),
            dashed=tuple(f"{q}_ref" for q in controlled),
        ),
        Panel("currents (A)", tuple(q for q in _CURRENTS if q in observed)),
        Panel("voltages (V)", tuple(q for q in _VOLTAGES if q in observed)),
    ]
    return StripChart(panels, RENDER_WINDOW, xlabel="time (s)")
