"""``arena bench lm`` writes the figures the language-model work is judged by, under the keys it promises."""

import json

import pytest
from typer.testing import CliRunner

from arena.cli import app

runner = CliRunner()


@pytest.mark.slow
def test_bench_lm_writes_speed_and_exact_match_at_each_stage(tmp_path):
    """On the tiny random model with a few seconds of training: every promised key, EM in [0, 1], positive
    speeds, and the training time within the budget plus one step."""
    result = runner.invoke(
        app,
        [
            "bench",
            "lm",
            "--model",
            "tiny-random",
            "--seeds",
            "3",
            "--budget-s",
            "3",
            "--questions",
            "1",
            "--sft-examples",
            "8",
            "--out",
            str(tmp_path),
        ],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    figures = json.loads((tmp_path / "lm-seed3.json").read_text())
    assert {
        "model",
        "device",
        "tokens_per_s",
        "em_before",
        "em_after_sft",
        "em_after",
        "train_wall_s",
    } <= set(figures)
    assert figures["model"] == "tiny-random" and figures["seed"] == 3
    assert all(v > 0 for v in figures["tokens_per_s"].values())
    assert all(0 <= figures[k] <= 1 for k in ("em_before", "em_after_sft", "em_after"))
    assert 0 < figures["train_wall_s"] < 30
    assert "EM before" in result.output


def test_bench_lm_names_a_bad_estimator():
    result = runner.invoke(app, ["bench", "lm", "--estimator", "ppo"], env={"COLUMNS": "200"})
    assert result.exit_code == 2 and "estimator='ppo' must be one of" in result.output
