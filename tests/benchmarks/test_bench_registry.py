"""``arena bench`` finds its families: the arena knows the group only through an entry point, the group knows
its commands only from the modules of the ``benchmarks`` package, and neither import happens before it is
needed."""

import ast
import inspect
import subprocess
import sys
import typing
from importlib.metadata import entry_points
from pathlib import Path

import typer
from typer.testing import CliRunner

import arena
import benchmarks
from arena.cli import app

runner = CliRunner()
FAMILIES = ["arena", "inventory", "iot", "lm", "motor", "pg", "qd", "ratings", "search", "werewolf"]


def test_every_benchmark_module_is_a_family_and_nothing_else():
    assert benchmarks.families() == FAMILIES


def test_the_bench_group_reaches_the_arena_through_its_entry_point():
    (entry,) = [e for e in entry_points(group="pg_arena.commands") if e.name == "bench"]
    assert entry.value == "benchmarks:app" and entry.load() is benchmarks.app


def test_bench_help_and_bench_alone_list_one_command_per_family():
    """With no subcommand the group prints its help (and exits 2, as every group without arguments)."""
    listed = runner.invoke(app, ["bench", "--help"], env={"COLUMNS": "200"})
    alone = runner.invoke(app, ["bench"], env={"COLUMNS": "200"})
    assert listed.exit_code == 0 and alone.exit_code == 2
    for result in (listed, alone):
        rows = [result.output.index(f"│ {family} ") for family in FAMILIES]
        assert rows == sorted(rows)  # each family listed, alphabetically


def test_each_family_command_has_help_with_an_example_and_the_output_folder_option():
    for family in FAMILIES:
        result = runner.invoke(app, ["bench", family, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
        assert f"Example: arena bench {family}" in result.output and "--out" in result.output


def test_each_family_command_takes_the_seeds_it_runs():
    """Every command declares ``--seeds`` as :data:`benchmarks.Seeds` with fresh default seeds (none of the
    tuning seeds), and a malformed value is refused by name before anything runs."""
    group = typer.main.get_command(app).get_command(None, "bench")
    for family in FAMILIES:
        command = group.get_command(None, family).callback
        assert typing.get_type_hints(command, include_extras=True)["seeds"] == benchmarks.Seeds, family
        default = inspect.signature(command).parameters["seeds"].default
        assert set(benchmarks.parse_seeds(default)).isdisjoint(benchmarks.TUNING_SEEDS), family
        refused = runner.invoke(app, ["bench", family, "--seeds", "ten"], env={"COLUMNS": "200"})
        assert refused.exit_code == 2 and "'ten' is not a seed" in refused.output, family


def test_no_arena_module_imports_benchmarks():
    """The layers run benchmarks > arena: an import of ``benchmarks`` anywhere under arena/ is an arrow up."""
    upward = []
    for path in Path(arena.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            upward += [f"{path}: {n}" for n in names if n == "benchmarks" or n.startswith("benchmarks.")]
    assert upward == []


def test_the_arena_command_line_imports_no_benchmark_family_until_bench_runs():
    code = (
        "import sys; from typer.testing import CliRunner; from arena.cli import app; "
        "CliRunner().invoke(app, ['envs']); "
        "print(sorted(m for m in sys.modules if m.startswith('benchmarks')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "['benchmarks']"
