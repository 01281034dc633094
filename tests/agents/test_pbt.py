"""Population-based training against random search on noisy SGD, where the learning-rate schedule matters.

Theory: SGD on f(x) = x^2 / 2 with unit gradient noise, x <- x - lr (x + noise), from x_0 = 10 has after k
steps E[x^2] = 100 a + lr / (2 - lr) (1 - a), a = (1 - lr)^(2k): it forgets the start slowly when lr is
small and settles high when lr is large. Over a fixed budget of 1000 steps no constant lr gets below the
minimum of that formula (3.47e-3, at lr = 6.4e-3), so neither can random search over constants; a decaying
lr gets both, and PBT can discover the decay. Each member averages 512 independent particles, so fitness
noise (sqrt(2 / 512) = 6 % of E[x^2]) is far below the margins asserted.
"""

import itertools
import subprocess
import sys

import numpy as np
import pytest

from agents.pbt import LearnerMember, Param, _explore, population_based_training, random_search

SPACE = {"learning_rate": Param(1e-4, 0.5)}


class NoisySGD:
    def __init__(self, index: int):
        self.rng = np.random.default_rng(1000 + index)
        self.x = np.full(512, 10.0)
        self.lr = 0.01

    def train(self, steps: int) -> float:
        for _ in range(steps):
            self.x = self.x - self.lr * (self.x + self.rng.standard_normal(self.x.shape))
        return -float(np.mean(self.x**2))

    def get_state(self):
        return self.x.copy()

    def set_state(self, state):
        self.x = state.copy()

    def set_hyperparameters(self, values):
        self.lr = values["learning_rate"]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pbt_beats_random_search_with_the_same_budget_when_the_schedule_matters(seed):
    budget = dict(rounds=25, steps_per_round=40, seed=seed)
    pbt = population_based_training(NoisySGD, SPACE, population=8, **budget)
    search = random_search(NoisySGD, SPACE, trials=8, **budget)
    assert pbt.best_fitness > search.best_fitness
    assert -pbt.best_fitness < best_constant_learning_rate_error(steps=1000)


def best_constant_learning_rate_error(steps: int) -> float:
    """min over constant lr of E[x_k^2] (closed form above), on a fine log grid."""
    lr = np.geomspace(1e-4, 0.5, 20_000)
    a = (1 - lr) ** (2 * steps)
    return float((100 * a + lr / (2 - lr) * (1 - a)).min())


def test_loser_takes_the_winners_hyperparameters_perturbed_within_range():
    result = population_based_training(
        NoisySGD,
        SPACE,
        population=2,
        rounds=2,
        steps_per_round=5,
        seed=0,
        fraction=0.5,
        resample_probability=0.0,
    )
    (f0, h0), (f1, h1) = result.history[0]
    winner = h0 if f0 > f1 else h1
    ratios = sorted(h["learning_rate"] / winner["learning_rate"] for _, h in result.history[1])
    # The winner keeps its value; the loser took it over and multiplied it by 0.8 or 1.2.
    assert 1.0 in ratios
    assert any(r == pytest.approx(0.8) or r == pytest.approx(1.2) for r in ratios)
    rng = np.random.default_rng(0)
    explored = [
        _explore({"learning_rate": 0.45}, SPACE, rng, (0.8, 1.2), 0.0)["learning_rate"] for _ in range(50)
    ]
    assert set(np.round(explored, 12)) <= {0.36, 0.5}  # 0.45 * 1.2 = 0.54 is clipped to the range's 0.5


def test_bad_settings_are_rejected_by_name():
    with pytest.raises(ValueError, match="population"):
        population_based_training(NoisySGD, SPACE, population=0, rounds=1, steps_per_round=1, seed=0)
    with pytest.raises(ValueError, match="fraction"):
        population_based_training(
            NoisySGD, SPACE, population=4, rounds=1, steps_per_round=1, seed=0, fraction=0.9
        )
    with pytest.raises(ValueError, match="backend"):
        population_based_training(
            NoisySGD, SPACE, population=2, rounds=1, steps_per_round=1, seed=0, backend="mpi"
        )
    with pytest.raises(ValueError, match="low"):
        Param(1.0, 0.5)


def test_learner_member_sets_the_optimiser_learning_rate_and_copies_weights():
    import torch

    from agents.pg import ppo
    from agents.pg.trainer import Learner

    def member(seed):
        config = ppo.PPOConfig(num_envs=2, num_steps=16, anneal_lr=False, torch_threads=1)
        return LearnerMember(
            Learner("ppo", ppo.update, "CartPole-v1", config, total_steps=10**6, seed=seed, device="cpu")
        )

    first, second = member(0), member(1)
    first.set_hyperparameters({"learning_rate": 1e-3})
    first.train(32)
    assert first.learner.optimizer.param_groups[0]["lr"] == 1e-3
    second.set_state(first.get_state())
    for a, b in zip(first.learner.policy.parameters(), second.learner.policy.parameters(), strict=True):
        assert torch.equal(a, b)


def test_the_local_backend_is_plain_python_without_ray():
    code = (
        "import sys\n"
        "from agents.pbt import Param, population_based_training, random_search\n"
        "class M:\n"
        "    def __init__(self, i): self.x = float(i)\n"
        "    def train(self, steps): self.x -= self.lr * steps; return -abs(self.x)\n"
        "    def get_state(self): return self.x\n"
        "    def set_state(self, s): self.x = s\n"
        "    def set_hyperparameters(self, v): self.lr = v['lr']\n"
        "space = {'lr': Param(1e-3, 1.0)}\n"
        "population_based_training(M, space, population=4, rounds=3, steps_per_round=2, seed=0)\n"
        "random_search(M, space, trials=4, rounds=3, steps_per_round=2, seed=0)\n"
        "assert not [m for m in sys.modules if m == 'ray' or m.startswith('ray.')]\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_random_search_on_ray_tune_gives_the_same_result_as_the_local_one():
    """Members are built and trained inside Ray actors, one Tune trial each; no library RNG is involved, so
    with the same seeds the search is identical."""
    _pickle_this_module_by_value()
    budget = dict(trials=4, rounds=3, steps_per_round=20, seed=3)
    local = random_search(NoisySGD, SPACE, **budget)
    remote = random_search(NoisySGD, SPACE, backend="ray", **budget)
    assert remote.history == local.history
    assert remote.best_fitness == local.best_fitness and np.array_equal(remote.best_state, local.best_state)


def test_pbt_on_ray_tune_starts_as_the_local_one_and_follows_the_same_rules():
    """Tune's PBT scheduler draws which winner a loser copies, and the explore factor, from Python's
    ``random``, so after the first round the path differs from the local one (equally likely, not equal).
    What must agree: round 0 (same members, same initial values: the same fitness); then every round,
    with one member per quantile and resampling off, exactly the worst member of the round before changes
    its value, to the best one's times 0.8 or 1.2, and it continues from the best one's state. From state
    x_0 with learning rate lr, k steps give E[x^2] = (1 - lr)^(2k) mean(x_0^2) + lr / (2 - lr) (1 - (1 -
    lr)^(2k)); the 512 particles keep the noise of the mean below 6 %, so 25 % is a 4-sigma bound."""
    _pickle_this_module_by_value()
    budget = dict(population=4, rounds=4, steps_per_round=20, seed=3, resample_probability=0.0)
    local = population_based_training(NoisySGD, SPACE, **budget)
    remote = population_based_training(NoisySGD, SPACE, backend="ray", **budget)
    assert remote.history[0] == local.history[0]
    for before, after in itertools.pairwise(remote.history):
        fitness = [f for f, _ in before]
        worst, best = int(np.argmin(fitness)), int(np.argmax(fitness))
        lr_before = [h["learning_rate"] for _, h in before]
        lr_after = [h["learning_rate"] for _, h in after]
        assert [i for i in range(4) if lr_after[i] != lr_before[i]] == [worst]
        ratio = lr_after[worst] / lr_before[best]
        assert ratio == pytest.approx(0.8) or ratio == pytest.approx(1.2) or lr_after[worst] in (1e-4, 0.5)
        lr, decay = lr_after[worst], (1 - lr_after[worst]) ** (2 * 20)
        expected = decay * -fitness[best] + lr / (2 - lr) * (1 - decay)
        assert -after[worst][0] == pytest.approx(expected, rel=0.25)
    final = [f for f, _ in remote.history[-1]]
    assert remote.best_fitness == max(final)
    assert -float(np.mean(remote.best_state**2)) == pytest.approx(remote.best_fitness)


def _pickle_this_module_by_value() -> None:
    from ray import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # test modules are not importable in workers
