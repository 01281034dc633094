"""Power converters between the supply ``u_supply`` (V) and the motor, as in gym-electric-motor.

A converter has one *channel* per output: one for the DC motors, two for the externally excited motor
(armature and field, each its own converter), three half bridges for the PMSM's B6 bridge. The output voltage
is decided at the start of a step, from the action and (for the one- and two-quadrant converters) the sign of
the channel's current, and held over the step.

Continuous (dynamically averaged) converters take an action in [-1, 1] per channel (values outside are
clipped):

* ``cont_1qc``: duty d = (a + 1) / 2, u = d u_supply for i >= 0; a negative current flows back through the
  diode, so u = u_supply.
* ``cont_2qc``: u = (a + 1) / 2 u_supply (both current directions).
* ``cont_4qc``: u = a u_supply (the default for DC motors).
* ``cont_b6``: phase voltage u_x = a_x u_supply / 2 for x in a, b, c (the PMSM's default).

Finite (switching) converters take switching states (Discrete for one channel, MultiDiscrete for several):

* ``finite_1qc``: 2 states, transistor off / on: u = s u_supply, or u_supply for i < 0.
* ``finite_2qc``: 3 states: 0 both off (u = u_supply for i < 0, else 0), 1 upper on (u_supply),
  2 lower on (0).
* ``finite_4qc``: 4 states: u = 0, +u_supply, -u_supply, 0.
* ``finite_b6``: 2 states per half bridge: u_x = (s_x - 1/2) u_supply.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import gymnasium as gym
import numpy as np


@dataclass(frozen=True)
class ConverterModel:
    """A converter: whether it switches (and how many states per channel), and its channel voltage (V)
    ``voltage(a, i, u_supply, ops)`` for action value ``a`` (a switching state as a float when finite) and
    channel current ``i`` (A). With torch, ``u_supply`` is a tensor of the env's dtype."""

    name: str
    finite: bool
    states: int  # switching states per channel (finite converters)
    for_pmsm: bool  # the B6 bridge feeds three phases; the others feed DC motors
    voltage: Callable

    def action_space(self, channels: int) -> gym.Space:
        if not self.finite:
            return gym.spaces.Box(-1.0, 1.0, shape=(channels,), dtype=np.float32)
        if channels == 1:
            return gym.spaces.Discrete(self.states)
        return gym.spaces.MultiDiscrete([self.states] * channels)


def _two_quadrant_switch(s, i, u, ops):
    return ops.where(s == 1.0, u, ops.where(s == 2.0, 0.0, ops.where(i < 0.0, u, 0.0)))


CONVERTERS: dict[str, ConverterModel] = {
    "cont_1qc": ConverterModel(
        "cont_1qc", False, 0, False, lambda a, i, u, ops: ops.where(i >= 0.0, 0.5 * (a + 1.0) * u, u)
    ),
    "cont_2qc": ConverterModel("cont_2qc", False, 0, False, lambda a, i, u, ops: 0.5 * (a + 1.0) * u),
    "cont_4qc": ConverterModel("cont_4qc", False, 0, False, lambda a, i, u, ops: a * u),
    "cont_b6": ConverterModel("cont_b6", False, 0, True, lambda a, i, u, ops: 0.5 * a * u),
    "finite_1qc": ConverterModel(
        "finite_1qc", True, 2, False, lambda s, i, u, ops: ops.where(i >= 0.0, s * u, u)
    ),
    "finite_2qc": ConverterModel("finite_2qc", True, 3, False, _two_quadrant_switch),
    "finite_4qc": ConverterModel(
        "finite_4qc",
        True,
        4,
        False,
        lambda s, i, u, ops: ops.where(s == 1.0, u, ops.where(s == 2.0, -u, 0.0)),
    ),
    "finite_b6": ConverterModel("finite_b6", True, 2, True, lambda s, i, u, ops: (s - 0.5) * u),
}
