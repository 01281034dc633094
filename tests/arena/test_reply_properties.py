"""Property tests of what an agent sends back (hypothesis): whatever a sandboxed agent writes as its reply,
the arena decodes it to numbers or refuses it, and an action is either cast into the space or an INVALID
forfeit; whatever a language model says, the Werewolf player turns it into a legal move. (They found that
a reply with a backspace after a newline left a trailing space in a speech.)"""

import json

import gymnasium as gym
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.lm import parse_reply
from arena.players import AgentFailure, check_action
from arena.results import Status
from arena.sandbox import _decode_numpy

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
TAGGED = st.fixed_dictionaries(
    {
        "__ndarray__": st.sampled_from(["<f4", "<f8", "<i8", "|b1", "<U3", "|O", "nonsense"]),
        "shape": st.lists(st.integers(-1, 3), max_size=3),
        "data": st.lists(st.one_of(st.integers(), st.floats(), st.text(max_size=2)), max_size=9),
    }
)
SPACES = [
    gym.spaces.Discrete(3),
    gym.spaces.Box(-1.0, 1.0, (2,), np.float32),
    gym.spaces.MultiDiscrete([2, 3]),
    gym.spaces.Dict({"target": gym.spaces.Discrete(4), "text": gym.spaces.Text(10)}),
]


@settings(max_examples=300, deadline=None)
@given(reply=st.one_of(JSON, TAGGED, st.lists(TAGGED, max_size=2)))
def test_any_reply_decodes_to_numeric_values_or_is_refused(reply):
    try:
        decoded = json.loads(json.dumps(reply), object_hook=_decode_numpy)
    except (ValueError, TypeError, OverflowError):
        return
    for value in decoded if isinstance(decoded, list) else [decoded]:
        if isinstance(value, np.ndarray):
            assert value.dtype.kind in "biuf"


@settings(max_examples=300, deadline=None)
@given(action=st.one_of(JSON, TAGGED), space=st.sampled_from(SPACES))
def test_any_action_is_cast_into_the_space_or_forfeits_as_invalid(action, space):
    try:
        value = json.loads(json.dumps(action), object_hook=_decode_numpy)
    except (ValueError, TypeError, OverflowError):
        return
    try:
        cast = check_action(value, space)
    except AgentFailure as failure:
        assert failure.status is Status.INVALID
        return
    assert space.contains(cast)


@settings(max_examples=300, deadline=None)
@given(
    reply=st.text(max_size=200) | st.sampled_from(["TARGET: 2", "SAY: hi\nTARGET: none", "BID: 3", "[9]"]),
    legal=st.lists(st.booleans(), min_size=5, max_size=5),
    speaking=st.booleans(),
    bids=st.booleans(),
)
def test_any_model_reply_becomes_a_legal_werewolf_move(reply, legal, speaking, bids):
    mask = {"text": None if speaking else (0, None), "target": np.array([*legal, True], dtype=np.int8)}
    if bids:
        mask["bid"] = np.array([1, 0, 1, 1], dtype=np.int8)
    move, _ = parse_reply(reply, mask, max_text_length=40)
    assert mask["target"][move["target"]]
    assert len(move["text"]) <= 40 and all(" " <= c <= "~" for c in move["text"])
    assert move["text"] == move["text"].strip()  # one clean line: no control characters, no stray spaces
    if bids:
        assert mask["bid"][move["bid"]]
