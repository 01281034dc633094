"""Quality-diversity tasks: episodes scored by a fitness and placed by a behaviour descriptor.

Ids (every step's ``info`` holds ``descriptor``, ``step_descriptor`` and ``fitness``; :mod:`envs.qd.tasks`
lists episode lengths and bounds, :class:`envs.qd.evaluator.BatchEvaluator` evaluates many policies at once):

* ``arena/QDPointMaze-v0``: the deceptive point maze, descriptor the final (x, y); needs no MuJoCo.
* ``arena/QDWalker2dUni-v0``, ``arena/QDHalfCheetahUni-v0``, ``arena/QDHopperUni-v0``, ``arena/QDAntUni-v0``:
  Gymnasium's v5 MuJoCo runners, descriptor each foot's proportion of steps touching the floor.
* ``arena/QDAntOmni-v0``: the v5 Ant without forward reward, descriptor its final (x, y).

The MuJoCo ids are registered only when ``mujoco`` imports (an optional extra).

The face (what agents and the arena use):

- ``TASKS``: every task by name (env id, episode length, descriptor bounds, whether it needs MuJoCo);
- batched evaluation of many policies at once (loaded on first use): ``BatchEvaluator`` and
  ``MLPPolicySpec`` (the shape of the MLP policies it evaluates).
"""

import importlib.util
from typing import TYPE_CHECKING

from envs._core import lazy_exports
from envs._core.registry import register_single
from envs.qd.tasks import TASKS

if TYPE_CHECKING:
    from envs.qd.evaluator import BatchEvaluator, MLPPolicySpec

__all__ = ["TASKS", "BatchEvaluator", "MLPPolicySpec"]
__getattr__ = lazy_exports(__name__, dict.fromkeys(("BatchEvaluator", "MLPPolicySpec"), "evaluator"))

_SUMMARIES = {
    "pointmaze": "Deceptive point maze (QD): reach the goal behind two walls; descriptor = final x-y.",
    "walker2d_uni": "Walker2d-v5 running forward (QD); descriptor = feet-contact proportions.",
    "halfcheetah_uni": "HalfCheetah-v5 running forward (QD); descriptor = feet-contact proportions.",
    "hopper_uni": "Hopper-v5 hopping forward (QD); descriptor = foot-contact proportion.",
    "ant_uni": "Ant-v5 running forward (QD); descriptor = the four feet's contact proportions.",
    "ant_omni": "Ant-v5 at low energy cost (QD); descriptor = final x-y position.",
}

_HAS_MUJOCO = importlib.util.find_spec("mujoco") is not None

for _name, _task in TASKS.items():
    if _task.needs_mujoco and not _HAS_MUJOCO:
        continue
    register_single(
        _task.env_id,
        "envs.qd.pointmaze:QDPointMazeEnv" if _name == "pointmaze" else "envs.qd.locomotion:QDLocomotionEnv",
        domain="qd",
        summary=_SUMMARIES[_name],
        action_kind="Box",
        observation_kind="Box",
        max_episode_steps=_task.episode_length,
        kwargs={} if _name == "pointmaze" else {"task": _name},
    )
