"""TextArena both ways: its SecretMafia as a deterministic PettingZoo env, and a TextArena-style agent
(``str -> str``, naming players as ``[3]``) playing our Werewolf."""

import random
import re

import numpy as np
import pytest

import envs
from agents.base import EnvSpaces
from agents.lm import LanguageModelPlayer

pytest.importorskip("textarena", reason="the 'text' extra (textarena) is not installed")


def mafia_agent(observation: str) -> str:
    """A TextArena-style agent: votes for the first valid player offered, in TextArena's [n] format (it also
    reads our Werewolf prompt's list of legal targets)."""
    offered = re.findall(r"Valid: \[(\d+)\]|one of (\d+)", observation)
    choice = next((a or b for a, b in reversed(offered)), None)
    return f"I vote [{choice}]" if choice is not None else "I have nothing to say."


def play_secret_mafia(env, seed, disturb=None):
    """Observations, rewards and final infos of one game, calling ``disturb(step)`` between moves."""
    env.reset(seed=seed)
    seen, finals = [], {}
    for step, agent in enumerate(env.agent_iter()):
        observation, reward, terminated, truncated, info = env.last()
        seen.append((agent, observation["text"]))
        if disturb is not None:
            disturb(step)
        if terminated or truncated:
            finals[agent] = (reward, info)
            env.step(None)
        else:
            env.step(mafia_agent(observation["text"]))
    return seen, finals


def test_secret_mafia_replays_exactly_while_the_global_generators_are_reseeded():
    """TextArena draws from Python's global random; the adapter isolates it, so the same seed gives the same
    game even when the global generators are reseeded between moves, and stepping leaves them untouched."""
    reference = play_secret_mafia(envs.make_multi("secret_mafia"), seed=7)

    def disturb(step):
        random.seed(step)
        np.random.seed(step)  # noqa: NPY002  (disturbs the global generator on purpose)

    assert play_secret_mafia(envs.make_multi("secret_mafia"), seed=7, disturb=disturb) == reference
    other = play_secret_mafia(envs.make_multi("secret_mafia"), seed=8)
    assert other[0] != reference[0]
    random.seed(123)
    before = random.getstate()
    play_secret_mafia(envs.make_multi("secret_mafia"), seed=9)
    assert random.getstate() == before


def test_secret_mafia_rewards_each_side_by_its_roles():
    """+1 for every seat of the winning side, -1 for the others; the Mafia are one side, everyone else the
    other, as the final infos' roles say."""
    for seed in range(3):
        _, finals = play_secret_mafia(envs.make_multi("secret_mafia"), seed=seed)
        sides = {}
        for reward, info in finals.values():
            sides.setdefault(info["role"] == "Mafia", set()).add(reward)
        assert sorted(sides.values(), key=sorted) == [{-1.0}, {1.0}]


def test_a_textarena_style_agent_plays_our_werewolf_with_only_legal_moves():
    env = envs.make_multi("werewolf")
    spaces = EnvSpaces(env.observation_space("player_0"), env.action_space("player_0"), "werewolf")
    players = {
        a: LanguageModelPlayer(spaces, mafia_agent, name="textarena-style") for a in env.possible_agents
    }
    targets = 0
    for seed in range(5):
        env.reset(seed=seed)
        for name in env.agent_iter():
            observation, _, terminated, truncated, info = env.last()
            if terminated or truncated:
                assert info["invalid_actions"] == 0
                env.step(None)
                continue
            move = players[name].act(observation, info)
            targets += move["target"] < 7
            env.step(move)
    assert targets > 50  # the bracketed votes were understood as targets
