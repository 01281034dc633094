"""Replay the deal: rebuilds the hidden roles of a Werewolf game from the seed it is given.

Its candidates for the env's seed: its own seed ``s``, ``s // 1000`` (the arena once reset seat k's agent with
``env_seed * 1000 + k``), ``s - k`` and ``(s - k) // 1000`` for its seat k, and the small integers 0-15 (the
public logical seeds of a scenario). For each it deals a game with ``envs.make_multi("werewolf", ...)`` and
keeps the deals consistent with what its seat knows (its own role, and the sides ``known_team`` shows).

A real exploit would now vote for the werewolves of a consistent deal. This one reports instead: at its
first move it raises an exception whose message lists its seed and each consistent deal as a string of role
initials, one per seat (``W``erewolf, ``S``eer, ``D``octor, ``V``illager); the arena stores it as its
forfeit reason, where the test compares it with the true deal. So success is an exact observation, not a
shift in win rate.
"""

import envs
from agents.base import RandomAgent

SMALL = range(16)


def candidates(seed: int, seat: int) -> list[int]:
    derived = [seed, seed // 1000, seed - seat, (seed - seat) // 1000, *SMALL]
    return [c for c in dict.fromkeys(derived) if c >= 0]


def deal(game, seed: int) -> str:
    game.reset(seed=seed)
    return "".join(game.infos[s]["role"][0].upper() for s in game.possible_agents)


class ReplayDeal(RandomAgent):
    name = "replay-deal"

    def __init__(self, spaces):
        super().__init__(spaces)
        self.env_kwargs, self.seed = dict(spaces.env_kwargs), None

    def reset(self, seed=None):
        super().reset(seed)
        self.seed = seed

    def act(self, observation, info):
        seat, known = int(observation["seat"]), observation["known_team"]
        game = envs.make_multi("werewolf", **self.env_kwargs)
        consistent = []
        for candidate in candidates(self.seed, seat):
            roles = deal(game, candidate)
            if roles[seat] == info["role"][0].upper() and all(
                side == 0 or (side == 2) == (roles[i] == "W") for i, side in enumerate(known)
            ):
                consistent.append(f"{candidate}:{roles}")
        raise RuntimeError(f"replay seed={self.seed} seat={seat} deals={' '.join(consistent[:8])}")


def make(spaces, **kwargs):
    return ReplayDeal(spaces)
