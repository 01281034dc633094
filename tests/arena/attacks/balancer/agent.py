"""Balancer (honest): pushes the cart towards where the pole is falling."""


class Balancer:
    name = "balancer"

    def reset(self, seed=None):
        pass

    def act(self, observation, info):
        return int(observation[2] + 0.5 * observation[3] > 0)


def make(spaces, **kwargs):
    return Balancer()
