"""The README's commands are the ones CI runs, its main-job command works, and the tree is lint-clean."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def readme_command(section: str) -> str:
    """The single command in the first bash block under the README heading ``## {section}``."""
    text = (ROOT / "README.md").read_text()
    body = text.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", body, re.S).group(1).strip()
    assert "\n" not in block, f"README section {section!r} must hold exactly one command"
    return block


def test_ci_runs_the_readme_set_up_and_test_commands_in_a_fresh_venv():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "set -euo pipefail" in ci and "python3 -m venv" in ci
    lines = [line.strip() for line in ci.splitlines()]
    setup, tests = readme_command("Set up"), readme_command("Test")
    assert setup in lines and tests in lines
    assert lines.index(setup) < lines.index(tests)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_readme_main_job_runs_and_prints_the_ranked_table(tmp_path):
    command = readme_command("Main job").split()
    executable = shutil.which(command[0], path=str(Path(sys.executable).parent))
    env = {**os.environ, "PG_ARENA_HOME": str(tmp_path), "COLUMNS": "120"}
    result = subprocess.run(
        [executable, *command[1:]], capture_output=True, text=True, timeout=600, cwd=ROOT, env=env
    )
    assert result.returncode == 0, result.stderr
    assert "rating [95% CI]" in result.stdout
    assert (tmp_path / "default" / "leaderboard.json").is_file()


def test_readme_python_example_runs_in_a_fresh_interpreter(tmp_path):
    """The example under "Using the pieces from Python" runs as shown, with no import before it."""
    text = (ROOT / "README.md").read_text()
    body = text.split("## Using the pieces from Python\n", 1)[1].split("\n## ", 1)[0]
    example = re.search(r"```python\n(.*?)```", body, re.S).group(1)
    result = subprocess.run(
        [sys.executable, "-c", example], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "arena/DCMotorSpeed-v0" in result.stdout


def test_tree_passes_ruff_check_and_format():
    for args in (["check", "."], ["format", "--check", "."]):
        result = subprocess.run(
            [sys.executable, "-m", "ruff", *args], cwd=ROOT, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout + result.stderr
