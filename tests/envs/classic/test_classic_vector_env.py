"""The classic-control ids and their batched simulators as Gymnasium vector envs: registration, seeding,
same-step autoreset, per-env time limits, the policy-gradient rollout reading them, and CUDA."""

import gymnasium as gym
import numpy as np
import pytest
import torch

import envs
from agents.pg.rollout import TorchVectorEnv, make_vector_env
from envs.classic import (
    AcrobotVectorEnv,
    CartPoleVectorEnv,
    ContinuousMountainCarVectorEnv,
    MountainCarVectorEnv,
    PendulumVectorEnv,
)

VECTOR_CLASSES = {
    "CartPole-v1": CartPoleVectorEnv,
    "Acrobot-v1": AcrobotVectorEnv,
    "MountainCar-v0": MountainCarVectorEnv,
    "MountainCarContinuous-v0": ContinuousMountainCarVectorEnv,
    "Pendulum-v1": PendulumVectorEnv,
}
CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")


def _random_actions(space: gym.Space, n: int, rng: np.random.Generator) -> torch.Tensor:
    if isinstance(space, gym.spaces.Discrete):
        return torch.as_tensor(rng.integers(0, space.n, n))
    return torch.as_tensor(rng.uniform(space.low, space.high, (n, *space.shape)).astype(np.float32))


def test_the_classic_family_registers_its_ids_with_batched_simulators():
    assert [r.id for r in envs.list_envs(domain="classic")] == sorted(
        f"arena/{name}" for name in VECTOR_CLASSES
    )
    assert all(r.batched and not r.multi_agent for r in envs.list_envs(domain="classic"))


@pytest.mark.parametrize("name", VECTOR_CLASSES)
def test_single_env_is_gymnasiums_with_its_time_limit_and_reward_threshold(name):
    ours, theirs = gym.spec(f"arena/{name}"), gym.spec(name)
    assert ours.entry_point == theirs.entry_point and ours.entry_point.startswith("gymnasium.envs.")
    assert (ours.max_episode_steps, ours.reward_threshold) == (
        theirs.max_episode_steps,
        theirs.reward_threshold,
    )
    env = gym.make(f"arena/{name}")
    assert type(env.unwrapped) is type(gym.make(name).unwrapped)
    assert env.spec.max_episode_steps == theirs.max_episode_steps


@pytest.mark.parametrize("name", VECTOR_CLASSES)
def test_make_vec_gives_the_torch_simulator_with_gymnasiums_spaces(name):
    """``gym.make_vec`` passes the id's time limit; spaces equal the single env's, batched."""
    venv = gym.make_vec(f"arena/{name}", num_envs=8, vectorization_mode="vector_entry_point", device="cpu")
    single = gym.make(name)
    assert isinstance(venv.unwrapped, VECTOR_CLASSES[name])
    assert venv.unwrapped.max_episode_steps == single.spec.max_episode_steps
    assert venv.metadata["autoreset_mode"] is gym.vector.AutoresetMode.SAME_STEP
    assert venv.single_observation_space == single.observation_space
    assert venv.single_action_space == single.action_space
    assert venv.action_space == gym.vector.utils.batch_space(single.action_space, 8)
    obs, info = venv.reset(seed=0)
    assert obs.shape == (8, *single.observation_space.shape) and obs.dtype == torch.float32 and info == {}
    obs, rewards, terminated, truncated, info = venv.step(
        _random_actions(single.action_space, 8, np.random.default_rng(0))
    )
    assert obs.device.type == "cpu" and obs.dtype == torch.float32 and rewards.dtype == torch.float32
    assert rewards.shape == terminated.shape == truncated.shape == (8,)
    assert terminated.dtype == truncated.dtype == info["_final_obs"].dtype == torch.bool
    assert info["final_obs"].shape == obs.shape


def test_make_vec_cartpole_with_defaults_picks_the_device_auto():
    venv = gym.make_vec("arena/CartPole-v1", num_envs=8, vectorization_mode="vector_entry_point")
    obs, _ = venv.reset(seed=0)
    assert obs.device.type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert venv.unwrapped.max_episode_steps == 500


def test_arguments_are_checked_up_front_naming_the_field():
    with pytest.raises(ValueError, match="num_envs"):
        CartPoleVectorEnv(num_envs=0, device="cpu")
    with pytest.raises(ValueError, match="dtype"):
        PendulumVectorEnv(num_envs=2, device="cpu", dtype=torch.float16)
    venv = AcrobotVectorEnv(num_envs=2, device="cpu")
    with pytest.raises(RuntimeError, match="reset"):
        venv.step(torch.zeros(2))
    venv.reset(seed=0)
    with pytest.raises(ValueError, match="must hold 2 actions"):
        venv.step(torch.zeros(3))
    with pytest.raises(ValueError, match="options"):
        venv.reset(options={"low": -0.2})


def _trajectory(venv, seed: int, steps: int, interleave=None) -> list[torch.Tensor]:
    """Observations, rewards, end flags and final observations of ``steps`` seeded random steps after a
    seeded reset; ``interleave(t)`` runs before step t."""
    rng = np.random.default_rng(seed)
    obs, _ = venv.reset(seed=seed)
    record = [obs]
    for t in range(steps):
        if interleave:
            interleave(t)
        obs, rewards, terminated, truncated, info = venv.step(
            _random_actions(venv.single_action_space, venv.num_envs, rng)
        )
        record += [obs, rewards, terminated, truncated, info["final_obs"]]
    return record


@pytest.mark.parametrize("name", VECTOR_CLASSES)
def test_same_seed_same_episodes_while_another_env_and_the_global_generators_run(name):
    """150 steps under a 100-step limit (so autoresets draw fresh states; CartPole's also on terminations):
    a second env with the same seed repeats the first exactly, although between its steps a third env steps
    and the global torch and numpy generators are re-seeded; another seed starts elsewhere."""
    make = lambda: gym.make_vec(  # noqa: E731
        f"arena/{name}",
        num_envs=16,
        vectorization_mode="vector_entry_point",
        device="cpu",
        max_episode_steps=100,
    )
    first, second, other = make(), make(), make()
    reference = _trajectory(first, seed=11, steps=150)
    other.reset(seed=12)
    other_actions = np.random.default_rng(12)

    def disturb(t: int) -> None:
        torch.manual_seed(t)
        np.random.seed(t)  # noqa: NPY002  (deliberately moves the global generator)
        other.step(_random_actions(other.single_action_space, 16, other_actions))

    repeat = _trajectory(second, seed=11, steps=150, interleave=disturb)
    assert all(torch.equal(a, b) for a, b in zip(reference, repeat, strict=True))
    assert sum(int(flags.sum()) for flags in reference[3::5] + reference[4::5]) > 0  # some episodes ended
    assert not torch.equal(reference[0], first.reset(seed=12)[0])


def test_an_env_that_terminates_returns_its_next_episodes_first_observation_in_the_same_step():
    """Cart 1 starts at x = 2.39 m moving right at 1 m/s: after one 0.02 s Euler step it is at 2.41 m, past
    2.4 m. Its step reports terminated with reward 1, ``final_obs`` holds that state, and the returned
    observation is a fresh start (inside +-0.05); the other carts carry on."""
    venv = CartPoleVectorEnv(num_envs=3, device="cpu", dtype=torch.float64, max_episode_steps=500)
    venv.reset(seed=0)
    venv.state[1] = torch.tensor([2.39, 1.0, 0.0, 0.0], dtype=torch.float64)
    before = venv.state.clone()
    obs, rewards, terminated, truncated, info = venv.step(torch.tensor([1, 1, 1]))
    assert terminated.tolist() == [False, True, False] and not truncated.any()
    assert info["_final_obs"].tolist() == [False, True, False] and rewards.tolist() == [1.0, 1.0, 1.0]
    assert info["final_obs"][1, 0].item() == pytest.approx(2.41, abs=1e-12)
    assert (obs[1].abs() < 0.05).all() and torch.equal(obs[1], venv.state[1])
    assert not torch.equal(obs[1], before[1])
    assert torch.equal(obs[[0, 2]], info["final_obs"][[0, 2]])


def test_each_env_is_truncated_at_its_own_time_limit_after_its_own_resets():
    """64 carts under random pushes with a 25-step limit: counting each cart's steps since its own start,
    a cart is truncated exactly at its 25th step and never later; terminations restart its count."""
    n, limit = 64, 25
    venv = CartPoleVectorEnv(num_envs=n, device="cpu", max_episode_steps=limit)
    venv.reset(seed=3)
    rng = np.random.default_rng(3)
    length = np.zeros(n, int)
    ended_by = {"terminated": 0, "truncated": 0}
    for _ in range(200):
        _, _, terminated, truncated, _ = venv.step(torch.as_tensor(rng.integers(0, 2, n)))
        length += 1
        np.testing.assert_array_equal(truncated.numpy(), length == limit)
        ended_by["terminated"] += int((terminated & ~truncated).sum())
        ended_by["truncated"] += int(truncated.sum())
        length[(terminated | truncated).numpy()] = 0
    assert min(ended_by.values()) > 0


def test_pendulum_is_truncated_at_gymnasiums_200_steps_and_never_terminated():
    venv = gym.make_vec(
        "arena/Pendulum-v1", num_envs=4, vectorization_mode="vector_entry_point", device="cpu"
    )
    venv.reset(seed=0)
    for step in range(1, 401):
        _, _, terminated, truncated, _ = venv.step(torch.zeros(4, 1))
        assert not terminated.any() and truncated.tolist() == [step % 200 == 0] * 4


def test_the_policy_gradient_rollout_reads_cartpole_episodes_as_their_lengths():
    """agents/pg's collector on the batched CartPole: +1 per step, so every finished episode's return equals
    its length, and no episode is longer than the 500-step limit."""
    env = TorchVectorEnv(make_vector_env("arena/CartPole-v1", 32, device="cpu"), device="cpu")
    assert isinstance(env.env.unwrapped, CartPoleVectorEnv)
    env.reset(seed=0)
    returns, lengths = [], []
    for _ in range(100):
        step = env.step(torch.randint(0, 2, (32,)))
        done = step.terminated | step.truncated
        assert step.final_obs is not None and step.valid.all()
        returns += step.episode_return[done].tolist()
        lengths += step.episode_length[done].tolist()
    assert len(returns) > 32 and returns == lengths and max(lengths) <= 500


@CUDA
@pytest.mark.parametrize("name", VECTOR_CLASSES)
def test_cuda_step_equals_the_cpu_step_and_stays_on_the_device(name):
    """The same float64 states and actions on CUDA and on the CPU give the same next states to 1e-12 (CUDA's
    sin/cos may differ from the CPU's by a few ulps); every returned tensor lives on the GPU."""
    cls = VECTOR_CLASSES[name]
    cpu = cls(num_envs=512, device="cpu", dtype=torch.float64)
    gpu = cls(num_envs=512, device="cuda", dtype=torch.float64)
    cpu.reset(seed=0)
    gpu.reset(seed=0)
    gpu.state = cpu.state.cuda()
    actions = _random_actions(cpu.single_action_space, 512, np.random.default_rng(0))
    cpu_out = cpu.step(actions)
    gpu_out = gpu.step(actions.cuda())
    assert all(tensor.device.type == "cuda" for tensor in [*gpu_out[:4], gpu_out[4]["final_obs"]])
    np.testing.assert_allclose(
        gpu_out[4]["final_obs"].cpu().numpy(), cpu_out[4]["final_obs"].numpy(), rtol=1e-12, atol=1e-12
    )
    np.testing.assert_allclose(gpu_out[1].cpu().numpy(), cpu_out[1].numpy(), rtol=1e-12, atol=1e-12)
    assert torch.equal(gpu_out[2].cpu(), cpu_out[2])


@CUDA
@pytest.mark.parametrize("name", VECTOR_CLASSES)
def test_cuda_same_seed_same_episodes(name):
    make = lambda: VECTOR_CLASSES[name](num_envs=256, device="cuda", max_episode_steps=50)  # noqa: E731
    first, second = make(), make()
    runs = [_trajectory(venv, seed=5, steps=120) for venv in (first, second)]
    assert all(torch.equal(a, b) for a, b in zip(*runs, strict=True))
    assert runs[0][0].device.type == "cuda"
