"""The rules of Werewolf: roles, phases, who acts when, how moves resolve, and what each player may see.

This module knows nothing of PettingZoo: :class:`WerewolfGame` is a state machine driven by
``act(seat, action)``. At every moment a set of seats is *pending* (they must move); once all have moved the
phase resolves and the next pending set is drawn up. Every line of the game log carries its audience (public,
the werewolves, or one player), and a player's observation is built only from the lines addressed to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

ROLES = ("villager", "werewolf", "seer", "doctor")
VILLAGER, WEREWOLF, SEER, DOCTOR = range(4)
TEAMS = ("villagers", "werewolves")
PHASES = ("night_chat", "night", "bid", "speech", "vote")
NIGHT_CHAT, NIGHT, BID, SPEECH, VOTE = range(5)
SPEAKING_ORDERS = ("round_robin", "bidding")
VOTE_RULES = ("majority", "plurality")
TIE_RULES = ("no_exile", "random")
TEXT_CHARSET = "".join(chr(c) for c in range(32, 127))  # printable ASCII, what players may say
OBSERVATION_CHARSET = TEXT_CHARSET + "\n"

_NOW = {
    NIGHT_CHAT: "talk to your fellow werewolves (text) and suggest a victim (target).",
    BID: "bid for the right to speak next (bid).",
    SPEECH: "speak to everyone (text) and, if you like, accuse a player (target).",
    VOTE: "vote to exile a player, or none (target).",
}
_NIGHT_NOW = {
    WEREWOLF: "vote for tonight's victim (target).",
    SEER: "choose a player to check (target).",
    DOCTOR: "choose a player to protect tonight (target).",
}


def _check_range(field: str, value: Any, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
        raise ValueError(f"{field}={value!r} must be an integer in [{low}, {high}]")


def _check_choice(field: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{field}={value!r} must be one of {', '.join(allowed)}")


@dataclass(frozen=True)
class Roster:
    """The roles (and the doctor's self-protection) a game of some size gets unless told otherwise."""

    num_werewolves: int
    num_seers: int = 1
    num_doctors: int = 1
    doctor_self_protect: bool = True


ROSTERS = {
    4: Roster(1, doctor_self_protect=False),
    5: Roster(1, doctor_self_protect=False),
    6: Roster(2),
    7: Roster(2),
    8: Roster(2),
    9: Roster(3),
    10: Roster(3),
    11: Roster(3),
    12: Roster(3),
    13: Roster(4),
    14: Roster(5),
    **{n: Roster(4) for n in range(15, 21)},
}
"""The default roster of each game size (4..20 players): the one whose villagers' win rate between balanced
scripted players under the default rules came closest to one half (docs/werewolf-balance.md)."""


@dataclass(frozen=True)
class Rules:
    """A game's configuration, validated on construction (``ValueError`` names the field and its range).

    Role counts and ``doctor_self_protect`` left as None take the value :data:`ROSTERS` gives
    ``num_players``; a value given explicitly is kept as it is.
    """

    num_players: int = 7
    num_werewolves: int | None = None
    num_seers: int | None = None
    num_doctors: int | None = None
    speaking_order: str = "round_robin"
    discussion_rounds: int = 1
    vote_rule: str = "majority"
    tie_rule: str = "no_exile"
    wolf_chat: bool = True
    doctor_self_protect: bool | None = None
    max_bid: int = 4
    max_text_length: int = 200
    transcript_window: int = 30

    def __post_init__(self) -> None:
        _check_range("num_players", self.num_players, 4, 20)
        roster = ROSTERS[self.num_players]
        for field in ("num_werewolves", "num_seers", "num_doctors", "doctor_self_protect"):
            if getattr(self, field) is None:
                object.__setattr__(self, field, getattr(roster, field))
        _check_range("num_werewolves", self.num_werewolves, 1, (self.num_players - 1) // 2)
        _check_range("num_seers", self.num_seers, 0, 1)
        _check_range("num_doctors", self.num_doctors, 0, 1)
        specials = self.num_werewolves + self.num_seers + self.num_doctors
        if specials > self.num_players:
            raise ValueError(
                f"num_werewolves + num_seers + num_doctors = {specials} "
                f"must be <= num_players={self.num_players}"
            )
        _check_choice("speaking_order", self.speaking_order, SPEAKING_ORDERS)
        _check_range("discussion_rounds", self.discussion_rounds, 0, 10)
        _check_choice("vote_rule", self.vote_rule, VOTE_RULES)
        _check_choice("tie_rule", self.tie_rule, TIE_RULES)
        _check_range("max_bid", self.max_bid, 1, 10)
        _check_range("max_text_length", self.max_text_length, 1, 2000)
        _check_range("transcript_window", self.transcript_window, 1, 500)

    @property
    def role_counts(self) -> dict[str, int]:
        specials = self.num_werewolves + self.num_seers + self.num_doctors
        return {
            "werewolf": self.num_werewolves,
            "seer": self.num_seers,
            "doctor": self.num_doctors,
            "villager": self.num_players - specials,
        }

    def default_roles(self) -> list[str]:
        """The role of each seat before shuffling: werewolves first, then seer, doctor, villagers."""
        return [role for role, count in self.role_counts.items() for _ in range(count)]

    def check_roles(self, roles: list[str]) -> list[int]:
        """Role ids of a per-seat list of role names, which must hold exactly the configured counts."""
        if len(roles) != self.num_players or any(r not in ROLES for r in roles):
            raise ValueError(
                f"roles={roles!r} must list one of {', '.join(ROLES)} "
                f"for each of the {self.num_players} seats"
            )
        counts = {role: sum(r == role for r in roles) for role in self.role_counts}
        if counts != self.role_counts:
            raise ValueError(f"roles={roles!r} must hold exactly {self.role_counts}, not {counts}")
        return [ROLES.index(r) for r in roles]

    def observation_text_length(self) -> int:
        """An upper bound on the length of an observation's text (characters)."""
        n = self.num_players
        line = max(self.max_text_length + 80, 26 * n + 120)
        header = 400 + 60 * n
        return header + self.transcript_window * (line + 1)


def team_of(role: int) -> int:
    """0 for the villagers' side, 1 for the werewolves."""
    return int(role == WEREWOLF)


class WerewolfGame:
    """One game in progress. ``act`` each pending seat; read ``pending``, ``over``, ``winner``, ``observe``.

    Moves are ``(text, target, bid)`` after validation; ``target == num_players`` means none. A move whose
    used parts are illegal becomes the neutral move (silence, no target, bid 0) and is counted in ``invalid``.
    """

    def __init__(self, rules: Rules, roles: list[int], rng: np.random.Generator):
        self.rules = rules
        self.rng = rng
        n = self.n = rules.num_players
        self.roles = list(roles)
        self.alive = [True] * n
        self.wolves = [s for s in range(n) if roles[s] == WEREWOLF]
        self.invalid = [0] * n
        self.day = 1
        self.cycles = 0
        self.over = False
        self.winner: int | None = None
        self.log: list[tuple[str, str]] = []  # (audience: "everyone", "werewolves" or "Player <seat>", line)
        self.seen: list[list[str]] = [[] for _ in range(n)]
        self.accused = [n] * n  # today's latest accusation by each player (n: none)
        self.votes = [n] * n  # each player's vote in the last day vote (n: none)
        # known_team[observer][seat]: 0 unknown, 1 villagers' side, 2 werewolf
        self.known_team = [[0] * n for _ in range(n)]
        for seat in range(n):
            self.known_team[seat][seat] = team_of(roles[seat]) + 1
        for wolf in self.wolves:
            self.known_team[wolf] = [team_of(r) + 1 for r in roles]
        self.checks: list[tuple[int, bool]] = []  # the seer's (seat, is_werewolf), in order
        self._public_arrays: dict[str, np.ndarray] | None = None
        self._roster_line: str | None = None
        self._known_arrays: list[np.ndarray | None] = [None] * n
        self._speakers: list[int] = []
        self._slots = 0
        self._chat_queue: list[int] = []
        self.phase = NIGHT
        self.pending: list[int] = []
        self._moves: dict[int, tuple[str, int, int]] = {}
        self._begin_night()

    # ----- who moves

    def next_actor(self) -> int:
        """The first pending seat that has not moved yet."""
        for seat in self.pending:
            if seat not in self._moves:
                return seat
        raise RuntimeError("no seat is pending: the game is over")

    def is_waiting_for(self, seat: int) -> bool:
        return not self.over and seat in self.pending and seat not in self._moves

    def act(self, seat: int, action: Any) -> None:
        """Record ``seat``'s move; when every pending seat has moved, the phase resolves."""
        if not self.is_waiting_for(seat):
            raise ValueError(f"seat={seat} is not to move now (pending: {self.pending})")
        self._moves[seat] = self._validate(seat, action)
        if len(self._moves) == len(self.pending):
            moves, self._moves = self._moves, {}
            self.cycles += 1
            self._resolve(moves)

    def stop(self) -> None:
        """End the game without a winner (the step budget ran out)."""
        if not self.over:
            self.over = True
            self.pending = []
            self._say(None, f"The game was stopped after {self.cycles} rounds of moves: a draw.")

    # ----- legality

    def legal_targets(self, seat: int) -> list[bool]:
        """Which targets (seats, then n for none) ``seat`` may choose now.

        Werewolves (chat and night) target living non-werewolves, the doctor any living player (itself only
        with ``doctor_self_protect``), the seer, speakers and voters any other living player; none is always
        legal, and the only legal target of a seat that is not to move, or is bidding.
        """
        if self.phase == BID or not self.is_waiting_for(seat):
            return [False] * self.n + [True]
        legal = [*self.alive, True]
        role = self.roles[seat]
        if self.phase == NIGHT_CHAT or (self.phase == NIGHT and role == WEREWOLF):
            for wolf in self.wolves:
                legal[wolf] = False
        elif not (self.phase == NIGHT and role == DOCTOR and self.rules.doctor_self_protect):
            legal[seat] = False
        return legal

    def uses(self, seat: int) -> tuple[bool, bool]:
        """Whether ``seat``'s move now reads its text, and its bid (the target is read except in bidding)."""
        return self.phase in (NIGHT_CHAT, SPEECH), self.phase == BID

    def _validate(self, seat: int, action: Any) -> tuple[str, int, int]:
        neutral = ("", self.n, 0)
        if not isinstance(action, dict):
            self.invalid[seat] += 1
            return neutral
        uses_text, uses_bid = self.uses(seat)
        text, target, bid = "", self.n, 0
        if uses_text:
            text = action.get("text", "")
            if not (isinstance(text, str) and len(text) <= self.rules.max_text_length and _printable(text)):
                self.invalid[seat] += 1
                return neutral
        if uses_bid:
            bid = action.get("bid", 0)
            if not _integer_in(bid, 0, self.rules.max_bid):
                self.invalid[seat] += 1
                return neutral
        else:
            target = action.get("target", self.n)
            if not (_integer_in(target, 0, self.n) and self.legal_targets(seat)[target]):
                self.invalid[seat] += 1
                return neutral
        return text.strip(), int(target), int(bid)

    # ----- phases

    def _begin_night(self) -> None:
        wolves = [w for w in self.wolves if self.alive[w]]
        if self.rules.wolf_chat and len(wolves) > 1:
            self._chat_queue = wolves
            self._set_phase(NIGHT_CHAT, [self._chat_queue.pop(0)])
        else:
            self._begin_night_actions()

    def _begin_night_actions(self) -> None:
        self._set_phase(NIGHT, [s for s in range(self.n) if self.alive[s] and self.roles[s] != VILLAGER])

    def _begin_day(self) -> None:
        self.accused = [self.n] * self.n
        self._public_arrays = None
        living = [s for s in range(self.n) if self.alive[s]]
        start = (self.day - 1) % len(living)
        self._speakers = (living[start:] + living[:start]) * self.rules.discussion_rounds
        self._slots = len(self._speakers)
        self._next_speech()

    def _next_speech(self) -> None:
        if self._slots == 0:
            self._set_phase(VOTE, [s for s in range(self.n) if self.alive[s]])
        elif self.rules.speaking_order == "bidding":
            self._set_phase(BID, [s for s in range(self.n) if self.alive[s]])
        else:
            self._slots -= 1
            self._set_phase(SPEECH, [self._speakers.pop(0)])

    def _set_phase(self, phase: int, pending: list[int]) -> None:
        self.phase, self.pending = phase, pending

    def _resolve(self, moves: dict[int, tuple[str, int, int]]) -> None:
        if self.phase == NIGHT_CHAT:
            self._resolve_chat(moves)
        elif self.phase == NIGHT:
            self._resolve_night(moves)
        elif self.phase == BID:
            bids = {seat: bid for seat, (_, _, bid) in moves.items()}
            top = max(bids.values())
            best = [seat for seat, bid in bids.items() if bid == top]
            self._slots -= 1
            self._set_phase(SPEECH, [best[int(self.rng.integers(len(best)))] if len(best) > 1 else best[0]])
        elif self.phase == SPEECH:
            self._resolve_speech(moves)
        else:
            self._resolve_vote(moves)

    def _resolve_chat(self, moves: dict[int, tuple[str, int, int]]) -> None:
        ((seat, (text, target, _)),) = moves.items()
        suggestion = f" [suggests Player {target}]" if target < self.n else ""
        self._say(
            self.wolves, f"Night {self.day}, Player {seat} (to werewolves): {text or '...'}{suggestion}"
        )
        if self._chat_queue:
            self._set_phase(NIGHT_CHAT, [self._chat_queue.pop(0)])
        else:
            self._begin_night_actions()

    def _resolve_night(self, moves: dict[int, tuple[str, int, int]]) -> None:
        wolf_votes = {seat: move[1] for seat, move in moves.items() if self.roles[seat] == WEREWOLF}
        victim = self._count(list(wolf_votes.values()), need=1, break_ties=True)
        listing = ", ".join(f"Player {w} -> {self._name(t)}" for w, t in wolf_votes.items())
        self._say(self.wolves, f"Night {self.day}: werewolf votes: {listing}; victim: {self._name(victim)}.")
        protected = self.n
        for seat, (_, target, _) in moves.items():
            if self.roles[seat] == DOCTOR and target < self.n:
                protected = target
                self._say([seat], f"Night {self.day}: you protected Player {target}.")
            elif self.roles[seat] == SEER and target < self.n:
                is_wolf = self.roles[target] == WEREWOLF
                self.checks.append((target, is_wolf))
                self.known_team[seat][target] = 2 if is_wolf else 1
                self._known_arrays[seat] = None
                verdict = "a werewolf" if is_wolf else "not a werewolf"
                self._say([seat], f"Night {self.day}: your check says Player {target} is {verdict}.")
        if victim < self.n and victim != protected:
            self._kill(victim)
            self._say(None, f"Night {self.day}: Player {victim} was killed.")
        else:
            self._say(None, f"Night {self.day}: nobody was killed.")
        if not self._check_win():
            self._begin_day()

    def _resolve_speech(self, moves: dict[int, tuple[str, int, int]]) -> None:
        ((seat, (text, target, _)),) = moves.items()
        accusation = f" [accuses Player {target}]" if target < self.n else ""
        self._say(None, f"Day {self.day}, Player {seat}: {text or '...'}{accusation}")
        if target < self.n:
            self.accused[seat] = target
            self._public_arrays = None
        self._next_speech()

    def _resolve_vote(self, moves: dict[int, tuple[str, int, int]]) -> None:
        self.votes = [moves[s][1] if s in moves else self.n for s in range(self.n)]
        self._public_arrays = None
        ballots = [self.votes[s] for s in sorted(moves)]
        listing = ", ".join(f"Player {s} -> {self._name(self.votes[s])}" for s in sorted(moves))
        self._say(None, f"Day {self.day} vote: {listing}.")
        if self.rules.vote_rule == "majority":
            exiled = self._count(ballots, need=len(ballots) // 2 + 1, break_ties=False)
        else:
            exiled = self._count(ballots, need=1, break_ties=self.rules.tie_rule == "random")
        if exiled < self.n:
            self._kill(exiled)
            votes = ballots.count(exiled)
            self._say(None, f"Day {self.day}: Player {exiled} was exiled ({votes} of {len(ballots)} votes).")
        else:
            self._say(None, f"Day {self.day}: nobody was exiled.")
        if not self._check_win():
            self.day += 1
            self._begin_night()

    def _count(self, ballots: list[int], need: int, break_ties: bool) -> int:
        """The seat with the most ballots (none ignored) if it has at least ``need``; n when there is none."""
        tally: dict[int, int] = {}
        for target in ballots:
            if target < self.n:
                tally[target] = tally.get(target, 0) + 1
        if not tally:
            return self.n
        top = max(tally.values())
        best = sorted(seat for seat, count in tally.items() if count == top)
        if top < need or (len(best) > 1 and not break_ties):
            return self.n
        return best[int(self.rng.integers(len(best)))] if len(best) > 1 else best[0]

    def _kill(self, seat: int) -> None:
        self.alive[seat] = False
        self._public_arrays = self._roster_line = None

    def _check_win(self) -> bool:
        wolves = sum(self.alive[w] for w in self.wolves)
        others = sum(self.alive) - wolves
        if wolves == 0 or wolves >= others:
            self.winner = int(wolves > 0)
            self.over = True
            self.pending = []
            self._say(None, f"Game over: the {TEAMS[self.winner]} win.")
        return self.over

    # ----- what players see

    def _name(self, target: int) -> str:
        return "none" if target >= self.n else f"Player {target}"

    def _say(self, audience: list[int] | None, line: str) -> None:
        """Append a line to the log and to the transcript of each player in ``audience`` (None: everyone)."""
        if audience is None:
            label = "everyone"
        else:
            label = "werewolves" if audience is self.wolves else f"Player {audience[0]}"
        self.log.append((label, line))
        for seat in range(self.n) if audience is None else audience:
            self.seen[seat].append(line)

    def observation_text(self, seat: int) -> str:
        """What ``seat`` reads: who it is, what it knows, the public state, its task, the transcript."""
        role = self.roles[seat]
        facts = ""
        if role == WEREWOLF:
            partners = ", ".join(f"Player {w}" for w in self.wolves if w != seat)
            facts = f" Fellow werewolves: {partners}." if partners else ""
        elif role == SEER and self.checks:
            facts = " Your checks: " + "; ".join(
                f"Player {s} is {'a werewolf' if w else 'not a werewolf'}" for s, w in self.checks
            )
            facts += "."
        when = f"Night {self.day}" if self.phase <= NIGHT else f"Day {self.day}"
        if self.is_waiting_for(seat):
            task = _NIGHT_NOW[role] if self.phase == NIGHT else _NOW[self.phase]
        else:
            task = "the game is over." if self.over else "wait."
        transcript = "\n".join(self.seen[seat][-self.rules.transcript_window :])
        return (
            f"You are Player {seat}, a {ROLES[role]}.{facts}\n"
            f"{self._roster()}\n"
            f"{when}, {PHASES[self.phase]} phase. Your move: {task}\n{transcript}"
        )

    def _roster(self) -> str:
        """The public line with the role counts and the living players (cached until someone dies)."""
        if self._roster_line is None:
            counts = ", ".join(f"{r} x{c}" for r, c in self.rules.role_counts.items() if c)
            living = ", ".join(str(s) for s in range(self.n) if self.alive[s])
            self._roster_line = f"Roles in this game: {counts}. Alive: Players {living}."
        return self._roster_line

    def public_arrays(self) -> dict[str, np.ndarray]:
        """Alive flags, today's accusations and the last vote (read-only arrays shared by all observers)."""
        if self._public_arrays is None:
            arrays = {
                "alive": np.array(self.alive, dtype=np.int8),
                "accused": np.array(self.accused, dtype=np.int64),
                "votes": np.array(self.votes, dtype=np.int64),
            }
            for array in arrays.values():
                array.flags.writeable = False
            self._public_arrays = arrays
        return self._public_arrays

    def known_array(self, seat: int) -> np.ndarray:
        """``seat``'s knowledge of each player's side: 0 unknown, 1 villagers, 2 werewolves (read-only)."""
        array = self._known_arrays[seat]
        if array is None:
            array = self._known_arrays[seat] = np.array(self.known_team[seat], dtype=np.int64)
            array.flags.writeable = False
        return array

    def transcript(self, reveal_roles: bool = False) -> str:
        """The game log for humans: public lines; with ``reveal_roles``, the roles and private lines too."""
        lines = []
        if reveal_roles:
            lines.append("Roles: " + ", ".join(f"Player {s} {ROLES[r]}" for s, r in enumerate(self.roles)))
        for audience, line in self.log:
            if audience == "everyone":
                lines.append(line)
            elif reveal_roles:
                lines.append(f"  ({audience} only) {line}")
        return "\n".join(lines)


def _printable(text: str) -> bool:
    return text.isascii() and text.isprintable()


def _integer_in(value: Any, low: int, high: int) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and low <= value <= high
