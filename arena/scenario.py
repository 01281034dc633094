"""Scenario files: what a tournament plays, validated on load with errors naming the file and the field.

A *match scenario* pits a roster against each other in a multi-agent game::

    [scenario]
    name = "werewolf-smoke"
    kind = "match"
    env = "werewolf"
    env_kwargs = { num_players = 7 }
    format = "round_robin"     # or "gauntlet" (everyone vs `reference`) or "swiss" (`rounds` rounds)
    games_per_pairing = 20     # even: each pair plays every seat deal twice, once from each side
    seed = 0

    [[agents]]
    name = "werewolf/scripted"   # a built-in (agents.make); `kwargs` and `label` optional
    [[agents]]
    path = "my_agents/bot"       # an agent package directory (agent.toml)

A *task suite* runs every agent on single-agent envs and normalises its mean return between a low and a high
reference agent of the roster (0 = low, 1 = high, as human-normalised Atari scores)::

    [scenario]
    name = "motor"
    kind = "suite"
    episodes = 5
    seed = 0
    low_reference = "random"
    high_reference = "motor/pi"

    [[envs]]
    id = "arena/DCMotorSpeed-v0"
    kwargs = { max_episode_steps = 2000 }   # `episodes` may be overridden per env

    [[agents]]
    name = "random"
    [[agents]]
    name = "motor/pi"

The scenarios shipped with the project are package data in ``arena/scenarios/`` (``scenarios/`` at the top of
a source checkout links to it): :func:`find_scenario` resolves a built-in name (``quickstart``, ``motor``)
or a path, and :func:`builtin_scenarios` lists them.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import typing
from pathlib import Path
from typing import Annotated, Any, Literal

import gymnasium as gym
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

import agents
import envs
from agents import RULES, AgentPackageError, content_hash, label_problem, read_manifest, validate_label
from envs import unknown_message

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

FORMATS = ("round_robin", "gauntlet", "swiss")
BUILT_IN = Path(__file__).resolve().parent / "scenarios"  # the shipped scenario files (package data)


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message names the file and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _a_name(value: str) -> str:
    """Validates names that reach results, files and pages (agents.labels); _describe adds field and value."""
    problem = label_problem(value)
    if problem is not None:
        raise ValueError(f"{problem}; {RULES}")
    return value


Name = Annotated[str, AfterValidator(_a_name)]


class AgentEntry(_Strict):
    """One roster entry: a built-in agent name or an agent package directory."""

    name: str | None = None
    path: str | None = None
    label: Name | None = None
    kwargs: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _exactly_one_source(self) -> AgentEntry:
        if (self.name is None) == (self.path is None):
            raise ValueError("give exactly one of 'name' (a built-in agent) or 'path' (an agent directory)")
        return self


class SuiteEnv(_Strict):
    id: str
    kwargs: dict[str, Any] = Field(default_factory=dict)
    episodes: int | None = Field(default=None, ge=1, le=100_000)
    label: Name | None = Field(default=None, min_length=1, max_length=120)  # the task's name in tables


def task_labels(envs: list[SuiteEnv]) -> list[str]:
    """Each suite entry's name in tables: its label, else its env id, with the kwargs when the id repeats."""
    repeated = {e.id for e in envs if sum(other.id == e.id for other in envs) > 1}
    return [
        e.label
        or (
            f"{e.id} ({', '.join(f'{k}={v}' for k, v in sorted(e.kwargs.items()))})"
            if e.id in repeated
            else e.id
        )
        for e in envs
    ]


class Header(_Strict):
    name: Name = Field(
        min_length=1, max_length=80, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*(/[A-Za-z0-9_.\-]+)?$"
    )
    kind: Literal["match", "suite"]
    seed: int = 0
    move_time_s: float = Field(default=5.0, gt=0, le=3600)
    match_time_s: float = Field(default=600.0, gt=0, le=86_400)
    # match scenarios
    env: str | None = None
    env_kwargs: dict[str, Any] = Field(default_factory=dict)
    format: Literal["round_robin", "gauntlet", "swiss"] = "round_robin"
    games_per_pairing: int = Field(default=2, ge=2, le=100_000)
    reference: str | None = None
    rounds: int | None = Field(default=None, ge=1, le=1000)
    # task suites
    episodes: int = Field(default=10, ge=1, le=100_000)
    low_reference: str | None = None
    high_reference: str | None = None


class Sandbox(_Strict):
    """What each agent package may use in one match (see :class:`arena.players.Limits`); not part of the
    scenario's hash, so tightening a limit keeps the matches already played."""

    memory_mb: int = Field(default=4096, ge=256, le=1_048_576)
    max_processes: int = Field(default=64, ge=8, le=4096)
    cpus: float = Field(default=1.0, ge=0.05, le=256)
    gpu: bool = False


class ScenarioFile(_Strict):
    scenario: Header
    agents: list[AgentEntry] = Field(min_length=1)
    envs: list[SuiteEnv] = Field(default_factory=list)
    sandbox: Sandbox = Field(default_factory=Sandbox)


class Scenario(BaseModel):
    """A validated scenario: the file's contents, the roster's labels and package hashes, and a hash.

    The hash covers what defines a match (the [scenario] table and the envs), not the roster: adding an agent
    to a scenario keeps the ids of the matches already played, so only the new agent's matches are played.
    (Swiss pairings depend on every result, so a Swiss scenario's hash includes its roster.)
    """

    model_config = ConfigDict(frozen=True)

    source: str
    spec: ScenarioFile
    labels: tuple[str, ...]
    package_hashes: dict[str, str]
    hash: str

    @property
    def header(self) -> Header:
        return self.spec.scenario

    @property
    def name(self) -> str:
        return self.header.name

    @property
    def kind(self) -> str:
        return self.header.kind


class Collection(_Strict):
    """A file that plays other scenario files, shortened: ``[collection]`` with ``name``, ``include`` (paths
    relative to the file, or built-in scenario names) and optional ``games_per_pairing`` (match scenarios),
    ``episodes`` and ``max_episode_steps`` (task suites). Each included scenario is renamed
    ``<collection>/<name>``."""

    name: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
    include: list[str] = Field(min_length=1)
    games_per_pairing: int | None = Field(default=None, ge=2, le=100_000)
    episodes: int | None = Field(default=None, ge=1, le=100_000)
    max_episode_steps: int | None = Field(default=None, ge=1, le=10_000_000)


def builtin_scenarios() -> dict[str, Path]:
    """The shipped scenario files by name (the file name without ``.toml``), in name order."""
    return {path.stem: path for path in sorted(BUILT_IN.glob("*.toml"))}


def find_scenario(name_or_path: str | Path, base: Path | None = None) -> Path:
    """The scenario file that ``name_or_path`` names: that file when it exists (relative to ``base`` when
    given, else to the current directory), else the built-in scenario of that name (``quickstart``). Neither:
    ScenarioError naming the closest built-in names and listing all of them."""
    path = Path(base or ".") / name_or_path
    if path.is_file():
        return path
    built_in = builtin_scenarios()
    if str(name_or_path) in built_in:
        return built_in[str(name_or_path)]
    close = difflib.get_close_matches(str(name_or_path), list(built_in), n=3, cutoff=0.4)
    raise ScenarioError(
        f"{path}: no such scenario file or built-in scenario"
        + (f"; closest: {', '.join(close)}" if close else "")
        + f"; built-in: {', '.join(built_in)} (`arena scenarios`)"
    )


def outline(path: Path) -> tuple[str, str]:
    """A scenario file's kind (``match``, ``suite`` or ``collection``) and what it plays, in a few words, read
    without validating the file (for listings; :func:`load_scenarios` validates)."""
    data = _read(path)
    if "collection" in data:
        included = [Path(name).stem for name in data["collection"].get("include", [])]
        return "collection", "shortened: " + ", ".join(included)
    header, roster = data.get("scenario", {}), data.get("agents", [])
    if header.get("kind") == "match":
        return "match", f"{header.get('env')}, {len(roster)} agents, {header.get('format', 'round_robin')}"
    ids = list(dict.fromkeys(env.get("id") for env in data.get("envs", [])))
    return str(header.get("kind")), f"{', '.join(map(str, ids))}; {len(roster)} agents"


def load_scenario(path: str | Path) -> Scenario:
    """Read, validate and hash a scenario file; every problem raises ScenarioError naming file and field."""
    path = Path(path)
    return parse_scenario(_read(path), source=str(path), base=path.parent)


def load_scenarios(path: str | Path) -> list[Scenario]:
    """The scenarios of a file: itself, or for a ``[collection]`` file each included scenario, shortened."""
    path = Path(path)
    data = _read(path)
    if "collection" not in data:
        return [parse_scenario(data, source=str(path), base=path.parent)]
    if set(data) != {"collection"}:
        raise ScenarioError(f"{path}: a collection file holds only a [collection] table")
    try:
        collection = Collection.model_validate(data["collection"])
    except ValidationError as error:
        problems = "; ".join(_describe({**e, "loc": ("collection", *e["loc"])}) for e in error.errors())
        raise ScenarioError(f"{path}: {problems}") from None
    return [_shortened(collection, find_scenario(name, base=path.parent)) for name in collection.include]


def _shortened(collection: Collection, path: Path) -> Scenario:
    data = _read(path)
    header = dict(data.get("scenario", {}))
    header["name"] = f"{collection.name}/{header.get('name', path.stem)}"
    if header.get("kind") == "match" and collection.games_per_pairing:
        header["games_per_pairing"] = collection.games_per_pairing
    if header.get("kind") == "suite":
        if collection.episodes:
            header["episodes"] = collection.episodes
        envs = []
        for env in data.get("envs", []):
            env = {**env, "episodes": None}
            if collection.max_episode_steps:
                env["kwargs"] = {**env.get("kwargs", {}), "max_episode_steps": collection.max_episode_steps}
            envs.append(env)
        data = {**data, "envs": envs}
    return parse_scenario({**data, "scenario": header}, source=str(path), base=path.parent)


def _read(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ScenarioError(f"{path}: no such scenario file")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ScenarioError(f"{path}: not valid TOML (UTF-8): {error}") from None


def parse_scenario(data: dict[str, Any], *, source: str, base: Path) -> Scenario:
    """Validate scenario data (as read from TOML); relative agent paths are relative to ``base``."""
    try:
        spec = ScenarioFile.model_validate(data)
    except ValidationError as error:
        raise ScenarioError(f"{source}: " + "; ".join(_describe(e) for e in error.errors())) from None
    spec = spec.model_copy(
        update={
            "agents": [
                a.model_copy(update={"path": str((base / a.path).resolve())}) if a.path else a
                for a in spec.agents
            ]
        }
    )
    labels, hashes = _resolve_roster(spec, source)
    _check_envs(spec, source)
    _check_domains(spec, source)
    _check_references(spec.scenario, labels, source)
    # What defines the matches: the [scenario] table and the envs (not their display labels), and for Swiss,
    # whose pairings depend on everyone's results, the roster too.
    defining = spec.model_dump(
        mode="json", include={"scenario", "envs"}, exclude={"envs": {"__all__": {"label"}}}
    )
    if spec.scenario.kind == "match" and spec.scenario.format == "swiss":
        defining["roster"] = labels
    digest = hashlib.sha256(json.dumps(defining, sort_keys=True).encode()).hexdigest()[:16]
    return Scenario(source=source, spec=spec, labels=tuple(labels), package_hashes=hashes, hash=digest)


def _describe(error: dict) -> str:
    field = ".".join(str(part) for part in error["loc"]) or "(top level)"
    if error["type"] == "missing":
        return f"field '{field}': is required"
    if error["type"] == "extra_forbidden":
        known = _fields_beside(error["loc"])
        close = difflib.get_close_matches(str(error["loc"][-1]), known, n=3, cutoff=0.6)
        return f"field '{field}': is not a known field" + (f"; closest: {', '.join(close)}" if close else "")
    if error["type"] == "literal_error":
        return f"field '{field}': {error['input']!r} is not allowed; allowed: {error['ctx']['expected']}"
    return f"field '{field}': {error['msg'].removeprefix('Value error, ')} (got {error['input']!r})"


def _fields_beside(loc: tuple) -> list[str]:
    """The known fields of the table holding the field at ``loc`` (a scenario file's, or a collection's when
    ``loc`` starts with ``collection``)."""
    model: type[BaseModel] | None = Collection if loc[0] == "collection" else ScenarioFile
    for part in loc[1:-1] if loc[0] == "collection" else loc[:-1]:
        if isinstance(part, int):  # an item of a list of tables
            continue
        annotation = model.model_fields[part].annotation if part in model.model_fields else None
        candidates = (annotation, *typing.get_args(annotation))
        model = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
        if model is None:
            return []
    return list(model.model_fields)


def _resolve_roster(spec: ScenarioFile, source: str) -> tuple[list[str], dict[str, str]]:
    known = {r.name for r in agents.list_agents()}
    labels, hashes = [], {}
    for i, entry in enumerate(spec.agents):
        where = f"{source}: field 'agents.{i}"
        if entry.name is not None:
            if entry.name not in known:
                raise ScenarioError(f"{where}.name': {unknown_message('agent', entry.name, sorted(known))}")
            label = entry.label or entry.name
        else:
            try:
                manifest = read_manifest(entry.path)
            except AgentPackageError as error:
                raise ScenarioError(f"{where}.path': {error}") from None
            label = entry.label or f"{manifest.name}@{manifest.version}"
            hashes[label] = content_hash(entry.path)
        if label in labels:
            raise ScenarioError(
                f"{where}.label': {label!r} is already used; give each entry a distinct label"
            )
        labels.append(label)
    return labels, hashes


def _check_envs(spec: ScenarioFile, source: str) -> None:
    header = spec.scenario
    multi = {r.id for r in envs.list_envs(kind="multi")}
    if header.kind == "match":
        if header.env is None:
            raise ScenarioError(f"{source}: field 'scenario.env': is required for a match scenario")
        if header.env not in multi:
            problem = unknown_message("multi-agent env", header.env, sorted(multi))
            raise ScenarioError(f"{source}: field 'scenario.env': {problem}")
        _try_make(
            f"{source}: field 'scenario.env_kwargs'", lambda: envs.make_multi(header.env, **header.env_kwargs)
        )
        if header.games_per_pairing % 2:
            raise ScenarioError(
                f"{source}: field 'scenario.games_per_pairing': {header.games_per_pairing} must be even "
                "(each pair plays every deal from both sides)"
            )
        if header.format == "swiss" and header.rounds is None:
            raise ScenarioError(f"{source}: field 'scenario.rounds': is required for format 'swiss'")
        if len(spec.agents) < 2:
            raise ScenarioError(f"{source}: field 'agents': a match scenario needs at least 2 agents")
        if spec.envs:
            raise ScenarioError(
                f"{source}: field 'envs': only task suites list envs; a match uses 'scenario.env'"
            )
    else:
        if not spec.envs:
            raise ScenarioError(f"{source}: field 'envs': a task suite needs at least one [[envs]] entry")
        if header.env is not None:
            raise ScenarioError(f"{source}: field 'scenario.env': a task suite lists its envs in [[envs]]")
        for i, entry in enumerate(spec.envs):
            if entry.id not in gym.registry or entry.id in multi:
                singles = [r.id for r in envs.list_envs(kind="single")] + list(gym.registry)
                raise ScenarioError(
                    f"{source}: field 'envs.{i}.id': {unknown_message('single-agent env', entry.id, singles)}"
                )
        labels = task_labels(spec.envs)
        for i, (label, entry) in enumerate(zip(labels, spec.envs, strict=True)):
            try:
                validate_label(label, "task name")
            except ValueError as error:  # a name made from the id and kwargs: the entry needs a label
                raise ScenarioError(f"{source}: field 'envs.{i}.label': {error}; set a label") from None
            if label in labels[:i] or label == "overall":
                raise ScenarioError(
                    f"{source}: field 'envs.{i}.label': {label!r} is taken (by another entry, or 'overall')"
                )
            _try_make(f"{source}: field 'envs.{i}.kwargs'", lambda e=entry: gym.make(e.id, **e.kwargs))


def _check_domains(spec: ScenarioFile, source: str) -> None:
    """Refuse a built-in agent made for another domain than the scenario's envs (it would forfeit every
    episode); agents for any domain (``random``) and envs registered elsewhere (Gymnasium's) pass."""
    ids = [spec.scenario.env] if spec.scenario.kind == "match" else [entry.id for entry in spec.envs]
    ours = {record.id: record.domain for record in envs.list_envs()}
    domains = {ours[env_id]: env_id for env_id in ids if env_id in ours}
    built_in = {record.name: record.domain for record in agents.list_agents()}
    for i, entry in enumerate(spec.agents):
        domain = built_in.get(entry.name, "any")
        if domain != "any" and set(domains) - {domain}:
            other, env_id = next((d, e) for d, e in domains.items() if d != domain)
            raise ScenarioError(
                f"{source}: field 'agents.{i}.name': {entry.name!r} plays {domain} envs, not {other} envs "
                f"such as {env_id!r}; pick one of the agents listed by `arena agents --domain {other}`"
            )


def _try_make(where: str, make) -> None:
    """Build an env once, so that bad kwargs are reported on load, not in the middle of a tournament."""
    try:
        make().close()
    except (TypeError, ValueError) as error:
        raise ScenarioError(f"{where}: {error}") from None


def _check_references(header: Header, labels: list[str], source: str) -> None:
    if header.kind == "suite":
        needed = {"low_reference": header.low_reference, "high_reference": header.high_reference}
    elif header.format == "gauntlet":
        needed = {"reference": header.reference}
    else:
        needed = {}
    for field, value in needed.items():
        if value is None:
            raise ScenarioError(
                f"{source}: field 'scenario.{field}': is required here (a label of the roster)"
            )
        if value not in labels:
            roster = ", ".join(labels)
            raise ScenarioError(
                f"{source}: field 'scenario.{field}': {value!r} is not in the roster ({roster})"
            )
    if header.kind == "suite" and header.low_reference == header.high_reference:
        raise ScenarioError(f"{source}: field 'scenario.high_reference': must differ from low_reference")
