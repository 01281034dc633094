"""Rule-based Werewolf players: ``agents.make("werewolf/scripted", spaces, style="balanced")``.

One class plays every role, reading the structured part of the observation (seat, role, phase, alive,
accusations, votes, what it knows of each side) and two set phrases from the transcript: seer claims
(``"I am the seer: Player 5 is a werewolf."``) and werewolf night-chat suggestions (``[suggests Player 5]``).

- Seer: checks unchecked players; reveals its checks as a seer claim, accusing the werewolf it found.
- Doctor: protects the player who claimed seer, else itself (or someone at random).
- Villagers: vote for a player a believed seer claim names a werewolf, else for the most accused player.
- Werewolves: the first to speak at night suggests a victim (a seer claimant first, then whoever accused a
  werewolf, else at random) and the others follow, so they vote as one; by day they deflect, accusing whoever
  accused their partners or joining accusations against villagers, and may claim to be the seer.

Styles change the thresholds, so a tournament has variety: ``balanced`` (the default: the seer reveals at
once, villagers vote on two accusations, werewolves sometimes fake a seer claim), ``aggressive`` (villagers
vote on any accusation, the doctor never protects itself, werewolves fake claims more often), ``cautious``
(the seer reveals only a found werewolf, villagers vote only on seer claims, werewolves never fake claims).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from agents.base import EnvSpaces

VILLAGER, WEREWOLF, SEER, DOCTOR = range(4)  # role ids, as in the observation's ``role``
NIGHT_CHAT, NIGHT, BID, SPEECH, VOTE = range(5)  # phase ids, as in the observation's ``phase``
CLAIM = re.compile(r"Player (\d+): I am the seer: Player (\d+) is (a werewolf|not a werewolf)")
SUGGESTION = re.compile(r"Night (\d+), Player \d+ \(to werewolves\): [^\n]*\[suggests Player (\d+)\]")


@dataclass(frozen=True)
class Style:
    """The knobs of a scripted player."""

    reveal_day: int  # the seer claims from this day on even without a werewolf found (large: never)
    accusation_threshold: int  # accusations needed before a villager votes on them (large: never)
    fake_claim: float  # probability that a werewolf claims to be the seer on a given day
    doctor_self: bool  # the doctor protects itself when nobody has claimed seer


STYLES = {
    "balanced": Style(reveal_day=1, accusation_threshold=2, fake_claim=0.2, doctor_self=True),
    "aggressive": Style(reveal_day=1, accusation_threshold=1, fake_claim=0.35, doctor_self=False),
    "cautious": Style(reveal_day=99, accusation_threshold=99, fake_claim=0.0, doctor_self=True),
}


class ScriptedWerewolfPlayer:
    """A rule-based player for any role; its only randomness is its own seeded generator."""

    def __init__(self, spaces: EnvSpaces, style: str = "balanced", seed: int | None = None):
        if style not in STYLES:
            raise ValueError(f"style={style!r} must be one of {', '.join(STYLES)}")
        self.name = f"werewolf/scripted:{style}"
        self.style = STYLES[style]
        self.n = spaces.action_space["target"].n - 1
        self.bidding = "bid" in spaces.action_space.spaces
        self.reset(seed)

    def reset(self, seed: int | None = None) -> None:
        self.rng = np.random.default_rng(seed)
        self.claims: dict[int, dict[int, bool]] = {}  # claimant -> {seat: said to be a werewolf}
        self.fake_claim_day = 0

    def act(self, observation: dict[str, Any], info: dict) -> dict[str, Any]:
        observation = {  # plain lists and ints: indexing them is much cheaper than indexing arrays
            key: value.tolist() if isinstance(value, np.ndarray) else value
            for key, value in observation.items()
        }
        text = observation["text"]
        if "I am the seer" in text:
            for claimant, seat, verdict in CLAIM.findall(text):
                self.claims.setdefault(int(claimant), {})[int(seat)] = verdict == "a werewolf"
        mask = info["action_mask"]
        phase, role = observation["phase"], observation["role"]
        if phase == NIGHT_CHAT:
            target = self._wolf_target(observation, text)
            move = {"text": f"Let us take Player {target}.", "target": target}
        elif phase == NIGHT:
            move = {"text": "", "target": self._night_target(observation, text, role)}
        elif phase == BID:
            move = {"text": "", "target": self.n, "bid": self._bid(observation, role)}
        elif phase == SPEECH:
            move = self._speech(observation, role)
        else:
            move = {"text": "", "target": self._vote(observation, role)}
        if self.bidding:
            move.setdefault("bid", 0)
        if not mask["target"][move["target"]]:
            move["target"] = self.n
        return move

    # ----- beliefs

    def _believed_claims(self, observation: dict[str, Any]) -> dict[int, bool]:
        """Seat -> is a werewolf, from own knowledge, then from the seer claimant this player believes."""
        known = observation["known_team"]
        beliefs = {seat: known[seat] == 2 for seat in range(self.n) if known[seat]}
        claimants = [c for c in self.claims if known[c] != 2]
        if observation["role"] == SEER:  # the true seer knows that every other claimant lies
            for claimant in claimants:
                beliefs.setdefault(claimant, True)
            claimants = []
        elif len(claimants) > 1:
            claimants = [claimants[0]]  # the first to claim is believed
        for claimant in claimants:
            for seat, is_wolf in self.claims[claimant].items():
                beliefs.setdefault(seat, is_wolf)
            beliefs.setdefault(claimant, False)
        return beliefs

    def _most_accused(self, observation: dict[str, Any], candidates: list[int]) -> tuple[int, int]:
        """The candidate accused by the most living players today (ties: lowest seat) and the count."""
        alive, accused = observation["alive"], observation["accused"]
        counts = {c: 0 for c in candidates}
        for seat in range(self.n):
            if alive[seat] and accused[seat] in counts:
                counts[int(accused[seat])] += 1
        if not counts:
            return self.n, 0
        best = max(counts, key=lambda c: (counts[c], -c))
        return best, counts[best]

    def _living(self, observation: dict[str, Any], exclude: set[int] = frozenset()) -> list[int]:
        seat = observation["seat"]
        return [s for s in range(self.n) if observation["alive"][s] and s != seat and s not in exclude]

    def _pick(self, seats: list[int]) -> int:
        return int(seats[self.rng.integers(len(seats))]) if seats else self.n

    # ----- werewolves

    def _wolf_target(self, observation: dict[str, Any], text: str) -> int:
        """Tonight's victim: the last suggestion of a partner tonight, else a seer claimant, an accuser of a
        werewolf, or a random villager."""
        wolves = {s for s in range(self.n) if observation["known_team"][s] == 2}
        prey = self._living(observation, exclude=wolves)
        tonight = [int(t) for night, t in SUGGESTION.findall(text) if int(night) == observation["day"]]
        for target in reversed(tonight):
            if target in prey:
                return target
        claimants = [c for c in self.claims if c in prey]
        if claimants:
            return claimants[0]
        accusers = [
            s for s in prey if observation["accused"][s] in wolves or observation["votes"][s] in wolves
        ]
        return self._pick(accusers or prey)

    # ----- night moves of the other roles

    def _night_target(self, observation: dict[str, Any], text: str, role: int) -> int:
        if role == WEREWOLF:
            return self._wolf_target(observation, text)
        if role == SEER:
            return self._pick([s for s in self._living(observation) if not observation["known_team"][s]])
        # the doctor
        claimants = [c for c in self.claims if observation["alive"][c]]
        if claimants:
            return claimants[0]
        return observation["seat"] if self.style.doctor_self else self._pick(self._living(observation))

    # ----- day

    def _bid(self, observation: dict[str, Any], role: int) -> int:
        seat = observation["seat"]
        if role == SEER and self._seer_claim(observation) is not None:
            return 4
        if seat in observation["accused"]:
            return 3
        return int(self.rng.integers(0, 3))

    def _seer_claim(self, observation: dict[str, Any]) -> tuple[int, bool] | None:
        """The check the seer reveals now (a living werewolf first, else the latest check), if any."""
        known = observation["known_team"]
        checks = [s for s in range(self.n) if s != observation["seat"] and known[s]]
        wolves = [s for s in checks if known[s] == 2 and observation["alive"][s]]
        if wolves:
            return wolves[0], True
        if checks and observation["day"] >= self.style.reveal_day:
            return checks[-1], False
        return None

    def _speech(self, observation: dict[str, Any], role: int) -> dict[str, Any]:
        seat = observation["seat"]
        if role == SEER and (claim := self._seer_claim(observation)) is not None:
            target, is_wolf = claim
            verdict = "a werewolf" if is_wolf else "not a werewolf"
            return {
                "text": f"I am the seer: Player {target} is {verdict}.",
                "target": target if is_wolf else self.n,
            }
        if role == WEREWOLF:
            return self._wolf_speech(observation)
        target = self._vote(observation, role)
        if target < self.n:
            return {"text": f"I suspect Player {target}.", "target": target}
        if seat in observation["accused"]:
            return {"text": "I am not a werewolf.", "target": self.n}
        return {"text": "I have nothing to add yet.", "target": self.n}

    def _wolf_speech(self, observation: dict[str, Any]) -> dict[str, Any]:
        wolves = {s for s in range(self.n) if observation["known_team"][s] == 2}
        prey = self._living(observation, exclude=wolves)
        day = observation["day"]
        if self.fake_claim_day != day and not self.claims and self.rng.random() < self.style.fake_claim:
            self.fake_claim_day = day
            target = self._pick(prey)
            return {"text": f"I am the seer: Player {target} is a werewolf.", "target": target}
        target = self._vote(observation, WEREWOLF)
        if target < self.n:
            return {"text": f"I suspect Player {target}.", "target": target}
        return {"text": "I have nothing to add yet.", "target": self.n}

    def _vote(self, observation: dict[str, Any], role: int) -> int:
        if role == WEREWOLF:
            wolves = {s for s in range(self.n) if observation["known_team"][s] == 2}
            prey = self._living(observation, exclude=wolves)
            named = [c for c in self.claims if c in prey and any(self.claims[c].get(w) for w in wolves)]
            if named:  # a seer claim named a partner: push the claimant out
                return named[0]
            accusers = [s for s in prey if observation["accused"][s] in wolves]
            if accusers:
                return accusers[0]
            target, count = self._most_accused(observation, prey)
            return target if count > 0 else self._pick(prey)
        beliefs = self._believed_claims(observation)
        living = self._living(observation)
        wolves = [s for s in living if beliefs.get(s)]
        if wolves:
            return wolves[0]
        cleared = {s for s, is_wolf in beliefs.items() if not is_wolf}
        target, count = self._most_accused(observation, [s for s in living if s not in cleared])
        return target if count >= self.style.accusation_threshold else self.n


def scripted(spaces: EnvSpaces, style: str = "balanced", seed: int | None = None) -> ScriptedWerewolfPlayer:
    """Factory for ``agents.make("werewolf/scripted", spaces, style=...)``."""
    return ScriptedWerewolfPlayer(spaces, style=style, seed=seed)
