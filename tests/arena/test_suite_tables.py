"""The ranked tables of a board: each agent's forfeited episodes in every suite table (terminal, JSON, CSV,
page), and terminal tables that keep every column at 80 and 120 columns."""

import csv
import io
import json
import re

import pytest
from typer.testing import CliRunner

from arena.cli import app
from arena.leaderboard import Board, scenario_table
from arena.report import render_board
from arena.results import MatchResult, Participant, Status

ENVS = ["arena/AlphaLongTaskName-v0", "arena/BetaLongTaskName-v0", "arena/GammaLongTaskName-v0"]
SUITE_RETURNS = {
    "random": -100.0,
    "steady": 0.0,
    "fragile": 50.0,
    "expert": 100.0,
}  # per seed: minus 10 * seed
FORFEITED = {
    ("arena/AlphaLongTaskName-v0", 0),
    ("arena/AlphaLongTaskName-v0", 1),
    ("arena/BetaLongTaskName-v0", 0),
}
MATCH_AGENTS = ["scripted-aggressive", "scripted-cautious", "werewolf/lspo", "werewolf-bandwagon@0.1.0"]
runner = CliRunner()


@pytest.fixture
def board(tmp_path, monkeypatch):
    """Board ``b``: suite ``tasks`` (4 seeds per env and agent; ``fragile`` forfeits the episodes in
    ``FORFEITED``, stored with return 0) and match scenario ``duels`` (each pair of ``MATCH_AGENTS``
    twice)."""
    monkeypatch.setenv("PG_ARENA_HOME", str(tmp_path))
    with Board("b") as store:
        spec = {"scenario": {"low_reference": "random", "high_reference": "expert"}}
        store.add_scenario("suite-hash", "tasks", "suite", "tasks.toml", spec)
        for env_id in ENVS:
            for agent, base in SUITE_RETURNS.items():
                for seed in range(4):
                    forfeit = agent == "fragile" and (env_id, seed) in FORFEITED
                    episode = Participant(
                        agent=agent,
                        seat="agent",
                        team=agent,
                        rank=0,
                        score=0.0 if forfeit else base - 10 * seed,
                        status=Status.TIMEOUT if forfeit else Status.OK,
                        reason="slow" if forfeit else "",
                    )
                    store.record(
                        MatchResult(
                            match_id=f"{env_id}-{agent}-{seed}",
                            scenario="suite-hash",
                            env_id=env_id,
                            seed=seed,
                            participants=(episode,),
                        )
                    )
        store.add_scenario("match-hash", "duels", "match", "duels.toml", {"scenario": {}})
        pairs = [(x, y) for i, x in enumerate(MATCH_AGENTS) for y in MATCH_AGENTS[i + 1 :]]
        for k, (x, y) in enumerate(pairs):
            for game in range(2):
                store.record(
                    MatchResult(
                        match_id=f"duel-{k}-{game}",
                        scenario="match-hash",
                        env_id="duel",
                        seed=game,
                        participants=(
                            Participant(agent=x, seat="p0", team="p0", rank=game, score=0.0),
                            Participant(agent=y, seat="p1", team="p1", rank=1 - game, score=0.0),
                        ),
                    )
                )
        yield store


def suite_rows(store: Board) -> dict[tuple[str, str], dict]:
    (suite,) = [s for s in store.scenarios() if s["kind"] == "suite"]
    return {(row["agent"], row["env_id"]): row for row in scenario_table(store, suite)}


def test_each_suite_row_counts_the_agents_forfeited_episodes(board):
    """fragile forfeits 2 episodes on Alpha, 1 on Beta, none on Gamma: 3 overall; nobody else forfeits. A
    forfeit scores random's return on that seed (-100 - 10 seed), so fragile's Alpha mean is
    (-100 - 110 + 30 + 20) / 4 = -40 against random's -115 and expert's 85: (115 - 40) / 200 = 0.375."""
    rows = suite_rows(board)
    expected = {
        "arena/AlphaLongTaskName-v0": 2,
        "arena/BetaLongTaskName-v0": 1,
        "arena/GammaLongTaskName-v0": 0,
    }
    assert {env_id: rows["fragile", env_id]["forfeits"] for env_id in ENVS} == expected
    assert rows["fragile", "overall"]["forfeits"] == 3
    assert {row["forfeits"] for (agent, _), row in rows.items() if agent != "fragile"} == {0}
    assert rows["fragile", "arena/AlphaLongTaskName-v0"]["score"] == pytest.approx(0.375)
    assert rows["fragile", "overall"]["episodes"] == 12


def test_json_and_csv_rows_carry_the_forfeits(board):
    as_json = runner.invoke(app, ["leaderboard", "--board", "b", "--scenario", "tasks", "--json"])
    as_csv = runner.invoke(app, ["leaderboard", "--board", "b", "--scenario", "tasks", "--csv"])
    assert as_json.exit_code == 0 and as_csv.exit_code == 0, as_json.output + as_csv.output
    from_json = {(r["agent"], r["env_id"]): r["forfeits"] for r in json.loads(as_json.stdout)}
    from_csv = {
        (r["agent"], r["env_id"]): int(r["forfeits"]) for r in csv.DictReader(io.StringIO(as_csv.stdout))
    }
    assert from_json == from_csv
    assert from_json["fragile", "overall"] == 3 and from_json["fragile", "arena/BetaLongTaskName-v0"] == 1
    assert from_json["steady", "overall"] == 0


def header_cells(output: str) -> list[str]:
    """The column headers of every table printed: the cells of the lines between ┏ and ┡."""
    cells, inside = [], False
    for line in output.splitlines():
        if line.lstrip().startswith("┏"):
            inside = True
        elif line.lstrip().startswith("┡"):
            inside = False
        elif inside:
            cells += [cell.strip() for cell in line.strip().strip("┃").split("┃")]
    return cells


def agent_cells(output: str) -> list[str]:
    """The agent column (the second) of every table row printed, a name folded over lines joined again."""
    names: list[str] = []
    for line in output.splitlines():
        if line.startswith("│"):
            rank, agent = (cell.strip() for cell in line.split("│")[1:3])
            if rank:
                names.append(agent)
            else:
                names[-1] += agent
    return names


@pytest.mark.parametrize("width", [80, 120])
def test_at_80_and_120_columns_every_column_header_and_cell_is_shown_whole(board, width):
    """The suite has more per-env columns than fit beside its overall score, so they follow in further tables;
    no header or value is cut (rich marks a cut with '…'), and no line is wider than the terminal."""
    result = runner.invoke(app, ["leaderboard", "--board", "b"], env={"COLUMNS": str(width)})
    assert result.exit_code == 0, result.output
    assert "…" not in result.output
    assert max(len(line) for line in result.output.splitlines()) <= width
    headers = header_cells(result.output)
    suite = ["rank", "agent", "overall [95% CI]", "forfeits", *(e.removeprefix("arena/") for e in ENVS)]
    match = ["rating [95% CI]", "games", "W-D-L"]
    assert set(suite + match) <= set(headers), headers
    fragile = next(line for line in result.output.splitlines() if "│ fragile " in line and "[" in line)
    assert re.search(r"│\s+3$", fragile.rstrip(" │")), fragile  # the last column of the overall table
    assert "0.375" in result.output  # fragile on Alpha, in a per-env table
    assert set(agent_cells(result.output)) == {*MATCH_AGENTS, *SUITE_RETURNS}


def test_a_wide_terminal_shows_a_suite_in_one_table(board):
    result = runner.invoke(
        app, ["leaderboard", "--board", "b", "--scenario", "tasks"], env={"COLUMNS": "250"}
    )
    assert result.exit_code == 0, result.output
    assert "normalised score per env" not in result.output
    assert header_cells(result.output) == [
        "rank",
        "agent",
        "overall [95% CI]",
        "forfeits",
        *(e.removeprefix("arena/") for e in ENVS),
    ]
    fragile = next(line for line in result.output.splitlines() if "│ fragile " in line)
    assert re.search(r"│\s+3 │\s+0\.375 │", fragile), fragile


def test_the_page_shows_each_agents_forfeits_overall_and_per_env(board):
    """fragile's Beta mean is (-100 + 40 + 30 + 20) / 4 = -2.5, so (115 - 2.5) / 200 = 0.5625; its Gamma mean
    35 gives 0.75."""
    page = render_board(board)
    assert "<th>95 % interval</th><th>forfeits</th><th>AlphaLongTaskName-v0</th>" in page
    fragile = re.search(
        r'<tr class="agent-row"><td>\d+</td><td class="name">fragile</td>.*?</tr>', page
    ).group(0)
    cells = re.findall(r"<td>(.*?)</td>", fragile)  # rank, score, interval bar, forfeits, one per env
    assert cells[3:] == [
        "3",
        '0.375 <small class="forfeit">(2 forfeited)</small>',
        '0.562 <small class="forfeit">(1 forfeited)</small>',
        "0.750",
    ]
