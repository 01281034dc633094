"""Nothing the arena process loads from a run directory or an agent package unpickles code.

The source of agents/, envs/ and arena/ is searched for the ways Python unpickles (pickle, cloudpickle,
joblib, numpy's and pandas' pickle readers, ``torch.load`` without ``weights_only=True``); each hit must be on
the allow-list below, which says why it is safe.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("agents", "envs", "arena")
PATTERNS = (
    "weights_only=False",
    "pickle.load",  # and pickle.loads, cloudpickle.load(s)
    "pickle.Unpickler",
    "cloudpickle",
    "allow_pickle=True",
    "joblib.load",
    "read_pickle",
)
# (file, pattern): why it is safe
ALLOWED = {
    (
        "arena/sandbox_worker.py",
        "pickle.load",
    ): "the worker reads requests the arena itself pickled, over a pipe",
    (
        "agents/sb3.py",
        "cloudpickle",
    ): "SB3's loader, run only inside the sandbox (guarded: see the test below)",
}


def sources() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def test_the_source_is_found():
    names = {p.relative_to(ROOT).as_posix() for p in sources()}
    assert {"agents/sb3.py", "arena/sandbox_worker.py", "agents/qd/runner.py"} <= names


def test_no_unpickling_outside_the_allow_list():
    found = []
    for path in sources():
        name = path.relative_to(ROOT).as_posix()
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for pattern in PATTERNS:
                if pattern in re.sub(r"\s+", "", line) and (name, pattern) not in ALLOWED:
                    found.append(f"{name}:{number}: {pattern}: {line.strip()}")
    assert not found, "unpickling outside the allow-list:\n" + "\n".join(found)


def _torch_loads(tree: ast.AST):
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "load"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in ("torch", "th")
        ):
            yield node


def test_every_torch_load_passes_weights_only_true():
    missing, count = [], 0
    for path in sources():
        for call in _torch_loads(ast.parse(path.read_text())):
            count += 1
            keywords = {k.arg: k.value for k in call.keywords}
            value = keywords.get("weights_only")
            if not (isinstance(value, ast.Constant) and value.value is True):
                missing.append(f"{path.relative_to(ROOT)}:{call.lineno}")
    assert count > 0
    assert not missing, "torch.load without weights_only=True: " + ", ".join(missing)


def test_the_sb3_load_refuses_before_anything_else_unless_sandboxed():
    """agents/sb3.py's ``load`` starts with ``if not sandboxed(): raise ...`` (after its docstring)."""
    tree = ast.parse((ROOT / "agents" / "sb3.py").read_text())
    load = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "load")
    body = load.body[1:] if isinstance(load.body[0], ast.Expr) else load.body
    guard = body[0]
    assert isinstance(guard, ast.If) and isinstance(guard.body[0], ast.Raise)
    assert ast.unparse(guard.test) == "not sandboxed()"


def test_shipped_weights_load_with_weights_only():
    torch = pytest.importorskip("torch")
    files = sorted(p for pattern in ("agents/*/data/*.pt", "agents/*/data/*.pth") for p in ROOT.glob(pattern))
    assert files
    for path in files:
        torch.load(path, map_location="cpu", weights_only=True)
