"""Keyed seeds: agents never learn the env's seed, and common random numbers still hold.

The env is reset with an HMAC of the board's secret over (scenario, env, logical seed), each seat's agent with
an HMAC over (match id, seat). So an agent's seed is no function of the logical seed alone (another secret
gives another seed), the env's seed cannot be recomputed from anything public, and every agent still plays
the same episodes (suites) or deals (both games of a mirrored couple, every pairing) at a logical seed.
"""

from dataclasses import replace
from typing import ClassVar

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces

import arena.match
import arena.tournament
import envs
from arena.leaderboard import Board
from arena.match import MatchSpec, play
from arena.players import AgentRef
from arena.scenario import load_scenario
from arena.seeding import AGENT_SEED_BITS, ENV_SEED_BITS, agent_seed, env_seed
from arena.tournament import game_seats, pairing_games, run_tournament, suite_schedule

A, B = b"a" * 32, b"b" * 32


def test_seeds_are_keyed_by_the_secret_and_separate_the_env_from_each_seat():
    """HMAC-SHA256 truncated: the env seed keeps 63 bits, an agent seed 32 (numpy's legacy seeding limit)."""
    assert env_seed(A, "h", "game{}", 0) == env_seed(A, "h", "game{}", 0)
    assert env_seed(A, "h", "game{}", 0) != env_seed(B, "h", "game{}", 0)
    assert agent_seed(A, "m", "p0") != agent_seed(B, "m", "p0")
    assert len({env_seed(A, "h", "game{}", k) for k in range(100)}) == 100
    assert len({agent_seed(A, "m", seat) for seat in ("p0", "p1", "p2")}) == 3
    # Fields are length-prefixed, so moving text from one field to the next gives another message.
    assert env_seed(A, "h", "g1", 0) != env_seed(A, "hg", "1", 0)
    seeds = [env_seed(A, "h", "g", k) for k in range(2000)]
    assert all(0 <= s < 2**ENV_SEED_BITS for s in seeds) and max(seeds) >= 2**62  # all 63 bits are used
    assert all(0 <= agent_seed(A, f"m{k}", "p") < 2**AGENT_SEED_BITS for k in range(2000))
    np.random.seed(agent_seed(A, "m", "p"))  # noqa: NPY002  (accepted: below 2**32)
    with pytest.raises(ValueError, match="at least 32"):
        env_seed(b"short", "h", "g", 0)


WEREWOLF = """
[scenario]
name = "ww"
kind = "match"
env = "werewolf"
games_per_pairing = 4

[[agents]]
name = "random"
[[agents]]
name = "random"
label = "random-b"
[[agents]]
name = "random"
label = "random-c"
"""


@pytest.fixture
def werewolf(tmp_path):
    path = tmp_path / "ww.toml"
    path.write_text(WEREWOLF)
    return load_scenario(path)


class Spy:
    """A player that records what it is given and passes everything on to the real one; ``trust`` (when not
    None) overrides whether the real player is trusted with privileged info."""

    trust = None

    def __init__(self, player, label, log):
        self.player, self.label, self.log = player, label, log
        privileged = getattr(player, "uses_privileged_info", False)
        self.uses_privileged_info = privileged if self.trust is None else self.trust

    def reset(self, seed):
        self.log.append(("reset", self.label, seed))
        self.player.reset(seed)

    def act(self, observation, info):
        self.log.append(("act", self.label, (observation, dict(info))))
        return self.player.act(observation, info)

    def close(self):
        self.player.close()


@pytest.fixture
def spied(monkeypatch):
    """Record every call a player gets, and every seed an env is reset with and the roles it then dealt."""
    log = []
    real_start, real_make = arena.match.start_player, envs.make_multi

    def start_player(ref, spaces, limits):
        return Spy(real_start(ref, spaces, limits), ref.label, log)

    def make_multi(name, **kwargs):
        env = real_make(name, **kwargs)
        real_reset = env.reset

        def reset(seed=None, options=None):
            real_reset(seed=seed, options=options)
            game = getattr(env.unwrapped, "game", None)
            log.append(("env", seed, None if game is None else list(game.roles)))

        env.reset = reset
        return env

    monkeypatch.setattr(arena.match, "start_player", start_player)
    monkeypatch.setattr(envs, "make_multi", make_multi)
    return log


def test_agents_are_reset_with_seeds_of_their_own_never_the_env_seed_nor_one_the_logical_seed_fixes(
    werewolf, spied, tmp_path
):
    """The attack: agents reset with ``logical * 1000 + index`` could replay the deal with ``seed // 1000``.
    Now two boards (two secrets) give other env and agent seeds for the same logical seeds, so neither is a
    function of the logical seed alone; each seat's seed differs from the env's, and the same board gives
    the same seeds again when it is reopened."""
    seeds = {}
    for name in ("one", "two"):
        with Board(name, root=tmp_path) as board:
            run_tournament(werewolf, board)
            logical = sorted({r.seed for r in board.results()})
        env_seeds = [entry[1] for entry in spied if entry[0] == "env"]
        agent_seeds = [entry[2] for entry in spied if entry[0] == "reset"]
        seeds[name] = (env_seeds, agent_seeds)
        spied.clear()
        assert logical == [0, 1]
        forbidden = set(env_seeds) | set(logical) | {s * 1000 + i for s in logical for i in range(100)}
        assert not forbidden & set(agent_seeds)
        assert not {s // 1000 for s in agent_seeds} & (set(env_seeds) | set(logical))
        assert not set(env_seeds) & set(logical)
        assert len(set(agent_seeds)) == len(agent_seeds)  # one per seat and match
    assert not set(seeds["one"][0]) & set(seeds["two"][0])
    assert not set(seeds["one"][1]) & set(seeds["two"][1])
    with Board("one", root=tmp_path) as board:  # reopened: the same secret, so the same seeds
        seats = game_seats(werewolf)
        again = [
            spec
            for a, b in arena.tournament.pairings(werewolf)
            for spec in pairing_games(werewolf, a, b, 0, secret=board.secret, seats=seats)
        ]
    assert sorted({spec.env_seed for spec in again}) == sorted(set(seeds["one"][0]))
    assert sorted(s for spec in again for s in spec.agent_seeds.values()) == sorted(seeds["one"][1])


def test_both_games_of_a_mirrored_couple_and_every_pairing_are_dealt_the_same_roles(
    werewolf, spied, tmp_path
):
    """Common random numbers: the env seed depends on the logical seed, not on the roster, so at each logical
    seed every game (both sides of each of the 3 pairings) deals the same roles to the same seats. (A fixed
    secret, so that the two logical seeds' deals, which differ by chance, always do.)"""
    with Board("b", root=tmp_path, secret=b"fixed secret for this test......") as board:
        specs = [
            spec
            for a, b in arena.tournament.pairings(werewolf)
            for spec in pairing_games(werewolf, a, b, 0, secret=board.secret, seats=game_seats(werewolf))
        ]
    spied.clear()
    deals = {}
    for spec in specs:
        play(spec)
        ((_, seed, roles),) = [entry for entry in spied if entry[0] == "env"]
        spied.clear()
        assert seed == spec.env_seed
        deals.setdefault(spec.seed, set()).add(tuple(roles))
    assert sorted(deals) == [0, 1]
    assert all(len(roles) == 1 for roles in deals.values())
    assert deals[0] != deals[1]


SUITE = """
[scenario]
name = "suite"
kind = "suite"
episodes = 3
seed = 7
low_reference = "random"
high_reference = "random-c"

[[envs]]
id = "{env}"

[[agents]]
name = "random"
[[agents]]
name = "random"
label = "random-b"
[[agents]]
name = "random"
label = "random-c"
"""


def test_every_agent_of_a_suite_starts_each_logical_seed_from_the_same_observation(
    tmp_path, spied, monkeypatch, registered_test_envs
):
    """Common random numbers in a suite: at logical seed k every agent's episode starts from the same state,
    and episodes at different logical seeds start from different ones."""
    first = {}
    real_play = arena.tournament.play

    def play_and_note(spec):
        spied.clear()
        result = real_play(spec)
        observation = next(entry[2][0] for entry in spied if entry[0] == "act")
        first.setdefault(spec.seed, {})[spec.roster[0].label] = np.asarray(observation).tobytes()
        return result

    monkeypatch.setattr(arena.tournament, "play", play_and_note)
    path = tmp_path / "suite.toml"
    path.write_text(SUITE.format(env=registered_test_envs["cartpole"]))
    scenario = load_scenario(path)
    with Board("b", root=tmp_path) as board:
        assert run_tournament(scenario, board).played == 3 * 3
        specs = suite_schedule(scenario, board.secret)
    assert sorted(first) == [7, 8, 9]
    for observations in first.values():
        assert set(observations) == {"random", "random-b", "random-c"}
        assert len(set(observations.values())) == 1
    assert len({next(iter(o.values())) for o in first.values()}) == 3
    env_seeds = {}
    for spec in specs:
        env_seeds.setdefault(spec.seed, set()).add(spec.env_seed)
        assert spec.agent_seeds["agent"] != spec.env_seed
    assert all(len(seeds) == 1 for seeds in env_seeds.values())


class PrivilegedChoice(gym.Env):
    """Pick one of 3 arms; the info names the best arm under a privileged key, next to a public mask."""

    observation_space = spaces.Box(0.0, 1.0, (3,), np.float32)
    action_space = spaces.Discrete(3)
    privileged_info_keys: ClassVar[frozenset[str]] = frozenset({"best_arm"})

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.steps = 0
        return np.zeros(3, np.float32), self._info()

    def step(self, action):
        self.steps += 1
        return np.zeros(3, np.float32), float(action == 1), self.steps >= 3, False, self._info()

    def _info(self):
        return {"best_arm": 1, "action_mask": np.array([1, 1, 0], np.int8), "turn": self.steps}


@pytest.fixture
def privileged_env():
    env_id = "arena/TestPrivilegedChoice-v0"
    gym.register(env_id, entry_point=PrivilegedChoice, max_episode_steps=10)
    yield env_id
    gym.registry.pop(env_id)


def test_agents_see_only_the_public_info_unless_their_player_is_trusted_with_privileged_info(
    privileged_env, spied, monkeypatch
):
    spec = MatchSpec(
        match_id="m",
        scenario="s",
        env_id=privileged_env,
        roster=(AgentRef(label="random", builtin="random"),),
        seed=0,
        env_seed=12345,
        agent_seeds={"agent": 6789},
        multi_agent=False,
    )
    result = play(spec)
    infos = [entry[2][1] for entry in spied if entry[0] == "act"]
    assert result.participants[0].status.value == "OK" and len(infos) == 3
    assert all(set(info) == {"action_mask", "turn"} for info in infos)  # the mask still reaches the agent
    assert ("reset", "random", 6789) in spied
    spied.clear()
    monkeypatch.setattr(Spy, "trust", True)
    play(replace(spec, match_id="m2"))
    assert all("best_arm" in entry[2][1] for entry in spied if entry[0] == "act")


def test_a_match_spec_is_built_with_keywords_only():
    with pytest.raises(TypeError):
        MatchSpec("m", "s", "env", (), 0, 0, {}, False)  # type: ignore[misc]
