"""A latent-strategy Werewolf player trained by self-play against the scripted pool (LSPO-style).

Iterative latent space policy optimisation (after Xu et al., 2025, "Learning Strategic Language Agents in
the Werewolf Game with Iterative Latent Space Policy Optimization"), with the language model replaced by the
space's own templates:

1. build a latent strategy space from utterances of self-play games (:mod:`agents.werewolf.strategies`);
2. learn a policy over (latent strategy, target) with the PG core (PPO, :mod:`agents.pg.ppo`) in
   :class:`~agents.werewolf.training.SideEnv`, a single-agent view in which the learner plays every seat of
   one side, each seat from its own observation only, against scripted players
   (:mod:`agents.baselines.werewolf`, one style drawn per game) on the other side. The first policy starts
   from an imitation of the scripted players' moves mapped into the latent space
   (:func:`~agents.werewolf.training.imitate`), as LSPO starts from its language model's own play;
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
comparisons in :mod:`agents.werewolf.games`, the training loop in :mod:`agents.werewolf.training`; this
module is the command line: ``python -m agents.werewolf.lspo --out agents/werewolf/data`` retrains the
shipped space and weights.

Win rates of the shipped weights against the scripted pool (``compare_with_pool(side, 2000,
seed=3_000_000)``: 2,000 deals per side, a scripted style drawn per deal for the other side; the pool is
the mean of the three scripted styles in the same seats and deals; 95 % intervals: Wilson for the LSPO
rate, bootstrap over deals for the pool's rate and for the paired difference):

| side       | LSPO                 | scripted pool        | difference            |
|------------|----------------------|----------------------|-----------------------|
| villagers  | 70.6 % [68.6, 72.6]  | 44.6 % [42.9, 46.4]  | +0.260 [0.243, 0.277] |
| werewolves | 93.2 % [92.0, 94.2]  | 55.9 % [54.0, 57.9]  | +0.372 [0.352, 0.393] |

Training (the defaults of :class:`~agents.werewolf.training.LSPOConfig`, ``data/training.json``; evaluated
on 300 deals after each iteration). Iteration 1: 400 scripted games gave 7,209 utterances and K = 6
strategies, the six phrases the scripted players use (k-means keeps "is a werewolf" and "is not a werewolf"
apart); imitation, then PPO for 300,000 (villagers) and 100,000 (werewolves) steps: villagers 65.0 % (pool
45.3 %), werewolves 88.0 % (pool 53.2 %). Iteration 2: the policy's 200 games grew the corpus to 9,452
utterances; the space kept its 6 strategies (so PPO went on from the first policy): villagers 67.0 %,
werewolves 93.0 %. The villagers' speech changed most: over the 300 evaluation deals, "I have nothing to add
yet." fell from 3,766 to 1,571 speeches, clearing seer claims from 843 to 227 and "I am not a werewolf."
from 100 to 0, while suspicions rose from 870 to 1,020; the werewolves kept fake seer claims (357, then
354). An act takes about 0.3 ms on one CPU core.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict, replace
from pathlib import Path

from agents.werewolf.policy import DATA
from agents.werewolf.training import LSPOConfig, train


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
