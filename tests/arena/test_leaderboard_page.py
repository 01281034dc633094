"""The HTML leaderboard: self-contained, escaped, and showing the ranking in a real browser."""

import html
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from agents.labels import BIDI_CONTROLS
from arena.leaderboard import Board
from arena.ratings import INTERVAL_METHOD
from arena.report import render_board, write_board_html
from arena.results import MatchResult, Participant, Status
from arena.scenario import load_scenario
from arena.tournament import run_tournament

SCENARIO = """
[scenario]
name = "page"
kind = "match"
env = "werewolf"
games_per_pairing = 12

[[agents]]
name = "random"
[[agents]]
name = "werewolf/scripted"
label = "scripted"
"""
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def played_board(tmp_path):
    path = tmp_path / "page.toml"
    path.write_text(SCENARIO)
    with Board("page", root=tmp_path) as board:
        run_tournament(load_scenario(path), board)
        yield board


def agent_rows(page: str) -> list[str]:
    return re.findall(r'<tr class="agent-row"><td>\d+</td><td class="name">([^<]*)</td>', page)


def test_the_page_is_self_contained_and_writes_its_plot(played_board, tmp_path):
    out = write_board_html(played_board, tmp_path / "site" / "index.html")
    page = out.read_text()
    assert "<script" not in page and "http://" not in page and "https://" not in page
    assert "data:image/png;base64," in page
    assert (tmp_path / "site" / "page-ratings.png").stat().st_size > 1000
    assert agent_rows(page) == ["scripted", "random"]


def record_games(board, first: dict, second: dict, *, env_id: str = "game", games: int = 4) -> None:
    """Store ``games`` two-seat games of scenario ``h`` that the two sides win in turn (``first`` wins the odd
    ones); each dict holds a Participant's agent, seat and team."""
    for i in range(games):
        board.record(
            MatchResult(
                match_id=f"m{i}",
                scenario="h",
                env_id=env_id,
                seed=i,
                participants=(
                    Participant(rank=i % 2, score=0.0, **first),
                    Participant(rank=1 - i % 2, score=1.0, **second),
                ),
            )
        )


def test_names_and_reasons_from_submissions_are_escaped(tmp_path):
    evil = "<img src=x onerror=alert(1)>"
    with Board("evil", root=tmp_path) as board:
        board.add_scenario("h", "s", "match", "s.toml", {"scenario": {}})
        for i in range(4):
            board.record(
                MatchResult(
                    match_id=f"m{i}",
                    scenario="h",
                    env_id="game",
                    seed=i,
                    participants=(
                        Participant(
                            agent=evil,
                            seat="p0",
                            team="p0",
                            rank=1,
                            score=0.0,
                            status=Status.ERROR,
                            reason=evil,
                        ),
                        Participant(agent="fine", seat="p1", team="p1", rank=0, score=1.0),
                    ),
                )
            )
        page = render_board(board, tmp_path)
    assert evil not in page and html.escape(evil) in page


def test_a_headless_browser_shows_the_agents_in_rank_order(played_board, tmp_path):
    """The scripted player beats the random one over 12 role-balanced games; the rendered DOM must list them
    in that order."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("Chromium is not installed (apt-get install chromium); .ci/run installs it")
    out = write_board_html(played_board, tmp_path / "site" / "index.html")
    result = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", out.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert agent_rows(result.stdout) == ["scripted", "random"]
    assert "Match history" in result.stdout


def test_tournaments_write_the_page_next_to_the_board(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from arena.cli import app

    monkeypatch.setenv("PG_ARENA_HOME", str(tmp_path))
    path = tmp_path / "page.toml"
    path.write_text(SCENARIO.replace("games_per_pairing = 12", "games_per_pairing = 2"))
    result = CliRunner().invoke(app, ["tournament", str(path), "--board", "b"])
    assert result.exit_code == 0, result.output
    assert Path(tmp_path / "b" / "leaderboard.html").is_file()


def test_serve_answers_on_localhost_with_a_self_refreshing_page(played_board, tmp_path):
    """`arena serve` on port 0 picks a free loopback port; the page it serves reloads itself every 2 s."""
    env = {**os.environ, "PG_ARENA_HOME": str(tmp_path)}
    code = "from arena.cli import app; app()"
    server = subprocess.Popen(
        [sys.executable, "-c", code, "serve", "--board", "page", "--port", "0", "--refresh", "2"],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = server.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", line).group(0)
        with urllib.request.urlopen(url, timeout=30) as response:
            page = response.read().decode()
        assert '<meta http-equiv="refresh" content="2">' in page
        assert agent_rows(page) == ["scripted", "random"]
    finally:
        server.terminate()
        server.wait(timeout=30)


MATH_NAMES = ["bot$\\frac{1}{0}$ x", "a $$ b", "odd $ one", "$\\undefined{$"]


def test_names_that_look_like_mathtext_are_drawn_as_written(tmp_path):
    """Each of these makes matplotlib's mathtext parser raise (or would be typeset); the plots draw every
    text from data with mathtext off, so they render."""
    from arena.plots import rating_intervals_png, return_distributions_png

    rows = [
        {"agent": name, "rating": 1000.0 + i, "low": None if i == 0 else 990.0, "high": 1010.0 + i}
        for i, name in enumerate(MATH_NAMES)
    ]
    ratings = rating_intervals_png(rows, tmp_path / "ratings.png", "board / $\\frac{1}{0}$")
    results = [
        MatchResult(
            match_id=f"m{i}",
            scenario="h",
            env_id="env$\\frac{}{}$",
            seed=i,
            participants=tuple(
                Participant(agent=name, seat=f"p{j}", team=f"p{j}", rank=0, score=float(i + j))
                for j, name in enumerate(MATH_NAMES)
            ),
        )
        for i in range(3)
    ]
    returns = return_distributions_png(results, tmp_path / "returns.png", "$$x$$")
    for plot in (ratings, returns):
        assert plot.read_bytes().startswith(b"\x89PNG") and plot.stat().st_size > 1000


def test_a_board_with_mathtext_names_still_renders_its_page(tmp_path):
    with Board("math", root=tmp_path) as board:
        board.add_scenario("h", "s", "match", "s.toml", {"scenario": {}})
        record_games(
            board,
            {"agent": MATH_NAMES[0], "seat": "p0", "team": "p0"},
            {"agent": "$$", "seat": "p1", "team": "p1"},
        )
        page = render_board(board, tmp_path)
    assert html.escape(MATH_NAMES[0]) in page and (tmp_path / "s-ratings.png").is_file()


def test_a_bidi_control_stored_by_hand_reaches_the_page_only_as_a_visible_code(tmp_path):
    """Names are validated where they enter, so only old or hand-made data holds a right-to-left override;
    the page shows it as the text ``\\u202e`` instead of letting it reverse what follows."""
    evil = "bot\u202egnp.exe"
    with Board("bidi", root=tmp_path) as board:
        board.add_scenario("h", "s", "match", "s.toml", {"scenario": {}})
        record_games(
            board,
            {"agent": "ok-a", "seat": "p0", "team": "p0"},
            {"agent": "ok-b", "seat": "p1", "team": "p1"},
        )
    db = sqlite3.connect(tmp_path / "bidi" / "board.sqlite")
    with db:
        db.execute(
            "UPDATE participants SET agent = ?, reason = ? WHERE agent = 'ok-b'", (evil, evil + "\u2067")
        )
        db.execute("UPDATE participants SET status = 'ERROR' WHERE match_id = 'm0' AND seat = 'p1'")
    db.close()
    with Board("bidi", root=tmp_path) as board:
        page = render_board(board, tmp_path)
    assert not set(page) & BIDI_CONTROLS
    assert "bot\\u202egnp.exe" in page and "\\u2067" in page
    assert agent_rows(page).count("bot\\u202egnp.exe") == 1


def test_every_value_the_template_prints_is_escaped_and_shows_control_characters_as_codes(tmp_path):
    """Not only agent names and reasons: the scenario's name, the env id, seats and teams are printed by the
    same template, and one step ahead of its autoescaping (the environment's finalize) shows bidi and control
    characters as codes for every value it prints."""
    scenario, env, seat = "s<b>x\u202e", "game<i>\x07", "seat<u>\u2066"
    with Board("all", root=tmp_path) as board:
        board.add_scenario("h", scenario, "match", "s.toml", {"scenario": {}})
        record_games(
            board,
            {"agent": "a", "seat": seat, "team": "t\x1b"},
            {"agent": "b", "seat": "p1", "team": "p1"},
            env_id=env,
        )
        page = render_board(board, tmp_path)
    assert not set(page) & (BIDI_CONTROLS | {"\x07", "\x1b"})
    assert "<b>x" not in page and "<i>" not in page and "<u>" not in page
    for shown in ("s&lt;b&gt;x\\u202e", "game&lt;i&gt;\\x07", "seat&lt;u&gt;\\u2066 / t\\x1b"):
        assert shown in page


def test_a_match_table_says_how_its_ratings_and_intervals_are_computed(tmp_path):
    """The method's sentence stands right under the ranking table of a match scenario."""
    with Board("method", root=tmp_path) as board:
        board.add_scenario("h", "s", "match", "s.toml", {"scenario": {}})
        record_games(
            board, {"agent": "x", "seat": "p0", "team": "p0"}, {"agent": "y", "seat": "p1", "team": "p1"}
        )
        page = render_board(board, tmp_path)
    table_end = page.index("</table>")
    sentence = html.escape(INTERVAL_METHOD)
    assert "studentised bootstrap (bootstrap-t)" in INTERVAL_METHOD
    assert page.index(sentence) == page.index('<p class="method">', table_end) + len('<p class="method">')
