"""Replays recorded with each match: a Werewolf game's public transcript and final roles, a suite episode's
return, length and bounded trace; each checked against the moves the agents made, seen from outside."""

import copy
import math
import re
import textwrap

import gymnasium as gym
import pytest

import arena.match
import envs
from arena.leaderboard import Board
from arena.match import FRAME_CHARS, TRACE_ROWS, EpisodeTrace, clip
from arena.results import MatchResult, pack_replay, unpack_replay
from arena.scenario import load_scenario
from arena.tournament import game_seats, pairing_games, run_tournament, suite_schedule
from envs.werewolf.game import PHASES

WEREWOLF = """
[scenario]
name = "replays"
kind = "match"
env = "werewolf"
env_kwargs = { num_players = 6 }
games_per_pairing = 4

[[agents]]
name = "werewolf/scripted"
label = "scripted"
[[agents]]
name = "random"
"""


@pytest.fixture
def recorded_moves(monkeypatch):
    """Every (observation, action) of every player started from now on, in the order they were played."""
    moves = []
    start = arena.match.start_player

    class Recording:
        def __init__(self, player):
            self.player = player

        def __getattr__(self, name):
            return getattr(self.player, name)

        def act(self, observation, info):
            action = self.player.act(observation, info)
            moves.append((observation, copy.deepcopy(action)))
            return action

    monkeypatch.setattr(arena.match, "start_player", lambda *args: Recording(start(*args)))
    return moves


def play_and_record(scenario, board, moves) -> dict[str, list]:
    """Play ``scenario`` on ``board`` in this process, one match at a time; each match's moves by match id."""
    by_match = {}

    def keep(result: MatchResult) -> None:
        by_match[result.match_id] = list(moves)
        moves.clear()

    run_tournament(scenario, board, workers=1, on_result=keep)
    return by_match


def public_events(moves: list) -> list[tuple]:
    """What every player heard, from the moves alone: each day's speeches in the order made, then that day's
    vote (seat -> target seat, None for no one)."""
    speeches, votes, players = {}, {}, None
    for observation, action in moves:
        players = len(observation["alive"])
        phase, day, seat = PHASES[observation["phase"]], int(observation["day"]), int(observation["seat"])
        target = int(action["target"])
        if phase == "speech":
            accusation = f" [accuses Player {target}]" if target < players else ""
            line = f"Day {day}, Player {seat}: {action['text'].strip() or '...'}{accusation}"
            speeches.setdefault(day, []).append(("speech", day, line))
        elif phase == "vote":
            votes.setdefault(day, {})[seat] = target if target < players else None
    days = sorted(speeches.keys() | votes.keys())
    return [
        event
        for day in days
        for event in [*speeches.get(day, []), *([("vote", day, votes[day])] if day in votes else [])]
    ]


def transcript_events(transcript: str) -> list[tuple]:
    """The speeches and votes of a transcript, in its order, in the form of :func:`public_events`."""
    events = []
    for line in transcript.splitlines():
        if speech := re.match(r"Day (\d+), Player \d+: ", line):
            events.append(("speech", int(speech.group(1)), line))
        elif vote := re.match(r"Day (\d+) vote: (.*)\.$", line):
            ballots = re.findall(r"Player (\d+) -> (?:Player (\d+)|none)", vote.group(2))
            events.append(("vote", int(vote.group(1)), {int(s): int(t) if t else None for s, t in ballots}))
    return events


def test_a_werewolf_replay_holds_every_public_speech_and_vote_in_order_and_the_dealt_roles(
    tmp_path, recorded_moves
):
    """Each stored game's transcript lists exactly the speeches and votes its players made, in the order
    made; its roles are the deal a fresh env makes from the game's env seed; the werewolves' night chat, heard
    by them only, is not in it."""
    path = tmp_path / "replays.toml"
    path.write_text(WEREWOLF)
    scenario = load_scenario(path)
    with Board("b", root=tmp_path) as board:
        moves = play_and_record(scenario, board, recorded_moves)
        stored = {r.match_id: r for r in board.results(scenario.hash)}
        specs = pairing_games(
            scenario, "scripted", "random", 0, secret=board.secret, seats=game_seats(scenario)
        )
    assert set(stored) == set(moves) == {spec.match_id for spec in specs}
    whispered = 0
    for spec in specs:
        replay = stored[spec.match_id].replay
        expected = public_events(moves[spec.match_id])
        assert any(kind == "vote" for kind, _, _ in expected)
        assert transcript_events(replay["transcript"]) == expected
        game = envs.make_multi("werewolf", num_players=6)
        game.reset(seed=spec.env_seed)
        assert replay["roles"] == {seat: game.infos[seat]["role"] for seat in game.possible_agents}
        night_chat = [
            action["text"].strip()
            for observation, action in moves[spec.match_id]
            if PHASES[observation["phase"]] == "night_chat" and len(action["text"].strip()) >= 12
        ]
        assert not any(text in replay["transcript"] for text in night_chat)
        whispered += len(night_chat)
    assert whispered  # the random player's wolves always say something at night


def suite(tmp_path, env_id: str, kwargs: str, high: str, high_label: str = "") -> object:
    """A two-episode suite of one env, the random agent against ``high`` (labelled ``high_label``)."""
    path = tmp_path / "suite.toml"
    path.write_text(
        textwrap.dedent(f"""
        [scenario]
        name = "suite"
        kind = "suite"
        episodes = 2
        low_reference = "random"
        high_reference = "{high_label or high}"

        [[envs]]
        id = "{env_id}"
        kwargs = {kwargs}

        [[agents]]
        name = "random"
        [[agents]]
        name = "{high}"
        label = "{high_label or high}"
        """)
    )
    return load_scenario(path)


def test_a_cartpole_episode_replay_totals_its_stored_return_one_per_step(tmp_path, registered_test_envs):
    """CartPole pays 1 per step, so each trace row's return so far is its step number and the replay's total
    is the episode's length, which is the stored return."""
    scenario = suite(tmp_path, registered_test_envs["cartpole"], "{}", "random", "random-b")
    with Board("b", root=tmp_path) as board:
        run_tournament(scenario, board)
        results = board.results(scenario.hash)
    assert len(results) == 4
    for result in results:
        replay, (episode,) = result.replay, result.participants
        rows = replay["trace"]
        assert rows[-1]["return"] == replay["length"] == episode.score
        assert all(row["return"] == row["step"] and row["reward"] == 1.0 for row in rows)
        assert "frame" not in rows[-1]  # CartPole has no text render
        assert replay["truncated"] or replay["terminated"]


def test_a_motor_episode_replay_matches_the_same_actions_played_again(tmp_path, recorded_moves):
    """The same actions in a fresh env reset with the episode's env seed give the trace's rewards and returns
    at its steps and the text render at each kept frame; the total is the stored return."""
    env_id = "arena/DCMotorSpeed-v0"
    scenario = suite(tmp_path, env_id, "{ max_episode_steps = 300 }", "motor/pi")
    with Board("b", root=tmp_path) as board:
        moves = play_and_record(scenario, board, recorded_moves)
        results = {r.match_id: r for r in board.results(scenario.hash)}
        specs = suite_schedule(scenario, board.secret)
    for spec in specs:
        result = results[spec.match_id]
        replay, (episode,) = result.replay, result.participants
        env = gym.make(env_id, max_episode_steps=300, render_mode="ansi")
        env.reset(seed=spec.env_seed)
        total, steps = 0.0, {}
        for step, (_, action) in enumerate(moves[spec.match_id], start=1):
            reward = env.step(action)[1]
            total += reward
            steps[step] = (reward, total, env.render())
        assert replay["length"] == len(steps) and replay["trace"][-1]["return"] == total == episode.score
        framed = [row for row in replay["trace"] if "frame" in row]
        assert framed and framed[-1] is replay["trace"][-1]
        for row in replay["trace"]:
            reward, so_far, frame = steps[row["step"]]
            assert (row["reward"], row["return"]) == (reward, so_far)
            assert row.get("frame", frame) == frame


def test_a_trace_keeps_evenly_spaced_rows_and_bounded_frames_however_long_the_episode():
    """10,000 steps: the stride is the power of two that leaves at most TRACE_ROWS rows, each a multiple of
    it, plus the last step; the kept renders fit in FRAME_CHARS; the env renders O(TRACE_ROWS log L) times."""
    renders = []

    def render() -> str:
        renders.append(1)
        return "x" * 1000

    trace, length = EpisodeTrace(render), 10_000
    for _ in range(length):
        trace.step(0.5)
    summary = trace.summary()
    rows, stride = summary["trace"], summary["stride"]
    assert stride == 2 ** math.ceil(math.log2(length / TRACE_ROWS))
    assert [row["step"] for row in rows] == [*range(stride, length, stride), length]
    assert rows[-1]["return"] == trace.total == 5_000.0
    frames = [row["frame"] for row in rows if "frame" in row]
    assert len(frames) == FRAME_CHARS // 1000 and sum(map(len, frames)) <= FRAME_CHARS
    assert "frame" in rows[0] and "frame" in rows[-1]  # the first and the last, the rest evenly between
    assert len(renders) <= (TRACE_ROWS + 1) * (1 + math.log2(length))


def test_clip_keeps_the_start_and_end_of_a_long_text_and_says_how_much_was_cut():
    text = "".join(f"{i:05d}" for i in range(2_000))  # 10,000 characters
    clipped = clip(text, 1_000)
    assert clipped.startswith(text[:500]) and clipped.endswith(text[-500:])
    assert "[... 9000 characters cut ...]" in clipped and len(clipped) < 1_100
    assert clip("short", 1_000) == "short"


def test_a_packed_replay_round_trips_and_anything_else_reads_as_none():
    replay = {"kind": "game", "transcript": "Day 1, Player 0: hello", "roles": {"player_0": "seer"}}
    assert unpack_replay(pack_replay(replay)) == replay
    bomb = pack_replay({"kind": "episode", "padding": "0" * 2_000_000})  # compresses to a few kB
    assert len(bomb) < 10_000
    for damaged in ("not base64!", "aGVsbG8=", bomb, pack_replay([1, 2])):
        assert unpack_replay(damaged) is None
