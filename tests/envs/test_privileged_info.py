"""Every env declares the ``info`` keys an agent must never see, and nothing privileged reaches an agent.

An agent may know its observation and ``envs.public_info(info, envs.privileged_info_keys(env))``. These tests
play every registered env with random legal moves and compare what an agent would see against the truth
that the test reads from the env's internals: the search question's gold chain and answers, the Werewolf and
TextArena players' roles, and the seed the episode was started from. Each checker is also run on a planted
leak, so a checker that cannot fail fails here.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.envs.registration import load_env_creator
from pettingzoo import AECEnv
from pettingzoo.utils import BaseParallelWrapper, parallel_to_aec, wrappers

import envs
from agents.base import EnvSpaces
from agents.baselines.search import RandomSearcher, RetrieveOnce, SearchOracle, oracle, retrieve_once
from envs.search.scoring import normalize
from envs.werewolf.game import NIGHT, ROLES

SINGLE = [r.id for r in envs.list_envs(kind="single")]
MULTI = [r.id for r in envs.list_envs(kind="multi")]
SEED = 918_273_645  # distinctive, so that finding it in what an agent sees is no coincidence
MAX_STEPS = 200
SEARCH_IDS = {"structured": "arena/SearchQA-v0", "text": "arena/SearchQAText-v0"}
GENERATORS = (
    np.random.Generator,
    np.random.BitGenerator,
    np.random.RandomState,
    random.Random,
    torch.Generator,
)


# -- what an agent sees, as values ------------------------------------------------------------------------


def _nodes(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every value nested in ``value`` (mappings, sequences, arrays; integer arrays also element by element),
    with its path."""
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _nodes(item, f"{path}[{key!r}]")
    elif isinstance(value, (list, tuple, set, frozenset)):
        for i, item in enumerate(value):
            yield from _nodes(item, f"{path}[{i}]")
    elif isinstance(value, np.ndarray) and value.dtype.kind in "iu" and value.size <= 10_000:
        for i, item in enumerate(value.ravel().tolist()):
            yield f"{path}[{i}]", item


def _ints(value: Any) -> set[int]:
    return {v for _, v in _nodes(value) if isinstance(v, (int, np.integer)) and not isinstance(v, bool)}


def _words(value: Any) -> str:
    """The strings and numbers in ``value``, normalised as answers are (SQuAD), padded with spaces."""
    parts = [str(v) for _, v in _nodes(value) if isinstance(v, (str, int, float, np.integer, np.floating))]
    return f" {normalize(' . '.join(parts))} "


def _seed_leaks(seen: Any) -> list[str]:
    """Where the episode's seed, or a generator, appears in ``seen``."""
    problems = []
    for path, value in _nodes(seen):
        if isinstance(value, GENERATORS) or (isinstance(value, dict) and "bit_generator" in value):
            problems.append(f"a random generator at {path}")
        elif (isinstance(value, (int, np.integer)) and value == SEED) or (
            isinstance(value, str) and str(SEED) in value
        ):
            problems.append(f"the seed at {path}")
    return problems


def _check_filtered(info: dict, keys: frozenset[str]) -> dict:
    """The public info, after checking that exactly the declared keys were dropped."""
    public = envs.public_info(info, keys)
    assert keys.isdisjoint(public) and set(public) == set(info) - keys
    return public


# -- the contract ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("env_id", SINGLE)
def test_every_single_agent_id_declares_privileged_info_keys_on_its_class(env_id):
    """The class behind the id declares a frozenset of str, read the same through Gymnasium's wrappers."""
    cls = load_env_creator(gym.spec(env_id).entry_point)
    keys = envs.privileged_info_keys(cls)
    assert isinstance(keys, frozenset) and all(isinstance(k, str) for k in keys)
    env = gym.make(env_id)
    assert isinstance(env, gym.Wrapper) and envs.privileged_info_keys(env) == keys
    env.close()


@pytest.mark.parametrize("name", MULTI)
def test_every_multi_agent_game_declares_privileged_info_keys_in_both_apis_and_conversions(name):
    aec, parallel = envs.make_multi(name), envs.make_multi(name, parallel=True)
    keys = envs.privileged_info_keys(aec)
    assert isinstance(keys, frozenset) and all(isinstance(k, str) for k in keys)
    assert "privileged_info_keys" in dir(type(aec.unwrapped))
    for wrapped in (parallel, BaseParallelWrapper(parallel), parallel_to_aec(parallel)):
        assert envs.privileged_info_keys(wrapped) == keys


def test_the_test_only_envs_declare_privileged_info_keys(registered_test_envs):
    for env_id in registered_test_envs.values():
        multi = envs.get_record(env_id).multi_agent  # the game: a parallel env converted to AEC, wrapped
        env = envs.make_multi(env_id) if multi else gym.make(env_id)
        assert envs.privileged_info_keys(env) == frozenset()


class _Undeclared(gym.Env):
    __module__ = "envs.example"  # as if it were one of this project's envs
    observation_space = gym.spaces.Discrete(2)
    action_space = gym.spaces.Discrete(2)


class _UndeclaredGame(AECEnv):
    __module__ = "envs.example"
    metadata: ClassVar[dict] = {"name": "undeclared_v0"}


class _Foreign(gym.Env):
    observation_space = gym.spaces.Discrete(2)
    action_space = gym.spaces.Discrete(2)


def test_an_env_class_without_a_declaration_is_an_error_not_silently_public():
    for env in (_Undeclared(), gym.wrappers.TimeLimit(_Undeclared(), 5), _Undeclared):
        with pytest.raises(envs.UndeclaredPrivateInfoError, match="_Undeclared does not declare"):
            envs.privileged_info_keys(env)
    with pytest.raises(envs.UndeclaredPrivateInfoError, match="_UndeclaredGame"):
        envs.privileged_info_keys(wrappers.OrderEnforcingWrapper(_UndeclaredGame()))
    # An env from outside this project (Gymnasium's own, a user's) that declares nothing has no privileged
    # keys: the arena cannot know any, and its info passes as its authors made it.
    assert envs.privileged_info_keys(_Foreign()) == frozenset()
    assert envs.privileged_info_keys(gym.make("CartPole-v1")) == frozenset()

    class Misdeclared(_Undeclared):
        privileged_info_keys: ClassVar = {"gold"}  # a mutable set: rejected

    with pytest.raises(TypeError, match="frozenset of str"):
        envs.privileged_info_keys(Misdeclared())


def test_public_info_is_a_shallow_copy_without_the_privileged_keys():
    mask = np.ones(3, dtype=bool)
    info = {"gold": {"doc_ids": (1, 2)}, "action_mask": mask, "turn": 0}
    public = envs.public_info(info, frozenset({"gold", "absent"}))
    assert public == {"action_mask": mask, "turn": 0} and public["action_mask"] is mask
    assert "gold" in info  # the env's own dict is left alone


# -- every registered env, played -----------------------------------------------------------------------


def _tool_call(rng: np.random.Generator, transcript: str) -> str:
    """A random text tool call on words of the transcript, answering rarely so that episodes run on."""
    tool = str(rng.choice(["search", "open", "lookup", "calculate", "answer"], p=[0.45, 0.2, 0.15, 0.1, 0.1]))
    if tool == "open":
        return f"open[{int(rng.integers(300))}]"
    words = re.findall(r"[A-Za-z0-9]+", transcript)
    start = int(rng.integers(len(words)))
    return f"{tool}[{' '.join(words[start : start + 1 + int(rng.integers(3))])}]"


def _single_action(env: gym.Env, observation: Any, info: dict, rng: np.random.Generator) -> Any:
    space = env.action_space
    if isinstance(space, gym.spaces.Text):
        return _tool_call(rng, observation)
    if isinstance(space, gym.spaces.Discrete) and "action_mask" in info:
        return int(space.start + rng.choice(np.flatnonzero(info["action_mask"])))
    return space.sample()


@pytest.mark.parametrize("env_id", SINGLE)
def test_a_random_episode_shows_no_declared_key_and_neither_the_seed_nor_a_generator(env_id):
    """One episode (at most 200 steps) of random legal actions: every public info lacks exactly the declared
    keys, each declared key is in the unfiltered info at least once (no stale declaration), and neither the
    observation nor the public info holds the seed of the episode or a random generator."""
    env = gym.make(env_id)
    keys = envs.privileged_info_keys(env)
    rng = np.random.default_rng(0)
    env.action_space.seed(0)
    observation, info = env.reset(seed=SEED)
    provided: set[str] = set()
    for _ in range(MAX_STEPS):
        provided |= keys & set(info)
        public = _check_filtered(info, keys)
        assert not _seed_leaks([observation, public]), _seed_leaks([observation, public])
        observation, _, terminated, truncated, info = env.step(_single_action(env, observation, info, rng))
        if terminated or truncated:
            break
    provided |= keys & set(info)
    assert not _seed_leaks([observation, _check_filtered(info, keys)])
    assert provided == keys, f"declared but never in info: {sorted(keys - provided)}"
    env.close()


def _multi_action(env, agent: str, info: dict, rng: np.random.Generator) -> Any:
    space = env.action_space(agent)
    if "action_mask" in info:
        space.seed(int(rng.integers(2**31)))
        return space.sample(mask=info["action_mask"])
    if isinstance(space, gym.spaces.Text):  # TextArena: a vote or a target as "[k]"
        return f"[{int(rng.integers(len(env.possible_agents)))}]"
    return space.sample()


@pytest.mark.parametrize("name", MULTI)
def test_a_random_game_shows_no_seat_a_declared_key_or_the_seed_in_both_apis(name):
    """A game of random legal moves per API (at most 200 moves): every seat's public info lacks exactly the
    declared keys, and no seat's observation or public info holds the seed or a random generator."""
    rng = np.random.default_rng(1)
    env = envs.make_multi(name)
    keys = envs.privileged_info_keys(env)
    env.reset(seed=SEED)
    provided: set[str] = set()
    for moves, agent in enumerate(env.agent_iter()):
        for other in env.agents:
            provided |= keys & set(env.infos[other])
            public = _check_filtered(env.infos[other], keys)
            assert not _seed_leaks([env.observe(other), public]), (other, _seed_leaks([public]))
        _, _, terminated, truncated, info = env.last()
        done = terminated or truncated
        env.step(None if done else _multi_action(env, agent, info, rng))
        if moves >= MAX_STEPS:
            break
    parallel = envs.make_multi(name, parallel=True)
    observations, infos = parallel.reset(seed=SEED)
    for _ in range(MAX_STEPS):
        for agent in infos:
            provided |= keys & set(infos[agent])
            public = _check_filtered(infos[agent], keys)
            assert not _seed_leaks([observations[agent], public]), (agent, _seed_leaks([public]))
        if not parallel.agents:
            break
        actions = {a: _multi_action(parallel, a, infos[a], rng) for a in parallel.agents}
        observations, _, _, _, infos = parallel.step(actions)
    assert provided == keys, f"declared but never in info: {sorted(keys - provided)}"


def test_the_seed_checker_catches_a_planted_seed_and_generator():
    assert _seed_leaks({"state": {"seed": SEED}}) and _seed_leaks({"rng": np.random.default_rng(0)})
    assert _seed_leaks({"note": f"seeded with {SEED}"}) and not _seed_leaks({"turn": 3, "x": np.zeros(2)})


# -- search: the gold chain and the answer ----------------------------------------------------------------

MIN_DOC_ID = 11  # smaller ints in an info are indistinguishable from its counters (turns <= 10, hops <= 4)


def _search_leaks(public: dict, gold: tuple[int, ...], answers: tuple[str, ...], seen: str, shown: set[int]):
    """What ``public`` reveals beyond what the agent has been shown: the gold chain (as a sequence, or a
    document id of it not shown yet), or an answer (name or alias) that no text shown so far contains."""
    problems = []
    for path, value in _nodes(public):
        is_ints = isinstance(value, (list, tuple, np.ndarray)) and all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value
        )
        if is_ints and tuple(int(v) for v in value) == gold:
            problems.append(f"the gold chain at {path}")
    hidden = {d for d in gold if d >= MIN_DOC_ID and d not in shown}
    problems += [f"gold document {d} before it was shown" for d in sorted(hidden & _ints(public))]
    known, words = f" {normalize(seen)} ", _words(public)
    for answer in answers:
        token = f" {normalize(answer)} "
        if token not in known and token in words:
            problems.append(f"the answer {answer!r} before any shown text held it")
    return problems


def _structured_move(env, info: dict, rng: np.random.Generator) -> tuple[int, int | None]:
    """A random legal action, searching more often than answering; and the document it opens, if any."""
    base, mask = env.unwrapped, info["action_mask"]
    legal = [t for t in (0, 1, 2) if mask[t * base.num_slots : (t + 1) * base.num_slots].any()]
    weights = np.array([{0: 0.6, 1: 0.25, 2: 0.15}[t] for t in legal])
    tool = int(rng.choice(legal, p=weights / weights.sum()))
    slot = int(rng.choice(np.flatnonzero(mask[tool * base.num_slots : (tool + 1) * base.num_slots])))
    return tool * base.num_slots + slot, (info["item_docs"][slot] if tool == 1 else None)


@pytest.mark.parametrize("interface", ["structured", "text"])
def test_search_public_info_never_holds_the_gold_chain_or_an_answer_not_yet_shown(interface):
    """The search env's public info, at every turn of 40 random episodes (10 per hop count): never the gold
    chain, no gold document id before a search or open showed it, and no answer (name or alias) before a
    document holding it was shown. The truth comes from the env's internals (its question); the unfiltered
    info still carries the gold chain, so the oracle can follow it."""
    rng = np.random.default_rng(2)
    checked = 0
    for hops in (1, 2, 3, 4):
        env = gym.make(SEARCH_IDS[interface], hops=hops, split="test")
        base, keys = env.unwrapped, envs.privileged_info_keys(env)
        assert keys == {"gold"}
        for episode in range(10):
            observation, info = env.reset(seed=episode)
            question = base.question
            gold, answers = tuple(question.doc_ids), tuple(question.answers)
            seen, shown, done = question.text, set(), False
            while True:
                assert tuple(info["gold"]["doc_ids"]) == gold  # the unfiltered info still has it
                public = _check_filtered(info, keys)
                assert not _search_leaks(public, gold, answers, seen, shown), (
                    _search_leaks(public, gold, answers, seen, shown),
                    question,
                )
                checked += 1
                if done:
                    break
                if interface == "text":
                    action = _tool_call(rng, observation)
                else:
                    action, opened = _structured_move(env, info, rng)
                    tool, slot = divmod(action, base.num_slots)
                    docs = base.corpus.search(info["items"][slot], base.top_k) if tool == 0 else []
                    docs += [opened] if opened is not None else []
                    seen += "\n" + "\n".join(base.corpus.document(d) for d in docs)
                    shown |= set(docs)
                observation, _, terminated, truncated, info = env.step(action)
                if interface == "text":
                    seen += "\n" + observation
                    shown |= {int(d) for d in re.findall(r"\[(\d+)\]", observation)}
                done = terminated or truncated
    assert checked > 200


def test_the_search_checker_catches_the_unfiltered_info_and_a_planted_answer():
    """Positive control: the raw info (with ``gold``), a gold document id and the answer planted under
    another key are all reported; the public info of the same state is not."""
    env = gym.make(SEARCH_IDS["text"], hops=2, split="test")
    _, info = env.reset(seed=0)
    question = env.unwrapped.question
    gold, answers, seen = tuple(question.doc_ids), tuple(question.answers), question.text
    public = envs.public_info(info, envs.privileged_info_keys(env))
    assert not _search_leaks(public, gold, answers, seen, set())
    assert any("gold chain" in p for p in _search_leaks(info, gold, answers, seen, set()))
    planted = {**public, "hint": {"next": max(gold)}}
    assert max(gold) < MIN_DOC_ID or _search_leaks(planted, gold, answers, seen, set())
    for answer in answers:
        assert _search_leaks({**public, "note": f"it is {answer}."}, gold, answers, seen, set())


def _play(env, agent, questions, keys: frozenset[str] | None = None) -> np.ndarray:
    """(em, f1, searches) per question; the agent gets the public info when ``keys`` is given."""
    out = []
    for i in questions:
        observation, info = env.reset(options={"question": i})
        agent.reset(seed=i)
        done = False
        while not done:
            seen = info if keys is None else envs.public_info(info, keys)
            observation, _, terminated, truncated, info = env.step(agent.act(observation, seen))
            done = terminated or truncated
        out.append((info["em"], info["f1"], info["num_searches"]))
    return np.array(out, dtype=float)


def test_only_the_oracle_declares_that_it_uses_privileged_info():
    assert SearchOracle.uses_privileged_info is True
    assert not getattr(RetrieveOnce, "uses_privileged_info", False)
    assert not getattr(RandomSearcher, "uses_privileged_info", False)


@pytest.mark.parametrize("interface", ["structured", "text"])
def test_oracle_on_the_full_info_still_scores_em_one_with_h_searches_and_cannot_play_on_the_public_info(
    interface,
):
    """The oracle keeps its known score from the full info (EM = F1 = 1 after exactly h searches, as in
    tests/agents/test_search_baselines.py, here on 10 held-out questions per hop count); from the public
    info it fails at its first hop, as the gold chain it follows is not there. retrieve_once, which reads
    only public entries, scores as before on the public info (1-hop questions: EM 1 after one search)."""
    for hops in (1, 2, 3, 4):
        env = gym.make(SEARCH_IDS[interface], hops=hops, split="test")
        keys = envs.privileged_info_keys(env)
        results = _play(env, oracle(EnvSpaces.of(env)), range(10))
        assert np.all(results[:, :2] == 1.0) and np.all(results[:, 2] == hops), (hops, results.mean(0))
        with pytest.raises(KeyError, match="gold"):
            _play(env, oracle(EnvSpaces.of(env)), range(1), keys)
    env = gym.make(SEARCH_IDS[interface], hops=1, split="test")
    results = _play(env, retrieve_once(EnvSpaces.of(env)), range(20), envs.privileged_info_keys(env))
    assert np.all(results[:, 0] == 1.0) and np.all(results[:, 2] == 1)


# -- Werewolf: other players' roles ----------------------------------------------------------------------

ROLE_WORDS = re.compile(r"villager|werewol|wolf|seer|doctor", re.IGNORECASE)
SIDE_WORDS = re.compile(r"wolf|werewol", re.IGNORECASE)
ROLE_ONLY_WORDS = re.compile(r"villager|seer|doctor", re.IGNORECASE)
PLAYER = re.compile(r"Player (\d+)")


def _werewolf_leaks(seat: int, roles: list[str], observation: dict, public: dict, checked: set[int]):
    """What seat ``seat`` sees of the other seats' roles beyond what it may know: its own role and side; a
    werewolf also its partners (and so everyone's side); the seer the side of the seats it checked
    (``checked``: every seat it targeted at night, an upper bound). ``roles`` is the truth."""
    n, problems = len(roles), []
    wolves = {s for s, r in enumerate(roles) if r == "werewolf"}
    own, side = roles[seat], ("werewolves" if seat in wolves else "villagers")

    def knows_side(j: int) -> bool:
        return j == seat or seat in wolves or (own == "seer" and j in checked)

    def knows_role(j: int) -> bool:
        return j == seat or (seat in wolves and j in wolves)

    teams = ["werewolves" if s in wolves else "villagers" for s in range(n)]
    truths = (roles, [ROLES.index(r) for r in roles], teams)
    for path, value in _nodes(public):
        sequence = isinstance(value, (list, tuple, np.ndarray)) and len(value) == n
        if sequence and any(list(np.asarray(value).tolist()) == list(t) for t in truths):
            problems.append(f"every seat's role or side at info{path}")
    if public.get("role", own) != own or public.get("team", side) != side:
        problems.append(
            f"info role/team {public.get('role')}/{public.get('team')} is not the own {own}/{side}"
        )
    rest = re.sub(own, " ", re.sub(side, " ", repr(public)))  # the side first: "villagers" holds "villager"
    if ROLE_WORDS.search(rest):
        problems.append(f"another role named in the info: {ROLE_WORDS.search(rest).group()!r}")
    if observation["role"] != ROLES.index(own):
        problems.append("observation role is not the own role")
    for j, team in enumerate(np.asarray(observation["known_team"]).tolist()):
        if team and (not knows_side(j) or team != (2 if j in wolves else 1)):
            problems.append(f"known_team shows the side of Player {j}")
    for sentence in re.split(r"[.;\n]", observation["text"]):
        seats = [int(j) for j in PLAYER.findall(sentence)]
        if SIDE_WORDS.search(sentence) and not all(knows_side(j) for j in seats):
            problems.append(f"side of another player in {sentence!r}")
        if ROLE_ONLY_WORDS.search(sentence) and not all(knows_role(j) for j in seats):
            problems.append(f"role of another player in {sentence!r}")
    return problems


def _werewolf_move(observation: dict, info: dict, rng: np.random.Generator) -> dict:
    """A random legal move; speech and chat in hex tokens, which cannot spell a role."""
    mask = info["action_mask"]
    move = {"target": int(rng.choice(np.flatnonzero(mask["target"])))}
    if "bid" in mask:
        move["bid"] = int(rng.choice(np.flatnonzero(mask["bid"])))
    if mask["text"] is None:
        move["text"] = "xk" + "".join(rng.choice(list("0123456789abcdef"), size=int(rng.integers(1, 12))))
    return move


def _note_check(roles, game, seat: int, move: dict, checked: set[int]) -> None:
    if roles[seat] == "seer" and game.phase == NIGHT and move["target"] < len(roles):
        checked.add(move["target"])


CONFIGS = [
    {},
    {"speaking_order": "bidding", "vote_rule": "plurality"},
    {"num_players": 5, "num_werewolves": 1},
]


def test_no_werewolf_seat_sees_another_players_hidden_role_in_random_games():
    """30 AEC and 15 parallel games of random legal moves over three rule sets: until the game is over, every
    seat's observation and public info show another seat's role or side only where the seat may know it,
    judged against the roles the env dealt (read from its game)."""
    rng = np.random.default_rng(3)
    checks = 0
    for game_index in range(30):
        env = envs.make_multi("werewolf", **CONFIGS[game_index % 3])
        keys = envs.privileged_info_keys(env)
        env.reset(seed=game_index)
        game = env.unwrapped.game
        roles = [ROLES[r] for r in game.roles]
        checked: set[int] = set()
        for agent in env.agent_iter():
            observation, _, terminated, truncated, info = env.last()
            if not game.over:
                for other in env.agents:
                    seat = env.possible_agents.index(other)
                    public = envs.public_info(env.infos[other], keys)
                    problems = _werewolf_leaks(seat, roles, env.observe(other), public, checked)
                    assert not problems, (other, roles, problems)
                    checks += 1
            if terminated or truncated:
                env.step(None)
                continue
            move = _werewolf_move(observation, info, rng)
            _note_check(roles, game, env.possible_agents.index(agent), move, checked)
            env.step(move)
    for game_index in range(15):
        env = envs.make_multi("werewolf", parallel=True, **CONFIGS[game_index % 3])
        keys = envs.privileged_info_keys(env)
        observations, infos = env.reset(seed=100 + game_index)
        roles = [ROLES[r] for r in env.game.roles]
        checked = set()
        while env.agents:
            for agent in env.agents:
                seat = env.possible_agents.index(agent)
                public = envs.public_info(infos[agent], keys)
                problems = _werewolf_leaks(seat, roles, observations[agent], public, checked)
                assert not problems, (agent, roles, problems)
                checks += 1
            actions = {}
            for agent in env.agents:
                if infos[agent]["acting"]:
                    actions[agent] = _werewolf_move(observations[agent], infos[agent], rng)
                    _note_check(roles, env.game, env.possible_agents.index(agent), actions[agent], checked)
            observations, _, _, _, infos = env.step(actions)
    assert checks > 5_000


def test_the_werewolf_checker_catches_planted_leaks():
    """Positive control: every seat's roles in the info, another role's name in the info, a partner's role in
    a villager's text and a side in known_team are all reported; the real view of the same seat is not."""
    env = envs.make_multi("werewolf", roles=["werewolf", "werewolf", "seer", "doctor"] + ["villager"] * 3)
    env.reset(seed=0)
    roles = ["werewolf", "werewolf", "seer", "doctor", "villager", "villager", "villager"]
    observation, info = env.observe("player_4"), env.infos["player_4"]
    assert not _werewolf_leaks(4, roles, observation, info, set())
    assert _werewolf_leaks(4, roles, observation, {**info, "table": {"roles": roles}}, set())
    assert _werewolf_leaks(4, roles, observation, {**info, "note": "the doctor sits left"}, set())
    text = observation["text"] + "\nDay 1, Player 6: Player 0 is a werewolf."
    assert _werewolf_leaks(4, roles, {**observation, "text": text}, info, set())
    known = np.asarray(observation["known_team"]).copy()
    known[0] = 2
    assert _werewolf_leaks(4, roles, {**observation, "known_team": known}, info, set())
    assert not _werewolf_leaks(2, roles, {**env.observe("player_2"), "known_team": _seer_view(0)}, {}, {0})


def _seer_view(checked_wolf: int) -> np.ndarray:
    known = np.zeros(7, dtype=np.int64)
    known[2], known[checked_wolf] = 1, 2
    return known


# -- TextArena: roles only at the end, and only one's own ---------------------------------------------------


@pytest.mark.skipif("secret_mafia" not in MULTI, reason="textarena is not installed")
def test_secret_mafia_infos_hold_no_role_until_the_end_and_then_only_the_seats_own():
    """Random votes until the game ends: before the end no seat's public info names a role; the final info
    of each seat holds that seat's role as TextArena dealt it (read from TextArena's env)."""
    env = envs.make_multi("secret_mafia")
    keys = envs.privileged_info_keys(env)
    env.reset(seed=4)
    inner = env.unwrapped._game
    while hasattr(inner, "env"):
        inner = inner.env
    roles = {f"player_{i}": role for i, role in inner.player_roles.items()}
    rng = np.random.default_rng(4)
    finals = {}
    for agent in env.agent_iter(max_iter=2_000):
        _, _, terminated, truncated, info = env.last()
        public = envs.public_info(info, keys)
        if terminated or truncated:
            finals[agent] = public
            env.step(None)
            continue
        assert not any(r.lower() in _words(public) for r in set(roles.values())), public
        env.step(f"[{int(rng.integers(len(roles)))}]")
    assert set(finals) == set(roles)
    assert all(finals[a].get("role", roles[a]) == roles[a] for a in roles)
