"""The Agent protocol, what an agent is told about its task, the seeded random agent, and agent packages.

An agent package is a directory with an ``agent.toml``::

    name = "my-bot"
    version = "1.0"
    entry_point = "bot:make_agent"      # module (a .py file or package in the directory) : factory
    envs = ["arena/DCMotorSpeed-v0"]    # the env ids it plays
    weights = "policy.pt"               # optional, relative to the directory; must exist
    [kwargs]                            # optional keyword arguments for the factory
    hidden = 64
    [training]                          # optional; written by ``arena train``: how to make the weights again
    command = "arena train ppo arena/DCMotorSpeed-v0 --steps 200000 --seed 0 --device cpu"
    seed = 0

The factory is called as ``factory(spaces: EnvSpaces, **kwargs)`` and returns an :class:`Agent`. A factory in
the package's own files finds its weights next to its module file; a factory from an installed module (as
trained agents use, e.g. ``agents.pg.policy:load``) that takes an ``agent_dir`` argument gets the package
directory there, so the package can be copied or moved.
"""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import inspect
import json
import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import gymnasium as gym
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from agents.labels import validate_label
from envs import mask_for_space, multi_agent_spec

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

Action = Any
MANIFEST = "agent.toml"


@runtime_checkable
class Agent(Protocol):
    """Something that plays: reset at the start of each episode, then one action per observation."""

    name: str

    def reset(self, seed: int | None = None) -> None: ...

    def act(self, observation: Any, info: dict) -> Action: ...


@dataclass
class EnvSpaces:
    """What an agent may know of its task: the spaces of its seat, the env id and the env's kwargs."""

    observation_space: gym.Space
    action_space: gym.Space
    env_id: str | None = None
    env_kwargs: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, env: Any, seat: str | None = None) -> EnvSpaces:
        """The spaces of a Gymnasium env, of ``seat`` in a PettingZoo env (AEC or parallel; the id and kwargs
        are those :func:`envs.make_multi` made it with), or ``env`` itself when it already is an EnvSpaces.
        A PettingZoo env without a valid ``seat`` raises ValueError naming the seats."""
        if isinstance(env, EnvSpaces):
            return env
        if hasattr(env, "possible_agents"):
            if seat not in env.possible_agents:
                raise ValueError(
                    f"seat={seat!r}: a multi-agent env needs the seat the agent plays, one of "
                    f"{', '.join(env.possible_agents)}"
                )
            name, kwargs = multi_agent_spec(env) or (None, {})
            return cls(env.observation_space(seat), env.action_space(seat), env_id=name, env_kwargs=kwargs)
        spec = env.spec
        return cls(
            observation_space=env.observation_space,
            action_space=env.action_space,
            env_id=spec.id if spec else None,
            env_kwargs=dict(spec.kwargs) if spec else {},
        )


class RandomAgent:
    """Uniformly random legal actions from its own seeded generator (masks from ``info["action_mask"]``)."""

    name = "random"

    def __init__(self, spaces: EnvSpaces, seed: int | None = None):
        self._space = copy.deepcopy(spaces.action_space)
        self.reset(seed)

    def reset(self, seed: int | None = None) -> None:
        self._space.seed(seed)

    def act(self, observation: Any, info: dict) -> Action:
        return self._space.sample(mask=mask_for_space(self._space, info.get("action_mask")))


class TrainingRecord(BaseModel):
    """How a trained package's weights were made: the ``arena train`` command and its seed."""

    model_config = ConfigDict(extra="forbid")

    command: str = Field(min_length=1, max_length=1000)
    seed: int


class AgentManifest(BaseModel):
    """The validated contents of an ``agent.toml``."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-/]*$")
    version: str = Field(min_length=1, max_length=32)
    entry_point: str
    envs: list[str] = Field(min_length=1)
    weights: str | None = None
    kwargs: dict[str, Any] = Field(default_factory=dict)
    training: TrainingRecord | None = None

    @field_validator("entry_point")
    @classmethod
    def _entry_point_is_module_colon_factory(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*", value):
            raise ValueError(f"must look like 'module:factory' (e.g. 'bot:make_agent'), got {value!r}")
        return value


class AgentPackageError(ValueError):
    """An agent directory that cannot be loaded; the message names the file and the field."""


def read_manifest(directory: str | Path) -> AgentManifest:
    """Read and validate ``directory/agent.toml``."""
    path = Path(directory) / MANIFEST
    if not path.is_file():
        raise AgentPackageError(f"{path}: no {MANIFEST} (an agent package needs one)")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise AgentPackageError(f"{path}: not valid TOML (UTF-8): {error}") from None
    try:
        manifest = AgentManifest.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"field '{'.'.join(map(str, e['loc'])) or '?'}': {_pydantic_reason(e)}" for e in error.errors()
        )
        raise AgentPackageError(f"{path}: {problems}") from None
    label = f"{manifest.name}@{manifest.version}"  # the agent's name in results, files and pages
    for key, value in (("name", manifest.name), ("version", manifest.version), ("name@version", label)):
        try:
            validate_label(value, key)
        except ValueError as error:
            raise AgentPackageError(f"{path}: {error}") from None
    if manifest.weights is not None:
        weights = (path.parent / manifest.weights).resolve()
        if not weights.is_relative_to(path.parent.resolve()):
            raise AgentPackageError(f"{path}: field 'weights': {manifest.weights!r} is outside the package")
        if not weights.is_file():
            raise AgentPackageError(f"{path}: field 'weights': file {manifest.weights!r} not found")
    return manifest


def write_manifest(directory: str | Path, manifest: AgentManifest) -> Path:
    """Write ``manifest`` as ``directory/agent.toml`` (creating the directory); returns the file's path.

    Strings, numbers, booleans and (nested) lists of them are written as TOML values, so
    :func:`read_manifest` reads back an equal manifest."""
    lines = []
    for key in ("name", "version", "entry_point", "envs", "weights"):
        value = getattr(manifest, key)
        if value is not None:
            lines.append(f"{key} = {_toml_value(value)}")
    for table in ("kwargs", "training"):
        values = getattr(manifest, table)
        values = values.model_dump() if isinstance(values, BaseModel) else values
        if values:
            lines += ["", f"[{table}]"] + [
                f"{_toml_key(key)} = {_toml_value(value)}" for key, value in values.items()
            ]
    path = Path(directory) / MANIFEST
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key, ensure_ascii=False)


def _toml_value(value: Any) -> str:
    """A TOML literal for a string, number, boolean or list of them (JSON's spelling is TOML's for these)."""
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, (str, bool, int)) or (isinstance(value, float) and math.isfinite(value)):
        return json.dumps(value, ensure_ascii=False)
    raise TypeError(f"cannot write {value!r} ({type(value).__name__}) in {MANIFEST}")


def _pydantic_reason(error: dict) -> str:
    if error["type"] == "missing":
        return "is required"
    if error["type"] == "extra_forbidden":
        return f"is not a known field (allowed: {', '.join(AgentManifest.model_fields)})"
    return error["msg"].removeprefix("Value error, ")


def content_hash(directory: str | Path) -> str:
    """SHA-256 (hex, 16 chars) over an agent package's files: relative paths and bytes, caches excluded."""
    directory = Path(directory)
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(directory).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def load_agent(directory: str | Path, env: gym.Env | EnvSpaces | None = None, **kwargs: Any) -> Agent:
    """Build the agent of an agent package for ``env``'s spaces.

    Without ``env``, the spaces of the first id in the manifest's ``envs`` are used. Keyword arguments
    override the manifest's ``[kwargs]``.
    """
    directory = Path(directory).resolve()
    manifest = read_manifest(directory)
    factory, installed = _import_factory(directory, manifest.entry_point)
    if env is None:
        env = _spaces_of_registered(manifest.envs[0], directory)
    wants_dir = installed and "agent_dir" in inspect.signature(factory).parameters
    located = {"agent_dir": str(directory)} if wants_dir else {}
    agent = factory(EnvSpaces.of(env), **{**manifest.kwargs, **located, **kwargs})
    if not isinstance(agent, Agent):
        raise AgentPackageError(
            f"{directory / MANIFEST}: field 'entry_point': {manifest.entry_point} returned "
            f"{type(agent).__name__}, which lacks name/reset/act"
        )
    return agent


def _spaces_of_registered(env_id: str, directory: Path) -> EnvSpaces:
    import envs  # noqa: F401  (registers the ids)

    if env_id not in gym.registry:
        raise AgentPackageError(
            f"{directory / MANIFEST}: field 'envs': {env_id!r} is not a registered single-agent env; "
            "pass env= to load_agent"
        )
    env = gym.make(env_id)
    try:
        return EnvSpaces.of(env)
    finally:
        env.close()


def _exec_private(directory: Path, module_name: str, source: Path):
    """Run an agent package's module under a private name, its directory first on the path for its own
    helper modules, which are then dropped from ``sys.modules`` so that another package's helpers of the same
    name load from that package (the module keeps its references to them)."""
    private_name = f"_arena_agent_{abs(hash(str(directory))):x}_{module_name.replace('.', '_')}"
    spec = importlib.util.spec_from_file_location(private_name, source)
    module = importlib.util.module_from_spec(spec)
    sys.modules[private_name] = module  # dataclasses and pickling look their module up there
    before = set(sys.modules)
    sys.path.insert(0, str(directory))
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(private_name, None)
        raise
    finally:
        sys.path.remove(str(directory))
        for name in set(sys.modules) - before:
            if Path(getattr(sys.modules[name], "__file__", None) or "/").resolve().is_relative_to(directory):
                del sys.modules[name]
    return module


def _import_factory(directory: Path, entry_point: str):
    """Import ``module:factory`` from a module file in ``directory`` (privately named), else an installed one;
    returns the factory and whether it came from an installed module.

    Trained agents saved by our learners point at an installed module (e.g. ``agents.pg.policy:load``);
    submitted agents ship their module in the directory.
    """
    module_name, factory_name = entry_point.split(":")
    relative = Path(*module_name.split("."))
    candidates = [directory / relative.with_suffix(".py"), directory / relative / "__init__.py"]
    source = next((c for c in candidates if c.is_file()), None)
    where = f"{directory / MANIFEST}: field 'entry_point'"
    try:
        if source is None:
            module = importlib.import_module(module_name)
        else:
            module = _exec_private(directory, module_name, source)
    except ModuleNotFoundError as error:
        if source is None and error.name == module_name.split(".")[0]:
            raise AgentPackageError(
                f"{where}: module {module_name!r} is neither in {directory} nor installed"
            ) from None
        raise AgentPackageError(f"{where}: importing {module_name!r} failed: {error!r}") from error
    except Exception as error:
        raise AgentPackageError(f"{where}: importing {module_name!r} failed: {error!r}") from error
    factory = getattr(module, factory_name, None)
    if not callable(factory):
        raise AgentPackageError(f"{where}: {module_name!r} has no callable {factory_name!r}")
    return factory, source is None
