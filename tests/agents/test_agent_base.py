"""The Agent protocol, the seeded random agent, the built-in registry and agent packages."""

import textwrap

import gymnasium as gym
import numpy as np
import pytest

import agents
import envs
from agents.base import AgentPackageError, EnvSpaces, RandomAgent


def spaces_with(action_space):
    return EnvSpaces(observation_space=gym.spaces.Box(-1, 1, (2,)), action_space=action_space)


def test_random_agent_plays_only_unmasked_actions_and_each_about_equally():
    """5000 draws over 2 legal of 6 actions: each legal one has frequency 0.5 ± 5 binomial std (0.035)."""
    agent = RandomAgent(spaces_with(gym.spaces.Discrete(6)), seed=0)
    mask = np.array([0, 0, 1, 0, 0, 1], dtype=bool)
    draws = np.array([agent.act(None, {"action_mask": mask}) for _ in range(5000)])
    assert set(draws.tolist()) == {2, 5}
    assert abs(np.mean(draws == 2) - 0.5) < 5 * np.sqrt(0.25 / 5000)


def test_random_agent_accepts_a_flat_multidiscrete_mask():
    agent = RandomAgent(spaces_with(gym.spaces.MultiDiscrete([2, 3])), seed=1)
    flat = np.array([0, 1, 1, 0, 0])  # dim 0: only 1; dim 1: only 0
    assert all(agent.act(None, {"action_mask": flat}).tolist() == [1, 0] for _ in range(50))


def test_random_agent_with_the_same_seed_repeats_its_actions_and_reset_reseeds():
    space = gym.spaces.Box(-1.0, 1.0, (3,))
    a, b = RandomAgent(spaces_with(space), seed=7), RandomAgent(spaces_with(space), seed=7)
    first = [a.act(None, {}) for _ in range(5)]
    np.testing.assert_array_equal(first, [b.act(None, {}) for _ in range(5)])
    a.reset(seed=7)
    np.testing.assert_array_equal(first, [a.act(None, {}) for _ in range(5)])
    assert isinstance(a, agents.Agent)


def test_make_builds_a_builtin_agent_and_unknown_names_get_the_closest():
    env = gym.make("CartPole-v1")
    assert agents.make("random", env).name == "random"
    assert "random" in [r.name for r in agents.list_agents()]
    with pytest.raises(agents.UnknownAgentError, match="unknown agent 'randon'; closest: random"):
        agents.make("randon", env)


def write_package(directory, manifest: str, module: str = "", module_name: str = "bot"):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "agent.toml").write_text(textwrap.dedent(manifest))
    if module:
        (directory / f"{module_name}.py").write_text(textwrap.dedent(module))
    return directory


GOOD_MODULE = """
    class Always:
        def __init__(self, action):
            self.name, self.action = "always", action
        def reset(self, seed=None):
            pass
        def act(self, observation, info):
            return self.action

    def make_agent(spaces, action=0):
        assert spaces.action_space.n == 2
        return Always(action)
"""


def test_load_agent_builds_the_factory_with_manifest_kwargs_and_env_spaces_from_envs(tmp_path):
    path = write_package(
        tmp_path / "bot",
        """
        name = "always-one"
        version = "1.0"
        entry_point = "bot:make_agent"
        envs = ["CartPole-v1"]
        [kwargs]
        action = 1
        """,
        GOOD_MODULE,
    )
    agent = agents.load_agent(path)
    assert agent.act(None, {}) == 1
    assert agents.load_agent(path, gym.make("CartPole-v1"), action=0).act(None, {}) == 0


def test_two_packages_with_the_same_module_names_stay_apart(tmp_path):
    """Same entry module name and same helper module name in both: each must use its own."""
    manifest = 'name = "{0}"\nversion = "1"\nentry_point = "bot:make_agent"\nenvs = ["CartPole-v1"]\n'
    uses_helper = GOOD_MODULE.replace("class Always:", "import helpers\n\n    class Always:").replace(
        "return Always(action)", "return Always(helpers.ACTION)"
    )
    one = write_package(tmp_path / "one", manifest.format("one"), uses_helper)
    zero = write_package(tmp_path / "zero", manifest.format("zero"), uses_helper)
    (one / "helpers.py").write_text("ACTION = 1\n")
    (zero / "helpers.py").write_text("ACTION = 0\n")
    assert agents.load_agent(one).act(None, {}) == 1
    assert agents.load_agent(zero).act(None, {}) == 0


def test_a_package_module_may_define_dataclasses(tmp_path):
    module = (
        "from __future__ import annotations\nimport dataclasses\n\n@dataclasses.dataclass\nclass Always:\n"
        "    action: int = 1\n    name: str = 'always'\n    def reset(self, seed=None):\n        pass\n"
        "    def act(self, observation, info):\n        return self.action\n\n"
        "def make_agent(spaces):\n    return Always()\n"
    )
    manifest = 'name = "dc"\nversion = "1"\nentry_point = "bot:make_agent"\nenvs = ["CartPole-v1"]\n'
    assert agents.load_agent(write_package(tmp_path / "dc", manifest, module)).act(None, {}) == 1


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ('version = "1"\nentry_point = "bot:f"\nenvs = ["CartPole-v1"]', "field 'name': is required"),
        (
            'name = "x"\nversion = "1"\nentry_point = "bot"\nenvs = ["a"]',
            "field 'entry_point': must look like",
        ),
        (
            'name = "x"\nversion = "1"\nentry_point = "bot:f"\nenvs = []',
            "field 'envs': List should have at least",
        ),
        (
            'name = "x"\nversion = "1"\nentry_point = "b:f"\nenvs = ["a"]\nowner = "me"',
            "field 'owner': is not a",
        ),
        (
            'name = "x"\nversion = "1"\nentry_point = "b:f"\nenvs = ["a"]\nweights = "w.pt"',
            "'w.pt' not found",
        ),
        ('name = "x"\nversion = "1"\nentry_point = "nowhere:f"\nenvs = ["a"]', "neither in .* nor installed"),
        ('name = "x"\nversion = "1"\nentry_point = "bot:missing"\nenvs = ["a"]', "has no callable 'missing'"),
        ('name = "x"\nversion = = "1"', "not valid TOML"),
    ],
)
def test_load_agent_names_the_file_and_field_of_each_bad_manifest(tmp_path, manifest, message):
    path = write_package(tmp_path / "pkg", manifest, GOOD_MODULE)
    with pytest.raises(AgentPackageError, match=message) as raised:
        agents.load_agent(path)
    assert str(path / "agent.toml") in str(raised.value)


def test_load_agent_rejects_a_factory_that_returns_no_agent(tmp_path):
    path = write_package(
        tmp_path / "pkg",
        'name = "x"\nversion = "1"\nentry_point = "bot:make"\nenvs = ["CartPole-v1"]\n',
        "def make(spaces):\n    return 42\n",
    )
    with pytest.raises(AgentPackageError, match="returned int, which lacks name/reset/act"):
        agents.load_agent(path)


def test_load_agent_without_manifest_says_so(tmp_path):
    with pytest.raises(AgentPackageError, match=r"no agent\.toml"):
        agents.load_agent(tmp_path)


def test_make_builds_one_agent_per_seat_of_a_pettingzoo_game_which_then_plays_it_to_the_end():
    """``agents.make`` on a PettingZoo env takes the seat: the agent gets that seat's spaces and the name and
    kwargs the game was made with; without a seat the error names the seats."""
    game = envs.make_multi("werewolf", num_players=6)
    game.reset(seed=4)
    players = {seat: agents.make("werewolf/scripted", game, seat=seat) for seat in game.possible_agents}
    spaces = EnvSpaces.of(game, "player_2")
    assert spaces.observation_space == game.observation_space("player_2")
    assert (spaces.env_id, spaces.env_kwargs) == ("werewolf", {"num_players": 6})
    hidden = envs.privileged_info_keys(game)
    for seat in game.agent_iter():
        observation, _, terminated, truncated, info = game.last()
        done = terminated or truncated
        game.step(None if done else players[seat].act(observation, envs.public_info(info, hidden)))
    assert not game.agents  # every seat reached the end of the game
    with pytest.raises(ValueError, match="needs the seat the agent plays, one of player_0, player_1"):
        agents.make("random", game)
