"""IoT -> fog -> cloud task scheduling on a SimPy discrete-event simulator.

Id (keyword arguments of :class:`envs.iot.env.IoTSchedulingEnv`):

* ``arena/IoTScheduling-v0``: pick the node for each arriving task; by default four nodes of speeds
  1, 1, 2, 4 at load 0.8 (Poisson arrivals, exponential sizes), 1000 tasks per episode, reward minus the
  integral of the number of tasks in the system (so the return is minus the sum of response times).
"""

from envs._core.registry import register_single

register_single(
    "arena/IoTScheduling-v0",
    "envs.iot.env:IoTSchedulingEnv",
    domain="iot",
    summary="Dispatch IoT tasks to gateway/fog/cloud nodes (SimPy); return = -(sum of response times).",
    action_kind="Discrete",
    observation_kind="Box",
    max_episode_steps=1_000_000,
)
