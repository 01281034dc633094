"""The scripted Werewolf players: their rules on hand-made situations, legality, documented win rates."""

import re

import numpy as np
import pytest
from werewolf_play import play_checking_every_move

import agents
import envs
from agents.base import EnvSpaces
from benchmarks.werewolf import play_werewolf
from envs.werewolf.env import raw_env

N = 7
NONE = N


def spaces(**env_kwargs):
    env = envs.make_multi("werewolf", **env_kwargs)
    return EnvSpaces(env.observation_space("player_0"), env.action_space("player_0"), "werewolf", env_kwargs)


def situation(seat, role, phase, *, day=1, text="", known=None, accused=None, alive=None):
    """An observation and info as the env would give them (every target legal but the player itself)."""
    known_team = np.zeros(N, dtype=np.int64) if known is None else np.array(known)
    known_team[seat] = known_team[seat] or (2 if role == 1 else 1)
    observation = {
        "text": text,
        "seat": seat,
        "role": role,
        "phase": phase,
        "day": day,
        "alive": np.ones(N, dtype=np.int8) if alive is None else np.array(alive, dtype=np.int8),
        "accused": np.full(N, NONE) if accused is None else np.array(accused),
        "votes": np.full(N, NONE),
        "known_team": known_team,
    }
    target = np.ones(N + 1, dtype=np.int8)
    target[seat] = 0
    return observation, {"action_mask": {"text": None, "target": target}}


VILLAGER, WEREWOLF, SEER, DOCTOR = range(4)
NIGHT_CHAT, NIGHT, BID, SPEECH, VOTE = range(5)


def test_seer_who_found_a_werewolf_claims_and_accuses_it_and_villagers_then_vote_for_it():
    seer = agents.make("werewolf/scripted", spaces(), seed=0)
    observation, info = situation(2, SEER, SPEECH, known=[0, 0, 0, 0, 0, 2, 0])
    move = seer.act(observation, info)
    assert move == {"text": "I am the seer: Player 5 is a werewolf.", "target": 5}
    villager = agents.make("werewolf/scripted", spaces(), seed=0)
    heard = f"Day 1, Player 2: {move['text']} [accuses Player 5]"
    observation, info = situation(4, VILLAGER, VOTE, text=heard)
    assert villager.act(observation, info)["target"] == 5


def test_true_seer_treats_a_rival_seer_claimant_as_a_werewolf():
    seer = agents.make("werewolf/scripted", spaces(), seed=0)
    lie = "Day 1, Player 6: I am the seer: Player 2 is a werewolf. [accuses Player 2]"
    observation, info = situation(2, SEER, VOTE, text=lie, known=[0, 1, 0, 0, 0, 0, 0])
    assert seer.act(observation, info)["target"] == 6


def test_doctor_protects_the_seer_claimant():
    doctor = agents.make("werewolf/scripted", spaces(), seed=0)
    claim = "Day 1, Player 2: I am the seer: Player 1 is not a werewolf."
    observation, info = situation(3, DOCTOR, NIGHT, day=2, text=claim)
    info["action_mask"]["target"][3] = 1
    assert doctor.act(observation, info)["target"] == 2


def test_second_werewolf_follows_its_partners_suggestion_so_the_werewolves_vote_as_one():
    wolves = [0, 0, 0, 0, 0, 0, 0]
    wolves[1] = wolves[5] = 2
    chat = "Night 2, Player 1 (to werewolves): Let us take Player 4. [suggests Player 4]"
    wolf = agents.make("werewolf/scripted", spaces(), seed=0)
    observation, info = situation(5, WEREWOLF, NIGHT, day=2, text=chat, known=wolves)
    info["action_mask"]["target"][[1, 5]] = 0
    assert wolf.act(observation, info)["target"] == 4
    stale = chat.replace("Night 2", "Night 1")  # last night's suggestion does not bind tonight
    moves = {
        wolf.act(*situation(5, WEREWOLF, NIGHT, day=2, text=stale, known=wolves))["target"] for _ in range(20)
    }
    assert len(moves) > 1


def test_werewolves_deflect_onto_whoever_accused_their_partner():
    accused = [NONE] * N
    accused[3] = 1  # player 3 accuses werewolf 1
    wolf = agents.make("werewolf/scripted", spaces(), style="cautious", seed=0)
    observation, info = situation(5, WEREWOLF, SPEECH, known=[1, 2, 1, 1, 1, 2, 1], accused=accused)
    assert wolf.act(observation, info) == {"text": "I suspect Player 3.", "target": 3}


def test_cautious_villagers_ignore_accusations_but_balanced_ones_follow_two():
    accused = [NONE, 4, NONE, 4, NONE, NONE, NONE]
    observation, info = situation(6, VILLAGER, VOTE, accused=accused)
    cautious = agents.make("werewolf/scripted", spaces(), style="cautious", seed=0)
    balanced = agents.make("werewolf/scripted", spaces(), seed=0)
    assert cautious.act(observation, info)["target"] == NONE
    assert balanced.act(observation, info)["target"] == 4


@pytest.mark.parametrize("style", ["balanced", "aggressive", "cautious"])
@pytest.mark.parametrize(
    "env_kwargs", [{}, {"speaking_order": "bidding", "num_players": 9, "num_werewolves": 3}]
)
def test_scripted_players_never_make_an_illegal_move(style, env_kwargs):
    env = envs.make_multi("werewolf", **env_kwargs)
    seat_spaces = spaces(**env_kwargs)
    players = {a: agents.make("werewolf/scripted", seat_spaces, style=style) for a in env.possible_agents}
    for seed in range(40):
        env.reset(seed=seed)
        for i, player in enumerate(players.values()):
            player.reset(seed=seed * 100 + i)
        play_checking_every_move(env, players)


def test_unknown_style_is_rejected_naming_the_field():
    with pytest.raises(ValueError, match="style"):
        agents.make("werewolf/scripted", spaces(), style="sneaky")


def documented_rate(row: str) -> float:
    """The villagers' win rate that raw_env's docstring states for ``row`` (measured over 2,000 games)."""
    line = next(line for line in raw_env.__doc__.splitlines() if line.strip().startswith(f"| {row} "))
    return float(re.findall(r"([\d.]+) %", line)[0]) / 100


@pytest.mark.parametrize(
    ("row", "agent", "games"),
    [("scripted (balanced)", "werewolf/scripted", 400), ("random (masked)", "random", 200)],
)
def test_village_win_rate_agrees_with_the_documented_2000_game_rate(row, agent, games):
    """A fresh sample (other seeds) must agree with the docstring's rate: the difference of two independent
    binomial estimates has sd sqrt(p(1-p)(1/games + 1/2000)); 3.3 sd is a 0.1 % false-alarm level."""
    documented = documented_rate(row)
    tally = play_werewolf(games, seed=0, agent=agent)
    observed = tally.villager_wins / games
    sd = np.sqrt(max(documented * (1 - documented), 0.01 * 0.99) * (1 / games + 1 / 2000))
    assert abs(observed - documented) <= 3.3 * sd, (observed, documented)
    assert tally.draws == 0
