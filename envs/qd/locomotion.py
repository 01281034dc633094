"""QD locomotion on Gymnasium's v5 MuJoCo runners: the single env (a wrapper) and a batched twin on MjData."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, ClassVar

import gymnasium as gym
import mujoco
import numpy as np
import torch

from envs._core.render import check_render_mode, warn_without_render_mode
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


def make_gym_env(name: str, **render: Any) -> gym.Env:
    """A fresh, unwrapped Gymnasium v5 env of task ``name`` with its default arguments (and the rendering
    arguments ``render``: ``render_mode``, ``width``, ``height``, as Gymnasium's MuJoCo envs take them)."""
    if name not in MORPHOLOGIES:
        raise ValueError(f"task={name!r} is not a MuJoCo QD task; allowed: {', '.join(MORPHOLOGIES)}")
    module, cls = MORPHOLOGIES[name].gym_class.split(":")
    return getattr(importlib.import_module(module), cls)(**render)


def feet_contacts(data: mujoco.MjData, floor: int, foot_index: dict[int, int], out: np.ndarray) -> np.ndarray:
    """``out`` [F] set to 1.0 for each foot (geom id -> index in ``foot_index``) that MuJoCo's contact list
    pairs with the ``floor`` geom, else 0.0."""
    out[:] = 0.0
    for g1, g2 in data.contact.geom.tolist():
        foot = foot_index.get(g2) if g1 == floor else foot_index.get(g1) if g2 == floor else None
        if foot is not None:
            out[foot] = 1.0
    return out


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
    each registered id). ``render_mode``: None (default) or ``"rgb_array"``, a ``height`` x ``width`` (480 x
    480) frame from MuJoCo's renderer through the Gymnasium env's ``MujocoRenderer`` and its default camera;
    ``render_fps`` is the Gymnasium env's (1 / dt). Without a display, set ``MUJOCO_GL=egl`` (or ``osmesa``)
    before the first frame.

    ## Version History
    * v0: initial version.
    """

    metadata = {"render_modes": ["rgb_array"]}
    # Gymnasium's MuJoCo info (positions, velocities, reward terms of the step just taken), the descriptor
    # and the return so far: measurements of the present and the past
    privileged_info_keys: ClassVar[frozenset[str]] = frozenset()

    def __init__(
        self, task: str = "walker2d_uni", render_mode: str | None = None, width: int = 480, height: int = 480
    ):
        self.render_mode = check_render_mode(render_mode, self.metadata)
        self._env = make_gym_env(task, render_mode=render_mode, width=width, height=height)
        self.metadata = {**self.metadata, "render_fps": self._env.metadata["render_fps"]}
        self.task: QDTask = TASKS[task]
        self._morphology = MORPHOLOGIES[task]
        model = self._env.model
        self._floor = model.geom("floor").id
        self._foot_index = {model.geom(name).id: k for k, name in enumerate(self._morphology.feet)}
        self._low = np.array(self.task.descriptor_low)
        self._high = np.array(self.task.descriptor_high)
        self.observation_space = self._env.observation_space
        self.action_space = self._env.action_space
        self._contact_sum = np.zeros(len(self._foot_index))
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

    def render(self) -> np.ndarray | None:
        """The scene now as a (height, width, 3) uint8 frame (``"rgb_array"``); None without a render mode."""
        if self.render_mode is None:
            warn_without_render_mode(self.metadata)
            return None
        return self._env.render()

    def _step_descriptor(self) -> np.ndarray:
        if self._morphology.omni:
            return np.clip(self._env.data.qpos[:2], self._low, self._high)
        return feet_contacts(self._env.data, self._floor, self._foot_index, np.zeros(len(self._foot_index)))

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


_QPOS_QVEL = mujoco.mjtState.mjSTATE_QPOS | mujoco.mjtState.mjSTATE_QVEL


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
        self._floor = self.model.geom("floor").id
        self._foot_index = {self.model.geom(name).id: k for k, name in enumerate(self.morphology.feet)}
        self._low = np.array(self.task.descriptor_low)
        self._high = np.array(self.task.descriptor_high)
        env.close()
        self.data: list[mujoco.MjData] = []
        self._obs = np.zeros((0, self.task.obs_dim))

    def reset(self, rng: np.random.Generator, n: int) -> torch.Tensor:
        model, scale = self.model, self._noise
        while len(self.data) < n:
            self.data.append(mujoco.MjData(model))
        self._state = np.empty((n, model.nq + model.nv))  # each episode's qpos and qvel after its last step
        self._torso_xy = np.empty((n, 2))  # the ant's torso xpos x-y after its last step
        for i, data in enumerate(self.data[:n]):
            mujoco.mj_resetData(model, data)
            data.qpos[:] = model.qpos0 + rng.uniform(low=-scale, high=scale, size=model.nq)
            if self._kind in ("walker2d", "hopper"):
                data.qvel[:] = rng.uniform(low=-scale, high=scale, size=model.nv)
            else:
                data.qvel[:] = scale * rng.standard_normal(model.nv)
            mujoco.mj_forward(model, data)
            mujoco.mj_getState(model, data, self._state[i], _QPOS_QVEL)
            self._torso_xy[i] = data.xpos[1, :2]
        self._n = n
        self._obs = self._observe(self.data[:n])
        # step outputs; the rows of ended episodes keep their last values (the evaluator masks them)
        self._reward_out, self._terminated_out = np.zeros(n), np.zeros(n, dtype=bool)
        self._descriptor_out = np.zeros((n, len(self._low)))
        return torch.as_tensor(self._obs, dtype=torch.float32, device=self.device)

    def start_descriptor(self, n: int) -> torch.Tensor:
        if self.morphology.omni:
            start = np.stack([np.clip(d.qpos[:2], self._low, self._high) for d in self.data[:n]])
        else:
            start = np.zeros((n, len(self._foot_index)))
        return torch.as_tensor(start, device=self.device)

    def _observe(self, datas: list[mujoco.MjData]) -> np.ndarray:
        qpos = np.stack([d.qpos for d in datas])
        qvel = np.stack([d.qvel for d in datas])
        forces = np.stack([d.cfrc_ext for d in datas]) if self._kind == "ant" else None
        return self._observation(qpos, qvel, forces)

    def _observation(self, qpos: np.ndarray, qvel: np.ndarray, forces: np.ndarray | None) -> np.ndarray:
        """Gymnasium v5's observations of k episodes: qpos [k, nq], qvel [k, nv], cfrc_ext [k, nbody, 6]."""
        if self._kind == "ant":
            clipped = np.clip(forces[:, 1:], -1.0, 1.0).reshape(len(qpos), -1)
            return np.concatenate((qpos[:, 2:], qvel, clipped), axis=1)
        if self._kind == "halfcheetah":
            return np.concatenate((qpos[:, 1:], qvel), axis=1)
        return np.concatenate((qpos[:, 1:], np.clip(qvel, -10, 10)), axis=1)

    def step(self, action: torch.Tensor, alive: torch.Tensor):
        """Steps the live episodes; (obs [B, obs_dim], reward [B], terminated [B], step descriptor [B, D]).

        One Python pass over the live ``MjData``: set the control, step, copy out what the formulas need."""
        model, ant, nq = self.model, self._kind == "ant", self.model.nq
        live = alive.cpu().numpy().nonzero()[0]
        actions = action.cpu().numpy().astype(np.float32)[live]
        k = len(live)
        # the forward velocity differentiates qpos x (the ant: its torso's xpos x-y), as Gymnasium does
        before = self._torso_xy[live] if ant else self._state[live, :1]
        forces = np.empty((k, model.nbody, 6)) if ant else None
        contacts = np.zeros((k, len(self._foot_index)))
        state, torso_xy, datas = self._state, self._torso_xy, self.data
        floor, foot_index, frame_skip = self._floor, self._foot_index, self.frame_skip
        for j, i in enumerate(live.tolist()):
            data = datas[i]
            data.ctrl[:] = actions[j]
            mujoco.mj_step(model, data, nstep=frame_skip)
            if ant:
                mujoco.mj_rnePostConstraint(model, data)
                forces[j] = data.cfrc_ext
                torso_xy[i] = data.xpos[1, :2]
            mujoco.mj_getState(model, data, state[i], _QPOS_QVEL)
            if foot_index:
                feet_contacts(data, floor, foot_index, contacts[j])
        qpos, qvel = state[live, :nq], state[live, nq:]
        after = torso_xy[live] if ant else qpos[:, :1]
        reward, terminated, step_descriptor = self._reward_out, self._terminated_out, self._descriptor_out
        if k:
            velocity = (after - before) / self.dt
            reward[live], terminated[live] = self._reward(qpos, qvel, forces, actions, velocity[:, 0])
            self._obs[live] = self._observation(qpos, qvel, forces)
            step_descriptor[live] = (
                np.clip(qpos[:, :2], self._low, self._high) if self.morphology.omni else contacts
            )
        device = self.device
        return (
            torch.from_numpy(self._obs.astype(np.float32)).to(device),
            torch.from_numpy(reward.copy()).to(device),
            torch.from_numpy(terminated.copy()).to(device),
            torch.from_numpy(step_descriptor.copy()).to(device),
        )

    def _reward(self, qpos, qvel, forces, actions: np.ndarray, forward: np.ndarray):
        """Gymnasium v5's reward and termination for k episodes, in its floating-point order (the control cost
        in float32 from the float32 actions, as Gymnasium computes it)."""
        square_sum = np.square(actions).sum(axis=1)
        if self._kind == "halfcheetah":
            return forward - 0.1 * square_sum, np.zeros(len(qpos), dtype=bool)
        if self._kind == "walker2d":
            healthy = (qpos[:, 1] > 0.8) & (qpos[:, 1] < 2.0) & (qpos[:, 2] > -1.0) & (qpos[:, 2] < 1.0)
            return (forward + healthy * 1.0) - 1e-3 * square_sum, ~healthy
        if self._kind == "hopper":
            state = np.concatenate((qpos, qvel), axis=1)[:, 2:]
            healthy = (
                np.all((state > -100.0) & (state < 100.0), axis=1)
                & (qpos[:, 1] > 0.7)
                & (qpos[:, 2] > -0.2)
                & (qpos[:, 2] < 0.2)
            )
            return (forward + healthy * 1.0) - 1e-3 * square_sum, ~healthy
        state = np.concatenate((qpos, qvel), axis=1)  # the ant
        healthy = np.isfinite(state).all(axis=1) & (qpos[:, 2] >= 0.2) & (qpos[:, 2] <= 1.0)
        contact_cost = 5e-4 * np.square(np.clip(forces, -1.0, 1.0)).reshape(len(qpos), -1).sum(axis=1)
        reward = (forward + healthy * 1.0) - (0.5 * square_sum + contact_cost)
        if self.morphology.omni:
            reward = reward - forward
        return reward, ~healthy
