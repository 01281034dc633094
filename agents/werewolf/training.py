"""Training the LSPO player: :class:`SideEnv` (one side of a game as a single-agent env) and the LSPO loop
(build the space, imitate, PPO per side, expand the corpus with the policy's games, again).

:func:`train` writes what :func:`agents.werewolf.policy.lspo` loads; ``python -m agents.werewolf.lspo``
runs it from the command line.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from agents.base import EnvSpaces
from agents.baselines import STYLES, ScriptedWerewolfPlayer
from agents.nets import mlp
from agents.werewolf.features import NIGHT_CHAT, SIDES, SPEECH, view_for
from agents.werewolf.games import new_game, paired_comparison, play_game, scripted_pool_wins, side_games
from agents.werewolf.policy import LSPOAgent
from agents.werewolf.strategies import StrategySpace, Utterance, mention


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
        self._view = lambda: view_for(space, self.spaces)
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
        views = {a: view_for(space, spaces) for a in env.possible_agents if env.infos[a]["team"] == side}
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
    from agents.pg import Learner, ppo

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
    from agents.pg import torch_threads

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
