"""Policy-gradient core: rollouts on vector envs (torch tensors end to end), advantage estimators, and the
REINFORCE-with-baseline, A2C and PPO learners.

``from agents.pg import ppo; agent = ppo.learn("CartPole-v1", total_steps=150_000, seed=0, out="runs/ppo")``
trains, saves an agent package to ``out`` and returns an :class:`agents.base.Agent`.

The face (what other families and the arena build on; the modules below it are private):

- the learners, one module each (its config dataclass, ``update`` and ``learn``): ``a2c``, ``ppo``,
  ``reinforce``; ``config_for`` (an algorithm's defaults with the tuned preset for an env); ``train_ppo``,
  ``train_a2c``, ``train_reinforce`` (an env id to an agent package: the ``arena train`` learners);
- running a learner: ``Learner`` (on an env with a batched torch simulator, env, rollout and update stay on
  the device; docs/policy-gradients.md), ``torch_threads`` (a context with a set number of torch threads),
  ``TrainingLogger`` (CSV, console and TensorBoard logs of the quantities an update returns);
- policies: ``PolicyAgent`` (a trained actor as an agent), ``load`` (the agent-package factory of a saved
  policy) and ``Categorical`` (the masked categorical distribution);
- advantage estimators for groups of episodes: ``grpo_advantages``, ``dr_grpo_advantages``,
  ``rloo_advantages``, ``san_advantages``, ``normalize_advantages``, ``aggregate_token_loss`` and
  ``BetaValueTracker``.
"""

from agents.pg import a2c, ppo, reinforce
from agents.pg.distributions import Categorical
from agents.pg.estimators import (
    BetaValueTracker,
    aggregate_token_loss,
    dr_grpo_advantages,
    grpo_advantages,
    normalize_advantages,
    rloo_advantages,
    san_advantages,
)
from agents.pg.logger import TrainingLogger
from agents.pg.packages import train_a2c, train_ppo, train_reinforce
from agents.pg.policy import PolicyAgent, load
from agents.pg.presets import config_for
from agents.pg.trainer import Learner, torch_threads

__all__ = [
    "BetaValueTracker",
    "Categorical",
    "Learner",
    "PolicyAgent",
    "TrainingLogger",
    "a2c",
    "aggregate_token_loss",
    "config_for",
    "dr_grpo_advantages",
    "grpo_advantages",
    "load",
    "normalize_advantages",
    "ppo",
    "reinforce",
    "rloo_advantages",
    "san_advantages",
    "torch_threads",
    "train_a2c",
    "train_ppo",
    "train_reinforce",
]
