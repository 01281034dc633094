"""Language-model players: prompts, reply parsing, the OpenAI-compatible client against a fake server."""

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from werewolf_play import play_checking_every_move

import agents
import envs
from agents.base import EnvSpaces
from agents.language import TINY
from agents.lm import LanguageModelError, LanguageModelPlayer, OpenAIChatModel, clean_text


def seat_spaces(env):
    return EnvSpaces(env.observation_space("player_0"), env.action_space("player_0"), "werewolf")


def play(env, players, seed):
    env.reset(seed=seed)
    invalid = {}
    for name in env.agent_iter():
        observation, _, terminated, truncated, info = env.last()
        if terminated or truncated:
            invalid[name] = info["invalid_actions"]
            env.step(None)
        else:
            env.step(players[name].act(observation, info))
    return invalid


def format_follower(prompt: str) -> str:
    """A stand-in model that reads the answer format from the prompt and picks the first legal choice."""
    reply = []
    if "SAY:" in prompt:
        reply.append("SAY: I am a simple model.")
    targets = re.search(r"TARGET: <one of ([\d, ]+), or none>", prompt)
    if targets:
        reply.append(f"TARGET: {targets.group(1).split(',')[0]}")
    bids = re.search(r"BID: <(\d+) to (\d+)", prompt)
    if bids:
        reply.append(f"BID: {bids.group(2)}")
    return "\n".join(reply)


@pytest.mark.parametrize("env_kwargs", [{}, {"speaking_order": "bidding"}])
def test_a_model_that_follows_the_prompt_format_makes_only_legal_understood_moves(env_kwargs):
    env = envs.make_multi("werewolf", **env_kwargs)
    players = {
        a: agents.make("werewolf/lm", seat_spaces(env), model=format_follower) for a in env.possible_agents
    }
    for seed in range(5):
        assert set(play(env, players, seed).values()) == {0}
        assert all(p.unparsed == 0 for p in players.values())


def test_garbage_replies_still_become_legal_moves_and_are_counted_as_unparsed():
    """Unicode, newlines, out-of-range and masked targets, absurd bids: the env must see no illegal move."""
    rng = np.random.default_rng(0)
    junk = [
        "\u00e9\u00e8 \n\t TARGET: 99\nBID: 77",
        "TARGET: player 0\nSAY: " + "x" * 900,
        "",
        "BID: -1",
        "\x00\x07",
    ]

    def garbage(prompt):
        return junk[int(rng.integers(len(junk)))]

    env = envs.make_multi("werewolf", speaking_order="bidding")
    players = {a: LanguageModelPlayer(seat_spaces(env), garbage) for a in env.possible_agents}
    for seed in range(5):
        assert set(play(env, players, seed).values()) == {0}
    assert sum(p.unparsed for p in players.values()) > 0


def test_clean_text_keeps_one_line_of_printable_ascii_within_the_limit():
    assert clean_text("  Hello\n\tworld \u00e9!  ", 200) == "Hello world !"
    assert clean_text("abcdef", 3) == "abc"


class FakeChatServer:
    """A chat-completions server on 127.0.0.1 (port chosen by the OS) that records requests."""

    def __init__(self, reply: str = "SAY: hello\nTARGET: none", status: int = 200):
        self.requests = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append((self.path, dict(self.headers), body))
                payload = json.dumps({"choices": [{"message": {"role": "assistant", "content": reply}}]})
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(payload.encode() if status == 200 else b'{"error": "boom"}')

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_openai_client_posts_a_chat_completion_and_returns_the_message_content():
    with FakeChatServer(reply="SAY: I trust Player 2.\nTARGET: 2") as server:
        model = OpenAIChatModel(
            server.base_url, "tiny-model", api_key="secret", temperature=0.1, max_tokens=32
        )
        assert model("What now?") == "SAY: I trust Player 2.\nTARGET: 2"
    path, headers, body = server.requests[0]
    assert path == "/v1/chat/completions"
    assert headers["Authorization"] == "Bearer secret"
    assert body["model"] == "tiny-model" and body["temperature"] == 0.1 and body["max_tokens"] == 32
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert body["messages"][1]["content"] == "What now?"


def test_registered_lm_player_plays_a_move_through_the_server():
    env = envs.make_multi(
        "werewolf", roles=["villager", "werewolf", "werewolf", "seer", "doctor", "villager", "villager"]
    )
    env.reset(seed=0)
    with FakeChatServer(reply="SAY: Let us take Player 0.\nTARGET: 0") as server:
        player = agents.make("werewolf/lm", seat_spaces(env), base_url=server.base_url, model_name="tiny")
        observation, _, _, _, info = env.last()  # werewolf 1 opens the night chat
        move = player.act(observation, info)
    assert move == {"text": "Let us take Player 0.", "target": 0}
    prompt = server.requests[0][2]["messages"][1]["content"]
    assert prompt.startswith(observation["text"]) and "TARGET: <one of 0, 3, 4, 5, 6, or none>" in prompt


def test_openai_client_reports_an_http_error_as_a_language_model_error():
    with FakeChatServer(status=500) as server, pytest.raises(LanguageModelError, match="HTTP 500"):
        OpenAIChatModel(server.base_url, "tiny")("hello")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"base_url": "127.0.0.1:8000"}, "base_url"),
        ({"model": ""}, "model"),
        ({"temperature": 3.0}, "temperature"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"timeout_s": 0}, "timeout_s"),
    ],
)
def test_openai_client_rejects_bad_settings_naming_the_field(kwargs, field):
    settings = {"base_url": "http://127.0.0.1:1/v1", "model": "m", **kwargs}
    with pytest.raises(ValueError, match=field):
        OpenAIChatModel(settings.pop("base_url"), settings.pop("model"), **settings)


def test_the_local_model_player_makes_only_legal_moves_and_its_seats_share_one_model():
    """The default werewolf/lm (here the tiny random model of the shipped architecture): speech written by
    the model, targets and bids chosen among the legal ones, so even a random model never plays illegally."""
    env = envs.make_multi("werewolf", speaking_order="bidding")
    players = {
        a: agents.make("werewolf/lm", seat_spaces(env), language_model=TINY) for a in env.possible_agents
    }
    assert len({id(p.model) for p in players.values()}) == 1
    for i, player in enumerate(players.values()):
        player.reset(seed=i)
    env.reset(seed=0)
    play_checking_every_move(env, players)


def test_the_local_model_player_replays_a_game_from_its_seeds():
    """Same env seed and agent seeds, same moves: sampling uses the player's own generator."""

    def transcript():
        env = envs.make_multi("werewolf")
        players = {
            a: agents.make("werewolf/lm", seat_spaces(env), language_model=TINY) for a in env.possible_agents
        }
        for i, player in enumerate(players.values()):
            player.reset(seed=100 + i)
        moves = []
        env.reset(seed=4)
        for name in env.agent_iter():
            observation, _, terminated, truncated, info = env.last()
            move = None if terminated or truncated else players[name].act(observation, info)
            moves.append((name, move))
            env.step(move)
        return moves

    assert transcript() == transcript()


def test_local_model_player_settings_are_checked():
    env = envs.make_multi("werewolf")
    with pytest.raises(ValueError, match=r"temperature=3 must be in \[0, 2\]"):
        agents.make("werewolf/lm", seat_spaces(env), language_model=TINY, temperature=3)
    with pytest.raises(ValueError, match="needs both base_url and model_name"):
        agents.make("werewolf/lm", seat_spaces(env), base_url="http://127.0.0.1:1/v1")
