"""Electric-drive control tasks with gym-electric-motor's physics: DC motors and the PMSM.

Ids (all take the keyword arguments of :class:`envs.motor.env.MotorEnv`; ``gym.make_vec`` gives the batched
torch simulator :class:`envs.motor.vector_env.MotorVectorEnv`):

* ``arena/DCMotorSpeed-v0``: speed of the GEM default permanently excited DC motor, 4-quadrant converter.
* ``arena/DCMotorCurrent-v0``: its armature current, shaft held at 100 rad/s.
* ``arena/DCMotorTorque-v0``: its torque, shaft held at 100 rad/s.
* ``arena/PMSMCurrent-v0``: d and q currents of the GEM default PMSM, B6 bridge on 300 V, shaft at 100 rad/s.
* ``arena/PMSMSpeed-v0``: speed of that PMSM on 420 V with friction.
"""

from envs._core.registry import register_single

_ENTRY = "envs.motor.env:MotorEnv"
_VECTOR_ENTRY = "envs.motor.vector_env:MotorVectorEnv"
_FAST_STEPS = {"kind": "random_step", "low": -0.5, "high": 0.5, "period": 0.02}
_TASKS = {
    "arena/DCMotorSpeed-v0": (
        "Speed control of a permanently excited DC motor (GEM defaults), continuous 4-quadrant converter.",
        {"motor": "permanent", "control": "speed"},
    ),
    "arena/DCMotorCurrent-v0": (
        "Armature-current control of a permanently excited DC motor at a fixed 100 rad/s.",
        {"motor": "permanent", "control": "current", "load": "constant_speed", "reference": _FAST_STEPS},
    ),
    "arena/DCMotorTorque-v0": (
        "Torque control of a permanently excited DC motor at a fixed 100 rad/s.",
        {"motor": "permanent", "control": "torque", "load": "constant_speed", "reference": _FAST_STEPS},
    ),
    "arena/PMSMCurrent-v0": (
        "d/q current control of a PMSM (GEM defaults) through a B6 bridge on 300 V at a fixed 100 rad/s.",
        {
            "motor": "pmsm",
            "control": "current",
            "load": "constant_speed",
            "u_supply": 300.0,
            "reference": {"i_d": {**_FAST_STEPS, "high": 0.0}, "i_q": _FAST_STEPS},
        },
    ),
    "arena/PMSMSpeed-v0": (
        "Speed control of a PMSM (GEM defaults) through a B6 bridge on 420 V against friction.",
        {
            "motor": "pmsm",
            "control": "speed",
            "u_supply": 420.0,
            "load_params": {"a": 0.01, "b": 0.01, "j_load": 1e-5},
        },
    ),
}

for _id, (_summary, _kwargs) in _TASKS.items():
    register_single(
        _id,
        _ENTRY,
        domain="motor",
        summary=_summary,
        action_kind="Box",
        observation_kind="Box",
        max_episode_steps=10_000,
        vector_entry_point=_VECTOR_ENTRY,
        kwargs=_kwargs,
    )
