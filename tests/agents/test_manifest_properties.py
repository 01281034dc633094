"""Property tests of the agent.toml reader: whatever bytes a package holds, reading its manifest gives a valid
manifest or one AgentPackageError naming the file, never another exception."""

import json

import tomllib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agents.base import MANIFEST, AgentPackageError, read_manifest

FIELDS = ("name", "version", "entry_point", "envs", "weights", "kwargs", "extra")
TEXT = st.text(st.characters(max_codepoint=0xFFFF, exclude_categories=("Cs",)), max_size=40)  # TOML's \uXXXX
VALUES = st.one_of(
    TEXT,
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.booleans(),
    st.lists(TEXT, max_size=3),
)
RELAXED = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _toml(table: dict) -> str:
    """A TOML document of ``table``: JSON's string, integer and array syntax is TOML's too."""
    return "".join(f"{key} = {json.dumps(value)}\n" for key, value in table.items())


def _read(directory, content: bytes):
    (directory / MANIFEST).write_bytes(content)
    try:
        return read_manifest(directory)
    except AgentPackageError as error:
        message = str(error)
        assert "\n" not in message and message.startswith(str(directory / MANIFEST)), message
        return None


@RELAXED
@given(content=st.binary(max_size=300))
def test_arbitrary_bytes_are_a_manifest_or_one_package_error(tmp_path, content):
    _read(tmp_path, content)


@RELAXED
@given(table=st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=7))
def test_arbitrary_fields_are_a_manifest_or_one_package_error_naming_a_field(tmp_path, table):
    text = _toml(table)
    tomllib.loads(text)  # the generator writes valid TOML, so a refusal is about the fields
    manifest = _read(tmp_path, text.encode())
    if manifest is not None:
        assert manifest.envs and ":" in manifest.entry_point


def test_weights_outside_the_package_are_refused(tmp_path):
    """A manifest may not name a file outside its own directory as its weights."""
    (tmp_path / "secret.pt").write_bytes(b"x")
    package = tmp_path / "bot"
    package.mkdir()
    for weights in ("../secret.pt", str(tmp_path / "secret.pt")):
        text = 'name = "bot"\nversion = "1"\nentry_point = "bot:make"\nenvs = ["CartPole-v1"]\n'
        text += f'weights = "{weights}"\n'
        assert _read(package, text.encode()) is None
