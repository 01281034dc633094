"""GRPO-family training of the search policy (:mod:`agents.search.policy`) on the structured search env.

Each update draws ``prompts`` training questions, answers each ``group_size`` times with the current policy
(one episode per answer, on :class:`envs.search.vector_env.SearchQAVectorEnv`), turns the episodes' rewards
(exact match, 0 or 1) into one advantage per episode, gives every step of an episode that advantage, and
takes ``epochs`` clipped policy-gradient steps on the whole batch (PPO's ratio clip, no KL term, no critic):

    loss = aggregate_t( -min(rho_t A, clip(rho_t, 1 - eps, 1 + eps) A) ) - c_ent * H,
    rho_t = pi(a_t | s_t) / pi_old(a_t | s_t).

With ``curriculum`` (the default) the questions of an update are drawn from every hop count up to the largest
the policy is for, not only from that one. Trained on 4-hop questions alone, a fresh policy answers none of
the 5,120 episodes of 40 updates right (seed 0), so every group's advantages are 0 and it never learns;
trained on 1-4 hops it answers the held-out 4-hop questions with EM 0.98-1.00 (greedy play) after 40 to 90
updates (GRPO seeds 0-2, SAN seeds 1-2, corpus seed 0): the slot features are relative to the current hop,
so what one hop teaches carries to the next.

The estimators (from :mod:`agents.pg.estimators`, plus :mod:`agents.search.empg`):

* ``grpo`` (Shao et al., 2024): ``A_i = (r_i - mean_G r) / (std_G r + eps)``, loss averaged per episode.
* ``dr_grpo`` (Liu et al., 2025): ``A_i = r_i - mean_G r``, loss summed and divided by ``N * max_turns``.
* ``rloo`` (Ahmadian et al., 2024): ``A_i = r_i - mean_{j != i} r_j``.
* ``san`` (Stratified GRPO, Zhu et al., 2025): the group is split into strata by the number of searches an
  episode made; ``A_i = alpha * (r_i - mean_k) / (std_k + eps) + (1 - alpha) * A_GRPO`` within stratum k.
* ``spo`` (Single-stream Policy Optimisation, Xu & Ding, 2025): one answer per question
  (``prompts * group_size`` questions per update); a persistent Beta tracker per question gives the baseline
  ``A_i = r_i - v(q_i)`` (forgetting set by the policy's KL since q_i was last seen), then the batch's
  advantages are standardised together.
* ``empg`` (Wang et al., 2025): GRPO's advantages re-scaled per step by the step's entropy plus a
  future-clarity bonus (see :func:`agents.search.empg.empg_advantages`).

Logged per update (names as in the papers' code): ``charts/episodic_return``, ``charts/em`` (the same with
the default costs of 0), ``charts/num_searches``, ``losses/policy_loss``, ``losses/entropy``,
``losses/approx_kl``, ``losses/clipfrac``.

Measured (``arena bench search --seeds 10-19 --updates 60`` on one core of an Intel Xeon; defaults: 60 updates
x 16 questions x 8 answers = 7,680 episodes, 9-18 CPU seconds per run): held-out 1-2 hop EM (sampled play)
rises from 0.00-0.02 to 0.97-1.00 for every estimator and seed (EMPG: 0.80-1.00), with 1.96-2.08 searches on
held-out 2-hop questions (EMPG up to 3.18). They differ in speed. Paired by seed against GRPO:

* SAN: mean training EM over the updates higher on 10/10 seeds at 30 and at 60 updates (sign test p = 0.002
  each; +0.058 [+0.042, +0.075] and +0.040 [+0.024, +0.055], 95 % t intervals); held-out EM after 30 updates
  higher on 9/10 seeds, one tie (p = 0.004; 0.88 against 0.73 on average); after 60 updates both are at
  0.98-1.00 (2 wins, 3 losses, 5 ties).
* Dr. GRPO and RLOO: no difference the seeds resolve (curve mean 8/10 and 7/10 at 60 updates, p >= 0.1).
* SPO and EMPG: slower, lower curve mean on 10/10 seeds at both budgets (p = 0.002).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import torch

from agents.base import EnvSpaces
from agents.pg import (
    BetaValueTracker,
    TrainingLogger,
    aggregate_token_loss,
    dr_grpo_advantages,
    grpo_advantages,
    normalize_advantages,
    rloo_advantages,
    san_advantages,
)
from agents.search.empg import empg_advantages
from agents.search.policy import SearchPolicyAgent, SlotPolicy, as_tensors, make_policy
from envs.search import SearchQAVectorEnv

ESTIMATORS = ("grpo", "dr_grpo", "rloo", "san", "spo", "empg")
ENV_FIELDS = ("hops", "corpus_seed", "max_turns", "top_k")  # the config's fields that configure the env
STRUCTURED_ENV, TEXT_ENV = "arena/SearchQA-v0", "arena/SearchQAText-v0"


@dataclass
class SearchGRPOConfig:
    """Hyperparameters; the defaults train on 1-2 hop questions in 10-20 seconds of one CPU core."""

    estimator: str = "grpo"
    hops: tuple[int, ...] = (1, 2)  # the hop counts the policy is for (and evaluated on)
    curriculum: bool = True  # train on every hop count up to the largest of hops, not only on hops
    corpus_seed: int = 0
    max_turns: int = 6
    top_k: int = 3
    updates: int = 60
    prompts: int = 16  # questions per update
    group_size: int = 8  # episodes per question (SPO: 1 each, over prompts * group_size questions)
    learning_rate: float = 3e-3
    epochs: int = 2  # gradient steps per batch (GRPO's mu)
    clip_coef: float = 0.2
    entropy_coef: float = 0.0
    max_grad_norm: float = 1.0
    hidden: int = 64
    san_alpha: float = 0.8
    empg_k: float = 1.0
    empg_k_future: float = 1.0
    empg_zeta: float = 0.05
    env_kwargs: dict = field(default_factory=dict)  # the env's other keywords (num_slots, search_cost, ...)
    num_threads: int = 1  # torch threads while training: one is fastest for these small batches

    def __post_init__(self) -> None:
        if self.estimator not in ESTIMATORS:
            raise ValueError(f"estimator={self.estimator!r} must be one of {ESTIMATORS}")
        for name in ("updates", "prompts", "group_size", "epochs", "hidden", "num_threads"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"{name} must be an int >= 1, got {getattr(self, name)!r}")
        if self.group_size < 2 and self.estimator not in ("spo",):
            raise ValueError(f"group_size must be >= 2 for {self.estimator} (groups of answers), got 1")
        if not 0 < self.clip_coef < 1 or self.learning_rate <= 0:
            raise ValueError(
                f"need 0 < clip_coef < 1 and learning_rate > 0, got {self.clip_coef}, {self.learning_rate}"
            )
        fixed = sorted(set(self.env_kwargs) & {*ENV_FIELDS, "split", "interface"})
        if fixed:
            raise ValueError(
                f"env_kwargs: {', '.join(fixed)} cannot be set there (the config's own fields set hops, "
                "corpus_seed, max_turns and top_k; training plays the structured train split)"
            )

    def training_hops(self) -> tuple[int, ...]:
        """The hop counts training draws questions of: 1 to the largest of ``hops`` with the curriculum."""
        return tuple(range(1, max(self.hops) + 1)) if self.curriculum else tuple(self.hops)

    def env(self, num_envs: int, split: str, hops: tuple[int, ...] | None = None) -> SearchQAVectorEnv:
        return SearchQAVectorEnv(
            num_envs,
            hops=hops or self.hops,
            interface="structured",
            corpus_seed=self.corpus_seed,
            max_turns=self.max_turns,
            top_k=self.top_k,
            split=split,
            **self.env_kwargs,
        )


@dataclass
class Episodes:
    """One batch of finished episodes: steps time-major ``[T, N]``, outcomes per episode ``[N]``."""

    obs: list[dict]  # per step, batched integer tensors
    masks: torch.Tensor  # [T, N, A] legal actions
    actions: torch.Tensor  # [T, N]
    log_probs: torch.Tensor  # [T, N] under the policy that acted
    entropies: torch.Tensor  # [T, N]
    valid: torch.Tensor  # [T, N] the step belongs to the episode (before or at its end)
    rewards: torch.Tensor  # [N] episode return (the exact match less any search costs and penalties)
    em: torch.Tensor  # [N] exact match of the answer (0 or 1; 0 without one)
    searches: torch.Tensor  # [N] searches made


@torch.no_grad()
def collect(
    policy: SlotPolicy, venv: SearchQAVectorEnv, questions, generator: torch.Generator, greedy: bool = False
) -> Episodes:
    """Play question ``questions[i]`` on copy i of ``venv`` to its end, every copy at once."""
    obs, info = venv.reset(options={"question": list(questions)})
    n = venv.num_envs
    alive = np.ones(n, dtype=bool)
    rewards, em, searches = np.zeros(n), np.zeros(n), np.zeros(n)
    steps = {"obs": [], "masks": [], "actions": [], "log_probs": [], "entropies": [], "valid": []}
    while alive.any():
        batch, mask = as_tensors(obs), torch.as_tensor(info["action_mask"], dtype=torch.bool)
        dist = policy.distribution(batch, mask)
        actions = dist.mode() if greedy else dist.sample(generator)
        values = (batch, mask, actions, dist.log_prob(actions), dist.entropy(), torch.tensor(alive))
        for key, value in zip(steps, values, strict=True):
            steps[key].append(value)
        obs, reward, terminated, truncated, info = venv.step(actions.numpy())
        rewards += reward * alive
        ended = (terminated | truncated) & alive
        if ended.any():
            searches[ended] = info["final_info"]["num_searches"][ended]
            em[ended] = info["final_info"]["em"][ended]
        alive &= ~ended
    stacked = {k: torch.stack(v) for k, v in steps.items() if k != "obs"}
    return Episodes(
        obs=steps["obs"],
        **stacked,
        rewards=torch.as_tensor(rewards, dtype=torch.float32),
        em=torch.as_tensor(em, dtype=torch.float32),
        searches=torch.as_tensor(searches),
    )


def evaluate(policy: SlotPolicy, config: SearchGRPOConfig, *, split: str = "test", seed: int = 0) -> dict:
    """Exact match and searches per hop count over every question of ``split`` (sampled and greedy play)."""
    out = {}
    for hops in config.hops:
        venv = config.env(1, split, (hops,))
        questions = np.arange(len(venv.envs[0].pool))
        venv = config.env(len(questions), split, (hops,))
        for mode in ("sampled", "greedy"):
            generator = torch.Generator().manual_seed(seed)
            episodes = collect(policy, venv, questions, generator, greedy=mode == "greedy")
            out[f"{mode}/em_{hops}hop"] = float(episodes.em.mean())
            out[f"{mode}/searches_{hops}hop"] = float(episodes.searches.float().mean())
    for mode in ("sampled", "greedy"):
        out[f"{mode}/em"] = float(np.mean([out[f"{mode}/em_{h}hop"] for h in config.hops]))
    return out


def advantages(episodes: Episodes, config: SearchGRPOConfig, state: dict) -> torch.Tensor:
    """``[T, N]`` per-step advantages of the configured estimator."""
    rewards = episodes.rewards
    groups = rewards.reshape(-1, config.group_size)
    if config.estimator in ("grpo", "empg"):
        episode = grpo_advantages(groups).flatten()
    elif config.estimator == "dr_grpo":
        episode = dr_grpo_advantages(groups).flatten()
    elif config.estimator == "rloo":
        episode = rloo_advantages(groups).flatten()
    elif config.estimator == "san":
        strata = episodes.searches.reshape(groups.shape)
        episode = san_advantages(groups, strata, alpha=config.san_alpha).flatten()
    else:  # spo: one answer per question, baseline from the persistent tracker
        tracker, last_kl, total_kl = state["tracker"], state["last_kl"], state["total_kl"]
        episode = torch.zeros_like(rewards)
        for i, (question, reward) in enumerate(zip(state["questions"], rewards.tolist(), strict=True)):
            kl = total_kl - last_kl[question] if question in last_kl else None
            episode[i] = tracker.advantage_and_update(question, reward, kl)
            last_kl[question] = total_kl
        episode = normalize_advantages(episode)
    per_step = episode[None, :].expand_as(episodes.log_probs)
    if config.estimator == "empg":
        per_step = empg_advantages(
            episode,
            episodes.entropies.T,
            episodes.valid.T,
            k=config.empg_k,
            k_future=config.empg_k_future,
            zeta=config.empg_zeta,
        ).T
    return per_step * episodes.valid


def update(
    policy: SlotPolicy, optimizer: torch.optim.Optimizer, episodes: Episodes, adv: torch.Tensor, config
) -> dict:
    """``epochs`` clipped policy-gradient steps on the batch's valid steps; returns the logged losses."""
    valid = episodes.valid
    obs = {k: torch.cat([o[k] for o in episodes.obs])[valid.flatten()] for k in episodes.obs[0]}
    mask, actions = episodes.masks.flatten(0, 1)[valid.flatten()], episodes.actions[valid]
    old_log_probs, step_adv = episodes.log_probs[valid], adv[valid]
    step_of, episode_of = valid.nonzero().T  # time-major, as the rows above
    mode = "dr_grpo" if config.estimator == "dr_grpo" else "grpo"
    for _ in range(config.epochs):
        dist = policy.distribution(obs, mask)
        log_ratio = dist.log_prob(actions) - old_log_probs
        ratio = log_ratio.exp()
        clipped = torch.clamp(ratio, 1 - config.clip_coef, 1 + config.clip_coef)
        per_step = -torch.min(ratio * step_adv, clipped * step_adv)
        table = torch.zeros(valid.shape[1], valid.shape[0]).index_put((episode_of, step_of), per_step)
        policy_loss = aggregate_token_loss(table, valid.T, mode=mode, max_length=config.max_turns)
        entropy = dist.entropy().mean()
        optimizer.zero_grad()
        (policy_loss - config.entropy_coef * entropy).backward()
        torch.nn.utils.clip_grad_norm_(policy.parameters(), config.max_grad_norm)
        optimizer.step()
    with torch.no_grad():
        return {
            "losses/policy_loss": float(policy_loss),
            "losses/entropy": float(entropy),
            "losses/approx_kl": float(((ratio - 1) - log_ratio).mean()),
            "losses/clipfrac": float(((ratio - 1).abs() > config.clip_coef).float().mean()),
        }


def learn(
    config: SearchGRPOConfig | None = None,
    *,
    seed: int = 0,
    out: str | Path | None = None,
    progress: bool = False,
    console=None,
    evaluate_at: tuple[int, ...] = (),
) -> SearchPolicyAgent:
    """Train a fresh policy on the train split; the agent's ``history`` has the initial and final held-out
    (test split) evals, per-update logs, and under ``checkpoints`` the held-out eval after each update count
    of ``evaluate_at``. Nothing in training depends on ``config.updates``, so the checkpoint after k updates
    is the final eval of the same run with ``updates=k``.

    With ``out`` the agent package (``policy.pt``, ``agent.toml`` named ``search-<estimator>``) and
    ``progress.csv`` are written there; ``progress`` shows a bar (on ``console``).
    """
    config = config or SearchGRPOConfig()
    if any(not 1 <= k <= config.updates for k in evaluate_at):
        raise ValueError(f"evaluate_at must hold update counts in 1..{config.updates}, got {evaluate_at!r}")
    threads = torch.get_num_threads()
    torch.set_num_threads(config.num_threads)
    try:
        return _learn(config, seed, out, progress, console, set(evaluate_at))
    finally:
        torch.set_num_threads(threads)


def _learn(
    config: SearchGRPOConfig, seed: int, out, progress: bool, console, evaluate_at: set[int]
) -> SearchPolicyAgent:
    torch_generator = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    single = config.estimator == "spo"
    episodes_per_update = config.prompts * config.group_size
    venv = config.env(episodes_per_update, "train", config.training_hops())
    policy = make_policy(
        EnvSpaces(venv.single_observation_space, venv.single_action_space), config.hidden, seed=seed
    )
    optimizer = torch.optim.Adam(policy.parameters(), lr=config.learning_rate)
    pool_size = len(venv.envs[0].pool)
    state = {"tracker": BetaValueTracker(), "last_kl": {}, "total_kl": 0.0}
    history = {"config": asdict(config), "seed": seed, "initial": evaluate(policy, config, seed=seed)}
    history["checkpoints"] = {}  # held-out evals after the update counts of evaluate_at
    logger = TrainingLogger(
        out,
        config.updates,
        progress=progress,
        description=f"search {config.estimator}",
        headline=("charts/em", "EM"),
        console=console,
    )
    env_steps = 0
    for k in range(config.updates):
        if single:
            questions = rng.choice(pool_size, episodes_per_update, replace=False)
        else:
            questions = np.repeat(rng.choice(pool_size, config.prompts, replace=False), config.group_size)
        state["questions"] = questions.tolist()
        episodes = collect(policy, venv, questions, torch_generator)
        env_steps += int(episodes.valid.sum())
        logs = update(policy, optimizer, episodes, advantages(episodes, config, state), config)
        state["total_kl"] += max(logs["losses/approx_kl"], 0.0)
        logs |= {
            "charts/episodic_return": float(episodes.rewards.mean()),
            "charts/em": float(episodes.em.mean()),
            "charts/num_searches": float(episodes.searches.mean()),
        }
        logger.log(k + 1, logs | {"charts/env_steps": env_steps})
        if k + 1 in evaluate_at:
            history["checkpoints"][k + 1] = evaluate(policy, config, seed=seed)
    logger.close()
    history |= {"final": evaluate(policy, config, seed=seed), "updates": logger.rows, "env_steps": env_steps}
    agent = SearchPolicyAgent(policy)
    agent.history = history
    if out is not None:
        agent.save(out, name=f"search-{config.estimator}")
    return agent


# What train_package's options may set: the hyperparameters (``steps`` sets the updates, the env's kwargs the
# env fields).
_SET_ELSEWHERE = (*ENV_FIELDS, "estimator", "updates", "env_kwargs")
OPTIONS = tuple(f.name for f in fields(SearchGRPOConfig) if f.name not in _SET_ELSEWHERE)
IGNORED_ENV_KWARGS = ("split", "max_episode_steps", "render_mode")  # none changes the task trained for


def train_package(
    env_id: str,
    env_kwargs: dict,
    *,
    out: str | Path,
    steps: int,
    seed: int,
    device: str,
    progress: bool = True,
    console=None,
    estimator: str = "grpo",
    **options,
) -> Path:
    """Train the search policy with ``estimator`` for ``steps`` updates on the structured env ``env_id``
    made with ``env_kwargs``, and write its agent package to ``out``; returns ``out``.

    Training plays only the *train* split's questions whatever ``env_kwargs["split"]`` says (the suites
    play ``"test"``); the hop counts and the other keywords (``max_turns``, ``top_k``, ``corpus_seed``,
    ``num_slots``, ...) come from ``env_kwargs``, else the env's defaults. ``max_episode_steps`` and
    ``render_mode`` are ignored: the env's ``max_turns`` ends an episode. ``options`` override the
    hyperparameters of :class:`SearchGRPOConfig` (:data:`OPTIONS`). Everything runs on the CPU whatever
    ``device`` says: the env steps in Python and the policy is a 64-unit MLP. The same seed writes the same
    weights.

    ``out`` receives ``agent.toml`` (factory :func:`agents.search.policy.load`, version a hash of the
    weights), ``policy.pt``, ``progress.csv`` (one row per update) and ``training.json`` (learner, env,
    kwargs, seed, steps, every hyperparameter, wall time, and the held-out exact match before and after
    training, measured on the test split and used for nothing else).
    """
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise ValueError(
            f"unknown option(s) {', '.join(unknown)}; the search learners take estimator (one of "
            f"{', '.join(ESTIMATORS)}) and {', '.join(OPTIONS)}"
        )
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator={estimator!r} must be one of {', '.join(ESTIMATORS)}")
    kwargs = _structured_env_kwargs(env_id, env_kwargs)
    env = SearchQAVectorEnv(1, interface="structured", split="train", **kwargs).envs[0]  # checks the kwargs
    config = SearchGRPOConfig(
        estimator=estimator,
        updates=steps,
        hops=env.hops,
        corpus_seed=env.corpus.seed,
        max_turns=env.max_turns,
        top_k=env.top_k,
        env_kwargs={k: v for k, v in kwargs.items() if k not in ENV_FIELDS},
        **options,
    )
    start = time.perf_counter()
    agent = learn(config, seed=seed, out=out, progress=progress, console=console)
    history = agent.history
    training = {
        "algo": estimator,
        "env_id": env_id,
        "env_kwargs": env_kwargs,
        "training_split": "train",
        "seed": seed,
        "steps": steps,
        "budget": "updates",
        "device": "cpu",
        "config": asdict(config),
        "wall_time_s": time.perf_counter() - start,
        "env_steps": history["env_steps"],
        "held_out": {"split": "test", "initial": history["initial"], "final": history["final"]},
    }
    (Path(out) / "training.json").write_text(json.dumps(training, indent=2) + "\n")
    return Path(out)


def _structured_env_kwargs(env_id: str, env_kwargs: dict) -> dict:
    """``env_kwargs`` less :data:`IGNORED_ENV_KWARGS` and ``interface``, once ``env_id`` and they name the
    structured interface, the only one the policy plays."""
    if env_id == TEXT_ENV:
        raise ValueError(
            f"env_id={TEXT_ENV!r} is the text interface (a transcript in, a tool call as text out), and the "
            f"search policy points at the item slots of {STRUCTURED_ENV}'s Dict observation, which the text "
            f"env does not show; train on {STRUCTURED_ENV} with the same kwargs, or a language model"
        )
    if env_id != STRUCTURED_ENV:
        raise ValueError(f"env_id={env_id!r}: the search learners train only on {STRUCTURED_ENV}")
    if env_kwargs.get("interface", "structured") != "structured":
        raise ValueError(f"env_kwargs: interface={env_kwargs['interface']!r}; the policy plays 'structured'")
    return {k: v for k, v in env_kwargs.items() if k not in (*IGNORED_ENV_KWARGS, "interface")}
