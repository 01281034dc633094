"""QD locomotion on Gymnasium's v5 MuJoCo runners: the single env (a wrapper) and a batched twin on MjData."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import mujoco
import numpy as np
import torch

from envs.qd.tasks import TASKS, QDTask


@dataclass(frozen=True)
class Morphology:
    """Which Gymnasium v5 env a task runs and the geoms whose floor contacts make its descriptor."""

    gym_id: str  # the Gymnasium v5 id
    gym_class: str  # "module:Class" of that env
    feet: tuple[str, ...]  # foot geom names, in the descriptor's order
    omni: bool = False  # ant_omni: no forward reward, descriptor the final x-y


MORPHOLOGIES = {
    "walker2d_uni": Morphology(
        "Walker2d-v5", "gymnasium.envs.mujoco.walker2d_v5:Walker2dEnv", ("foot_geom", "foot_left_geom")
    ),
    "halfcheetah_uni": Morphology(
        "HalfCheetah-v5", "gymnasium.envs.mujoco.half_cheetah_v5:HalfCheetahEnv", ("bfoot", "ffoot")
    ),
    "hopper_uni": Morphology("Hopper-v5", "gymnasium.envs.mujoco.hopper_v5:HopperEnv", ("foot_geom",)),
    "ant_uni": Morphology(
        "Ant-v5",
        "gymnasium.envs.mujoco.ant_v5:AntEnv",
        ("left_ankle_geom", "right_ankle_geom", "third_ankle_geom", "fourth_ankle_geom"),
    ),
    "ant_omni": Morphology("Ant-v5", "gymnasium.envs.mujoco.ant_v5:AntEnv", (), omni=True),
}


def make_gym_env(name: str) -> gym.Env:
    """A fresh, unwrapped Gymnasium v5 env of task ``name`` with its default arguments."""
    if name not in MORPHOLOGIES:
        raise ValueError(f"task={name!r} is not a MuJoCo QD task; allowed: {', '.join(MORPHOLOGIES)}")
    module, cls = MORPHOLOGIES[name].gym_class.split(":")
    return getattr(importlib.import_module(module), cls)()


def feet_contacts(model: mujoco.MjModel, data: mujoco.MjData, feet: np.ndarray) -> np.ndarray:
    """Per foot geom id in ``feet``: 1.0 when MuJoCo's contact list holds a contact of it with the floor."""
    pairs = data.contact.geom
    floor = model.geom("floor").id
    with_floor = np.where(pairs[:, 0] == floor, pairs[:, 1], np.where(pairs[:, 1] == floor, pairs[:, 0], -1))
    return np.isin(feet, with_floor).astype(np.float64)


class QDLocomotionEnv(gym.Env):
    """A Gymnasium v5 MuJoCo runner as a QD task: its reward (clipped below), plus a behaviour descriptor.

    ## Description
    The QD literature's locomotion tasks (QDax's ``walker2d_uni``, ``halfcheetah_uni``, ``hopper_uni``,
    ``ant_uni``, ``ant_omni``; the PGA-ME benchmark of Flageat et al. 2023 and DCG-ME, Faldor et al. 2023) on
    Gymnasium's v5 MuJoCo models and rewards instead of Brax's. ``*_uni``: run forward as fast as possible in
    as many gaits as possible, the gait described by how often each foot touches the floor. ``ant_omni``:
    reach as many places as possible while spending little energy, described by the final (x, y) position.

    ## Action Space
    The Gymnasium env's: ``Box(-1, 1, (A,), float32)`` joint torques (A = 6 walker2d and halfcheetah, 3
    hopper, 8 ant).

    ## Observation Space
    The Gymnasium env's, default arguments (walker2d and halfcheetah 17, hopper 11, ant 105 with the clipped
    external contact forces), float64.

    ## Rewards
    ``*_uni``: the Gymnasium v5 reward (forward velocity in m/s, plus the healthy reward 1 for walker2d,
    hopper and ant, minus control and, for the ant, contact costs). ``ant_omni``: that reward minus its
    forward term (healthy reward minus costs). Each step's reward is then clipped from below at
    ``-task.reward_floor`` (1.413 walker2d and hopper, 0.6 halfcheetah, 3.24 ant_uni, 3.03 ant_omni: QDax's
    reward offsets), so an episode's return is at least ``task.min_fitness``; ``info["reward_unclipped"]`` is
    the reward before the clip. ``info["fitness"]`` is the return so far.

    ## Descriptor
    ``*_uni``: ``info["step_descriptor"]`` holds 1.0 per foot touching the floor after the step (a contact of
    the foot geom with the floor geom in ``data.contact``), ``info["descriptor"]`` the proportion of the
    episode's steps so far with contact, in [0, 1] (feet: walker2d right, left; halfcheetah back, front;
    hopper the foot; ant front-left, back-left, back-right, front-right). ``ant_omni``: the torso's (x, y) in
    m from ``data.qpos``, clipped to [-30, 30]^2.

    ## Starting State
    Gymnasium's: the model's initial pose plus uniform noise (scale 5e-3 walker2d and hopper, 0.1 halfcheetah
    and ant) and velocity noise (uniform 5e-3, or Gaussian 0.1 for halfcheetah and ant), from the env's own
    ``np_random``.

    ## Episode End
    Terminated when Gymnasium's env terminates (walker2d, hopper and ant falling over; halfcheetah never);
    truncated after the literature's episode length: 1000 steps, 250 for ant_omni.

    ## Arguments
    ``task``: one of ``walker2d_uni``, ``halfcheetah_uni``, ``hopper_uni``, ``ant_uni``, ``ant_omni`` (set by
    each registered id).

    ## Version History
    * v0: initial version.
    """

    metadata = {"render_modes": []}

    def __init__(self, task: str = "walker2d_uni"):
        self._env = make_gym_env(task)
        self.task: QDTask = TASKS[task]
        self._morphology = MORPHOLOGIES[task]
        model = self._env.model
        self._feet = np.array([model.geom(name).id for name in self._morphology.feet], dtype=np.int64)
        self._low = np.array(self.task.descriptor_low)
        self._high = np.array(self.task.descriptor_high)
        self.observation_space = self._env.observation_space
        self.action_space = self._env.action_space
        self._contact_sum = np.zeros(len(self._feet))
        self._steps = 0
        self._fitness = 0.0

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self._env.np_random = self.np_random  # the Gymnasium env draws its start from our generator
        obs, info = self._env.reset()
        self._contact_sum[:] = 0.0
        self._steps = 0
        self._fitness = 0.0
        return obs, {**info, **self._descriptor_info(self._step_descriptor())}

    def step(self, action):
        obs, reward, terminated, truncated, info = self._env.step(action)
        if self._morphology.omni:
            reward = reward - info["reward_forward"]
        clipped = max(float(reward), -self.task.reward_floor)
        self._fitness += clipped
        self._steps += 1
        step_descriptor = self._step_descriptor()
        if not self._morphology.omni:
            self._contact_sum += step_descriptor
        info = {**info, **self._descriptor_info(step_descriptor), "reward_unclipped": float(reward)}
        return obs, clipped, terminated, truncated, info

    def _step_descriptor(self) -> np.ndarray:
        if self._morphology.omni:
            return np.clip(self._env.data.qpos[:2], self._low, self._high)
        return feet_contacts(self._env.model, self._env.data, self._feet)

    def _descriptor_info(self, step_descriptor: np.ndarray) -> dict[str, Any]:
        omni = self._morphology.omni
        descriptor = step_descriptor if omni else self._contact_sum / max(self._steps, 1)
        return {
            "descriptor": descriptor.astype(np.float32),
            "step_descriptor": step_descriptor.astype(np.float32),
            "fitness": self._fitness,
        }

    def close(self):
        self._env.close()


class LocomotionBatch:
    """B episodes of a MuJoCo QD task on one model and B ``MjData``, for the batched evaluator.

    The Gymnasium env's step, done without its per-env Python: the control goes into each live episode's
    ``MjData`` and ``mj_step`` runs ``frame_skip`` substeps (then ``mj_rnePostConstraint`` for the ant, whose
    observation and contact cost use the external contact forces); observations, rewards and health checks
    are then computed for all live episodes at once in numpy, with the Gymnasium v5 formulas and defaults.
    """

    def __init__(self, name: str, device: torch.device):
        env = make_gym_env(name)
        self.name = name
        self.task = TASKS[name]
        self.morphology = MORPHOLOGIES[name]
        self.descriptor_is_mean = not self.morphology.omni
        self.device = device
        self.model = env.model
        self.frame_skip = env.frame_skip
        self.dt = env.dt
        self._kind = name.split("_")[0]  # walker2d, halfcheetah, hopper, ant
        self._noise = env._reset_noise_scale
        self._feet = np.array([self.model.geom(n).id for n in self.morphology.feet], dtype=np.int64)
        self._low = np.array(self.task.descriptor_low)
        self._high = np.array(self.task.descriptor_high)
        env.close()
        self.data: list[mujoco.MjData] = []
        self._obs = np.zeros((0, self.task.obs_dim))

    def _position(self, data: mujoco.MjData) -> np.ndarray:
        """What the Gymnasium env differentiates for the forward velocity: qpos x, or the ant torso's xpos
        x-y."""
        return data.xpos[1, :2] if self._kind == "ant" else data.qpos[:1]

    def reset(self, rng: np.random.Generator, n: int) -> torch.Tensor:
        model, scale = self.model, self._noise
        while len(self.data) < n:
            self.data.append(mujoco.MjData(model))
        for data in self.data[:n]:
            mujoco.mj_resetData(model, data)
            data.qpos[:] = model.qpos0 + rng.uniform(low=-scale, high=scale, size=model.nq)
            if self._kind in ("walker2d", "hopper"):
                data.qvel[:] = rng.uniform(low=-scale, high=scale, size=model.nv)
            else:
                data.qvel[:] = scale * rng.standard_normal(model.nv)
            mujoco.mj_forward(model, data)
        self._n = n
        self._obs = self._observe(self.data[:n])
        return torch.as_tensor(self._obs, dtype=torch.float32, device=self.device)

    def start_descriptor(self, n: int) -> torch.Tensor:
        if self.morphology.omni:
            start = np.stack([np.clip(d.qpos[:2], self._low, self._high) for d in self.data[:n]])
        else:
            start = np.zeros((n, len(self._feet)))
        return torch.as_tensor(start, device=self.device)

    def _observe(self, datas: list[mujoco.MjData]) -> np.ndarray:
        qpos = np.stack([d.qpos for d in datas])
        qvel = np.stack([d.qvel for d in datas])
        if self._kind == "ant":
            forces = np.clip(np.stack([d.cfrc_ext[1:] for d in datas]), -1.0, 1.0).reshape(len(datas), -1)
            return np.concatenate((qpos[:, 2:], qvel, forces), axis=1)
        if self._kind == "halfcheetah":
            return np.concatenate((qpos[:, 1:], qvel), axis=1)
        return np.concatenate((qpos[:, 1:], np.clip(qvel, -10, 10)), axis=1)

    def step(self, action: torch.Tensor, alive: torch.Tensor):
        """Steps the live episodes; (obs [B, obs_dim], reward [B], terminated [B], step descriptor [B, D])."""
        model, n = self.model, self._n
        live = alive.cpu().numpy().nonzero()[0]
        actions = action.cpu().numpy().astype(np.float32)[live]
        datas = [self.data[i] for i in live]
        before = np.stack([self._position(d) for d in datas]) if datas else np.zeros((0, 2))
        for data, ctrl in zip(datas, actions, strict=True):
            data.ctrl[:] = ctrl
            mujoco.mj_step(model, data, nstep=self.frame_skip)
            if self._kind == "ant":
                mujoco.mj_rnePostConstraint(model, data)
        reward, terminated = np.zeros(n), np.zeros(n, dtype=bool)
        step_descriptor = np.zeros((n, len(self._low)))
        if datas:
            velocity = (np.stack([self._position(d) for d in datas]) - before) / self.dt
            reward[live], terminated[live] = self._reward(datas, actions, velocity)
            self._obs[live] = self._observe(datas)
            if self.morphology.omni:
                step_descriptor[live] = np.clip(np.stack([d.qpos[:2] for d in datas]), self._low, self._high)
            else:
                step_descriptor[live] = np.stack([feet_contacts(model, d, self._feet) for d in datas])
        device = self.device
        return (
            torch.as_tensor(self._obs, dtype=torch.float32, device=device),
            torch.as_tensor(reward, device=device),
            torch.as_tensor(terminated, device=device),
            torch.as_tensor(step_descriptor, device=device),
        )

    def _reward(self, datas: list[mujoco.MjData], actions: np.ndarray, velocity: np.ndarray):
        """Gymnasium v5's reward and termination, row by row in the same floating-point order."""
        qpos = np.stack([d.qpos for d in datas])
        qvel = np.stack([d.qvel for d in datas])
        square_sum = np.array([np.sum(np.square(a)) for a in actions])  # float32, as Gymnasium sums it
        if self._kind == "halfcheetah":
            return velocity[:, 0] - 0.1 * square_sum, np.zeros(len(datas), dtype=bool)
        if self._kind == "walker2d":
            healthy = (qpos[:, 1] > 0.8) & (qpos[:, 1] < 2.0) & (qpos[:, 2] > -1.0) & (qpos[:, 2] < 1.0)
            ctrl_cost = 1e-3 * square_sum
        elif self._kind == "hopper":
            state = np.concatenate((qpos, qvel), axis=1)[:, 2:]
            healthy = (
                np.all((state > -100.0) & (state < 100.0), axis=1)
                & (qpos[:, 1] > 0.7)
                & (qpos[:, 2] > -0.2)
                & (qpos[:, 2] < 0.2)
            )
            ctrl_cost = 1e-3 * square_sum
        else:  # ant
            state = np.concatenate((qpos, qvel), axis=1)
            healthy = np.isfinite(state).all(axis=1) & (qpos[:, 2] >= 0.2) & (qpos[:, 2] <= 1.0)
            ctrl_cost = 0.5 * square_sum
            forces = np.clip(np.stack([d.cfrc_ext for d in datas]), -1.0, 1.0)
            contact_cost = np.array([5e-4 * np.sum(np.square(f)) for f in forces])
            forward = velocity[:, 0]
            reward = (forward + healthy * 1.0) - (ctrl_cost + contact_cost)
            if self.morphology.omni:
                reward = reward - forward
            return reward, ~healthy
        reward = (velocity[:, 0] + healthy * 1.0) - ctrl_cost
        return reward, ~healthy
