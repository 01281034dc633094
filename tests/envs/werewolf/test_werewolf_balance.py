"""A game given only its size gets that size's roster, explicit arguments win, the default game is even."""

import re

import numpy as np
import pytest

import envs
from benchmarks.werewolf import SEED_BLOCK, play_werewolf
from envs.werewolf.env import raw_env
from envs.werewolf.game import ROSTERS, Rules


def rules_of(**kwargs) -> Rules:
    return envs.make_multi("werewolf", **kwargs).unwrapped.rules


@pytest.mark.parametrize(
    ("num_players", "werewolves", "villagers", "self_protect"),
    [(5, 1, 2, False), (7, 2, 3, True), (8, 2, 4, True), (9, 3, 4, True), (12, 3, 7, True), (14, 5, 7, True)],
)
def test_a_game_given_only_its_size_gets_the_roster_of_that_size(
    num_players, werewolves, villagers, self_protect
):
    rules = rules_of(num_players=num_players)
    assert rules.role_counts == {"werewolf": werewolves, "seer": 1, "doctor": 1, "villager": villagers}
    assert rules.doctor_self_protect is self_protect


def test_explicit_role_counts_and_self_protection_override_the_roster():
    rules = rules_of(num_players=5, num_werewolves=2, doctor_self_protect=True)
    assert rules.role_counts == {"werewolf": 2, "seer": 1, "doctor": 1, "villager": 1}
    assert rules.doctor_self_protect
    rules = rules_of(num_players=9, num_doctors=0)
    assert rules.role_counts == {"werewolf": 3, "seer": 1, "doctor": 0, "villager": 5}
    assert rules_of(num_players=7, num_werewolves=1, num_seers=0).role_counts["werewolf"] == 1


def test_the_five_player_doctor_may_not_protect_itself_unless_told():
    """The 5-player roster's doctor may not pick its own seat at night; with the flag it may."""
    roles = ["doctor", "werewolf", "seer", "villager", "villager"]
    for flag, allowed in ((None, False), (True, True)):
        env = envs.make_multi("werewolf", num_players=5, roles=roles, doctor_self_protect=flag)
        env.reset(seed=0)
        assert env.agent_selection == "player_0"  # the night's first pending seat: the doctor
        assert bool(env.infos["player_0"]["action_mask"]["target"][0]) is allowed


def test_the_env_docstring_table_lists_every_roster():
    """Each row ``| n | werewolves | seers | doctors | self-protect | ...`` of raw_env's roster table."""
    rows = re.findall(r"^\s*\| (\d+)\s+\| (\d) +\| (\d) +\| (\d) +\| (yes|no) +\|", raw_env.__doc__, re.M)
    documented = {int(n): (int(w), int(s), int(d), p == "yes") for n, w, s, d, p in rows}
    expected = {
        n: (r.num_werewolves, r.num_seers, r.num_doctors, r.doctor_self_protect) for n, r in ROSTERS.items()
    }
    assert documented == expected and sorted(ROSTERS) == list(range(4, 21))


def test_villagers_win_the_default_seven_player_game_about_half_the_time():
    """600 games on seeds that no roster was tuned on (tuning used seeds 0-9, the published table 10-19). If
    the true rate lies in [0.45, 0.55], the observed one lies within 3.3 standard errors (sd <= 0.5 /
    sqrt(600) = 0.0204) of that band but for a 0.1 % chance: [0.383, 0.617]."""
    games = 600
    tally = play_werewolf(games, seed=20 * SEED_BLOCK)
    band = 3.3 * np.sqrt(0.25 / games)
    assert tally.draws == 0
    assert 0.45 - band <= tally.villager_wins / games <= 0.55 + band, tally
