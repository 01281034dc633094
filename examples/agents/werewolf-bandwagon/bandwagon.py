"""A Werewolf player that follows the crowd, written only against the game's observation and action spaces.

It reads the structured part of the observation (its seat, role, the phase, who is alive, today's
accusations and what it knows of each side) and never the transcript:

- villagers, the seer and the doctor accuse and vote for the most accused living player they do not know to
  be a villager (the seer's checks count), ties broken by its own seeded generator;
- werewolves do the same among the living villagers (they know their partners) and suggest that player as
  the night's victim; the seer checks an unknown player; the doctor protects itself.

It is an example of an agent package: the arena imports it only inside its sandbox, where it sees its
observations, the public part of ``info`` and a seed of its own.
"""

import numpy as np

NIGHT_CHAT, NIGHT, BID, SPEECH, VOTE = range(5)
VILLAGER, WEREWOLF, SEER, DOCTOR = range(4)
UNKNOWN, VILLAGERS, WEREWOLVES = range(3)


class Bandwagon:
    name = "examples/werewolf-bandwagon"

    def __init__(self, num_players: int):
        self.num_players = num_players
        self.rng = np.random.default_rng()

    def reset(self, seed=None):
        self.rng = np.random.default_rng(seed)

    def act(self, observation, info):
        allowed = np.asarray(info["action_mask"]["target"], dtype=bool)
        target = self._target(observation, allowed)
        speaks = observation["phase"] == SPEECH and target < self.num_players
        action = {"text": f"I suspect Player {target}." if speaks else "", "target": target}
        if "bid" in info["action_mask"]:
            action["bid"] = 0
        return action

    def _target(self, observation, allowed) -> int:
        """The most accused allowed player this player may aim at (``num_players``: none)."""
        n, me = self.num_players, int(observation["seat"])
        known = np.asarray(observation["known_team"])
        alive = np.asarray(observation["alive"], dtype=bool)
        role, phase = int(observation["role"]), int(observation["phase"])
        if role == DOCTOR and phase == NIGHT and allowed[me]:
            return me
        if role == WEREWOLF:
            wanted = alive & (known != WEREWOLVES)
        elif role == SEER and phase == NIGHT:
            wanted = alive & (known == UNKNOWN)
        else:
            wanted = alive & (known != VILLAGERS)
        wanted[me] = False
        candidates = np.flatnonzero(wanted & allowed[:n])
        if candidates.size == 0:
            return n if allowed[n] else int(np.flatnonzero(allowed)[0])
        accused = np.asarray(observation["accused"])
        counts = np.bincount(accused[accused < n], minlength=n)[candidates]
        best = candidates[counts == counts.max()]
        return int(self.rng.choice(best))


def make_agent(spaces, **kwargs):
    """The factory the arena calls with the seat's observation and action spaces."""
    return Bandwagon(num_players=spaces.action_space["target"].n - 1)
