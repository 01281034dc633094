"""Policy-gradient core: rollouts on vector envs (torch tensors end to end), advantage estimators, and the
REINFORCE-with-baseline, A2C and PPO learners.

``from agents.pg import ppo; agent = ppo.learn("CartPole-v1", total_steps=150_000, seed=0, out="runs/ppo")``
trains, saves an agent package to ``out`` and returns an :class:`agents.base.Agent`.
"""
