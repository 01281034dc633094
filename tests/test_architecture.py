"""The layers and faces of docs/architecture.md hold: import-linter's contracts in pyproject.toml all pass.

The contracts: benchmarks above the arena above agents above envs (never an import upwards); env families and
agent families independent of each other; each family's modules imported only inside it (or by the
benchmarks that measure them), so everyone else goes through the family's face, its ``__init__``.
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_import_linter_contract_is_kept():
    done = subprocess.run(
        [sys.executable, "-c", "from importlinter.cli import lint_imports_command; lint_imports_command()"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout
