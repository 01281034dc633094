"""Names that reach results, files and pages: what a name may be, where it is checked, how it is stored."""

import re
import string
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import agents
from agents.base import AgentPackageError, read_manifest
from agents.labels import BIDI_CONTROLS, MAX_LENGTH, PUNCTUATION, label_directory_name, validate_label
from arena.players import AgentRef
from arena.scenario import ScenarioError, load_scenarios, parse_scenario, task_labels

SCENARIOS = sorted(Path(__file__).resolve().parents[2].joinpath("scenarios").glob("*.toml"))
ALLOWED = set(string.ascii_letters + string.digits + PUNCTUATION)
# Characters a name must never hold: the bidi controls, every C0/C1 control, and a sample of the rest.
FORBIDDEN = sorted(BIDI_CONTROLS) + [chr(c) for c in (*range(0x20), *range(0x7F, 0xA0))] + list("$<>&'\"\\%`")

names = st.text(alphabet=st.sampled_from(sorted(ALLOWED)), min_size=1, max_size=MAX_LENGTH)


def is_valid(value: str) -> bool:
    try:
        validate_label(value, "label")
    except ValueError:
        return False
    return True


def test_every_built_in_agent_name_is_a_valid_name():
    for registered in agents.list_agents():
        assert validate_label(registered.name, "agent") == registered.name


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_every_shipped_scenario_task_and_agent_name_is_a_valid_name(path):
    for scenario in load_scenarios(path):
        for name in (scenario.name, *scenario.labels, *task_labels(scenario.spec.envs)):
            assert validate_label(name, "name") == name


@pytest.mark.parametrize(
    "value",
    [
        "werewolf/scripted",
        "qd/distilled@goal",
        "team/wolf-bot@0.1",
        "warehouse + stores",
        "2 hops, text",
        "CartPole-v1 (max_episode_steps=50)",
        "a...b",
        "x" * MAX_LENGTH,
    ],
)
def test_names_of_the_documented_shapes_are_accepted(value):
    assert validate_label(value, "label") == value


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("", "has 0 characters"),
        ("x" * (MAX_LENGTH + 1), f"has {MAX_LENGTH + 1} characters"),
        ("bot\u202egnp.exe", "contains U+202E, a bidi control"),
        ("bot\u2066x", "contains U+2066, a bidi control"),
        ("bot\nname", "contains U+000A, a control character"),
        ("bot$\\frac{1}{0}$", "contains '$' (U+0024)"),
        ("<script>", "contains '<' (U+003C)"),
        ("b\u00f6t", "contains 'ö' (U+00F6)"),
        (" bot", "starts with ' '"),
        ("-rf", "starts with '-'"),
        (".hidden", "starts with '.'"),
        ("/etc/passwd", "starts with '/'"),
        ("bot ", "ends with a space"),
        ("team/../../etc", "has '..' part between '/'"),
        ("team/..", "has '..' part between '/'"),
        ("team/./bot", "has '.' part between '/'"),
        ("team//bot", "has an empty part between '/'"),
        ("team/", "has an empty part between '/'"),
    ],
)
def test_a_refusal_names_the_field_quotes_the_value_and_says_what_a_name_may_be(value, problem):
    with pytest.raises(ValueError) as caught:
        validate_label(value, "scenario.name")
    message = str(caught.value)
    shown = repr(value) if len(repr(value)) <= 120 else repr(value)[:120]
    assert message.startswith(f"scenario.name={shown}")
    assert problem in message
    assert f"1-{MAX_LENGTH} ASCII letters, digits, spaces and any of _ - . / @ + : = , ( )" in message
    assert "\n" not in message and not set(message) & BIDI_CONTROLS


@given(names)
def test_every_accepted_name_is_free_of_forbidden_characters_and_dot_segments(value):
    if is_valid(value):
        assert set(value) <= ALLOWED
        assert not set(value) & BIDI_CONTROLS
        assert all(part not in ("", ".", "..") for part in value.split("/"))
        assert value[0].isalnum() and value == value.rstrip()


@given(names, st.sampled_from(FORBIDDEN), st.integers(min_value=0))
def test_every_name_with_a_forbidden_character_is_refused(value, char, at):
    at %= len(value) + 1
    assert not is_valid(value[:at] + char + value[at:])


@given(names, st.sampled_from(["..", "", "."]), st.booleans())
def test_every_name_with_a_dot_dot_or_empty_segment_is_refused(value, segment, first):
    assert not is_valid(f"{segment}/{value}" if first else f"{value}/{segment}")


@given(st.text(max_size=MAX_LENGTH + 20))
def test_arbitrary_text_is_accepted_exactly_when_it_follows_the_rules(value):
    follows = (
        1 <= len(value) <= MAX_LENGTH
        and set(value) <= ALLOWED
        and value[0] in string.ascii_letters + string.digits
        and not value.endswith(" ")
        and all(part not in ("", ".", "..") for part in value.split("/"))
    )
    assert is_valid(value) == follows


@pytest.mark.parametrize(
    ("label", "directory"),
    [
        ("lefty@1", "lefty@1"),
        ("team/wolf-bot@0.1", "team%2Fwolf-bot@0.1"),
        ("a b:c,(d)", "a%20b%3Ac%2C%28d%29"),
    ],
)
def test_a_label_is_stored_under_one_reversible_path_component(label, directory):
    assert label_directory_name(label) == directory
    assert re.sub(r"%([0-9A-F]{2})", lambda m: chr(int(m.group(1), 16)), directory) == label


@given(names.filter(is_valid), names.filter(is_valid))
def test_directory_names_are_single_safe_components_and_distinct_for_distinct_labels(first, second):
    for label in (first, second):
        directory = label_directory_name(label)
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.@+=%~-]*", directory)
        assert len(directory) <= 120 + 17
    assert (label_directory_name(first) == label_directory_name(second)) == (first == second)


def test_a_long_label_with_many_escapes_is_hashed_to_a_short_component():
    label = "a" + " (" * 49 + "b"
    directory = label_directory_name(label)
    assert len(directory) == 100 + 1 + 16 and re.fullmatch(r"[A-Za-z0-9_@+=.-]+~[0-9a-f]{16}", directory)
    with pytest.raises(ValueError, match=r"label='\.\.'"):
        label_directory_name("..")


def write_manifest(directory: Path, name: str, version: str) -> Path:
    directory.mkdir()
    (directory / "agent.toml").write_text(
        f'name = "{name}"\nversion = "{version}"\nentry_point = "bot:make"\nenvs = ["CartPole-v1"]\n'
    )
    return directory


@pytest.mark.parametrize(
    ("version", "problem"),
    [
        ("1$\\\\frac{1}{0}$", "version='1$\\\\frac{1}{0}$' contains '$'"),
        ("1\\u202e", "version='1\\u202e' contains U+202E, a bidi control"),
        ("1/../../x", "version='1/../../x' has '..' part between '/'"),
    ],
)
def test_the_manifest_reader_refuses_a_version_that_is_not_a_name(tmp_path, version, problem):
    directory = write_manifest(tmp_path / "bot", "bot", version)
    with pytest.raises(AgentPackageError) as caught:
        read_manifest(directory)
    assert str(caught.value).startswith(f"{directory / 'agent.toml'}: ")
    assert problem in str(caught.value)


def test_the_manifest_reader_accepts_a_name_with_slashes(tmp_path):
    assert read_manifest(write_manifest(tmp_path / "bot", "team/wolf-bot", "0.1")).name == "team/wolf-bot"


def test_an_agent_ref_refuses_a_label_with_a_bidi_control():
    with pytest.raises(ValueError, match=r"label='bot\\u202e' contains U\+202E"):
        AgentRef("bot\u202e", builtin="random")


MATCH = {"scenario": {"name": "m", "kind": "match", "env": "werewolf"}, "agents": [{"name": "random"}]}


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        (
            {"agents": [{"name": "random"}, {"name": "random", "label": "r\u202e"}]},
            "agents.1.label",
            "U+202E",
        ),
        ({"agents": [{"name": "random"}, {"name": "random", "label": "r$x$"}]}, "agents.1.label", "'$'"),
        ({"scenario": {**MATCH["scenario"], "name": "m/.."}}, "scenario.name", "'..' part"),
    ],
)
def test_a_scenario_refuses_names_in_one_line_naming_the_field(change, field, problem):
    with pytest.raises(ScenarioError) as caught:
        parse_scenario({**MATCH, **change}, source="s.toml", base=Path("."))
    message = str(caught.value)
    assert message.startswith(f"s.toml: field '{field}': ") and problem in message
    assert "\n" not in message and "\u202e" not in message


def test_a_suite_task_named_by_its_kwargs_must_be_a_valid_name():
    suite = {
        "scenario": {
            "name": "s",
            "kind": "suite",
            "episodes": 1,
            "low_reference": "random",
            "high_reference": "r2",
        },
        "envs": [
            {"id": "CartPole-v1", "kwargs": {"max_episode_steps": 10}},
            {"id": "CartPole-v1", "kwargs": {"render_mode": "$x$"}},
        ],
        "agents": [{"name": "random"}, {"name": "random", "label": "r2"}],
    }
    with pytest.raises(
        ScenarioError, match=r"field 'envs\.1\.label': task name=.*contains '\$'.*set a label"
    ):
        parse_scenario(suite, source="s.toml", base=Path("."))
    suite["envs"][1]["kwargs"] = {"max_episode_steps": 20}
    assert parse_scenario(suite, source="s.toml", base=Path(".")).name == "s"
