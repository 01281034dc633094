"""``arena submit``: check an agent package in a sandbox, store a copy on a board, and play its matches.

A submission is stored under ``<board dir>/agents/<name>@<version>/`` with its content hash. The same
name and version with other content is refused (bump the version); the same content again is a no-op. The
agent then joins every scenario on the board all of whose envs it declares, and only its new matches are
played.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from agents.base import content_hash, read_manifest
from arena.leaderboard import Board
from arena.sandbox import Limits, probe_agent
from arena.scenario import Scenario, parse_scenario


@dataclass(frozen=True)
class Submission:
    label: str
    stored_at: Path
    content_hash: str
    probed_envs: list[str]
    scenarios: list[Scenario]  # the board's scenarios it joins, with it in the roster


def submit(directory: str | Path, board: Board, *, limits: Limits | None = None) -> Submission:
    """Validate, probe, store and enrol an agent package; raises AgentPackageError, AgentFailure or ValueError
    with a message that says what is wrong."""
    directory = Path(directory).resolve()
    manifest = read_manifest(directory)
    probed = probe_agent(directory, limits=limits or Limits())
    label, digest = f"{manifest.name}@{manifest.version}", content_hash(directory)
    stored_at = board.path.parent / "agents" / label
    board.add_agent(label, str(stored_at), manifest.version, digest)  # refuses other content under this label
    if not stored_at.exists() or content_hash(stored_at) != digest:  # absent, or a copy cut short
        partial = stored_at.with_name(f".{label}.partial")
        shutil.rmtree(partial, ignore_errors=True)
        shutil.copytree(directory, partial, ignore=shutil.ignore_patterns("__pycache__"))
        shutil.rmtree(stored_at, ignore_errors=True)
        partial.rename(stored_at)
    return Submission(label, stored_at, digest, probed, _scenarios_joined(board, manifest.envs))


def _scenarios_joined(board: Board, env_ids: list[str]) -> list[Scenario]:
    """The board's scenarios whose every env is in ``env_ids``, each with every submitted agent that declares
    all of them added."""
    submitted = [
        a for a in board.agents() if a["content_hash"] and (Path(a["source"]) / "agent.toml").is_file()
    ]
    joined = []
    for stored in board.scenarios():
        spec = stored["spec"]
        scenario_envs = {spec["scenario"].get("env")} | {e["id"] for e in spec.get("envs", [])}
        scenario_envs.discard(None)
        if not scenario_envs <= set(env_ids):
            continue
        in_roster = set(parse_scenario(spec, source=stored["source"], base=Path("/")).labels)
        roster = list(spec["agents"])
        for agent in submitted:
            if agent["label"] not in in_roster and scenario_envs <= set(read_manifest(agent["source"]).envs):
                roster.append({"path": agent["source"], "label": agent["label"]})
        joined.append(parse_scenario({**spec, "agents": roster}, source=stored["source"], base=Path("/")))
    return joined
