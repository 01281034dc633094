"""A CartPole-v1 controller that pushes the cart towards where the pole is falling.

The observation is (cart position, cart velocity, pole angle, pole angular velocity). The pole falls to the
right when its angle plus a share of its angular velocity is positive; pushing the cart right (action 1)
then moves the pole's base under it. With ``velocity_weight = 0.5`` it balances for the full 500 steps
(100 of 100 episodes with ``arena eval``). It is deterministic, so ``reset`` ignores its seed.

It is an example of an agent package: the arena imports it only inside its sandbox, where it sees its
observations, the public part of ``info`` and a seed of its own.
"""

PUSH_LEFT, PUSH_RIGHT = 0, 1


class Balancer:
    name = "examples/cartpole-balancer"

    def __init__(self, velocity_weight: float):
        self.velocity_weight = velocity_weight

    def reset(self, seed=None):
        """Nothing to reset: the controller has no state and no randomness."""

    def act(self, observation, info):
        """Push towards the side the pole falls to: right when angle + weight * angular velocity > 0."""
        angle, angular_velocity = float(observation[2]), float(observation[3])
        return PUSH_RIGHT if angle + self.velocity_weight * angular_velocity > 0 else PUSH_LEFT


def make_agent(spaces, velocity_weight=0.5):
    """The factory the arena calls with the env's spaces and the manifest's [kwargs]."""
    if getattr(spaces.action_space, "n", None) != 2 or spaces.observation_space.shape != (4,):
        raise ValueError(f"made for CartPole (4 numbers in, 2 actions out), got {spaces}")
    return Balancer(velocity_weight=float(velocity_weight))
