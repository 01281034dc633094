"""``arena train lspo``'s trainer: the LSPO loop at a tiny budget written as an agent package whose factory
plays legal moves on either side, with the PPO budget split between the sides as documented."""

from __future__ import annotations

import csv
import json

import pytest
from werewolf_play import play_checking_every_move

import envs
from agents import EnvSpaces, load_agent, read_manifest
from agents.baselines import ScriptedWerewolfPlayer
from agents.werewolf.training import train_package

# One iteration on few games, and PPO updates of 2 envs x 32 steps = 64 env steps: 256 steps give the
# werewolves a quarter, 64 (one update), and the villagers 192 (three updates).
TINY = {
    "iterations": 1,
    "corpus_games": 20,
    "imitation_games": 10,
    "policy_games": 2,
    "eval_games": 4,
    "num_envs": 2,
    "num_steps": 32,
}
STEPS = 256


def train(out):
    return train_package("werewolf", {}, out=out, steps=STEPS, seed=0, device="cpu", progress=False, **TINY)


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    return train(tmp_path_factory.mktemp("lspo") / "package")


def seat_spaces(env) -> EnvSpaces:
    return EnvSpaces(env.observation_space("player_0"), env.action_space("player_0"), "werewolf", {})


@pytest.mark.slow
@pytest.mark.parametrize("side", ["villagers", "werewolves"])
def test_package_plays_a_game_on_each_side_with_only_legal_moves(package, side):
    """The package's agents, built by ``load_agent`` from the package alone, take every seat of ``side``
    against scripted players; every move is inside the seat's action mask and the env counts none invalid."""
    manifest = read_manifest(package)
    assert manifest.entry_point == "agents.werewolf.policy:lspo" and manifest.envs == ["werewolf"]
    env = envs.make_multi("werewolf")
    env.reset(seed=11)
    players = {
        a: load_agent(package, seat_spaces(env), seed=i)
        if env.infos[a]["team"] == side
        else ScriptedWerewolfPlayer(seat_spaces(env), style="balanced")
        for i, a in enumerate(env.possible_agents)
    }
    play_checking_every_move(env, players)


@pytest.mark.slow
def test_steps_split_a_quarter_to_the_werewolves_and_progress_counts_them_all(package):
    """training.json records the split (192 and 64 PPO steps in the one iteration) and progress.csv has one
    row per PPO update, villagers first, its global_step the running total that ends at ``steps``."""
    record = json.loads((package / "training.json").read_text())
    assert record["algo"] == "lspo" and record["steps"] == STEPS and record["seed"] == 0
    assert (record["config"]["villager_steps"], record["config"]["werewolf_steps"]) == (192, 64)
    with (package / "progress.csv").open() as file:
        rows = list(csv.DictReader(file))
    assert [r["side"] for r in rows] == ["villagers"] * 3 + ["werewolves"]
    assert [int(r["global_step"]) for r in rows] == [64, 128, 192, 256]


@pytest.mark.slow
def test_same_seed_gives_the_same_version(package, tmp_path):
    """Deals, styles, k-means, imitation and PPO all draw from the seed, so the weights repeat."""
    assert read_manifest(train(tmp_path / "again")).version == read_manifest(package).version


def test_options_steps_and_env_id_are_checked_before_training(tmp_path):
    arguments = {"out": tmp_path / "p", "seed": 0, "progress": False}
    with pytest.raises(ValueError, match=r"options \['villager_steps'\].*allowed:.*corpus_games"):
        train_package("werewolf", {}, steps=STEPS, villager_steps=10, **arguments)
    with pytest.raises(ValueError, match=r"less than one update.*steps must be >= 256"):
        train_package("werewolf", {}, steps=255, **{**TINY, **arguments})
    with pytest.raises(ValueError, match="multi-agent game 'werewolf'"):
        train_package("CartPole-v1", {}, steps=STEPS, **arguments)
    assert not (tmp_path / "p").exists()
