"""Every built-in scenario (arena/scenarios/) loads, and runs end to end in a reduced form."""

from pathlib import Path

import pytest

from agents.language import TINY
from arena.leaderboard import Board, scenario_table
from arena.scenario import builtin_scenarios, load_scenario, load_scenarios, parse_scenario
from arena.tournament import run_tournament

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ALL = list(builtin_scenarios().values())
COLLECTIONS = [p for p in ALL if "collection" in tomllib.loads(p.read_text())]
SCENARIOS = [p for p in ALL if p not in COLLECTIONS]


def test_the_project_ships_scenarios_and_a_quickstart_over_several_domains():
    assert {p.stem for p in SCENARIOS} >= {"werewolf", "motor"}
    quickstart = load_scenarios(builtin_scenarios()["quickstart"])
    assert {s.name for s in quickstart} >= {"quickstart/werewolf", "quickstart/motor"}


@pytest.mark.parametrize("path", COLLECTIONS, ids=lambda p: p.stem)
@pytest.mark.slow
@pytest.mark.timeout(900)
def test_collections_run_and_rank_every_agent_of_every_included_scenario(path, tmp_path):
    with Board("collection", root=tmp_path) as board:
        for scenario in load_scenarios(path):
            summary = run_tournament(scenario, board)
            assert summary.played == summary.scheduled > 0 and summary.forfeits == 0
            stored = next(s for s in board.scenarios() if s["hash"] == scenario.hash)
            assert {row["agent"] for row in scenario_table(board, stored)} == set(scenario.labels)


def _needs_mujoco(path: Path) -> bool:
    return "mujoco" in path.stem


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
@pytest.mark.slow
def test_shipped_scenario_runs_reduced_and_ranks_every_agent(path, tmp_path):
    if _needs_mujoco(path):
        pytest.importorskip("mujoco", reason="MuJoCo scenarios need pip install 'pg-arena[mujoco]'")
    scenario = load_scenario(path)
    data = scenario.spec.model_dump()
    for agent in data["agents"]:  # language models: the tiny random one of the same architecture
        if "language_model" in agent["kwargs"]:
            agent["kwargs"]["language_model"] = TINY
    if scenario.kind == "match":
        data["scenario"]["games_per_pairing"] = 2
    else:
        data["scenario"]["episodes"] = 1
        for env in data["envs"]:
            env["episodes"] = None
            env["kwargs"] = {**env["kwargs"], "max_episode_steps": 50}
    reduced = parse_scenario(data, source=str(path), base=path.parent)
    # A fixed secret fixes the episodes: with one episode per env, a board's random secret can deal an episode
    # that the low reference wins as well as the high one (search/random answering a 1-hop question), and a
    # suite's scores are undefined where the references tie.
    with Board("reduced", root=tmp_path, secret=bytes(range(32))) as board:
        summary = run_tournament(reduced, board)
        rows = scenario_table(board, board.scenarios()[0])
    assert summary.played == summary.scheduled > 0 and summary.forfeits == 0
    assert {row["agent"] for row in rows} == set(scenario.labels)
