"""The versions of the code that produced a match, stored with it so that a changed env or agent is replayed.

A version is the project version (``arena.__version__``) and a short hash (16 hex digits of SHA-256) of the
files that built the thing, ``"<project version>/<hash>"``:

- an env: every file (sources and package data, caches excluded) of its family package, the package of its
  entry point (``envs/<family>/`` for the project's envs, the entry point's own package or module for
  others), and of ``envs/_core/``, which registers, wraps and checks every env;
- a built-in agent: every file of the ``agents`` package tree. Coarse but sound: built-ins share code across
  the tree (``agents.base``, ``agents/pg``, the registry in ``agents/__init__``) and load data files by path,
  so no narrower set of files is known to cover everything one of them runs; a change anywhere in the tree
  replays built-in matches it need not have, but never reuses a match of code that has changed;
- an agent package: its content hash (:func:`agents.base.content_hash`, already part of its identity).

Matches stored before versions were recorded read as :data:`UNKNOWN`, which differs from every version.
"""

from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

UNKNOWN = "unknown"
HASH_CHARS = 16
_SKIPPED_DIRS = {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}
_SKIPPED_SUFFIXES = {".pyc", ".pyo"}


@dataclass(frozen=True)
class MatchVersions:
    """What produced one stored match: its env's version and each agent's (by label)."""

    env: str = UNKNOWN
    agents: dict[str, str] = field(default_factory=dict)


def project_version() -> str:
    import arena

    return arena.__version__


def env_version(env_id: str) -> str:
    """The version of a registered env (a Gymnasium id or a multi-agent game's name)."""
    return _versioned(files_hash([*_package_roots(_env_module(env_id)), _package_dir("envs._core")]))


def builtin_agents_version() -> str:
    """The version of every built-in agent: the ``agents`` package tree (see the module docstring)."""
    return _versioned(files_hash([_package_dir("agents")]))


def package_version(content_hash: str) -> str:
    """The version of an agent package with this content hash."""
    return _versioned(content_hash)


def short(version: str, chars: int = 8) -> str:
    """``version`` with its hash cut to ``chars`` digits, for tables and pages."""
    head, slash, digest = version.rpartition("/")
    return f"{head}/{digest[:chars]}" if slash else version


def files_hash(roots: list[Path]) -> str:
    """SHA-256 (hex, 16 chars) over the files under ``roots`` (directories or single files): each file's path
    relative to its root's parent, and its bytes, in sorted order; caches and bytecode excluded."""
    digest = hashlib.sha256()
    for root in roots:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            relative = path.relative_to(root.parent)
            if _SKIPPED_DIRS.intersection(relative.parts) or path.suffix in _SKIPPED_SUFFIXES:
                continue
            digest.update(relative.as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:HASH_CHARS]


def _versioned(digest: str) -> str:
    return f"{project_version()}/{digest}"


def _env_module(env_id: str) -> str:
    """The module that defines the env: a Gymnasium id's entry point, or the class of a made game."""
    import gymnasium as gym

    import envs

    if env_id in gym.registry:
        entry = gym.spec(env_id).entry_point
        return entry.split(":")[0] if isinstance(entry, str) else entry.__module__
    env = envs.make_multi(env_id)
    try:
        return type(env.unwrapped).__module__
    finally:
        env.close()


def _package_roots(module: str) -> list[Path]:
    """The family package of ``module``: ``envs.<family>`` for the project's envs, else its own package (or
    the module itself when it is a top-level module)."""
    parts = module.split(".")
    project_env = parts[0] == "envs" and len(parts) > 1
    family = ".".join(parts[:2]) if project_env else ".".join(parts[:-1]) or module
    spec = importlib.util.find_spec(family)
    if spec is None:
        raise ValueError(f"cannot find the package {family!r} of env module {module!r}")
    if spec.submodule_search_locations:
        return [Path(p) for p in spec.submodule_search_locations]
    return [Path(spec.origin)]


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(f"{package!r} is not an importable package")
    return Path(next(iter(spec.submodule_search_locations)))
