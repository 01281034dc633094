"""Property tests of the scenario reader: whatever a scenario file holds, loading it gives a scenario or one
ScenarioError naming the file (and, for a bad value, the field), never another exception."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arena.scenario import ScenarioError, load_scenario

TEXT = st.text(st.characters(max_codepoint=0xFFFF, exclude_categories=("Cs",)), max_size=30)  # TOML's \uXXXX
VALUES = st.one_of(
    TEXT,
    st.sampled_from(["match", "suite", "werewolf", "CartPole-v1", "round_robin", "swiss", "random"]),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
)
HEADER = ("name", "kind", "seed", "move_time_s", "match_time_s", "env", "format", "games_per_pairing",
          "episodes", "low_reference", "high_reference", "rounds", "unknown_field")  # fmt: skip
RELAXED = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _load(tmp_path, content: bytes):
    path = tmp_path / "s.toml"
    path.write_bytes(content)
    try:
        return load_scenario(path)
    except ScenarioError as error:
        assert "\n" not in str(error) and str(error).startswith(str(path)), str(error)
        return None


@RELAXED
@given(content=st.binary(max_size=300))
def test_arbitrary_bytes_are_a_scenario_or_one_scenario_error(tmp_path, content):
    _load(tmp_path, content)


@RELAXED
@given(
    header=st.dictionaries(st.sampled_from(HEADER), VALUES, max_size=8),
    agent=st.dictionaries(st.sampled_from(["name", "label", "path", "kwargs"]), TEXT, max_size=3),
)
def test_arbitrary_fields_are_a_scenario_or_one_error_naming_the_field(tmp_path, header, agent):
    table = "".join(f"{key} = {json.dumps(value)}\n" for key, value in header.items())
    entry = "".join(f"{key} = {json.dumps(value)}\n" for key, value in agent.items())
    scenario = _load(tmp_path, f"[scenario]\n{table}\n[[agents]]\n{entry}".encode())
    if scenario is not None:  # whatever loads is complete and names what it plays
        assert scenario.kind in ("match", "suite") and scenario.labels
