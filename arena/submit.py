"""``arena submit``: check an agent package in a sandbox, store a copy on a board, and play its matches.

A submission is stored under ``<board dir>/agents/<directory name of name@version>/`` with its content hash
(:func:`agents.labels.label_directory_name`: ``bot@1`` is stored as ``bot@1``, ``team/bot@1`` as
``team%2Fbot@1``). The same name and version with other content is refused (bump the version); the
same content again is a no-op. The agent then joins every scenario on the board all of whose envs it
declares, and only its new matches are played.

Storing is all or nothing: the manifest, the names and the files are checked and the agent is probed first,
then the package is copied into a hidden sibling directory and its hash checked, and only then are the copy
renamed into place and the board's row written, in one transaction. Any failure removes the copy and leaves
the board as it was. The stored copy is readable by other users (directories 0755, files 0644), as the
sandbox runs agents under a user of their own; the probe plays such a copy too, so a package with private
files (safetensors writes 0600) is probed as it will be played.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from agents import (
    MANIFEST,
    AgentPackageError,
    content_hash,
    label_directory_name,
    read_manifest,
    validate_label,
)
from arena import isolation
from arena.launch import probe_agent
from arena.leaderboard import Board
from arena.players import Limits
from arena.scenario import Scenario, parse_scenario


@dataclass(frozen=True)
class Submission:
    label: str
    stored_at: Path
    content_hash: str
    probed_envs: list[str]
    scenarios: list[Scenario]  # the board's scenarios it joins, with it in the roster


def submit(
    directory: str | Path, board: Board, *, limits: Limits | None = None, trust_agents: bool = False
) -> Submission:
    """Validate, probe, store and enrol an agent package; raises AgentPackageError, AgentFailure or ValueError
    with a message that says what is wrong, and then has stored nothing. The probe runs in the full sandbox;
    where a layer is missing, only with ``trust_agents`` (the user's ``--trust-agents``), else ValueError."""
    directory = Path(directory).resolve()
    manifest = read_manifest(directory)
    label = validate_label(f"{manifest.name}@{manifest.version}", "name@version")
    _check_only_plain_files(directory)
    confined = isolation.confine_packages([label], trust_agents)
    with tempfile.TemporaryDirectory(prefix="arena-probe-") as scratch:  # probed as it will be stored
        try:
            copy = _copy_readable(directory, Path(scratch) / "package")
        except OSError as error:
            raise ValueError(
                f"copying agent {label!r} to probe it failed, so nothing was stored: {error}"
            ) from error
        probed = probe_agent(directory, limits=replace(limits or Limits(), confined=confined), files=copy)
    digest = content_hash(directory)
    stored_at = board.path.parent.resolve() / "agents" / label_directory_name(label)  # absolute, as stored
    known = next((a for a in board.agents() if a["label"] == label), None)
    if known is not None and known["content_hash"] != digest:  # refused before anything is copied
        raise ValueError(
            f"agent {label!r} is already on board {board.name!r} with other content "
            f"({known['content_hash']} != {digest}); bump its version"
        )
    if known is None or not _holds(stored_at, digest):
        try:
            _store(directory, digest, stored_at, board, label, manifest.version)
        except OSError as error:
            raise ValueError(
                f"storing agent {label!r} on board {board.name!r} failed, so nothing was stored: {error}"
            ) from error
    return Submission(label, stored_at, digest, probed, _scenarios_joined(board, manifest.envs))


def _store(directory: Path, digest: str, stored_at: Path, board: Board, label: str, version: str) -> None:
    """Copy ``directory`` to a hidden sibling of ``stored_at`` and check its hash; then, in one transaction,
    write the board's row and rename the copy into place (moving an incomplete earlier copy aside). On any
    failure the copy is removed, an earlier copy is put back, and the exception propagates."""
    agents_dir = stored_at.parent
    agents_dir.mkdir(parents=True, exist_ok=True)
    if (mode := stat.S_IMODE(agents_dir.stat().st_mode)) & 0o755 != 0o755:  # others must reach the copies
        agents_dir.chmod(mode | 0o755)
    staging = Path(tempfile.mkdtemp(prefix=f".{stored_at.name}.", suffix=".partial", dir=agents_dir))
    aside = staging.with_name(staging.name.removesuffix(".partial") + ".old")
    placed = False

    def move_into_place() -> None:
        nonlocal placed
        if _holds(stored_at, digest):  # stored meanwhile (another submit of the same content)
            return
        if stored_at.exists() or stored_at.is_symlink():  # an incomplete copy, with no row or a broken one
            stored_at.rename(aside)
        try:
            staging.rename(stored_at)
        except BaseException:
            if aside.exists() or aside.is_symlink():
                aside.rename(stored_at)
            raise
        placed = True

    try:
        _copy_readable(directory, staging)
        if content_hash(staging) != digest:
            raise ValueError(f"{directory} changed while it was being copied; submit it again")
        board.add_agent(label, str(stored_at), version, digest, then=move_into_place)
    except BaseException:
        if placed:  # renamed into place, but the row was not committed
            shutil.rmtree(stored_at, ignore_errors=True)
            if aside.exists() or aside.is_symlink():
                aside.rename(stored_at)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if aside.is_symlink() or aside.is_file():
            aside.unlink()
        shutil.rmtree(aside, ignore_errors=True)


def _holds(stored_at: Path, digest: str) -> bool:
    """Whether ``stored_at`` is a complete stored copy with content ``digest``."""
    return stored_at.is_dir() and not stored_at.is_symlink() and content_hash(stored_at) == digest


def _check_only_plain_files(directory: Path) -> None:
    """Refuse symbolic links and special files: a link would copy whatever it points at (a key, say) into a
    copy that other users may read, and a pipe would block the copy."""
    for root, dirs, files in os.walk(directory):
        for name in dirs + files:
            path = Path(root) / name
            mode = path.lstat().st_mode
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                kind = "a symbolic link" if stat.S_ISLNK(mode) else "a special file"
                raise AgentPackageError(
                    f"{directory / MANIFEST}: {path.relative_to(directory)} is {kind}; an agent package "
                    "holds only regular files and directories"
                )


def _copy_readable(directory: Path, copy: Path) -> Path:
    """Copy the package ``directory`` to ``copy`` (which may exist, empty), without ``__pycache__``, readable
    by the sandbox's user; returns ``copy``."""
    shutil.copytree(
        directory, copy, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True
    )
    _check_only_plain_files(copy)  # again: a link made after the first check is copied as a link
    _make_readable(copy)
    return copy


def _make_readable(root: Path) -> None:
    """Directories 0755 and files 0644 (no set-id or execute bits): readable by the sandbox's user."""
    root.chmod(0o755)
    for parent, dirs, files in os.walk(root):
        for name in dirs:
            (Path(parent) / name).chmod(0o755)
        for name in files:
            (Path(parent) / name).chmod(0o644)


def _scenarios_joined(board: Board, env_ids: list[str]) -> list[Scenario]:
    """The board's scenarios whose every env is in ``env_ids``, each with the board's submissions added
    (:func:`with_submissions`)."""
    joined = []
    for stored in board.scenarios():
        scenario = parse_scenario(stored["spec"], source=stored["source"], base=Path("/"))
        if _envs_of(scenario) <= set(env_ids):
            joined.append(with_submissions(scenario, board))
    return joined


def with_submissions(scenario: Scenario, board: Board) -> Scenario:
    """``scenario`` with every agent package on ``board`` that declares all of its envs added to the roster
    (by its stored label; those already in the roster are not added twice). So an agent submitted before a
    scenario existed joins it when the scenario is first played on the board."""
    roster = list(scenario.spec.model_dump()["agents"])
    for agent in board.agents():
        source = Path(agent["source"])
        if agent["label"] in scenario.labels or not (source / MANIFEST).is_file():
            continue
        if _envs_of(scenario) <= set(read_manifest(source).envs):
            roster.append({"path": str(source), "label": agent["label"]})
    if len(roster) == len(scenario.spec.agents):
        return scenario
    return parse_scenario(
        {**scenario.spec.model_dump(), "agents": roster}, source=scenario.source, base=Path("/")
    )


def _envs_of(scenario: Scenario) -> set[str]:
    header = scenario.spec.scenario
    return {header.env} if header.kind == "match" else {entry.id for entry in scenario.spec.envs}
