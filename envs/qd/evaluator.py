"""Batched evaluation of many policies on a QD task: one episode per policy, fitness and descriptor each.

All B episodes advance together, one batched policy forward per time step: the point maze as torch tensors on
the device, the MuJoCo tasks as B ``MjData`` of one model (:mod:`envs.qd.locomotion`). Episodes that end early
stop stepping (and stop counting) while the others go on.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from envs._core.torch_vector import resolve_device
from envs.qd.tasks import QDTask, get_task


@dataclass(frozen=True)
class MLPPolicySpec:
    """A deterministic MLP policy, ReLU hidden layers and a tanh output in [-1, 1], as a flat parameter row.

    The row holds, layer by layer, the weight [out, in] (row-major) then the bias [out], the layout of
    ``torch.nn.Linear``; ``act`` evaluates B different rows on B observations in one batched forward. It
    computes in float64 and rounds to the parameters' dtype at the end: batched float32 matrix products sum in
    an order that depends on the batch size, float64 rounded to float32 does not in practice, so a policy acts
    the same whichever batch it is evaluated in (which keeps evaluations reproducible row by row).
    """

    obs_dim: int
    action_dim: int
    hidden: tuple[int, ...] = (64, 64)

    def __post_init__(self):
        for field, value in (("obs_dim", self.obs_dim), ("action_dim", self.action_dim)):
            if value < 1:
                raise ValueError(f"{field}={value} must be >= 1")
        if any(h < 1 for h in self.hidden):
            raise ValueError(f"hidden={self.hidden} must hold sizes >= 1")

    @property
    def sizes(self) -> tuple[int, ...]:
        return (self.obs_dim, *self.hidden, self.action_dim)

    @property
    def num_params(self) -> int:
        return sum(o * i + o for i, o in zip(self.sizes[:-1], self.sizes[1:], strict=True))

    def init(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """``n`` rows [n, num_params] with ``torch.nn.Linear``'s default init: weights and biases uniform in
        +-1/sqrt(fan_in), drawn from ``generator``."""
        parts = []
        for fan_in, fan_out in zip(self.sizes[:-1], self.sizes[1:], strict=True):
            bound = 1.0 / math.sqrt(fan_in)
            u = torch.rand(n, fan_out * fan_in + fan_out, generator=generator, device=generator.device)
            parts.append((2.0 * u - 1.0) * bound)
        return torch.cat(parts, dim=1)

    def _layers(self, params: torch.Tensor):
        """(weight [B, out, in], bias [B, out]) views of each layer of ``params`` [B, P]."""
        start = 0
        for fan_in, fan_out in zip(self.sizes[:-1], self.sizes[1:], strict=True):
            weight = params[:, start : start + fan_out * fan_in].reshape(-1, fan_out, fan_in)
            start += fan_out * fan_in
            yield weight, params[:, start : start + fan_out]
            start += fan_out

    def act(self, params: torch.Tensor, obs: torch.Tensor) -> torch.Tensor:
        """Actions [B, action_dim] in [-1, 1] of the B policies ``params`` [B, P] on ``obs`` [B, obs_dim]."""
        if params.shape[-1] != self.num_params:
            raise ValueError(f"params has {params.shape[-1]} columns; this policy has {self.num_params}")
        h = obs.to(torch.float64)
        layers = list(self._layers(params.to(torch.float64)))
        for k, (weight, bias) in enumerate(layers):
            h = torch.baddbmm(bias.unsqueeze(-1), weight, h.unsqueeze(-1)).squeeze(-1)
            h = torch.relu(h) if k < len(layers) - 1 else torch.tanh(h)
        return h.to(params.dtype)

    def to_module(self, params_row: torch.Tensor) -> torch.nn.Module:
        """One policy as ``nn.Sequential`` of Linear/ReLU layers and a final Tanh (the same function)."""
        modules: list[torch.nn.Module] = []
        layers = list(self._layers(params_row.reshape(1, -1)))
        for k, (weight, bias) in enumerate(layers):
            linear = torch.nn.utils.skip_init(  # no init draws from torch's global generator: filled below
                torch.nn.Linear, weight.shape[2], weight.shape[1], dtype=params_row.dtype
            )
            with torch.no_grad():
                linear.weight.copy_(weight[0])
                linear.bias.copy_(bias[0])
            modules += [linear, torch.nn.ReLU() if k < len(layers) - 1 else torch.nn.Tanh()]
        return torch.nn.Sequential(*modules).to(params_row.device)

    def from_module(self, module: torch.nn.Module) -> torch.Tensor:
        """The parameter row [P] of a module made by :meth:`to_module` (or of the same shape)."""
        linears = [m for m in module.modules() if isinstance(m, torch.nn.Linear)]
        shapes = [(m.out_features, m.in_features) for m in linears]
        expected = list(zip(self.sizes[1:], self.sizes[:-1], strict=True))
        if shapes != expected:
            raise ValueError(f"module's Linear shapes {shapes} differ from this policy's {expected}")
        return torch.cat([t.detach().reshape(-1) for m in linears for t in (m.weight, m.bias)])


@dataclass
class Transitions:
    """Every step the evaluated episodes took, flat over episodes (time-major within one evaluate call)."""

    obs: torch.Tensor  # [N, obs_dim] float32
    action: torch.Tensor  # [N, A]
    reward: torch.Tensor  # [N] (the clipped reward the fitness sums)
    next_obs: torch.Tensor  # [N, obs_dim]
    terminated: torch.Tensor  # [N] bool, true termination (not the time limit)
    step_descriptor: torch.Tensor  # [N, D] of the transition's next state
    episode_descriptor: torch.Tensor  # [N, D] the descriptor of the episode the transition belongs to


@dataclass
class EvalResult:
    fitness: np.ndarray  # [B] float64 episode returns
    descriptors: np.ndarray  # [B, D] float64, within the task's bounds
    transitions: Transitions | None
    lengths: np.ndarray | None = None  # [B] int64 steps each episode took (< episode_length if it terminated)


def make_simulator(task: QDTask, device: torch.device):
    """The batched simulator of ``task`` (see :mod:`envs.qd.pointmaze` and :mod:`envs.qd.locomotion`)."""
    if task.name == "pointmaze":
        from envs.qd.pointmaze import PointMazeBatch

        return PointMazeBatch(device)
    from envs.qd.locomotion import LocomotionBatch

    return LocomotionBatch(task.name, device)


class BatchEvaluator:
    """Evaluates B policies (or any batched callable) for one episode each; counts episodes and env steps.

    Start states come from the evaluator's own ``numpy`` generator seeded with ``seed``, drawn in the order
    of a Gymnasium env of the task reset once per episode, so ``gym.make(task.env_id)`` reset with the same
    seed and then reset unseeded B times meets the same B start states.
    """

    def __init__(
        self,
        task: str | QDTask,
        policy: MLPPolicySpec | None = None,
        *,
        episode_length: int | None = None,
        device: str = "cpu",
        seed: int = 0,
    ):
        self.task = get_task(task) if isinstance(task, str) else task
        self.policy = policy or MLPPolicySpec(self.task.obs_dim, self.task.action_dim)
        if (self.policy.obs_dim, self.policy.action_dim) != (self.task.obs_dim, self.task.action_dim):
            raise ValueError(
                f"policy has obs_dim={self.policy.obs_dim}, action_dim={self.policy.action_dim}; task "
                f"{self.task.name} needs {self.task.obs_dim}, {self.task.action_dim}"
            )
        self.episode_length = self.task.episode_length if episode_length is None else episode_length
        if self.episode_length < 1:
            raise ValueError(f"episode_length={self.episode_length} must be >= 1")
        self.device = resolve_device(device)  # "auto": CUDA when available
        self.seed = seed
        self._rng = np.random.default_rng(seed)
        self._sim = make_simulator(self.task, self.device)
        self._low = torch.tensor(self.task.descriptor_low, dtype=torch.float64, device=self.device)
        self._high = torch.tensor(self.task.descriptor_high, dtype=torch.float64, device=self.device)
        self.evaluations = 0
        self.env_steps = 0

    @property
    def descriptor_is_mean(self) -> bool:
        """True when an episode's descriptor is the mean of its step descriptors (the ``*_uni`` feet
        contacts), False when it is the last one (the final position of ``pointmaze`` and ``ant_omni``)."""
        return self._sim.descriptor_is_mean

    def evaluate(self, params: torch.Tensor | np.ndarray, *, record_transitions: bool = False) -> EvalResult:
        """One episode for each policy row of ``params`` [B, num_params]."""
        params = torch.as_tensor(params, device=self.device).to(torch.float64)
        if params.ndim != 2 or params.shape[1] != self.policy.num_params:
            raise ValueError(f"params shape {tuple(params.shape)} must be [B, {self.policy.num_params}]")
        return self.evaluate_agent(
            lambda obs: self.policy.act(params, obs), params.shape[0], record_transitions=record_transitions
        )

    @torch.no_grad()
    def evaluate_agent(
        self,
        act: Callable[[torch.Tensor], torch.Tensor],
        n_episodes: int,
        *,
        record_transitions: bool = False,
    ) -> EvalResult:
        """One episode for each of ``n_episodes`` rows of the batched ``act``: obs [B, obs_dim] -> [B, A]."""
        if n_episodes < 1:
            raise ValueError(f"n_episodes={n_episodes} must be >= 1")
        n, task, device = n_episodes, self.task, self.device
        obs = self._sim.reset(self._rng, n)
        alive = torch.ones(n, dtype=torch.bool, device=device)
        fitness = torch.zeros(n, dtype=torch.float64, device=device)
        mean = self._sim.descriptor_is_mean  # else the descriptor is the last step's
        descriptor = torch.zeros(n, task.descriptor_dim, dtype=torch.float64, device=device)
        if not mean:
            descriptor = self._sim.start_descriptor(n).to(torch.float64)
        steps = torch.zeros(n, dtype=torch.int64, device=device)
        record: list[tuple[torch.Tensor, ...]] = []
        for _ in range(self.episode_length):
            action = act(obs).to(torch.float32)
            next_obs, reward, terminated, step_descriptor = self._sim.step(action, alive)
            reward = torch.clamp(reward.to(torch.float64), min=-task.reward_floor)
            live = alive.unsqueeze(-1)
            fitness += torch.where(alive, reward, 0.0)
            if mean:
                descriptor += torch.where(live, step_descriptor.to(torch.float64), 0.0)
            else:
                descriptor = torch.where(live, step_descriptor.to(torch.float64), descriptor)
            steps += alive
            if record_transitions:
                index = alive.nonzero().squeeze(-1)
                record.append(
                    (obs, action, reward.to(torch.float32), next_obs, terminated, step_descriptor, index)
                )
            alive &= ~terminated
            obs = next_obs
            if not bool(alive.any()):
                break
        if mean:
            descriptor /= steps.unsqueeze(-1)
        descriptor = torch.minimum(torch.maximum(descriptor, self._low), self._high)
        self.evaluations += n
        self.env_steps += int(steps.sum())
        transitions = self._transitions(record, descriptor) if record_transitions else None
        return EvalResult(fitness.cpu().numpy(), descriptor.cpu().numpy(), transitions, steps.cpu().numpy())

    @staticmethod
    def _transitions(record: list[tuple[torch.Tensor, ...]], descriptor: torch.Tensor) -> Transitions:
        """The recorded steps of the live episodes, flattened, with their episodes' descriptors."""
        columns = [[] for _ in range(6)]
        rows = []
        for *tensors, index in record:
            for column, tensor in zip(columns, tensors, strict=True):
                column.append(tensor[index])
            rows.append(index)
        obs, action, reward, next_obs, terminated, step_descriptor = (torch.cat(c) for c in columns)
        return Transitions(
            obs=obs.to(torch.float32),
            action=action,
            reward=reward,
            next_obs=next_obs.to(torch.float32),
            terminated=terminated.to(torch.bool),
            step_descriptor=step_descriptor.to(torch.float32),
            episode_descriptor=descriptor[torch.cat(rows)].to(torch.float32),
        )
