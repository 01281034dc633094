"""No player's observation or info holds another player's private facts, over 1,000 random games.

The test deals the roles itself (``roles=``) and plays random legal moves, so it knows independently of the
env every private fact and who may know it: roles (a werewolf knows its partners, the seer the side of each
player it checked), the werewolves' chat and votes, the seer's checks and the doctor's protections. Night
chat is written as ``zq`` + hex digits and speeches as ``xk`` + hex digits, so no speech can spell a role
word or a chat token by chance. After every resolution of moves it reads the observation and info of every
seat (and of the mover at every move) and checks, sentence by sentence:

- chat tokens (``zq``) and the words of the werewolves' night (``victim``, ``suggest``) reach only werewolves,
- the words of the seer's and the doctor's night (``check``, ``protect``) reach only that player,
- a sentence naming ``Player j`` together with a side word (werewolf, wolf) reaches only players who know
  j's side, and with a role word (seer, doctor, villager) only players who know j's role,
- the structured ``role`` is the own role and ``known_team`` is exactly what the player is entitled to know,
- the info holds only the player's own role and counters, until the game is over.
"""

import re

import numpy as np
import pytest

import envs
from envs.werewolf.game import PHASES, ROLES, Rules

CONFIGS = [
    {},
    {"speaking_order": "bidding", "vote_rule": "plurality", "tie_rule": "random"},
    {"num_players": 5, "num_werewolves": 1, "num_doctors": 0, "transcript_window": 8},
    {"num_players": 9, "num_werewolves": 3, "discussion_rounds": 2, "vote_rule": "plurality"},
]
GAMES = 1000
SIDE_WORDS = re.compile(r"wolf|werewol", re.IGNORECASE)
ROLE_WORDS = re.compile(r"seer|doctor|villager", re.IGNORECASE)
WOLF_NIGHT = re.compile(r"zq|victim|suggest", re.IGNORECASE)
SEER_NIGHT = re.compile(r"check", re.IGNORECASE)
DOCTOR_NIGHT = re.compile(r"protect", re.IGNORECASE)
PLAYER = re.compile(r"Player (\d+)")
OWN_INFO_KEYS = {"action_mask", "acting", "alive", "role", "team", "invalid_actions"}


class Referee:
    """What each seat may know, kept by the test from the deal and the moves it made."""

    def __init__(self, roles: list[str]):
        self.roles = roles
        self.n = len(roles)
        self.wolves = {s for s, r in enumerate(roles) if r == "werewolf"}
        self.checked: set[int] = set()  # seats the seer has checked (after the night resolved)
        self.pending_check: int | None = None
        self.checked_lines: list[set[str]] = [set() for _ in roles]
        self.sentences_checked = 0

    def knows_side(self, observer: int, seat: int) -> bool:
        if observer == seat or observer in self.wolves:
            return True
        return self.roles[observer] == "seer" and seat in self.checked

    def knows_role(self, observer: int, seat: int) -> bool:
        return observer == seat or (observer in self.wolves and seat in self.wolves)

    def check(self, observer: int, observation: dict, info: dict, over: bool) -> None:
        role = self.roles[observer]
        assert observation["seat"] == observer and ROLES[observation["role"]] == role
        expected = np.zeros(self.n, dtype=np.int64)
        for seat in range(self.n):
            if self.knows_side(observer, seat):
                expected[seat] = 2 if seat in self.wolves else 1
        np.testing.assert_array_equal(
            observation["known_team"], expected, err_msg=f"known_team of {observer}"
        )
        if not over:
            assert set(info) == OWN_INFO_KEYS and info["role"] == role, f"info of {observer}: {info}"
            assert info["team"] == ("werewolves" if observer in self.wolves else "villagers")
        for line in observation["text"].split("\n"):
            if line not in self.checked_lines[observer]:
                self.checked_lines[observer].add(line)
                self._check_line(observer, line)

    def _check_line(self, observer: int, line: str) -> None:
        role = self.roles[observer]
        for sentence in re.split(r"[.;]", line):
            self.sentences_checked += 1
            where = f"Player {observer} ({role}) sees {sentence!r}"
            assert role == "werewolf" or not WOLF_NIGHT.search(sentence), where
            assert role == "seer" or not SEER_NIGHT.search(sentence), where
            assert role == "doctor" or not DOCTOR_NIGHT.search(sentence), where
            seats = [int(j) for j in PLAYER.findall(sentence)]
            if SIDE_WORDS.search(sentence):
                assert all(self.knows_side(observer, j) for j in seats), where
            if ROLE_WORDS.search(sentence):
                assert all(self.knows_role(observer, j) for j in seats), where


def random_move(rng, observation, info):
    """A uniformly random legal move, with chat and speech written in tokens that cannot spell a secret."""
    mask = info["action_mask"]
    move = {"target": int(rng.choice(np.flatnonzero(mask["target"])))}
    if "bid" in mask:
        move["bid"] = int(rng.choice(np.flatnonzero(mask["bid"])))
    if mask["text"] is None:
        prefix = "zq" if PHASES[observation["phase"]] == "night_chat" else "xk"
        move["text"] = prefix + "".join(rng.choice(list("0123456789abcdef"), size=int(rng.integers(1, 12))))
    return move


def play_and_check(kwargs: dict, seed: int) -> Referee:
    rng = np.random.default_rng(seed)
    rules = Rules(**{k: v for k, v in kwargs.items()})
    roles = [rules.default_roles()[i] for i in rng.permutation(rules.num_players)]
    env = envs.make_multi("werewolf", roles=roles, **kwargs)
    env.reset(seed=seed)
    game = env.unwrapped.game
    referee = Referee(roles)
    cycles, phase = -1, None
    for agent in env.agent_iter():
        observation, _, terminated, truncated, info = env.last()
        if game.cycles != cycles:  # a resolution: every seat's view may have changed
            if phase == "night" and referee.pending_check is not None:  # the night resolved: the seer knows
                referee.checked.add(referee.pending_check)
                referee.pending_check = None
            cycles, phase = game.cycles, PHASES[game.phase]
            for other in env.agents:
                referee.check(int(other.split("_")[1]), env.observe(other), env.infos[other], game.over)
        seat = int(agent.split("_")[1])
        referee.check(seat, observation, info, game.over)
        if terminated or truncated:
            env.step(None)
            continue
        move = random_move(rng, observation, info)
        if roles[seat] == "seer" and PHASES[observation["phase"]] == "night" and move["target"] < len(roles):
            referee.pending_check = move["target"]
        env.step(move)
    return referee


@pytest.mark.slow
def test_no_observation_or_info_reveals_another_players_private_facts_in_1000_random_games():
    sentences = 0
    seers_with_checks = 0
    for game_index in range(GAMES):
        referee = play_and_check(CONFIGS[game_index % len(CONFIGS)], seed=game_index)
        sentences += referee.sentences_checked
        seers_with_checks += bool(referee.checked)
    # the checks had something to check: private lines were written and seen by those entitled
    assert seers_with_checks > GAMES // 2
    assert sentences > 100 * GAMES


def test_the_referee_catches_a_leak_planted_in_a_villagers_transcript():
    """Positive control: a wolves-only line copied into a villager's transcript fails the check."""
    roles = ["werewolf", "werewolf", "seer", "doctor", "villager", "villager", "villager"]
    env = envs.make_multi("werewolf", roles=roles)
    env.reset(seed=0)
    for _ in range(3):  # the two werewolves' chat and the first of the night moves
        env.step({"text": "zq0", "target": 4})
    game = env.unwrapped.game
    game.seen[4].append(next(line for line in game.seen[0] if "to werewolves" in line))
    referee = Referee(roles)
    try:
        referee.check(4, env.observe("player_4"), env.infos["player_4"], over=False)
    except AssertionError:
        return
    raise AssertionError("a planted leak went unnoticed")
