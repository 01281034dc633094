"""The leaderboard as one self-contained HTML page: no scripts, styles inline, plots embedded as PNG data.

Per scenario: the ranked table with each rating interval drawn as a bar, the plot, every forfeit with its
reason, and each agent's match history. Every name that comes from a submission is escaped, in one place
(``_e``): HTML markup, and bidi and control characters, which are shown as ``\\u202e``-style codes. Names are
validated where they enter (agents.labels), so these only come from data stored before that or by hand.
"""

from __future__ import annotations

import base64
import html
from datetime import datetime, timezone
from pathlib import Path

from agents.labels import BIDI_CONTROLS
from arena.leaderboard import Board, scenario_table
from arena.plots import rating_intervals_png, return_distributions_png
from arena.results import MatchResult, Status
from arena.versions import short

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; }
th, td { padding: 0.25rem 0.6rem; border-bottom: 1px solid #ddd; text-align: right; }
th { background: #f3f3f3; } td.name, th.name { text-align: left; }
.bar { position: relative; width: 16rem; height: 0.9rem; background: #f4f4f4; }
.bar span { position: absolute; top: 0; bottom: 0; background: #6a9fd4; }
.bar i { position: absolute; top: -0.15rem; bottom: -0.15rem; width: 2px; background: #111; }
.forfeit { color: #a33; } details { margin: 0.2rem 0; } img { max-width: 100%; }
"""
HISTORY = 20  # matches shown per agent, newest first
# Characters that must not act on the page: bidi controls (which reorder what follows them) and control
# characters other than tab and newlines; each is shown as its code instead.
_SHOWN_AS_CODES = {ord(c): f"\\u{ord(c):04x}" for c in BIDI_CONTROLS} | {
    code: f"\\x{code:02x}" for code in (*range(0x20), *range(0x7F, 0xA0)) if chr(code) not in "\t\n\r"
}


def render_board(board: Board, plot_dir: Path, *, refresh_s: int | None = None) -> str:
    """The page for every scenario on ``board``; plots are also written as PNG files into ``plot_dir``."""
    refresh = f'<meta http-equiv="refresh" content="{refresh_s}">' if refresh_s else ""
    sections = [_scenario_section(board, scenario, plot_dir) for scenario in board.scenarios()]
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">{refresh}'
        f"<title>pg-arena leaderboard: {_e(board.name)}</title><style>{STYLE}</style></head><body>"
        f"<h1>Leaderboard <code>{_e(board.name)}</code></h1><p>Generated {generated}; ratings are recomputed"
        " from the stored match log.</p>"
        + ("".join(sections) or "<p>No scenario has been played on this board yet.</p>")
        + "</body></html>"
    )


def write_board_html(board: Board, out: Path) -> Path:
    """Write the page to ``out`` and its plots as PNG files beside it."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_board(board, out.parent))
    return out


def _scenario_section(board: Board, scenario: dict, plot_dir: Path) -> str:
    rows = scenario_table(board, scenario)
    results = board.results(scenario["hash"])
    name = scenario["name"]
    head = f'<section id="{_e(name)}"><h2>{_e(name)} <small>({_e(scenario["kind"])})</small></h2>'
    if not rows:
        return head + "<p>No matches stored yet.</p></section>"
    env_versions, agent_versions = board.versions_played(scenario["hash"])
    if scenario["kind"] == "match":
        table = _match_table(rows, agent_versions)
        plot = rating_intervals_png(rows, plot_dir / f"{name}-ratings.png", f"{board.name} / {name}")
    else:
        table = _suite_table(rows, agent_versions)
        plot = return_distributions_png(results, plot_dir / f"{name}-returns.png", f"{board.name} / {name}")
    image = base64.b64encode(plot.read_bytes()).decode()
    return (
        head
        + table
        + _env_versions(env_versions)
        + f'<img alt="plot of {_e(name)}" src="data:image/png;base64,{image}">'
        + _forfeits(results)
        + _histories(results, [row["agent"] for row in rows if row.get("env_id", "overall") == "overall"])
        + "</section>"
    )


def _interval_bar(value: float, low: float | None, high: float | None, left: float, right: float) -> str:
    span = (right - left) or 1.0

    def at(x: float | None, default: float) -> float:
        return 100 * ((default if x is None else x) - left) / span

    start, end = at(low, left), at(high, right)
    return (
        f'<div class="bar"><span style="left:{start:.1f}%;width:{max(end - start, 0.5):.1f}%"></span>'
        f'<i style="left:{at(value, value):.1f}%"></i></div>'
    )


def _bounds(rows: list[dict]) -> tuple[float, float]:
    finite = [
        v for row in rows for v in (row["low"], row["high"], row["score" if "score" in row else "rating"])
    ]
    finite = [v for v in finite if v is not None]
    return min(finite), max(finite)


def _env_versions(versions: dict[str, list[str]]) -> str:
    """Which versions of the scenario's env(s) its stored matches were played with."""
    listed = "; ".join(f"{env_id} {', '.join(map(short, found))}" for env_id, found in versions.items())
    return f'<p class="versions">Env versions: {_e(listed)}.</p>'


def _versions_cell(versions: dict[str, list[str]], agent: str) -> str:
    """The versions of ``agent`` its stored matches were played with (abbreviated hashes)."""
    return f'<td class="name">{_e(", ".join(map(short, versions.get(agent, []))))}</td>'


def _match_table(rows: list[dict], versions: dict[str, list[str]]) -> str:
    left, right = _bounds(rows)
    body = "".join(
        f'<tr class="agent-row"><td>{rank}</td><td class="name">{_e(r["agent"])}</td>'
        f"<td>{r['rating']:.0f}</td><td>{_n(r['low'])}</td><td>{_n(r['high'])}</td>"
        f"<td>{_interval_bar(r['rating'], r['low'], r['high'], left, right)}</td><td>{r['games']}</td>"
        f"<td>{r['wins']}-{r['draws']}-{r['losses']}</td><td>{r['forfeits']}</td>"
        f"{_versions_cell(versions, r['agent'])}</tr>"
        for rank, r in enumerate(rows, 1)
    )
    return (
        '<table class="ranking"><tr><th>rank</th><th class="name">agent</th><th>rating</th><th>low</th>'
        "<th>high</th><th>95 % interval</th><th>games</th><th>W-D-L</th><th>forfeits</th>"
        '<th class="name">version</th></tr>'
        f"{body}</table>"
    )


def _suite_table(rows: list[dict], versions: dict[str, list[str]]) -> str:
    overall = sorted((r for r in rows if r["env_id"] == "overall"), key=lambda r: -r["score"])
    left, right = _bounds(overall)
    per_env = {(r["agent"], r["env_id"]): r for r in rows}
    env_ids = sorted({r["env_id"] for r in rows} - {"overall"})
    body = "".join(
        f'<tr class="agent-row"><td>{rank}</td><td class="name">{_e(r["agent"])}</td>'
        f"<td>{r['score']:.3f}</td>"
        f"<td>{_interval_bar(r['score'], r['low'], r['high'], left, right)}</td>"
        + "".join(f"<td>{per_env[(r['agent'], e)]['score']:.3f}</td>" for e in env_ids)
        + f"{_versions_cell(versions, r['agent'])}</tr>"
        for rank, r in enumerate(overall, 1)
    )
    env_heads = "".join(f"<th>{_e(e.removeprefix('arena/'))}</th>" for e in env_ids)
    return (
        '<table class="ranking"><tr><th>rank</th><th class="name">agent</th><th>normalised score</th>'
        f'<th>95 % interval</th>{env_heads}<th class="name">version</th></tr>{body}</table>'
    )


def _forfeits(results: list[MatchResult]) -> str:
    lost = [(r, p) for r in results for p in r.participants if p.status is not Status.OK]
    if not lost:
        return "<p>No forfeits.</p>"
    rows = "".join(
        f'<tr class="forfeit"><td class="name">{_e(p.agent)}</td><td>{_e(r.match_id)}</td>'
        f'<td>{_e(p.status.value)}</td><td class="name">{_e(p.reason)}</td></tr>'
        for r, p in lost
    )
    return (
        f"<h3>Forfeits ({len(lost)})</h3><table><tr><th class='name'>agent</th><th>match</th><th>status</th>"
        f"<th class='name'>reason</th></tr>{rows}</table>"
    )


def _histories(results: list[MatchResult], agents: list[str]) -> str:
    blocks = []
    for agent in agents:
        played = [r for r in results if any(p.agent == agent for p in r.participants)][-HISTORY:][::-1]
        rows = "".join(_history_row(agent, r) for r in played)
        blocks.append(
            f"<details><summary>{_e(agent)}: last {len(played)} matches</summary><table><tr><th>match</th>"
            f"<th>env</th><th>seed</th><th class='name'>seat / team</th><th>rank</th><th>score</th>"
            f"<th class='name'>opponents</th></tr>{rows}</table></details>"
        )
    return "<h3>Match history</h3>" + "".join(blocks)


def _history_row(agent: str, result: MatchResult) -> str:
    mine = [p for p in result.participants if p.agent == agent]
    others = sorted({p.agent for p in result.participants if p.agent != agent})
    seats = ", ".join(f"{p.seat} / {p.team}" for p in mine)
    status = "" if all(p.status is Status.OK for p in mine) else " (forfeit)"
    return (
        f"<tr><td>{_e(result.match_id)}</td><td>{_e(result.env_id)}</td><td>{result.seed}</td>"
        f'<td class="name">{_e(seats)}</td><td>{min(p.rank for p in mine)}{status}</td>'
        f'<td>{sum(p.score for p in mine):.4g}</td><td class="name">{_e(", ".join(others))}</td></tr>'
    )


def _e(text: object) -> str:
    """``text`` as inert HTML: markup escaped, bidi and control characters shown as codes."""
    return html.escape(str(text).translate(_SHOWN_AS_CODES))


def _n(value: float | None) -> str:
    return "unbounded" if value is None else f"{value:.0f}"
