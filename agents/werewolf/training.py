"""Training the LSPO player: :class:`SideEnv` (one side of a game as a single-agent env) and the LSPO loop
(build the space, imitate, PPO per side, expand the corpus with the policy's games, again).

:func:`train` writes what :func:`agents.werewolf.policy.lspo` loads, and :func:`train_package` (the
``arena train lspo`` learner) makes it an agent package.

Iterative latent space policy optimisation (after Xu et al., 2025, "Learning Strategic Language Agents in
the Werewolf Game with Iterative Latent Space Policy Optimization"), with the language model replaced by the
space's own templates:

1. build a latent strategy space from utterances of self-play games (:mod:`agents.werewolf.strategies`);
2. learn a policy over (latent strategy, target) with the PG core (PPO, :mod:`agents.pg.ppo`) in
   :class:`SideEnv`, a single-agent view in which the learner plays every seat of one side, each seat from
   its own observation only, against scripted players (:mod:`agents.baselines.werewolf`, one style drawn per
   game) on the other side. The first policy starts from an imitation of the scripted players' moves mapped
   into the latent space (:func:`imitate`), as LSPO starts from its language model's own play;
3. add the trained policy's games to the corpus, re-cluster, and train again (from the last policy when
   the space kept its shape, else from a new imitation).

A seat observes (:class:`~agents.werewolf.features.SeatView`) the living players, day and phase, its own
role, what it knows of each side, today's accusations and the last vote, and, for each player, the latent
id of what it said today, the latent ids it ever used (and was the first to use) and the latent ids of
utterances that named it (so "claimed seer and named Player 4 a werewolf" is a pair of features);
werewolves also see tonight's suggestions of their partner.
The action is ``MultiDiscrete([K, n + 1])``: the strategy of the speech (or night chat) and a target (the
player the speech is about and, if the strategy's utterances accused, accuses; the vote; the night target).
The player is in :mod:`agents.werewolf.features` and :mod:`agents.werewolf.policy`, games and paired
comparisons in :mod:`agents.werewolf.games`.

The shipped player, ``werewolf/lspo``, is the agent package ``agents/trained/werewolf-lspo``, made by
``arena train lspo werewolf --steps 800000 --seed 0 --device cpu``: :class:`LSPOConfig`'s defaults, whose
2 iterations x (300,000 + 100,000) are the 800,000 PPO env steps (its ``training.json`` records 1,946 s of
wall time). Its win rates against the scripted pool (``compare_with_pool(side, 2000, seed=3_000_000,
weights=SHIPPED_DIR / "werewolf-lspo")``: 2,000 held-out deals per side, a scripted style drawn per deal for
the other side; the pool is the mean of the three scripted styles in the same seats and deals; 95 %
intervals: Wilson for the LSPO rate, bootstrap over deals for the pool's rate and for the paired
difference):

| side       | LSPO                 | scripted pool        | difference            |
|------------|----------------------|----------------------|-----------------------|
| villagers  | 67.4 % [65.3, 69.4]  | 44.6 % [42.9, 46.4]  | +0.228 [0.211, 0.244] |
| werewolves | 92.7 % [91.5, 93.8]  | 55.9 % [54.0, 57.9]  | +0.368 [0.347, 0.389] |

Its training (the package's ``training.json``; evaluated on 300 deals after each iteration). Iteration 1:
400 scripted games gave 7,209 utterances and K = 6 strategies, the six phrases the scripted players use
(k-means keeps "is a werewolf" and "is not a werewolf" apart); imitation, then PPO for 300,000 (villagers)
and 100,000 (werewolves) steps: villagers 61.7 % (pool 45.3 %), werewolves 88.0 % (pool 53.2 %).
Iteration 2: the policy's 200 games grew the corpus to 9,357 utterances; the space kept its 6 strategies
(so PPO went on from the first policy): villagers 67.0 %, werewolves 93.3 %. Over the 300 evaluation deals
the villagers' most common speech stayed "I have nothing to add yet." (2,710, then 3,107 speeches), while
clearing seer claims rose from 562 to 713 and "I am not a werewolf." fell from 49 to 12; the werewolves
kept fake seer claims (357, then 395). An act takes about 0.3 ms on one CPU core.
"""

from __future__ import annotations

import csv
import json
import time
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from agents.base import AgentManifest, EnvSpaces, write_manifest
from agents.baselines import STYLES, ScriptedWerewolfPlayer
from agents.nets import mlp
from agents.werewolf.features import NIGHT_CHAT, SIDES, SPEECH, view_for
from agents.werewolf.games import new_game, paired_comparison, play_game, scripted_pool_wins, side_games
from agents.werewolf.policy import WEIGHTS, LSPOAgent
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


def scripted_corpus(games: int, seed: int, env_kwargs: dict[str, Any] | None = None) -> list[Utterance]:
    """Utterances of scripted self-play (a style drawn per side and game), deals ``seed``, ``seed + 1``...
    of the game with ``env_kwargs``."""
    rng = np.random.default_rng(seed)
    env, spaces = new_game(env_kwargs)
    utterances: list[Utterance] = []
    for game in range(games):
        env.reset(seed=seed + game)
        play_game(env, _scripted_players(env, spaces, rng), seed + game, utterances)
    return utterances


def _scripted_players(env, spaces: EnvSpaces, rng: np.random.Generator) -> dict[str, ScriptedWerewolfPlayer]:
    """Scripted players for every seat of the dealt ``env``, one style per side drawn from ``rng``."""
    styles = {side: tuple(STYLES)[int(rng.integers(len(STYLES)))] for side in SIDES}
    return {a: ScriptedWerewolfPlayer(spaces, styles[env.infos[a]["team"]]) for a in env.possible_agents}


def imitation_data(
    space: StrategySpace, side: str, games: int, seed: int, env_kwargs: dict[str, Any] | None = None
) -> tuple[torch.Tensor, ...]:
    """Scripted players' moves on ``side`` (a style drawn per side and game) as (features, mask, strategy,
    target, target weight): the strategy is the latent id of what they said, the target the seat they named
    in a speech (weight 0 when they named nobody) or their target otherwise."""
    rng = np.random.default_rng(seed)
    env, spaces = new_game(env_kwargs)
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
    space: StrategySpace,
    side: str,
    config: LSPOConfig,
    seed: int,
    epochs: int = 30,
    env_kwargs: dict[str, Any] | None = None,
) -> torch.nn.Module:
    """An actor that imitates the scripted pool on ``side`` (masked cross-entropy on both action parts): the
    starting point of the policy-gradient training."""
    features, masks, strategies, targets, weights = imitation_data(
        space, side, config.imitation_games, seed, env_kwargs
    )
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


def train_side(
    space: StrategySpace,
    side: str,
    config: LSPOConfig,
    seed: int,
    init=None,
    *,
    env_kwargs: dict[str, Any] | None = None,
    progress: bool = False,
    console=None,
) -> tuple[torch.nn.Module, list[dict[str, float]]]:
    """PPO on :class:`SideEnv` for the side's steps in ``config``; returns the actor net (``init``: warm start
    from an actor of the same shape) and PPO's log rows, one per update."""
    from agents.pg import Learner, ppo

    vector = gym.vector.SyncVectorEnv(
        [lambda: SideEnv(space, side, env_kwargs=env_kwargs) for _ in range(config.num_envs)],
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
    learner = Learner(
        "ppo",
        ppo.update,
        vector,
        ppo_config,
        total_steps=steps,
        seed=seed,
        device="cpu",
        progress=progress,
        console=console,
    )
    try:
        if init is not None:
            learner.policy.actor.load_state_dict(init.state_dict())
        rows = learner.train()
        return learner.policy.actor.eval(), rows
    finally:
        learner.close()


def train(
    out: Path,
    config: LSPOConfig,
    log=print,
    *,
    env_kwargs: dict[str, Any] | None = None,
    progress: bool = False,
    console=None,
) -> dict[str, Any]:
    """Run ``config.iterations`` LSPO iterations on the game made with ``env_kwargs`` and write to ``out``:
    ``space.json``, ``policy.pt``, ``training.json`` (the learner, game, seed, PPO env steps, config and
    wall time; per iteration K, templates, strategy use and paired win rates) and ``progress.csv`` (a row per
    PPO update: iteration, side, ``global_step`` = PPO env steps so far over both sides, PPO's quantities).
    Returns the report that ``training.json`` holds. ``progress`` shows a bar per PPO run."""
    from agents.pg import torch_threads

    config.validate()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with torch_threads(1):  # small MLPs: one thread is fastest, and the caller's setting comes back after
        return _train(out, config, log, dict(env_kwargs or {}), progress, console)


def _train(out: Path, config: LSPOConfig, log, env_kwargs: dict, progress: bool, console) -> dict[str, Any]:
    started = time.perf_counter()
    corpus = scripted_corpus(config.corpus_games, config.seed, env_kwargs)
    eval_seed = 1_000_000 + config.seed
    pool = {
        side: scripted_pool_wins(side, config.eval_games, seed=eval_seed, env_kwargs=env_kwargs)
        for side in SIDES
    }
    report: dict[str, Any] = {
        "algo": "lspo",
        "env_id": "werewolf",
        "env_kwargs": env_kwargs,
        "seed": config.seed,
        "steps": config.iterations * (config.villager_steps + config.werewolf_steps),
        "config": asdict(config),
        "iterations": [],
    }
    actors: dict[str, torch.nn.Module] = {}
    space: StrategySpace | None = None
    rows: list[dict[str, Any]] = []
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
            start = actors[side] if reuse else imitate(space, side, config, seed, env_kwargs=env_kwargs)
            actor, ppo_rows = train_side(
                space, side, config, seed, start, env_kwargs=env_kwargs, progress=progress, console=console
            )
            actors = {**actors, side: actor}
            done = rows[-1]["global_step"] if rows else 0
            rows += [
                {"iteration": iteration + 1, "side": side, **row, "global_step": done + row["global_step"]}
                for row in ppo_rows
            ]
        for side in SIDES:
            said: list[Utterance] = []
            wins = side_games(
                side,
                lambda s, side=side, space=space, actors=actors: LSPOAgent(s, space, actors, side=side),
                config.eval_games,
                seed=eval_seed,
                env_kwargs=env_kwargs,
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
                env_kwargs=env_kwargs,
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
        out / WEIGHTS,
    )
    with (out / "progress.csv").open("w", newline="") as file:
        writer = csv.DictWriter(file, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    report["wall_time_s"] = time.perf_counter() - started
    (out / "training.json").write_text(json.dumps(report, indent=1) + "\n")
    return report


# Options of train_package: LSPOConfig's fields but those its arguments set (steps, seed).
STEP_FIELDS = ("villager_steps", "werewolf_steps")


def train_package(
    env_id: str,
    env_kwargs: dict,
    *,
    out: str | Path,
    steps: int,
    seed: int,
    device: str = "cpu",
    progress: bool = True,
    console=None,
    **options: Any,
) -> Path:
    """LSPO on the Werewolf game (``env_id`` "werewolf", made with ``env_kwargs``) written to ``out`` as an
    agent package: :func:`train`'s files and an ``agent.toml`` whose factory is
    :func:`agents.werewolf.policy.lspo` (reading ``agent_dir``).

    ``steps`` is the total of PPO env steps over both sides and all iterations: each iteration gets
    ``steps // iterations``, a quarter of it (rounded down) for the werewolves and the rest for the
    villagers, as :class:`LSPOConfig`'s defaults split it (800,000 steps over 2 iterations: 300,000 and
    100,000 per iteration); PPO rounds each down to whole updates of ``num_envs * num_steps``. ``options``
    set the other fields of :class:`LSPOConfig` (``hidden`` as a list). The training runs on the CPU:
    ``device`` is "cpu" or "auto"."""
    from agents.pg.policy import weights_version

    if env_id != "werewolf":
        raise ValueError(f"env_id={env_id!r}: LSPO trains on the multi-agent game 'werewolf' only")
    if device not in ("cpu", "auto"):
        raise ValueError(f"device={device!r}: LSPO trains on the CPU (allowed: 'cpu', 'auto')")
    allowed = [f.name for f in fields(LSPOConfig) if f.name not in (*STEP_FIELDS, "seed")]
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ValueError(f"options {unknown} are not lspo options; allowed: {', '.join(allowed)}")
    if "hidden" in options:
        options = {**options, "hidden": tuple(options["hidden"])}
    config = replace(LSPOConfig(), seed=seed, **options)
    if config.iterations < 1:
        raise ValueError(f"iterations must be >= 1, got {config.iterations}")
    per_iteration = steps // config.iterations
    werewolf_steps, update = per_iteration // 4, config.num_envs * config.num_steps
    if werewolf_steps < update:
        raise ValueError(
            f"steps={steps} leaves the werewolves {werewolf_steps} PPO steps per iteration, less than one "
            f"update (num_envs * num_steps = {update}); steps must be >= {4 * update * config.iterations}"
        )
    config = replace(config, villager_steps=per_iteration - werewolf_steps, werewolf_steps=werewolf_steps)
    log = console.print if console is not None else (print if progress else _quiet)
    out = Path(out)
    train(out, config, log, env_kwargs=env_kwargs, progress=progress, console=console)
    saved = torch.load(out / WEIGHTS, weights_only=True)
    state = {f"{side}.{name}": tensor for side in SIDES for name, tensor in saved[side].items()}
    write_manifest(
        out,
        AgentManifest(
            name=f"lspo-werewolf-seed{seed}",
            version=weights_version(state),
            entry_point="agents.werewolf.policy:lspo",
            envs=[env_id],
            weights=WEIGHTS,
        ),
    )
    return out


def _quiet(*_: Any) -> None:
    """A log that prints nothing."""
