"""PGA-ME and DCG-ME against MAP-Elites on the point maze at equal evaluations, a CI-sized version of the
papers' comparison: each has the higher final QD-score in at least 4 of 5 seeds.

Budget: 1504 evaluations of 50-step episodes per run, agents.qd.cpu_config otherwise (PGA-ME: one
sixteenth of each batch by policy gradient; DCG-ME: an eighth by descriptor-conditioned PG and an eighth by
actor injection; see its docstring). Measured with these settings (seeds 0-4, QD-score in thousands):
MAP-Elites 43.53, 47.13, 39.89, 45.84, 45.19; PGA-ME 51.37, 49.14, 46.72, 49.15, 47.34 (wins all 5, by 2.0k
to 7.8k, about 13 to 50 cells); DCG-ME 48.10, 48.06, 46.59, 44.65, 46.92 (wins 4, by 0.9k to 6.7k, loses
seed 3 by 1.2k). On seeds 5-9 MAP-Elites scores 42.50, 47.14, 45.90, 47.80, 47.85, PGA-ME wins 4 and DCG-ME
47.88, 41.54, 45.22, 48.91, 43.43 wins 2: DCG-ME's mean margin (+0.9k over seeds 0-9) is below the
seed-to-seed spread (about 3k), so the test seeds are not a guarantee for other seeds (benchmarks/qd.py
reports both on fresh seeds). Runs are deterministic per seed, so the outcome is fixed for a given torch
build; PGA-ME's margins allow one seed to flip, DCG-ME's none. A smaller budget shrinks PGA-ME's margins
(1024 evaluations: 4 of 5 with a 0.2k loss and a 0.7k win), so the budget stays. Takes about 1.5 to 4
minutes on a 2-core machine, depending on load.
"""

from __future__ import annotations

import pytest

from agents.qd import run_qd

EVALS = 1504  # init batch 32 + 46 iterations of 32
EPISODE_LENGTH = 50
SEEDS = range(5)


def final_qd_score(algorithm: str, seed: int) -> float:
    run = run_qd(algorithm, "pointmaze", EVALS, seed, episode_length=EPISODE_LENGTH)
    assert run.rows[-1]["evaluations"] == EVALS
    return run.rows[-1]["qd_score"]


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_gradient_variation_beats_map_elites_qd_score_at_equal_evaluations_in_4_of_5_seeds():
    """The MAP-Elites runs are shared by both comparisons."""
    me = [final_qd_score("me", seed) for seed in SEEDS]
    for algorithm in ("pga_me", "dcg_me"):
        scores = [final_qd_score(algorithm, seed) for seed in SEEDS]
        wins = sum(s > m for s, m in zip(scores, me, strict=True))
        assert wins >= 4, (algorithm, scores, me)
