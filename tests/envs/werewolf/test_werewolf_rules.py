"""The rules of the Werewolf game, checked on games whose every move the test chooses."""

import random

import numpy as np
import pytest

import envs
from agents.base import EnvSpaces, RandomAgent
from envs.werewolf.game import PHASES, Rules

ROLES_7 = ["werewolf", "werewolf", "seer", "doctor", "villager", "villager", "villager"]
NONE = 7


def play(env, policy):
    """Drive an AEC game to its end with ``policy(agent, observation, info)``; return the final infos."""
    finals = {}
    for agent in env.agent_iter():
        observation, _, terminated, truncated, info = env.last()
        if terminated or truncated:
            finals[agent] = (info, env.unwrapped._cumulative_rewards[agent], terminated, truncated)
            env.step(None)
        else:
            env.step(policy(agent, observation, info))
    return finals


def _spaces(env, agent):
    return EnvSpaces(env.observation_space(agent), env.action_space(agent), "werewolf")


def scripted(moves):
    """A policy from a table ``(phase, day, seat) -> target`` (none elsewhere), saying a fixed sentence."""

    def policy(agent, observation, info):
        key = (PHASES[observation["phase"]], observation["day"], observation["seat"])
        return {"text": f"I am {agent}.", "target": moves.get(key, NONE)}

    return policy


def test_doctor_save_majority_exile_and_last_wolf_exiled_give_the_village_the_win():
    """A hand-played game: the doctor saves the wolves' victim, 4 of 7 votes exile a wolf (majority of the
    living), the lone wolf kills an unprotected seer, and exiling the last wolf wins for the village; every
    villager-side seat, dead or alive, gets +1 and each wolf -1."""
    moves = {
        ("night", 1, 0): 4,
        ("night", 1, 1): 4,
        ("night", 1, 2): 0,  # seer checks a wolf
        ("night", 1, 3): 4,  # doctor protects the victim
        **{("vote", 1, s): 0 for s in (2, 3, 4, 5)},
        ("vote", 1, 0): 2,
        ("vote", 1, 1): 2,
        ("night", 2, 1): 2,
        ("night", 2, 3): 3,
        **{("vote", 2, s): 1 for s in (3, 4, 5, 6)},
    }
    env = envs.make_multi("werewolf", roles=ROLES_7, render_mode="ansi")
    env.reset(seed=0)
    finals = play(env, scripted(moves))
    log = env.unwrapped.render()
    assert "Night 1: nobody was killed." in log
    assert "Day 1: Player 0 was exiled (4 of 7 votes)." in log
    assert "Night 2: Player 2 was killed." in log
    assert "Day 2: Player 1 was exiled (4 of 5 votes)." in log
    assert log.endswith("Game over: the villagers win.")
    for agent, (info, reward, terminated, truncated) in finals.items():
        wolf = agent in ("player_0", "player_1")
        assert terminated and not truncated
        assert info["team"] == ("werewolves" if wolf else "villagers") and info["winner"] == "villagers"
        assert reward == (-1.0 if wolf else 1.0)
        assert info["role"] == ROLES_7[int(agent.split("_")[1])]


def test_werewolves_win_as_soon_as_they_are_as_many_as_the_others():
    """5 players, 2 wolves: one kill leaves 2 wolves against 2 others, which ends the game for the wolves."""
    roles = ["villager", "werewolf", "villager", "werewolf", "villager"]
    env = envs.make_multi(
        "werewolf",
        num_players=5,
        num_werewolves=2,
        num_seers=0,
        num_doctors=0,
        roles=roles,
        render_mode="ansi",
    )
    env.reset(seed=1)
    finals = play(env, scripted({("night", 1, 1): 0, ("night", 1, 3): 0}))
    assert env.unwrapped.render().splitlines()[-2:] == [
        "Night 1: Player 0 was killed.",
        "Game over: the werewolves win.",
    ]
    assert {a: r for a, (_, r, _, _) in finals.items()} == {
        "player_0": -1.0,
        "player_1": 1.0,
        "player_2": -1.0,
        "player_3": 1.0,
        "player_4": -1.0,
    }


def test_majority_rule_needs_more_than_half_of_the_living_while_plurality_exiles_the_most_voted():
    """3 of 7 votes for one player and 1 elsewhere: no exile under majority (3 <= 7/2), exile under plurality;
    a 2-2 tie exiles nobody with tie_rule='no_exile'."""
    three_votes = {("vote", 1, s): 4 for s in (2, 3, 5)} | {("vote", 1, 6): 5}
    tie = {("vote", 1, s): 4 for s in (2, 3)} | {("vote", 1, s): 5 for s in (4, 6)}
    outcomes = {}
    for name, rule, moves in (
        ("majority", "majority", three_votes),
        ("plurality", "plurality", three_votes),
        ("tie", "plurality", tie),
    ):
        env = envs.make_multi(
            "werewolf", roles=ROLES_7, vote_rule=rule, max_cycles=12, render_mode="ansi", wolf_chat=False
        )
        env.reset(seed=0)
        play(env, scripted(moves))
        outcomes[name] = [line for line in env.unwrapped.render().splitlines() if line.startswith("Day 1:")]
    assert outcomes == {
        "majority": ["Day 1: nobody was exiled."],
        "plurality": ["Day 1: Player 4 was exiled (3 of 7 votes)."],
        "tie": ["Day 1: nobody was exiled."],
    }


def test_random_tie_rule_exiles_each_of_two_tied_players_about_half_the_time():
    """2-2 tie broken by the env's generator: over 400 seeds each side is exiled with probability 1/2, so the
    count of one side lies within 200 +- 4 standard deviations (sd = 10)."""
    tie = {("vote", 1, s): 4 for s in (2, 3)} | {("vote", 1, s): 5 for s in (4, 6)}
    exiled_four = 0
    for seed in range(400):
        env = envs.make_multi(
            "werewolf",
            roles=ROLES_7,
            vote_rule="plurality",
            tie_rule="random",
            max_cycles=12,
            render_mode="ansi",
        )
        env.reset(seed=seed)
        play(env, scripted(tie))
        exiled_four += "Day 1: Player 4 was exiled (2 of 7 votes)." in env.unwrapped.render()
    assert 160 <= exiled_four <= 240


def test_bidding_gives_the_floor_to_the_highest_bidder_and_masks_bids_outside_bidding_rounds():
    """With bidding, seat 5 always bids the maximum and everyone else 0, so seat 5 makes every speech of the
    day; outside bidding rounds the bid mask allows only 0 and the text mask only the empty text."""
    env = envs.make_multi(
        "werewolf", roles=ROLES_7, speaking_order="bidding", max_cycles=20, render_mode="ansi"
    )
    env.reset(seed=0)
    masks = []

    def policy(agent, observation, info):
        phase = PHASES[observation["phase"]]
        masks.append((phase, info["action_mask"]))
        return {"text": f"{agent} talks", "target": NONE, "bid": 4 if agent == "player_5" else 0}

    play(env, policy)
    speeches = [line for line in env.unwrapped.render().splitlines() if line.startswith("Day 1, ")]
    assert speeches == ["Day 1, Player 5: player_5 talks"] * 7
    for phase, mask in masks:
        if phase == "bid":
            assert mask["bid"].tolist() == [1] * 5 and mask["text"] == (0, None)
        else:
            assert mask["bid"].tolist() == [1, 0, 0, 0, 0]
            assert mask["text"] == (None if phase in ("speech", "night_chat") else (0, None))


def test_masks_allow_exactly_the_targets_the_rules_allow():
    """Wolves may not target wolves, nobody targets the dead, only the doctor may choose itself, and none
    (index n) is always legal: checked on every move of 50 random games."""
    env = envs.make_multi("werewolf", roles=ROLES_7)
    for seed in range(50):
        env.reset(seed=seed)
        agents = {a: RandomAgent(_spaces(env, a), seed=seed) for a in env.possible_agents}
        for agent in env.agent_iter():
            observation, _, terminated, truncated, info = env.last()
            if terminated or truncated:
                env.step(None)
                continue
            seat, phase = observation["seat"], PHASES[observation["phase"]]
            alive = observation["alive"].astype(bool)
            expected = np.append(alive, True)
            if phase in ("night_chat", "night") and ROLES_7[seat] == "werewolf":
                expected[[0, 1]] = False
            elif phase == "bid":
                expected[:7] = False
            elif not (phase == "night" and ROLES_7[seat] == "doctor"):
                expected[seat] = False
            np.testing.assert_array_equal(info["action_mask"]["target"].astype(bool), expected)
            env.step(agents[agent].act(observation, info))


def test_illegal_moves_count_as_no_move_and_are_counted_per_player():
    """Every player targets werewolf seat 0 (illegal for wolves) and says non-ASCII text in speeches; the
    wolves' votes then count as none (nobody killed), speeches become '...', and the counts add up exactly."""
    env = envs.make_multi("werewolf", roles=ROLES_7, max_cycles=30, render_mode="ansi")
    env.reset(seed=0)
    expected_invalid = dict.fromkeys(env.possible_agents, 0)

    def policy(agent, observation, info):
        phase = PHASES[observation["phase"]]
        seat = observation["seat"]
        target_illegal = not info["action_mask"]["target"][0]
        text_read = phase in ("speech", "night_chat")
        if text_read or target_illegal:
            expected_invalid[agent] += 1
        return {"text": "caf\u00e9" if text_read else "ignored", "target": 0 if seat != 0 else "zero"}

    finals = play(env, policy)
    log = env.unwrapped.render()
    assert "Night 1: nobody was killed." in log and "Day 1, Player 3: ..." in log
    assert {a: info["invalid_actions"] for a, (info, *_) in finals.items()} == expected_invalid


def test_max_cycles_stops_an_endless_game_as_a_draw():
    """Everyone abstains, so nobody ever dies; the game is truncated after max_cycles rounds with reward 0."""
    env = envs.make_multi("werewolf", max_cycles=25)
    env.reset(seed=0)
    finals = play(env, lambda agent, observation, info: {"text": "", "target": NONE})
    assert env.unwrapped.game.cycles == 25
    for info, reward, terminated, truncated in finals.values():
        assert truncated and not terminated and reward == 0.0 and info["winner"] is None


def test_roles_kwarg_deals_exactly_those_roles_and_shuffled_deals_keep_the_counts():
    """``roles`` fixes the deal; without it, each seed deals a permutation of the configured counts, and all
    seats see every role over 70 seeds (the deal is not stuck)."""
    fixed = envs.make_multi("werewolf", roles=ROLES_7)
    fixed.reset(seed=5)
    assert [fixed.infos[a]["role"] for a in fixed.possible_agents] == ROLES_7
    env = envs.make_multi("werewolf")
    seen = set()
    for seed in range(70):
        env.reset(seed=seed)
        deal = [env.infos[a]["role"] for a in env.possible_agents]
        assert sorted(deal) == sorted(ROLES_7)
        seen.update(enumerate(deal))
    assert len(seen) == 7 * 4


def test_same_seed_replays_the_game_byte_for_byte_while_another_game_and_global_rngs_run():
    """Two envs with one seed and the same random agents give identical observations at every step, while a
    third env with another seed steps in between and the global generators are reseeded differently."""
    first, second, other = (envs.make_multi("werewolf", speaking_order="bidding") for _ in range(3))
    for env, seed in ((first, 11), (second, 11), (other, 12)):
        env.reset(seed=seed)
    players = {
        id(env): {a: RandomAgent(_spaces(env, a), seed=i) for i, a in enumerate(env.possible_agents)}
        for env in (first, second, other)
    }
    iterators = [iter(env.agent_iter()) for env in (first, second, other)]
    for step, (a, b) in enumerate(zip(iterators[0], iterators[1], strict=True)):
        random.seed(step)
        np.random.seed(step + 1)  # noqa: NPY002  (disturbs the global generator on purpose)
        records = []
        for env, agent in ((first, a), (second, b)):
            observation, reward, terminated, truncated, info = env.last()
            records.append((agent, observation["text"], reward, terminated, truncated))
            env.step(None if terminated or truncated else players[id(env)][agent].act(observation, info))
        assert records[0] == records[1], f"step {step}"
        third = next(iterators[2], None)
        if third is not None:
            observation, _, terminated, truncated, info = other.last()
            other.step(None if terminated or truncated else players[id(other)][third].act(observation, info))
    assert first.unwrapped.game.log == second.unwrapped.game.log


def test_parallel_env_plays_the_same_game_as_the_aec_env_for_the_same_moves():
    """Both APIs drive one rules engine: the same seed and the same move for each pending seat give the same
    game log, rewards and final infos."""

    def move(seat, phase, day):
        return {"text": f"p{seat} d{day}", "target": (seat * 3 + day) % 8, "bid": (seat + day) % 5}

    aec = envs.make_multi("werewolf", speaking_order="bidding", vote_rule="plurality")
    aec.reset(seed=3)
    aec_finals = play(aec, lambda agent, o, info: move(o["seat"], o["phase"], o["day"]))
    par = envs.make_multi("werewolf", parallel=True, speaking_order="bidding", vote_rule="plurality")
    observations, infos = par.reset(seed=3)
    rewards = {}
    while par.agents:
        actions = {
            a: move(o["seat"], o["phase"], o["day"]) for a, o in observations.items() if infos[a]["acting"]
        }
        observations, rewards, _, _, infos = par.step(actions)
    assert par.game.log == aec.unwrapped.game.log
    assert rewards == {a: r for a, (_, r, _, _) in aec_finals.items()}
    assert {a: (i["team"], i["winner"]) for a, i in infos.items()} == {
        a: (i["team"], i["winner"]) for a, (i, *_) in aec_finals.items()
    }


def test_render_shows_private_lines_and_roles_only_when_asked():
    """The human log hides night chat, checks and protections unless reveal_roles is set."""
    logs = {}
    for reveal in (False, True):
        env = envs.make_multi("werewolf", roles=ROLES_7, render_mode="ansi", reveal_roles=reveal)
        env.reset(seed=0)
        play(env, scripted({("night", 1, 2): 0, ("night", 1, 3): 5}))
        logs[reveal] = env.unwrapped.render()
    assert "Roles: Player 0 werewolf" not in logs[False] and "(to werewolves)" not in logs[False]
    assert logs[True].startswith("Roles: Player 0 werewolf, Player 1 werewolf, Player 2 seer")
    assert "(Player 2 only) Night 1: your check says Player 0 is a werewolf." in logs[True]
    assert "(Player 3 only) Night 1: you protected Player 5." in logs[True]
    public = [line for line in logs[True].splitlines() if not line.startswith(("Roles:", "  ("))]
    assert public == logs[False].splitlines()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"num_players": 3}, "num_players"),
        ({"num_werewolves": 4}, "num_werewolves"),
        ({"num_seers": 2}, "num_seers"),
        ({"num_players": 4, "num_werewolves": 1, "num_seers": 1, "num_doctors": 1}, None),
        ({"speaking_order": "shouting"}, "speaking_order"),
        ({"vote_rule": "unanimous"}, "vote_rule"),
        ({"tie_rule": "coin"}, "tie_rule"),
        ({"discussion_rounds": -1}, "discussion_rounds"),
        ({"max_text_length": 0}, "max_text_length"),
        ({"max_cycles": 0}, "max_cycles"),
        ({"roles": ["werewolf"] * 7}, "roles"),
        ({"render_mode": "rgb_array"}, "render_mode"),
    ],
)
def test_bad_configuration_is_rejected_up_front_naming_the_field(kwargs, field):
    if field is None:  # a legal corner: 4 players with every special role leaves one villager
        envs.make_multi("werewolf", **kwargs).reset(seed=0)
        return
    with pytest.raises(ValueError, match=field):
        envs.make_multi("werewolf", **kwargs)


def test_observation_text_stays_within_its_declared_bound_with_long_speeches():
    """Speeches of the maximum length with the largest table fill the transcript window; the text must stay
    inside the Text space, whose bound ``Rules.observation_text_length`` computes."""
    env = envs.make_multi("werewolf", num_players=20, num_werewolves=9, discussion_rounds=3, max_cycles=120)
    env.reset(seed=0)
    longest = 0

    def policy(agent, observation, info):
        nonlocal longest
        longest = max(longest, len(observation["text"]))
        assert env.observation_space(agent).contains(observation)
        return {"text": "x" * 200, "target": 20}

    play(env, policy)
    assert longest > 30 * 200 and longest <= Rules(num_players=20, num_werewolves=9).observation_text_length()
