"""Gymnasium's classic-control tasks, each with a batched torch simulator.

Each id's single env is Gymnasium's own class, with the time limit and reward threshold that Gymnasium
registers for it; ``gym.make_vec(id, vectorization_mode="vector_entry_point")`` gives this family's batched
torch simulator of the same physics (keyword arguments ``num_envs``, ``device``, ``dtype``,
``max_episode_steps`` and the single env's own, see :class:`envs.classic.batched.ClassicVectorEnv`):

* ``arena/CartPole-v1``: :class:`envs.classic.cartpole.CartPoleVectorEnv`;
* ``arena/Acrobot-v1``: :class:`envs.classic.acrobot.AcrobotVectorEnv`;
* ``arena/MountainCar-v0``: :class:`envs.classic.mountain_car.MountainCarVectorEnv`;
* ``arena/MountainCarContinuous-v0``: :class:`envs.classic.mountain_car.ContinuousMountainCarVectorEnv`;
* ``arena/Pendulum-v1``: :class:`envs.classic.pendulum.PendulumVectorEnv`.

The face (loaded on first use, so registering the ids imports no torch): the five vector env classes.
"""

from typing import TYPE_CHECKING

import gymnasium as gym

from envs._core import lazy_exports
from envs._core.registry import register_single

if TYPE_CHECKING:
    from envs.classic.acrobot import AcrobotVectorEnv
    from envs.classic.cartpole import CartPoleVectorEnv
    from envs.classic.mountain_car import ContinuousMountainCarVectorEnv, MountainCarVectorEnv
    from envs.classic.pendulum import PendulumVectorEnv

__all__ = [
    "AcrobotVectorEnv",
    "CartPoleVectorEnv",
    "ContinuousMountainCarVectorEnv",
    "MountainCarVectorEnv",
    "PendulumVectorEnv",
]
__getattr__ = lazy_exports(
    __name__,
    {
        "AcrobotVectorEnv": "acrobot",
        "CartPoleVectorEnv": "cartpole",
        "ContinuousMountainCarVectorEnv": "mountain_car",
        "MountainCarVectorEnv": "mountain_car",
        "PendulumVectorEnv": "pendulum",
    },
)

# Gymnasium's id: (this family's vector env, summary, action kind)
_TASKS = {
    "CartPole-v1": (
        "envs.classic.cartpole:CartPoleVectorEnv",
        "Balance a pole on a cart by pushing it left or right (Barto, Sutton and Anderson 1983).",
        "Discrete",
    ),
    "Acrobot-v1": (
        "envs.classic.acrobot:AcrobotVectorEnv",
        "Swing the free end of a two-link chain above a height by a torque on the middle joint.",
        "Discrete",
    ),
    "MountainCar-v0": (
        "envs.classic.mountain_car:MountainCarVectorEnv",
        "Drive an underpowered car out of a valley by rocking it (three discrete accelerations).",
        "Discrete",
    ),
    "MountainCarContinuous-v0": (
        "envs.classic.mountain_car:ContinuousMountainCarVectorEnv",
        "Drive an underpowered car out of a valley with a continuous force that costs energy.",
        "Box",
    ),
    "Pendulum-v1": (
        "envs.classic.pendulum:PendulumVectorEnv",
        "Swing a pendulum up and hold it upright with a bounded torque.",
        "Box",
    ),
}

for _name, (_vector_entry, _summary, _action_kind) in _TASKS.items():
    _theirs = gym.spec(_name)
    register_single(
        f"arena/{_name}",
        _theirs.entry_point,
        domain="classic",
        summary=_summary,
        action_kind=_action_kind,
        observation_kind="Box",
        max_episode_steps=_theirs.max_episode_steps,
        vector_entry_point=_vector_entry,
    )
    gym.spec(f"arena/{_name}").reward_threshold = _theirs.reward_threshold  # register_single takes none
