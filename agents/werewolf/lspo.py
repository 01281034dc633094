"""A latent-strategy Werewolf player trained by self-play against the scripted pool (LSPO-style).

Iterative latent space policy optimisation (after Xu et al., 2025, "Learning Strategic Language Agents in
the Werewolf Game with Iterative Latent Space Policy Optimization"), with the language model replaced by the
space's own templates:

1. build a latent strategy space from utterances of self-play games (:mod:`agents.werewolf.strategies`);
2. learn a policy over (latent strategy, target) with the PG core (PPO, :mod:`agents.pg.ppo`) in
   :class:`SideEnv`, a single-agent view in which the learner plays every seat of one side, each seat from
   its own observation only, against scripted players (:mod:`agents.baselines.werewolf`, one style drawn
   per game) on the other side. The first policy starts from an imitation of the scripted players' moves
   mapped into the latent space (:func:`imitate`), as LSPO starts from its language model's own play;
3. add the trained policy's games to the corpus, re-cluster, and train again (from the last policy when
   the space kept its shape, else from a new imitation).

A seat observes (:class:`SeatView`) the living players, day and phase, its own role, what it knows of each
side, today's accusations and the last vote, and, for each player, the latent id of what it said today,
the latent ids it ever used (and was the first to use) and the latent ids of utterances that named it (so
"claimed seer and named Player 4 a werewolf" is a pair of features); werewolves also see tonight's
suggestions of their partner.
The action is ``MultiDiscrete([K, n + 1])``: the strategy of the speech (or night chat) and a target (the
player the speech is about and, if the strategy's utterances accused, accuses; the vote; the night target).

``python -m agents.werewolf.lspo --out agents/werewolf/data`` retrains the shipped space and weights.

Win rates of the shipped weights against the scripted pool (``compare_with_pool(side, 2000,
seed=3_000_000)``: 2,000 deals per side, a scripted style drawn per deal for the other side; the pool is
the mean of the three scripted styles in the same seats and deals; 95 % intervals: Wilson for the LSPO
rate, bootstrap over deals for the pool's rate and for the paired difference):

| side       | LSPO                 | scripted pool        | difference            |
|------------|----------------------|----------------------|-----------------------|
| villagers  | 70.6 % [68.6, 72.6]  | 44.6 % [42.9, 46.4]  | +0.260 [0.243, 0.277] |
| werewolves | 93.2 % [92.0, 94.2]  | 55.9 % [54.0, 57.9]  | +0.372 [0.352, 0.393] |

Training (the defaults of :class:`LSPOConfig`, ``data/training.json``; evaluated on 300 deals after each
iteration). Iteration 1: 400 scripted games gave 7,209 utterances and K = 6 strategies, the six phrases
the scripted players use (k-means keeps "is a werewolf" and "is not a werewolf" apart); imitation, then
PPO for 300,000 (villagers) and 100,000 (werewolves) steps: villagers 65.0 % (pool 45.3 %), werewolves
88.0 % (pool 53.2 %). Iteration 2: the policy's 200 games grew the corpus to 9,452 utterances; the space
kept its 6 strategies (so PPO went on from the first policy): villagers 67.0 %, werewolves 93.0 %. The
villagers' speech changed most: over the 300 evaluation deals, "I have nothing to add yet." fell from 3,766
to 1,571 speeches, clearing seer claims from 843 to 227 and "I am not a werewolf." from 100 to 0, while
suspicions rose from 870 to 1,020; the werewolves kept fake seer claims (357, then 354). An act takes
about 0.3 ms on one CPU core.
"""

from __future__ import annotations

import argparse
import functools
import json
import re
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

import envs
from agents.base import EnvSpaces
from agents.baselines.werewolf import STYLES, ScriptedWerewolfPlayer
from agents.nets import mlp
from agents.werewolf.strategies import StrategySpace, Utterance, mention

DATA = Path(__file__).parent / "data"
SIDES = ("villagers", "werewolves")
WEREWOLF = 1  # the role id, as in the observation's ``role``
NIGHT_CHAT, SPEECH = 0, 3  # phase ids, as in the observation's ``phase``
SPEECH_LINE = re.compile(r"^Day (\d+), Player (\d+): (.*?)(?: \[accuses Player \d+\])?$", re.MULTILINE)
CHAT_LINE = re.compile(
    r"^Night (\d+), Player \d+ \(to werewolves\): .*?\[suggests Player (\d+)\]$", re.MULTILINE
)
PER_PLAYER = 14  # per-player features besides the 4 K latent ones
GLOBAL = 11


class SeatView:
    """One seat's view of one game: its observations turned into features, its actions into moves.

    It remembers every public speech it has read (latent id and the player named), so what was said before
    the transcript window still counts; it reads nothing but the observations it is given.
    """

    def __init__(self, space: StrategySpace, n: int, max_text_length: int, bidding: bool):
        self.space, self.n, self.max_text, self.bidding = space, n, max_text_length, bidding
        k = space.k
        self.obs_dim = n * (PER_PLAYER + 4 * k) + GLOBAL
        self.heard: set[tuple[str, str, str]] = set()  # (day, speaker, text) of speeches read
        self.today = np.full(n, -1)  # latent id of each player's latest speech
        self.today_day = np.zeros(n, dtype=np.int64)
        self.used = np.zeros((n, k), dtype=np.float32)  # latent ids each player ever used
        self.named = np.zeros((n, k), dtype=np.float32)  # utterances of each latent id naming each player
        self.first = np.zeros((n, k), dtype=np.float32)  # who was the first to use each latent id

    def features(self, observation: dict[str, Any]) -> np.ndarray:
        """The policy's input: per-player blocks then globals, all in [0, 1]."""
        n, k = self.n, self.space.k
        text, day, seat = observation["text"], int(observation["day"]), int(observation["seat"])
        for key in SPEECH_LINE.findall(text):
            if key in self.heard:
                continue
            self.heard.add(key)
            speaker, said = int(key[1]), key[2]
            if speaker >= n:
                continue
            strategy = self.space.encode(said)
            self.today[speaker], self.today_day[speaker] = strategy, int(key[0])
            if not self.first[:, strategy].any():
                self.first[speaker, strategy] = 1.0
            self.used[speaker, strategy] = 1.0
            named = mention(said)
            if named is not None and named < n:
                self.named[named, strategy] = min(1.0, self.named[named, strategy] + 1 / 3)
        alive = np.asarray(observation["alive"], dtype=np.float32)
        known = np.asarray(observation["known_team"])
        accused, votes = np.asarray(observation["accused"]), np.asarray(observation["votes"])
        block = np.zeros((n, PER_PLAYER), dtype=np.float32)
        block[:, 0] = alive
        block[seat, 1] = 1.0
        block[np.arange(n), 2 + known] = 1.0
        block[:, 5] = np.bincount(accused[alive > 0], minlength=n + 1)[:n] / n
        block[:, 6] = np.bincount(votes[alive > 0], minlength=n + 1)[:n] / n
        block[:, 7] = accused == seat
        block[:, 8] = votes == seat
        has_accused = accused < n
        block[:, 9] = has_accused & (known[np.minimum(accused, n - 1)] == 2)
        block[:, 10] = has_accused & (known[np.minimum(accused, n - 1)] == 1)
        if accused[seat] < n:
            block[accused[seat], 11] = 1.0
        if votes[seat] < n:
            block[votes[seat], 12] = 1.0
        for night, target in CHAT_LINE.findall(text):
            if int(night) == day and int(target) < n:
                block[int(target), 13] = 1.0
        today = np.zeros((n, k), dtype=np.float32)
        spoke = (self.today >= 0) & (self.today_day == day)
        today[np.flatnonzero(spoke), self.today[spoke]] = 1.0
        glob = np.zeros(GLOBAL, dtype=np.float32)
        glob[int(observation["role"])] = 1.0
        glob[4 + int(observation["phase"])] = 1.0
        glob[9] = min(day, 10) / 10
        glob[10] = alive.sum() / n
        return np.concatenate(
            [np.concatenate([block, today, self.used, self.first, self.named], axis=1).ravel(), glob]
        )

    def mask(self, observation: dict[str, Any], info: dict) -> np.ndarray:
        """Legal (strategy, target) parts as one int8 vector: strategies only where the phase reads text,
        and a real target there (the player the utterance is about)."""
        k, n = self.space.k, self.n
        targets = np.asarray(info["action_mask"]["target"], dtype=np.int8).copy()
        strategies = np.zeros(k, dtype=np.int8)
        if observation["phase"] in (NIGHT_CHAT, SPEECH) and targets[:n].any():
            strategies[:] = 1
            targets[n] = 0
        else:
            strategies[0] = 1
        return np.concatenate([strategies, targets])

    def move(self, action: tuple[int, int], observation: dict[str, Any]) -> dict[str, Any]:
        """The env move of ``action`` = (strategy, target) in the observation's phase."""
        strategy, target = int(action[0]), int(action[1])
        phase, text = observation["phase"], ""
        if phase in (NIGHT_CHAT, SPEECH) and target < self.n:
            text = self.space.render(strategy, target)[: self.max_text]
            if phase == SPEECH and not self.space.accuses[strategy]:
                target = self.n
        move = {"text": text, "target": target}
        if self.bidding:
            move["bid"] = 0
        return move


class SideEnv(gym.Env):
    """One side of a Werewolf game as a single-agent env: each step is one move of one of the side's seats.

    ## Description

    The learner plays every seat of ``side``; scripted players (:mod:`agents.baselines.werewolf`, one style
    from ``styles`` drawn per game) play the other side. Each seat is seen through its own :class:`SeatView`.

    ## Action space

    ``MultiDiscrete([K, n + 1])``: (latent strategy, target), legal parts in ``info["action_mask"]``.

    ## Observation space

    ``Box(0, 1, (SeatView.obs_dim,))``: the acting seat's features.

    ## Rewards

    0 during the game; +1 if ``side`` wins, -1 if it loses, 0 for a draw, on the game's last step.

    ## Starting state

    A new deal (roles shuffled by the env's generator) and a new opposing style each episode.

    ## Episode end

    Terminated when the game ends (truncated if it is stopped by the game's ``max_cycles``).

    ## Arguments

    ``space`` (the :class:`StrategySpace`), ``side`` ("villagers" or "werewolves"), ``styles`` (scripted
    styles to draw from), ``env_kwargs`` (the game's rules).

    ## Version history

    * v0: initial version.
    """

    metadata = {"render_modes": []}

    def __init__(
        self,
        space: StrategySpace,
        side: str,
        styles: tuple[str, ...] = tuple(STYLES),
        env_kwargs: dict[str, Any] | None = None,
    ):
        if side not in SIDES:
            raise ValueError(f"side={side!r} must be one of {', '.join(SIDES)}")
        if not styles or any(s not in STYLES for s in styles):
            raise ValueError(f"styles={styles!r} must be a non-empty tuple of {', '.join(STYLES)}")
        self.space, self.side, self.styles = space, side, tuple(styles)
        self.env_kwargs = dict(env_kwargs or {})
        self.game, self.spaces = new_game(self.env_kwargs)
        self.n = len(self.game.possible_agents)
        self._view = lambda: _view_for(space, self.spaces)
        self.observation_space = gym.spaces.Box(0.0, 1.0, (self._view().obs_dim,), dtype=np.float32)
        self.action_space = gym.spaces.MultiDiscrete([space.k, self.n + 1])

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.game.reset(seed=int(self.np_random.integers(2**31)))
        style = self.styles[int(self.np_random.integers(len(self.styles)))]
        self.views, self.opponents = {}, {}
        for agent in self.game.possible_agents:
            if self.game.infos[agent]["team"] == self.side:
                self.views[agent] = self._view()
            else:
                self.opponents[agent] = ScriptedWerewolfPlayer(
                    self.spaces, style=style, seed=int(self.np_random.integers(2**31))
                )
        observation, _, _, info = self._advance()
        return observation, info

    def step(self, action):
        agent = self.game.agent_selection
        observation = self.game.observe(agent)
        self.game.step(self.views[agent].move(action, observation))
        obs, reward, done, info = self._advance()
        return obs, reward, done and info.get("winner") is not None, done and info.get("winner") is None, info

    def action_masks(self) -> np.ndarray:
        """The legal (strategy, target) parts now, as in ``info["action_mask"]`` (int8, K + n + 1)."""
        return self._mask.copy()

    def _advance(self):
        """Play the opponents' moves until a learner seat is to move or the game ends."""
        while True:
            agent = self.game.agent_selection
            observation, _, terminated, truncated, info = self.game.last()
            if terminated or truncated:
                winner = info["winner"]
                reward = 0.0 if winner is None else (1.0 if winner == self.side else -1.0)
                self._mask = np.ones(self.space.k + self.n + 1, dtype=np.int8)
                zeros = np.zeros(self.observation_space.shape, dtype=np.float32)
                return zeros, reward, True, {"action_mask": self._mask, "winner": winner}
            if agent in self.views:
                view = self.views[agent]
                self._mask = view.mask(observation, info)
                return view.features(observation), 0.0, False, {"action_mask": self._mask}
            self.game.step(self.opponents[agent].act(observation, info))


def new_game(env_kwargs: dict[str, Any] | None = None) -> tuple[Any, EnvSpaces]:
    """A Werewolf AEC env with ``env_kwargs`` and the spaces of its seats (all seats share them)."""
    env_kwargs = dict(env_kwargs or {})
    env = envs.make_multi("werewolf", **env_kwargs)
    first = env.possible_agents[0]
    return env, EnvSpaces(env.observation_space(first), env.action_space(first), "werewolf", env_kwargs)


def _view_for(space: StrategySpace, spaces: EnvSpaces) -> SeatView:
    action_space = spaces.action_space
    return SeatView(
        space, action_space["target"].n - 1, action_space["text"].max_length, "bid" in action_space.spaces
    )


class LSPOAgent:
    """A trained latent-strategy player for one seat: features -> actor net -> (strategy, target) -> move.

    The side's net is chosen from the seat's own role (or fixed by ``side``). With ``greedy`` it plays the
    most likely (strategy, target); otherwise it samples from its own seeded generator.
    """

    def __init__(
        self,
        spaces: EnvSpaces,
        space: StrategySpace,
        actors: dict[str, torch.nn.Module],
        side: str | None = None,
        greedy: bool = True,
        seed: int | None = None,
    ):
        if side is not None and side not in SIDES:
            raise ValueError(f"side={side!r} must be None or one of {', '.join(SIDES)}")
        self.name = "werewolf/lspo"
        self.spaces, self.space, self.actors, self.side, self.greedy = spaces, space, actors, side, greedy
        self.generator = torch.Generator()
        self.reset(seed)

    def reset(self, seed: int | None = None) -> None:
        self.generator.manual_seed(0 if seed is None else seed)
        self.view = _view_for(self.space, self.spaces)

    @torch.no_grad()
    def act(self, observation: dict[str, Any], info: dict) -> dict[str, Any]:
        side = self.side or SIDES[int(observation["role"]) == WEREWOLF]
        features = torch.from_numpy(self.view.features(observation))
        mask = torch.from_numpy(self.view.mask(observation, info)).bool()
        logits = self.actors[side](features).masked_fill(~mask, -torch.inf)
        k = self.space.k
        parts = logits[:k], logits[k:]
        if self.greedy:
            action = tuple(int(p.argmax()) for p in parts)
        else:
            action = tuple(int(torch.multinomial(p.softmax(-1), 1, generator=self.generator)) for p in parts)
        return self.view.move(action, observation)


def load_actors(path: Path) -> dict[str, torch.nn.Module]:
    """The per-side actor nets saved in ``path`` (a torch state file, loaded with ``weights_only``)."""
    saved = torch.load(path, map_location="cpu", weights_only=True)
    actors = {}
    for side in SIDES:
        actor = mlp(saved["obs_dim"], saved["action_dim"], tuple(saved["hidden"]), activation="tanh")
        actor.load_state_dict(saved[side])
        actors[side] = actor.eval()
    return actors


def lspo(
    spaces: EnvSpaces,
    side: str | None = None,
    weights: str | Path | None = None,
    seed: int | None = None,
    greedy: bool = True,
) -> LSPOAgent:
    """Factory for ``agents.make("werewolf/lspo", spaces)``: the shipped space and weights, or those in the
    directory ``weights`` (``space.json`` and ``policy.pt``, as ``--out`` writes them)."""
    directory = Path(weights) if weights is not None else DATA
    policy_file = directory / "policy.pt"
    stamp = policy_file.stat().st_mtime_ns if policy_file.is_file() else None
    space, actors = _load(str(directory), stamp)
    trained = actors[SIDES[0]][0].in_features
    if _view_for(space, spaces).obs_dim != trained:
        players = spaces.action_space["target"].n - 1
        sized = (trained - GLOBAL) / (PER_PLAYER + 4 * space.k)  # SeatView.obs_dim solved for n
        raise ValueError(
            f"spaces: the weights in {directory} play {sized:g}-player games, not num_players={players}"
        )
    return LSPOAgent(spaces, space, actors, side=side, greedy=greedy, seed=seed)


@functools.lru_cache(maxsize=4)
def _load(directory: str, stamp: int | None) -> tuple[StrategySpace, dict[str, torch.nn.Module]]:
    """The space and actors saved in ``directory``, read once per version of the weights (``stamp``, the
    file's modification time): every seat's agent shares them read-only."""
    return StrategySpace.from_json(Path(directory) / "space.json"), load_actors(Path(directory) / "policy.pt")


# ----- playing games: the corpus of utterances, and paired win rates on the same deals


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
    side: str, deals: int, *, seed: int, weights: str | Path | None = None, env_kwargs: dict | None = None
) -> dict[str, Any]:
    """The LSPO player's wins on ``side`` against the scripted pool's in the same seats and deals (paired
    bootstrap interval of the difference, Wilson interval of the LSPO rate, bootstrap interval over deals of
    the pool's: its three styles play the same deals, so their games are not independent trials)."""
    from arena.bench.werewolf import wilson_interval

    wins = side_games(
        side, lambda s: lspo(s, side=side, weights=weights), deals, seed=seed, env_kwargs=env_kwargs
    )
    pool = scripted_pool_wins(side, deals, seed=seed, env_kwargs=env_kwargs)
    result = paired_comparison(wins, pool)
    result["win_rate_wilson95"] = list(wilson_interval(int(wins.sum()), deals))
    return result


# ----- training: build the space, learn a policy per side, expand the corpus with its games, again


@dataclass
class LSPOConfig:
    """The LSPO loop's settings: iterations, corpus, space, PPO budget per side and iteration, evaluation."""

    iterations: int = 2
    corpus_games: int = 400  # scripted self-play games for the first space
    policy_games: int = 100  # games per side of the trained policy added to the corpus each iteration
    k: int | None = None  # strategies (None: the smallest K keeping 0.5 % of the variance, StrategySpace.fit)
    imitation_games: int = 1_000  # scripted games imitated to start the first iteration's policy
    villager_steps: int = 300_000  # PPO steps per iteration for the villagers' policy
    werewolf_steps: int = 100_000  # and for the werewolves' (an easier side against the scripted pool)
    num_envs: int = 8
    num_steps: int = 256
    learning_rate: float = 3e-4
    ent_coef: float = 0.005
    hidden: tuple[int, ...] = (64, 64)
    eval_games: int = 300  # deals per side for the per-iteration win rates
    seed: int = 0

    def validate(self) -> None:
        """Raise ValueError naming the first field outside its range."""
        for name in ("iterations", "corpus_games", "num_envs", "num_steps", "eval_games"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("villager_steps", "werewolf_steps"):
            if getattr(self, name) < self.num_envs * self.num_steps:
                raise ValueError(f"{name} must be >= num_envs * num_steps, got {getattr(self, name)}")


def scripted_corpus(games: int, seed: int) -> list[Utterance]:
    """Utterances of scripted self-play (a style drawn per side and game), deals ``seed``, ``seed + 1``..."""
    rng = np.random.default_rng(seed)
    env, spaces = new_game()
    utterances: list[Utterance] = []
    for game in range(games):
        env.reset(seed=seed + game)
        play_game(env, _scripted_players(env, spaces, rng), seed + game, utterances)
    return utterances


def _scripted_players(env, spaces: EnvSpaces, rng: np.random.Generator) -> dict[str, ScriptedWerewolfPlayer]:
    """Scripted players for every seat of the dealt ``env``, one style per side drawn from ``rng``."""
    styles = {side: tuple(STYLES)[int(rng.integers(len(STYLES)))] for side in SIDES}
    return {a: ScriptedWerewolfPlayer(spaces, styles[env.infos[a]["team"]]) for a in env.possible_agents}


def imitation_data(space: StrategySpace, side: str, games: int, seed: int) -> tuple[torch.Tensor, ...]:
    """Scripted players' moves on ``side`` (a style drawn per side and game) as (features, mask, strategy,
    target, target weight): the strategy is the latent id of what they said, the target the seat they named
    in a speech (weight 0 when they named nobody) or their target otherwise."""
    rng = np.random.default_rng(seed)
    env, spaces = new_game()
    n = len(env.possible_agents)
    rows: list[tuple] = []
    for game in range(games):
        env.reset(seed=seed + game)
        players = _scripted_players(env, spaces, rng)
        views = {a: _view_for(space, spaces) for a in env.possible_agents if env.infos[a]["team"] == side}
        for index, player in enumerate(players.values()):
            player.reset(seed=(seed + game) * 1_000 + index)
        for agent in env.agent_iter():
            observation, _, terminated, truncated, info = env.last()
            if terminated or truncated:
                break
            move = players[agent].act(observation, info)
            if agent in views:
                features, mask = views[agent].features(observation), views[agent].mask(observation, info)
                strategy, target, weight = 0, move["target"], 1.0
                if observation["phase"] in (NIGHT_CHAT, SPEECH) and mask[: space.k].sum() > 1:
                    strategy = space.encode(move["text"])
                    named = mention(move["text"])
                    target, weight = (named, 1.0) if named is not None and named < n else (0, 0.0)
                rows.append((features, mask, strategy, target, weight))
            env.step(move)
    features, masks, strategies, targets, weights = zip(*rows, strict=True)
    return (
        torch.from_numpy(np.stack(features)),
        torch.from_numpy(np.stack(masks)).bool(),
        torch.tensor(strategies),
        torch.tensor(targets),
        torch.tensor(weights, dtype=torch.float32),
    )


def imitate(
    space: StrategySpace, side: str, config: LSPOConfig, seed: int, epochs: int = 30
) -> torch.nn.Module:
    """An actor that imitates the scripted pool on ``side`` (masked cross-entropy on both action parts): the
    starting point of the policy-gradient training."""
    features, masks, strategies, targets, weights = imitation_data(space, side, config.imitation_games, seed)
    generator = torch.Generator().manual_seed(seed)
    actor = mlp(features.shape[1], masks.shape[1], tuple(config.hidden), out_gain=0.01, generator=generator)
    optimizer = torch.optim.Adam(actor.parameters(), lr=1e-3)
    k = space.k
    for _ in range(epochs):
        for batch in torch.randperm(len(features), generator=generator).split(256):
            logits = actor(features[batch]).masked_fill(~masks[batch], torch.finfo(torch.float32).min)
            strategy_loss = torch.nn.functional.cross_entropy(logits[:, :k], strategies[batch])
            target_nll = torch.nn.functional.cross_entropy(logits[:, k:], targets[batch], reduction="none")
            loss = strategy_loss + (weights[batch] * target_nll).sum() / weights[batch].sum().clamp(min=1)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return actor.eval()


def train_side(space: StrategySpace, side: str, config: LSPOConfig, seed: int, init=None) -> torch.nn.Module:
    """PPO on :class:`SideEnv` for the side's steps in ``config``; returns the actor net (``init``: warm start
    from an actor of the same shape)."""
    from agents.pg import ppo
    from agents.pg.trainer import Learner

    vector = gym.vector.SyncVectorEnv(
        [lambda: SideEnv(space, side) for _ in range(config.num_envs)],
        autoreset_mode=gym.vector.AutoresetMode.SAME_STEP,
    )
    ppo_config = ppo.PPOConfig(
        num_envs=config.num_envs,
        num_steps=config.num_steps,
        learning_rate=config.learning_rate,
        ent_coef=config.ent_coef,
        hidden=tuple(config.hidden),
        gamma=1.0,
        torch_threads=1,
    )
    steps = config.villager_steps if side == "villagers" else config.werewolf_steps
    learner = Learner("ppo", ppo.update, vector, ppo_config, total_steps=steps, seed=seed, device="cpu")
    try:
        if init is not None:
            learner.policy.actor.load_state_dict(init.state_dict())
        learner.train()
        return learner.policy.actor.eval()
    finally:
        learner.close()


def train(out: Path, config: LSPOConfig, log=print) -> dict[str, Any]:
    """Run ``config.iterations`` LSPO iterations; write ``space.json``, ``policy.pt`` and ``training.json``
    to ``out``; return the report (per iteration: K, templates, strategy use, paired win rates)."""
    from agents.pg.trainer import torch_threads

    config.validate()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with torch_threads(1):  # small MLPs: one thread is fastest, and the caller's setting comes back after
        return _train(out, config, log)


def _train(out: Path, config: LSPOConfig, log) -> dict[str, Any]:
    corpus = scripted_corpus(config.corpus_games, config.seed)
    eval_seed = 1_000_000 + config.seed
    pool = {side: scripted_pool_wins(side, config.eval_games, seed=eval_seed) for side in SIDES}
    report: dict[str, Any] = {"config": asdict(config), "iterations": []}
    actors: dict[str, torch.nn.Module] = {}
    space: StrategySpace | None = None
    for iteration in range(config.iterations):
        previous, space = space, StrategySpace.fit(corpus, k=config.k, seed=config.seed, like=space)
        summary: dict[str, Any] = {"utterances": len(corpus), "k": space.k, "templates": space.templates}
        summary["counts"] = space.counts
        log(f"iteration {iteration + 1}: {len(corpus)} utterances -> K={space.k}")
        leads = [t[0] for t in space.templates]
        reuse = previous is not None and leads == [t[0] for t in previous.templates]  # same strategies
        summary["warm_start"] = reuse
        for i, side in enumerate(SIDES):
            seed = config.seed + 10 * iteration + i
            start = actors[side] if reuse else imitate(space, side, config, seed)
            actors = {**actors, side: train_side(space, side, config, seed, start)}
        for side in SIDES:
            said: list[Utterance] = []
            wins = side_games(
                side,
                lambda s, side=side, space=space, actors=actors: LSPOAgent(s, space, actors, side=side),
                config.eval_games,
                seed=eval_seed,
                utterances=said,
            )
            summary[side] = paired_comparison(wins, pool[side])
            summary[side]["strategy_use"] = np.bincount(
                [space.encode(u.text) for u in said], minlength=space.k
            ).tolist()
            log(f"  {side}: {summary[side]}")
            side_games(  # the policy's own games (sampled moves) expand the corpus for the next space
                side,
                lambda s, side=side, space=space, actors=actors: LSPOAgent(
                    s, space, actors, side, greedy=False
                ),
                config.policy_games,
                seed=2_000_000 + config.seed + 10_000 * iteration,
                utterances=corpus,
            )
        report["iterations"].append(summary)
    space.to_json(out / "space.json")
    torch.save(
        {
            "obs_dim": actors[SIDES[0]][0].in_features,
            "action_dim": actors[SIDES[0]][-1].out_features,
            "hidden": list(config.hidden),
            **{side: actor.state_dict() for side, actor in actors.items()},
        },
        out / "policy.pt",
    )
    (out / "training.json").write_text(json.dumps(report, indent=1) + "\n")
    return report


def main(argv: list[str] | None = None) -> None:
    """``python -m agents.werewolf.lspo --out DIR``: rebuild the strategy space and retrain the policy."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=DATA, help="where space.json, policy.pt, training.json go"
    )
    defaults = LSPOConfig()
    for field, value in asdict(defaults).items():
        if field in ("hidden", "k"):
            continue
        parser.add_argument(f"--{field.replace('_', '-')}", type=type(value), default=value)
    args = parser.parse_args(argv)
    config = replace(defaults, **{f: getattr(args, f) for f in asdict(defaults) if f not in ("hidden", "k")})
    train(args.out, config)


if __name__ == "__main__":
    main()
