"""What one seat of a Werewolf game sees, as the LSPO policy's input, and how its action becomes a move.

A seat observes (:class:`SeatView`) the living players, day and phase, its own role, what it knows of each
side, today's accusations and the last vote, and, for each player, the latent id of what it said today,
the latent ids it ever used (and was the first to use) and the latent ids of utterances that named it (so
"claimed seer and named Player 4 a werewolf" is a pair of features); werewolves also see tonight's
suggestions of their partner.
The action is ``MultiDiscrete([K, n + 1])``: the strategy of the speech (or night chat) and a target (the
player the speech is about and, if the strategy's utterances accused, accuses; the vote; the night target).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from agents.base import EnvSpaces
from agents.werewolf.strategies import StrategySpace, mention

SIDES = ("villagers", "werewolves")
WEREWOLF = 1  # the role id, as in the observation's ``role``
NIGHT_CHAT, SPEECH = 0, 3  # phase ids, as in the observation's ``phase``
SPEECH_LINE = re.compile(r"^Day (\d+), Player (\d+): (.*?)(?: \[accuses Player \d+\])?$", re.MULTILINE)
CHAT_LINE = re.compile(
    r"^Night (\d+), Player \d+ \(to werewolves\): .*?\[suggests Player (\d+)\]$", re.MULTILINE
)
PER_PLAYER = 14  # per-player features besides the 4 K latent ones
GLOBAL = 11


class SeatView:
    """One seat's view of one game: its observations turned into features, its actions into moves.

    It remembers every public speech it has read (latent id and the player named), so what was said before
    the transcript window still counts; it reads nothing but the observations it is given.
    """

    def __init__(self, space: StrategySpace, n: int, max_text_length: int, bidding: bool):
        self.space, self.n, self.max_text, self.bidding = space, n, max_text_length, bidding
        k = space.k
        self.obs_dim = n * (PER_PLAYER + 4 * k) + GLOBAL
        self.heard: set[tuple[str, str, str]] = set()  # (day, speaker, text) of speeches read
        self.today = np.full(n, -1)  # latent id of each player's latest speech
        self.today_day = np.zeros(n, dtype=np.int64)
        self.used = np.zeros((n, k), dtype=np.float32)  # latent ids each player ever used
        self.named = np.zeros((n, k), dtype=np.float32)  # utterances of each latent id naming each player
        self.first = np.zeros((n, k), dtype=np.float32)  # who was the first to use each latent id

    def features(self, observation: dict[str, Any]) -> np.ndarray:
        """The policy's input: per-player blocks then globals, all in [0, 1]."""
        n, k = self.n, self.space.k
        text, day, seat = observation["text"], int(observation["day"]), int(observation["seat"])
        for key in SPEECH_LINE.findall(text):
            if key in self.heard:
                continue
            self.heard.add(key)
            speaker, said = int(key[1]), key[2]
            if speaker >= n:
                continue
            strategy = self.space.encode(said)
            self.today[speaker], self.today_day[speaker] = strategy, int(key[0])
            if not self.first[:, strategy].any():
                self.first[speaker, strategy] = 1.0
            self.used[speaker, strategy] = 1.0
            named = mention(said)
            if named is not None and named < n:
                self.named[named, strategy] = min(1.0, self.named[named, strategy] + 1 / 3)
        alive = np.asarray(observation["alive"], dtype=np.float32)
        known = np.asarray(observation["known_team"])
        accused, votes = np.asarray(observation["accused"]), np.asarray(observation["votes"])
        block = np.zeros((n, PER_PLAYER), dtype=np.float32)
        block[:, 0] = alive
        block[seat, 1] = 1.0
        block[np.arange(n), 2 + known] = 1.0
        block[:, 5] = np.bincount(accused[alive > 0], minlength=n + 1)[:n] / n
        block[:, 6] = np.bincount(votes[alive > 0], minlength=n + 1)[:n] / n
        block[:, 7] = accused == seat
        block[:, 8] = votes == seat
        has_accused = accused < n
        block[:, 9] = has_accused & (known[np.minimum(accused, n - 1)] == 2)
        block[:, 10] = has_accused & (known[np.minimum(accused, n - 1)] == 1)
        if accused[seat] < n:
            block[accused[seat], 11] = 1.0
        if votes[seat] < n:
            block[votes[seat], 12] = 1.0
        for night, target in CHAT_LINE.findall(text):
            if int(night) == day and int(target) < n:
                block[int(target), 13] = 1.0
        today = np.zeros((n, k), dtype=np.float32)
        spoke = (self.today >= 0) & (self.today_day == day)
        today[np.flatnonzero(spoke), self.today[spoke]] = 1.0
        glob = np.zeros(GLOBAL, dtype=np.float32)
        glob[int(observation["role"])] = 1.0
        glob[4 + int(observation["phase"])] = 1.0
        glob[9] = min(day, 10) / 10
        glob[10] = alive.sum() / n
        return np.concatenate(
            [np.concatenate([block, today, self.used, self.first, self.named], axis=1).ravel(), glob]
        )

    def mask(self, observation: dict[str, Any], info: dict) -> np.ndarray:
        """Legal (strategy, target) parts as one int8 vector: strategies only where the phase reads text,
        and a real target there (the player the utterance is about)."""
        k, n = self.space.k, self.n
        targets = np.asarray(info["action_mask"]["target"], dtype=np.int8).copy()
        strategies = np.zeros(k, dtype=np.int8)
        if observation["phase"] in (NIGHT_CHAT, SPEECH) and targets[:n].any():
            strategies[:] = 1
            targets[n] = 0
        else:
            strategies[0] = 1
        return np.concatenate([strategies, targets])

    def move(self, action: tuple[int, int], observation: dict[str, Any]) -> dict[str, Any]:
        """The env move of ``action`` = (strategy, target) in the observation's phase."""
        strategy, target = int(action[0]), int(action[1])
        phase, text = observation["phase"], ""
        if phase in (NIGHT_CHAT, SPEECH) and target < self.n:
            text = self.space.render(strategy, target)[: self.max_text]
            if phase == SPEECH and not self.space.accuses[strategy]:
                target = self.n
        move = {"text": text, "target": target}
        if self.bidding:
            move["bid"] = 0
        return move


def view_for(space: StrategySpace, spaces: EnvSpaces) -> SeatView:
    """A fresh :class:`SeatView` of ``space`` for a seat of a game with ``spaces``."""
    action_space = spaces.action_space
    return SeatView(
        space, action_space["target"].n - 1, action_space["text"].max_length, "bid" in action_space.spaces
    )
