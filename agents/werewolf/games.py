"""Playing Werewolf games: one game with a player per seat (collecting what is said), a side's wins per
deal against the scripted pool, and paired comparisons of win rates on the same deals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

import envs
from agents.base import EnvSpaces
from agents.baselines import STYLES, ScriptedWerewolfPlayer
from agents.werewolf.features import NIGHT_CHAT, SPEECH
from agents.werewolf.policy import lspo
from agents.werewolf.strategies import Utterance, mention


def new_game(env_kwargs: dict[str, Any] | None = None) -> tuple[Any, EnvSpaces]:
    """A Werewolf AEC env with ``env_kwargs`` and the spaces of its seats (all seats share them)."""
    env_kwargs = dict(env_kwargs or {})
    env = envs.make_multi("werewolf", **env_kwargs)
    first = env.possible_agents[0]
    return env, EnvSpaces(env.observation_space(first), env.action_space(first), "werewolf", env_kwargs)


def play_game(
    env,
    players: dict[str, Any],
    seed: int,
    utterances: list[Utterance] | None = None,
    speakers: set[str] | None = None,
) -> str | None:
    """Play one game of the AEC ``env`` (seed ``seed``) with one player per seat; return the winning side
    (None for a draw). Speeches and night chat (of ``speakers``, default all) are appended to
    ``utterances`` if given."""
    env.reset(seed=seed)
    for index, player in enumerate(players.values()):
        player.reset(seed=seed * 1_000 + index)
    n = len(env.possible_agents)
    for agent in env.agent_iter():
        observation, _, terminated, truncated, info = env.last()
        if terminated or truncated:
            return info["winner"]
        move = players[agent].act(observation, info)
        said = utterances is not None and (speakers is None or agent in speakers)
        if said and observation["phase"] in (NIGHT_CHAT, SPEECH) and move.get("text"):
            named = mention(move["text"])
            accuses = named is not None and named == move["target"] < n
            utterances.append(Utterance(move["text"], accuses, chat=observation["phase"] == NIGHT_CHAT))
        env.step(move)
    return None


def deal_style(seed: int) -> str:
    """The scripted style that plays the opposing side in the deal with game seed ``seed``."""
    return tuple(STYLES)[int(np.random.default_rng(seed).integers(len(STYLES)))]


def side_games(
    side: str,
    make_side_player,
    games: int,
    *,
    seed: int,
    env_kwargs: dict[str, Any] | None = None,
    utterances: list[Utterance] | None = None,
) -> np.ndarray:
    """Wins (0/1 per deal) of the players ``make_side_player(spaces)`` makes for each seat of ``side``,
    against the scripted style :func:`deal_style` draws, in deals ``seed``, ``seed + 1``, ...; what the
    side's players say is appended to ``utterances`` if given."""
    env, spaces = new_game(env_kwargs)
    wins = np.zeros(games)
    for game in range(games):
        env.reset(seed=seed + game)
        style = deal_style(seed + game)
        players = {
            agent: make_side_player(spaces)
            if env.infos[agent]["team"] == side
            else ScriptedWerewolfPlayer(spaces, style=style)
            for agent in env.possible_agents
        }
        ours = {agent for agent in env.possible_agents if env.infos[agent]["team"] == side}
        wins[game] = play_game(env, players, seed + game, utterances, ours) == side
    return wins


def paired_comparison(
    wins: np.ndarray, baseline: np.ndarray, *, resamples: int = 2_000, seed: int = 0
) -> dict[str, Any]:
    """Win rates over the same deals and 95 % bootstrap intervals (resampling deals) of the baseline's rate
    and of the difference; per-deal values may be fractions (the pool's mean over its styles)."""
    rng = np.random.default_rng(seed)
    diff = wins - baseline
    deals = rng.integers(len(diff), size=(resamples, len(diff)))

    def interval(values: np.ndarray) -> list[float]:
        return [float(q) for q in np.quantile(values[deals].mean(axis=1), [0.025, 0.975])]

    return {
        "deals": len(wins),
        "win_rate": float(wins.mean()),
        "baseline_win_rate": float(baseline.mean()),
        "baseline_ci95": interval(baseline),
        "difference": float(diff.mean()),
        "difference_ci95": interval(diff),
    }


def scripted_pool_wins(
    side: str, games: int, *, seed: int, env_kwargs: dict[str, Any] | None = None
) -> np.ndarray:
    """The scripted pool's wins on ``side`` per deal: the mean over the three styles on the same deals."""
    return np.mean(
        [
            side_games(
                side,
                lambda s, style=style: ScriptedWerewolfPlayer(s, style=style),
                games,
                seed=seed,
                env_kwargs=env_kwargs,
            )
            for style in STYLES
        ],
        axis=0,
    )


def compare_with_pool(
    side: str, deals: int, *, seed: int, weights: str | Path, env_kwargs: dict | None = None
) -> dict[str, Any]:
    """The wins on ``side`` of the LSPO player in the package ``weights`` (e.g. agents/trained/werewolf-lspo)
    against the scripted pool's in the same seats and deals (paired bootstrap interval of the difference,
    Wilson interval of the LSPO rate, bootstrap interval over deals of the pool's: its three styles play the
    same deals, so their games are not independent trials)."""
    from agents.stats import wilson_interval

    wins = side_games(
        side, lambda s: lspo(s, side=side, weights=weights), deals, seed=seed, env_kwargs=env_kwargs
    )
    pool = scripted_pool_wins(side, deals, seed=seed, env_kwargs=env_kwargs)
    result = paired_comparison(wins, pool)
    result["win_rate_wilson95"] = list(wilson_interval(int(wins.sum()), deals))
    return result
