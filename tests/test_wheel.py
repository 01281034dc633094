"""The wheel built from the tree (as CI builds it) holds every file of the import packages: the modules, and
the data the installed package reads — the built-in scenarios, the leaderboard page's template, each
package's data/ folder and the shipped learned agents (agents/trained/) — and no byte code."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("arena", "envs", "agents", "benchmarks")  # pyproject's [tool.setuptools.packages.find]
DATA_FOLDERS = (
    "arena/scenarios/",
    "arena/templates/",
    "agents/qd/data/",
    "agents/trained/",  # one folder per shipped learned agent (agent.toml, weights, training.json, ...)
)


def ignored_names() -> list[str]:
    """.gitignore's patterns as names to skip at any depth (``leaderboards/*`` skips ``leaderboards``,
    ``agents/trained/**/tb/`` skips ``tb``), but ``__pycache__``: the byte code a used tree holds must stay
    out of the wheel all the same."""
    lines = [line.strip() for line in (ROOT / ".gitignore").read_text().splitlines()]
    parts = [line.rstrip("/").split("/") for line in lines if line and line[0] not in "#!"]
    names = [part[-1] if "**" in part else part[0] for part in parts]
    return [".git"] + [name for name in names if name != "__pycache__"]


def package_files(tree: Path) -> set[str]:
    """Every file under the import packages of ``tree``, as wheel paths (byte code left out)."""
    return {
        path.relative_to(tree).as_posix()
        for package in PACKAGES
        for path in (tree / package).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, set[str]]:
    """A copy of the tree's files that git does not ignore (and its byte code), and the names in the wheel
    that ``pip wheel`` builds from it, as CI does."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    shutil.copytree(ROOT, source, symlinks=True, ignore=shutil.ignore_patterns(*ignored_names()))
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(work / "dist"), str(source)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    (wheel,) = (work / "dist").glob("pg_arena-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return source, set(archive.namelist())


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_the_wheel_holds_every_file_of_the_packages_and_no_byte_code(built):
    source, names = built
    expected = package_files(source)
    # Data setuptools ships only when declared: each folder has data files in the tree, which are checked.
    for folder in DATA_FOLDERS:
        assert any(name.startswith(folder) and not name.endswith(".py") for name in expected), folder
    assert sorted(expected - names) == []
    assert [name for name in names if "__pycache__" in name or name.endswith(".pyc")] == []
