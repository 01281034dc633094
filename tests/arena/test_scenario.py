"""Scenario files: valid ones load with stable hashes; each kind of mistake names the file and the field."""

import textwrap

import pytest

from arena.scenario import ScenarioError, load_scenario, load_scenarios, task_labels

SUITE = """
[scenario]
name = "cartpole"
kind = "suite"
episodes = 3
low_reference = "random"
high_reference = "steady"

[[envs]]
id = "CartPole-v1"

[[agents]]
name = "random"

[[agents]]
name = "random"
label = "steady"
kwargs = {}
"""


def write(tmp_path, text, name="s.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_a_valid_suite_loads_with_labels_and_a_hash_that_ignores_the_roster(tmp_path):
    scenario = load_scenario(write(tmp_path, SUITE))
    assert scenario.kind == "suite" and scenario.labels == ("random", "steady")
    grown = load_scenario(
        write(tmp_path, SUITE + '\n[[agents]]\nname = "random"\nlabel = "third"\n', "g.toml")
    )
    assert grown.hash == scenario.hash  # adding an agent keeps the ids of matches already played
    reseeded = load_scenario(
        write(tmp_path, SUITE.replace("episodes = 3", "episodes = 3\nseed = 1"), "r.toml")
    )
    assert reseeded.hash != scenario.hash


def test_a_valid_match_scenario_with_an_agent_package_loads(tmp_path, registered_test_envs):
    package = tmp_path / "bot"
    package.mkdir()
    (package / "agent.toml").write_text('name = "bot"\nversion = "2"\nentry_point = "bot:f"\nenvs = ["x"]\n')
    text = f"""
    [scenario]
    name = "pennies"
    kind = "match"
    env = "{registered_test_envs["pennies"]}"
    games_per_pairing = 4

    [[agents]]
    name = "random"

    [[agents]]
    path = "bot"
    """
    scenario = load_scenario(write(tmp_path, text))
    assert scenario.labels == ("random", "bot@2")
    assert scenario.spec.agents[1].path == str(package.resolve())
    assert set(scenario.package_hashes) == {"bot@2"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ('kind = "suite"', 'kind = "league"'),
            "field 'scenario.kind': 'league' is not allowed; allowed: 'match'",
        ),
        (
            ("episodes = 3", "episodes = 0"),
            "field 'scenario.episodes': Input should be greater than or equal to 1",
        ),
        (
            ('id = "CartPole-v1"', 'id = "CartPol-v1"'),
            "field 'envs.0.id': unknown single-agent env 'CartPol-v1'",
        ),
        (
            ('high_reference = "steady"', 'high_reference = "pi"'),
            "'scenario.high_reference': 'pi' is not in the",
        ),
        (('name = "random"\nlabel', 'name = "randm"\nlabel'), "field 'agents.1.name': unknown agent 'randm'"),
        (('label = "steady"', 'label = "random"'), "field 'agents.1.label': 'random' is already used"),
        (("kwargs = {}", 'path = "x"'), "field 'agents.1': give exactly one of 'name'"),
        (("episodes = 3", "episodes = 3\nformat = 1"), "field 'scenario.format'"),
        (("[[envs]]", "colour = 1\n[[envs]]"), "field 'scenario.colour': is not a known field"),
        (
            ("episodes = 3", "episods = 3"),
            "field 'scenario.episods': is not a known field; closest: episodes",
        ),
        (
            ('id = "CartPole-v1"', 'id = "CartPole-v1"\nkwrags = {}'),
            "'envs.0.kwrags': is not a known field; closest: kwargs",
        ),
        (('name = "cartpole"', 'name = "my scenario"'), "field 'scenario.name': String should match pattern"),
        (
            ('kind = "suite"', 'kind = "suite"\nenv = "werewolf"'),
            "field 'scenario.env': a task suite lists its envs",
        ),
        (('[[envs]]\nid = "CartPole-v1"', ""), "field 'envs': a task suite needs at least one"),
    ],
)
def test_each_bad_suite_field_is_named_with_what_is_allowed(tmp_path, change, message):
    old, new = change
    assert old in SUITE
    path = write(tmp_path, SUITE.replace(old, new, 1))
    with pytest.raises(ScenarioError) as raised:
        load_scenario(path)
    assert str(raised.value).startswith(f"{path}: ")
    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("games_per_pairing = 3", "field 'scenario.games_per_pairing': 3 must be even"),
        ('format = "gauntlet"', "field 'scenario.reference': is required here"),
        ('format = "swiss"', "field 'scenario.rounds': is required for format 'swiss'"),
    ],
)
def test_each_bad_match_field_is_named(tmp_path, registered_test_envs, extra, message):
    text = f"""
    [scenario]
    name = "m"
    kind = "match"
    env = "{registered_test_envs["pennies"]}"
    {extra}
    [[agents]]
    name = "random"
    [[agents]]
    name = "random"
    label = "other"
    """
    with pytest.raises(ScenarioError, match=message):
        load_scenario(write(tmp_path, text))


def test_a_match_on_an_unknown_game_names_the_known_ones(tmp_path, registered_test_envs):
    text = (
        '[scenario]\nname = "m"\nkind = "match"\nenv = "test_matching_penny"\n[[agents]]\nname = "random"\n'
    )
    with pytest.raises(
        ScenarioError, match="unknown multi-agent env 'test_matching_penny'; closest: test_matching"
    ):
        load_scenario(write(tmp_path, text))


def test_missing_file_and_bad_toml_are_reported(tmp_path):
    with pytest.raises(ScenarioError, match="no such scenario file"):
        load_scenario(tmp_path / "nope.toml")
    with pytest.raises(ScenarioError, match="not valid TOML"):
        load_scenario(write(tmp_path, "[scenario\n"))


def test_a_collection_shortens_and_renames_each_included_scenario(tmp_path):
    write(tmp_path, SUITE, "cartpole.toml")
    path = write(
        tmp_path,
        '[collection]\nname = "quick"\ninclude = ["cartpole.toml"]\nepisodes = 1\nmax_episode_steps = 20\n',
        "quick.toml",
    )
    (scenario,) = load_scenarios(path)
    assert scenario.name == "quick/cartpole" and scenario.header.episodes == 1
    assert scenario.spec.envs[0].kwargs == {"max_episode_steps": 20}
    assert scenario.hash != load_scenario(tmp_path / "cartpole.toml").hash


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[collection]\nname = "q"\ninclude = []\n', "field 'collection.include': List should have at least"),
        ('[collection]\nname = "q"\ninclude = ["missing.toml"]\n', "missing.toml: no such scenario file"),
        ('[collection]\nname = "q"\ninclude = ["a.toml"]\n[scenario]\n', "holds only a [collection] table"),
        (
            '[collection]\nname = "q"\ninclude = ["a.toml"]\nrounds = 2\n',
            "field 'collection.rounds': is not a",
        ),
    ],
)
def test_bad_collections_name_the_problem(tmp_path, text, message):
    with pytest.raises(ScenarioError) as raised:
        load_scenarios(write(tmp_path, text, "c.toml"))
    assert message in str(raised.value)


def test_suite_entries_of_one_env_id_get_distinct_task_names(tmp_path):
    twice = SUITE.replace(
        '[[envs]]\nid = "CartPole-v1"\n',
        '[[envs]]\nid = "CartPole-v1"\nkwargs = { max_episode_steps = 50 }\n'
        '[[envs]]\nid = "CartPole-v1"\nkwargs = { max_episode_steps = 200 }\n'
        '[[envs]]\nid = "Acrobot-v1"\nlabel = "swing-up"\n',
    )
    scenario = load_scenario(write(tmp_path, twice))
    assert task_labels(scenario.spec.envs) == [
        "CartPole-v1 (max_episode_steps=50)",
        "CartPole-v1 (max_episode_steps=200)",
        "swing-up",
    ]
    clash = twice.replace('label = "swing-up"', 'label = "CartPole-v1 (max_episode_steps=50)"')
    with pytest.raises(ScenarioError, match=r"field 'envs.2.label': .* is taken"):
        load_scenario(write(tmp_path, clash, "clash.toml"))


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('id = "CartPole-v1"', 'id = "CartPole-v1"\nkwargs = { bogus = 1 }', "field 'envs.0.kwargs': "),
        (
            'id = "CartPole-v1"',
            'id = "CartPole-v1"\nlabel = "overall"',
            "field 'envs.0.label': 'overall' is taken",
        ),
    ],
)
def test_env_kwargs_are_tried_on_load_and_overall_is_reserved(tmp_path, old, new, message):
    with pytest.raises(ScenarioError, match=message):
        load_scenario(write(tmp_path, SUITE.replace(old, new)))


def test_display_labels_do_not_change_a_suites_hash(tmp_path):
    labelled = SUITE.replace('id = "CartPole-v1"', 'id = "CartPole-v1"\nlabel = "pole"')
    assert (
        load_scenario(write(tmp_path, labelled, "l.toml")).hash == load_scenario(write(tmp_path, SUITE)).hash
    )


def test_a_built_in_agent_of_another_domain_is_refused_up_front(tmp_path):
    """A motor controller in an IoT suite would forfeit every episode: the load names the field and the
    domains; ``random`` (any domain) is fine."""
    text = """
    [scenario]
    name = "iot"
    kind = "suite"
    episodes = 1
    [[envs]]
    id = "arena/IoTScheduling-v0"
    [[agents]]
    name = "random"
    [[agents]]
    name = "motor/pi"
    """
    with pytest.raises(
        ScenarioError, match=r"field 'agents\.1\.name': 'motor/pi' plays motor envs, not iot envs"
    ):
        load_scenario(write(tmp_path, text))
