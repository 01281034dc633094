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
from markupsafe import escape

from agents.labels import BIDI_CONTROLS
from arena.leaderboard import Board
from arena.ratings import INTERVAL_METHOD
from arena.report import HISTORY, render_board, write_board_html
from arena.results import REPLAY_KEY, MatchResult, Participant, Status, pack_replay
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


# The board's secret keys every deal. With a fresh random one, the random player draws level with the scripted
# one in about 1 board of 75 (12 games are few), so the page's expected order is checked on a fixed deal.
PAGE_SECRET = bytes(32)


@pytest.fixture
def played_board(tmp_path):
    path = tmp_path / "page.toml"
    path.write_text(SCENARIO)
    with Board("page", root=tmp_path, secret=PAGE_SECRET) as board:
        run_tournament(load_scenario(path), board)
        yield board


def agent_rows(page: str) -> list[str]:
    return re.findall(r'<tr class="agent-row"><td>\d+</td><td class="name">([^<]*)</td>', page)


def test_the_page_is_self_contained_and_the_only_file_written(played_board, tmp_path):
    out = write_board_html(played_board, tmp_path / "site" / "index.html")
    page = out.read_text()
    assert "<script" not in page and "http://" not in page and "https://" not in page
    assert "data:image/png;base64," in page
    assert [path.name for path in (tmp_path / "site").iterdir()] == ["index.html"]
    assert agent_rows(page) == ["scripted", "random"]


def test_leaderboard_html_writes_one_page_and_nothing_beside_it(played_board, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from arena.cli import app

    monkeypatch.setenv("PG_ARENA_HOME", str(tmp_path))
    out = tmp_path / "site" / "page.html"
    result = CliRunner().invoke(app, ["leaderboard", "--board", "page", "--html", str(out)])
    assert result.exit_code == 0, result.output
    assert [path.name for path in out.parent.iterdir()] == ["page.html"]
    assert out.read_text().count("data:image/png;base64,") == 1


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
        page = render_board(board)
    assert evil not in page and html.escape(evil) in page


def dump_dom(page: Path, tmp_path: Path) -> str:
    """The DOM headless Chromium builds from ``page`` (the test is skipped without Chromium)."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("Chromium is not installed (apt-get install chromium); .ci/run installs it")
    result = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_a_headless_browser_shows_the_agents_in_rank_order(played_board, tmp_path):
    """The scripted player beats the random one over 12 role-balanced games; the rendered DOM must list them
    in that order."""
    dom = dump_dom(write_board_html(played_board, tmp_path / "site" / "index.html"), tmp_path)
    assert agent_rows(dom) == ["scripted", "random"]
    assert "Match history" in dom


def replay_links(page: str) -> list[str]:
    """The match ids the page links to a replay of, in the page's order."""
    return re.findall(r'<a href="#replay-([^"]+)">', page)


def replay_targets(page: str) -> list[str]:
    """The match ids of the replays the page holds, in its order."""
    return re.findall(r'<div class="replay" id="replay-([^"]+)">', page)


def test_every_listed_match_links_to_its_replay_and_every_link_finds_its_target_in_a_browser(
    played_board, tmp_path
):
    """All 12 games fit in each agent's history, and each was recorded with its replay: each history row
    links to that game's replay, which the page holds once (hidden until it is the link's target) with the
    game's transcript; in the DOM Chromium builds, every link's target exists."""
    results = played_board.results()
    page = render_board(played_board)
    assert set(replay_links(page)) == set(replay_targets(page)) == {r.match_id for r in results}
    assert len(replay_targets(page)) == len(results) == 12
    assert ".replay:target { display: block; }" in page
    for result in results:
        replay = page.split(f'<div class="replay" id="replay-{result.match_id}">')[1].split("</div>")[0]
        transcript = str(escape(result.replay["transcript"]))  # escaped as the template escapes it
        assert transcript in replay and "Game over" in transcript
        for p in result.participants:
            role = result.replay["roles"][p.seat]
            assert f'<td class="name">{p.seat}</td><td class="name">{p.agent}</td>' in replay
            assert f'<td class="name">{p.team}</td><td class="name">{role}</td>' in replay
    dom = dump_dom(write_board_html(played_board, tmp_path / "site" / "index.html"), tmp_path)
    ids = set(re.findall(r'\bid="([^"]+)"', dom))
    links = re.findall(r'href="#([^"]+)"', dom)
    assert len(links) >= 2 * 12 and set(links) <= ids  # each game is in both agents' histories


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
    from arena.plots import png, rating_intervals_figure, return_distributions_figure

    rows = [
        {"agent": name, "rating": 1000.0 + i, "low": None if i == 0 else 990.0, "high": 1010.0 + i}
        for i, name in enumerate(MATH_NAMES)
    ]
    ratings = png(rating_intervals_figure(rows, "board / $\\frac{1}{0}$"))
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
    returns = png(return_distributions_figure(results, MATH_NAMES[::-1], "$$x$$"))
    for plot in (ratings, returns):
        assert plot.startswith(b"\x89PNG") and len(plot) > 1000


def test_a_board_with_mathtext_names_still_renders_its_page(tmp_path):
    with Board("math", root=tmp_path) as board:
        board.add_scenario("h", "s", "match", "s.toml", {"scenario": {}})
        record_games(
            board,
            {"agent": MATH_NAMES[0], "seat": "p0", "team": "p0"},
            {"agent": "$$", "seat": "p1", "team": "p1"},
        )
        page = render_board(board)
    assert html.escape(MATH_NAMES[0]) in page and "data:image/png;base64," in page


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
        page = render_board(board)
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
        page = render_board(board)
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
        page = render_board(board)
    table_end = page.index("</table>")
    sentence = html.escape(INTERVAL_METHOD)
    assert "studentised bootstrap (bootstrap-t)" in INTERVAL_METHOD
    assert page.index(sentence) == page.index('<p class="method">', table_end) + len('<p class="method">')


def history_ranks(page: str, agent: str) -> list[tuple[str, int]]:
    """(match id, rank) of each row of ``agent``'s match history, as the page shows them."""
    history = page.split(f"<summary>{agent}: ")[1].split("</details>")[0]
    row = r'<tr><td>(m\d+)</td><td>[^<]*</td><td>\d+</td><td class="name">[^<]*</td><td>(\d+)'
    return [(match_id, int(rank)) for match_id, rank in re.findall(row, history)]


def test_ranks_in_the_match_history_start_at_1(tmp_path):
    """x is stored at rank 0 (first) in m0 and m2 and rank 1 in m1 and m3; the history, newest first, shows
    them counted from 1."""
    with Board("ranks", root=tmp_path) as board:
        board.add_scenario("h", "s", "match", "s.toml", {"scenario": {}})
        record_games(
            board, {"agent": "x", "seat": "p0", "team": "p0"}, {"agent": "y", "seat": "p1", "team": "p1"}
        )
        page = render_board(board)
    assert history_ranks(page, "x") == [("m3", 2), ("m2", 1), ("m1", 2), ("m0", 1)]
    assert history_ranks(page, "y") == [("m3", 1), ("m2", 2), ("m1", 1), ("m0", 2)]


def plotted_agents(figure) -> list[str]:
    """The agent names on the figure's first axes, top to bottom."""
    ax = figure.axes[0]
    labels = [label.get_text() for label in ax.get_yticklabels()]
    return [name for _, name in sorted(zip(ax.get_yticks(), labels, strict=True), reverse=True)]


def drawn_figures(monkeypatch) -> list:
    """Every figure the page encodes from now on, in order."""
    import arena.report
    from arena.plots import png

    figures = []

    def keep(figure):
        figures.append(figure)
        return png(figure)

    monkeypatch.setattr(arena.report, "png", keep)
    return figures


def record_episodes(board, returns: dict[str, dict[str, list[float]]]) -> None:
    """Store suite ``h``'s episodes: ``returns[env_id][agent]`` lists an agent's returns by seed."""
    for env_id, by_agent in returns.items():
        for agent, values in by_agent.items():
            for seed, value in enumerate(values):
                episode = Participant(agent=agent, seat="agent", team=agent, rank=0, score=value)
                board.record(
                    MatchResult(
                        match_id=f"{env_id}-{agent}-{seed}",
                        scenario="h",
                        env_id=env_id,
                        seed=seed,
                        participants=(episode,),
                    )
                )


SUITE = {  # zeta ranks first and alpha second: neither alphabetical nor storage order
    "arena/One-v0": {"random": [0.0, 1.0], "alpha": [6.0, 7.0], "zeta": [9.0, 8.0], "best": [10.0, 10.0]},
    "arena/Two-v0": {"random": [-5.0, -6.0], "alpha": [1.0, 2.0], "zeta": [4.0, 3.0], "best": [5.0, 5.0]},
}


def test_each_plot_lists_the_agents_in_the_tables_rank_order_and_is_shown_at_its_size(
    played_board, tmp_path, monkeypatch
):
    figures = drawn_figures(monkeypatch)
    with Board("suite", root=tmp_path) as board:
        board.add_scenario(
            "h", "s", "suite", "s.toml", {"scenario": {"low_reference": "random", "high_reference": "best"}}
        )
        record_episodes(board, SUITE)
        suite_page = render_board(board)
    match_page = render_board(played_board)
    assert agent_rows(suite_page) == ["best", "zeta", "alpha", "random"]
    assert agent_rows(match_page) == ["scripted", "random"]
    suite_figure, match_figure = figures
    assert [plotted_agents(suite_figure), plotted_agents(match_figure)] == [
        agent_rows(suite_page),
        agent_rows(match_page),
    ]
    for page, figure in ((suite_page, suite_figure), (match_page, match_figure)):
        width, height = round(figure.get_figwidth() * 96), round(figure.get_figheight() * 96)
        assert f'width="{width}" height="{height}"' in page
        assert width <= 1152  # the page's column, 72rem: the image is never shrunk to fit it


LONG_NAMES = [f"team-{k}/a-rather-long-agent-name-{k}@1.0.{k}" for k in range(14)]


def crowded_figures():
    """A rating plot and a five-env return plot of 14 agents with long names."""
    from arena.plots import rating_intervals_figure, return_distributions_figure

    rows = [
        {"agent": a, "rating": 1200.0 - 20 * k, "low": 1100.0 - 20 * k, "high": 1300.0}
        for k, a in enumerate(LONG_NAMES)
    ]
    results = [
        MatchResult(
            match_id=f"e{e}-{k}-{seed}",
            scenario="h",
            env_id=f"arena/SomeLongEnvironmentName{e}-v0",
            seed=seed,
            participants=(Participant(agent=a, seat="agent", team=a, rank=0, score=1000.0 * k + seed),),
        )
        for e in range(5)
        for k, a in enumerate(LONG_NAMES)
        for seed in range(3)
    ]
    return [
        rating_intervals_figure(rows, "board / duels"),
        return_distributions_figure(results, LONG_NAMES, "b / s"),
    ]


def drawn_texts(figure) -> list:
    """The texts the figure draws: visible, not empty, and no label of a tick outside its axis' limits."""
    from matplotlib.text import Text

    figure.canvas.draw()
    hidden = set()
    for ax in figure.axes:
        for axis, (low, high) in ((ax.xaxis, sorted(ax.get_xlim())), (ax.yaxis, sorted(ax.get_ylim()))):
            hidden |= {id(t.label1) for t in axis.get_major_ticks() if not low <= t.get_loc() <= high}
    return [t for t in figure.findobj(Text) if t.get_visible() and t.get_text() and id(t) not in hidden]


@pytest.mark.parametrize("which", [0, 1], ids=["ratings", "returns"])
def test_plots_draw_every_text_at_9_pt_or_more_and_no_two_texts_overlap(which):
    """The page shows a figure at 96 px per figure inch, so a text of 9 pt in the figure reads as 9 pt at
    100 % zoom."""
    figure = crowded_figures()[which]
    texts = drawn_texts(figure)
    assert texts and min(t.get_fontsize() for t in texts) >= 9
    assert figure.get_figwidth() * 96 <= 1152
    boxes = [(t.get_text(), t.get_window_extent()) for t in texts]
    overlapping = [
        (a, b) for i, (a, box) in enumerate(boxes) for b, other in boxes[i + 1 :] if box.overlaps(other)
    ]
    assert not overlapping  # no tick label, title or axis label runs into another
    outside = [text for text, box in boxes if box.x0 < 0 or box.x1 > figure.bbox.x1]
    assert not outside
    assert "team-0/a-rather-lo…e-0@1.0.0" in plotted_agents(figure)  # shortened in the middle
    assert len(set(plotted_agents(figure))) == len(LONG_NAMES)


def test_an_outlying_agent_is_clipped_off_the_return_axis_and_the_axis_says_so():
    """random's returns (around -5,000) would flatten the others (0-10) into one pixel column: the axis keeps
    the others' range, says it is clipped, and gives random's median at the edge."""
    from arena.plots import return_distributions_figure

    returns = {"random": [-4000.0, -6000.0], "steady": [0.0, 1.0], "good": [9.0, 10.0], "best": [10.0, 10.0]}
    mild = {**returns, "random": [-4.0, -6.0]}
    results = [
        MatchResult(
            match_id=f"{env_id}-{agent}-{seed}",
            scenario="h",
            env_id=env_id,
            seed=seed,
            participants=(Participant(agent=agent, seat="agent", team=agent, rank=0, score=value),),
        )
        for env_id, by_agent in (("far", returns), ("near", mild))
        for agent, values in by_agent.items()
        for seed, value in enumerate(values)
    ]
    far, near = return_distributions_figure(results, ["best", "good", "steady", "random"], "b / s").axes
    low, high = far.get_xlim()
    assert -4000 < low < 0 and 10 < high < 20
    assert "clipped" in far.get_xlabel()
    assert [t.get_text() for t in far.texts] == ["← median -5e+03"]
    assert near.get_xlabel() == "episode return" and near.get_xlim()[0] <= -6 and not near.texts


def game_replay(transcript: str) -> dict:
    """A result's ``extra`` holding a two-seat game's replay with ``transcript``."""
    return {REPLAY_KEY: pack_replay({"kind": "game", "transcript": transcript, "roles": {"p0": "x"}})}


def test_a_board_stored_without_replays_renders_without_replay_links(tmp_path):
    """Matches stored before replays were recorded (or hand-made, or with a damaged replay) get no link."""
    with Board("old", root=tmp_path) as board:
        board.add_scenario("h", "s", "match", "s.toml", {"scenario": {}})
        record_games(
            board, {"agent": "x", "seat": "p0", "team": "p0"}, {"agent": "y", "seat": "p1", "team": "p1"}
        )
        damaged = MatchResult(
            match_id="m9",
            scenario="h",
            env_id="game",
            seed=9,
            participants=(
                Participant(agent="x", seat="p0", team="p0", rank=0, score=1.0),
                Participant(agent="y", seat="p1", team="p1", rank=1, score=0.0),
            ),
            extra={REPLAY_KEY: "not a replay"},
        )
        board.record(damaged)
        page = render_board(board)
    assert history_ranks(page, "x")[0] == ("m9", 1)
    assert not replay_links(page) and not replay_targets(page)


def test_the_page_holds_the_replays_of_the_matches_it_lists_only(tmp_path):
    """30 stored games between x and y, each with a replay: each history lists the newest ``HISTORY``, so
    the page holds those replays and no other (its size grows with what it lists, not with the board)."""
    with Board("many", root=tmp_path) as board:
        board.add_scenario("h", "s", "match", "s.toml", {"scenario": {}})
        for i in range(30):
            board.record(
                MatchResult(
                    match_id=f"m{i}",
                    scenario="h",
                    env_id="game",
                    seed=i,
                    participants=(
                        Participant(agent="x", seat="p0", team="p0", rank=i % 2, score=0.0),
                        Participant(agent="y", seat="p1", team="p1", rank=1 - i % 2, score=1.0),
                    ),
                    extra=game_replay(f"transcript of game {i}."),
                )
            )
        page = render_board(board)
    newest = [f"m{i}" for i in range(30 - HISTORY, 30)]
    assert replay_targets(page) == newest
    assert "transcript of game 9." not in page and "transcript of game 10." in page


def test_text_in_a_replay_is_escaped_and_shows_control_characters_as_codes(tmp_path):
    """What players say reaches the page as text: markup escaped, bidi controls shown as codes."""
    said = "Day 1, Player 0: <script>alert(1)</script> \u202eevil"
    with Board("said", root=tmp_path) as board:
        board.add_scenario("h", "s", "match", "s.toml", {"scenario": {}})
        board.record(
            MatchResult(
                match_id="m0",
                scenario="h",
                env_id="game",
                seed=0,
                participants=(
                    Participant(agent="x", seat="p0", team="p0", rank=0, score=1.0),
                    Participant(agent="y", seat="p1", team="p1", rank=1, score=0.0),
                ),
                extra=game_replay(said),
            )
        )
        page = render_board(board)
    assert replay_targets(page) == ["m0"]
    assert "<script" not in page and not set(page) & BIDI_CONTROLS
    assert "Day 1, Player 0: &lt;script&gt;alert(1)&lt;/script&gt; \\u202eevil" in page


def test_a_suite_episode_replay_shows_its_return_length_forfeit_and_trace(tmp_path):
    """An episode forfeited after 3 steps: its replay gives the stored return, the length, the reason and
    every traced step with its render."""
    trace = [
        {"step": 1, "reward": 1.0, "return": 1.0, "frame": "t=1"},
        {"step": 2, "reward": 0.5, "return": 1.5},
        {"step": 3, "reward": -0.25, "return": 1.25, "frame": "t=3 <end>"},
    ]
    replay = {"kind": "episode", "length": 3, "stride": 1, "terminated": False, "truncated": False}
    with Board("episode", root=tmp_path) as board:
        board.add_scenario(
            "h", "s", "suite", "s.toml", {"scenario": {"low_reference": "bad", "high_reference": "good"}}
        )
        record_episodes(board, {"env": {"good": [2.0]}})
        board.record(
            MatchResult(
                match_id="bad-0",
                scenario="h",
                env_id="env",
                seed=0,
                participants=(
                    Participant(
                        agent="bad",
                        seat="agent",
                        team="bad",
                        rank=0,
                        score=1.25,
                        status=Status.TIMEOUT,
                        reason="move took 5.2 s",
                    ),
                ),
                extra={REPLAY_KEY: pack_replay({**replay, "trace": trace})},
            )
        )
        page = render_board(board)
    assert replay_targets(page) == ["bad-0"] and replay_links(page) == ["bad-0", "bad-0"]  # forfeit, history
    shown = page.split('<div class="replay" id="replay-bad-0">')[1].split("</div>")[0]
    assert "return 1.25 over 3 steps (stopped)" in shown and "forfeit, TIMEOUT: move took 5.2 s" in shown
    rows = re.findall(
        r"<tr><td>(\d+)</td><td>([^<]+)</td><td>([^<]+)</td><td class=\"name\">(.*?)</td></tr>", shown
    )
    assert rows == [
        ("1", "1", "1", "<pre>t=1</pre>"),
        ("2", "0.5", "1.5", ""),
        ("3", "-0.25", "1.25", "<pre>t=3 &lt;end&gt;</pre>"),
    ]
