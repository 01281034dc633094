"""The leaderboard as one self-contained HTML page: no scripts, styles inline, plots embedded as PNG data,
so the page is the only file written.

Per scenario: the ranked table with each rating interval drawn as a bar and each agent's forfeits (under a
match table, one sentence on how the ratings and intervals are computed), the plot with the agents in the
table's order, every forfeit with its reason, and each agent's match history (ranks counted from 1). Every
match the page lists that has a replay (arena.results; matches stored before replays have none) links to it:
the replays are inlined, each hidden until its link makes it the page's target (CSS ``:target``, no script),
so the page stays one file while its size grows only with the matches it lists (``HISTORY`` per agent, and
the forfeits), each replay bounded by arena.match.

This module gathers the numbers; the markup is the Jinja2 template ``arena/templates/leaderboard.html``,
rendered with autoescaping on. Every value the template prints passes through one function first (the
environment's ``finalize``, :func:`shown_as_codes`), which shows bidi and control characters as
``\\u202e``-style codes; autoescaping then escapes the markup. Names are validated where they enter
(agents.labels), so these only come from data stored before that or by hand; the text of replays (what
players said, what envs render) is printed the same way.
"""

from __future__ import annotations

import base64
import functools
from datetime import datetime, timezone
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, Template, select_autoescape
from markupsafe import Markup

from agents import BIDI_CONTROLS
from arena.leaderboard import Board, scenario_table
from arena.plots import css_size, png, rating_intervals_figure, return_distributions_figure
from arena.ratings import INTERVAL_METHOD
from arena.results import MatchResult, Participant, Status
from arena.versions import short

HISTORY = 20  # matches shown per agent, newest first
# Characters that must not act on the page: bidi controls (which reorder what follows them) and control
# characters other than tab and newlines; each is shown as its code instead.
_SHOWN_AS_CODES = {ord(c): f"\\u{ord(c):04x}" for c in BIDI_CONTROLS} | {
    code: f"\\x{code:02x}" for code in (*range(0x20), *range(0x7F, 0xA0)) if chr(code) not in "\t\n\r"
}


def shown_as_codes(value: object) -> object:
    """``value`` as the page prints it: bidi and control characters replaced by their codes (numbers pass
    unchanged). The template environment applies this to every ``{{ ... }}`` before escaping it."""
    if isinstance(value, Markup):  # a macro's output, its own values already passed through here
        return value.translate(_SHOWN_AS_CODES)
    if isinstance(value, (int, float)):
        return value
    return str(value).translate(_SHOWN_AS_CODES)


@functools.cache
def _template() -> Template:
    environment = Environment(
        loader=PackageLoader("arena", "templates"),
        autoescape=select_autoescape(["html"]),
        finalize=shown_as_codes,
        undefined=StrictUndefined,  # a misspelt field fails the render instead of printing nothing
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["short"] = short
    return environment.get_template("leaderboard.html")


def render_board(board: Board, *, refresh_s: int | None = None) -> str:
    """The page for every scenario on ``board``, its plots inlined (one self-contained HTML document)."""
    return _template().render(
        board=board.name,
        refresh_s=refresh_s,
        interval_method=INTERVAL_METHOD,
        generated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        sections=[_section(board, scenario) for scenario in board.scenarios()],
    )


def write_board_html(board: Board, out: Path) -> Path:
    """Write the page to ``out``, and nothing else; returns ``out``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_board(board))
    return out


def _section(board: Board, scenario: dict) -> dict:
    """What the template shows of one scenario (``rows`` empty when nothing is stored yet)."""
    name, kind = scenario["name"], scenario["kind"]
    rows = scenario_table(board, scenario)
    if not rows:
        return {"name": name, "kind": kind, "rows": []}
    results = board.results(scenario["hash"])
    env_versions, agent_versions = board.versions_played(scenario["hash"])
    title = f"{board.name} / {name}"
    if kind == "match":
        ranked, env_ids = _with_bars(rows, "rating"), []
        figure = rating_intervals_figure(rows, title)
    else:
        per_env = {(r["agent"], r["env_id"]): r for r in rows}
        env_ids = sorted({r["env_id"] for r in rows} - {"overall"})
        overall = sorted((r for r in rows if r["env_id"] == "overall"), key=lambda r: -r["score"])
        ranked = [{**r, "per_env": [per_env[(r["agent"], e)] for e in env_ids]} for r in _with_bars(overall)]
        figure = return_distributions_figure(results, [r["agent"] for r in ranked], title)
    image = png(figure)
    agents = [row["agent"] for row in ranked]
    width, height = css_size(figure)
    forfeits = [(r, p) for r in results for p in r.participants if p.status is not Status.OK]
    histories = [_history(agent, results) for agent in agents]
    listed = {row["match_id"] for h in histories for row in h["rows"]} | {r.match_id for r, _ in forfeits}
    replays = [view for r in results if r.match_id in listed and (view := _replay_view(r)) is not None]
    return {
        "name": name,
        "kind": kind,
        "rows": ranked,
        "env_ids": env_ids,
        "env_versions": env_versions,
        "agent_versions": agent_versions,
        "image": {"data": base64.b64encode(image).decode(), "width": width, "height": height},
        "forfeits": forfeits,
        "histories": histories,
        "replays": replays,
        "linked": {view["match_id"] for view in replays},
    }


def _with_bars(rows: list[dict], value: str = "score") -> list[dict]:
    """``rows`` each with ``bar``: where its interval and its ``value`` stand on a common axis, in % of the
    axis; an unbounded end is drawn to the axis edge."""
    ends = [v for row in rows for v in (row["low"], row["high"], row[value]) if v is not None]
    left, right = min(ends), max(ends)
    span = (right - left) or 1.0

    def at(x: float) -> float:
        return 100 * (x - left) / span

    out = []
    for row in rows:
        start = at(left if row["low"] is None else row["low"])
        end = at(right if row["high"] is None else row["high"])
        out.append({**row, "bar": {"start": start, "width": max(end - start, 0.5), "mark": at(row[value])}})
    return out


def _history(agent: str, results: list[MatchResult]) -> dict:
    """``agent``'s last ``HISTORY`` matches, newest first, each with the agent's best rank in it (1 is
    first)."""
    played = [r for r in results if any(p.agent == agent for p in r.participants)][-HISTORY:][::-1]
    rows = []
    for result in played:
        mine = [p for p in result.participants if p.agent == agent]
        rows.append(
            {
                "match_id": result.match_id,
                "env_id": result.env_id,
                "seed": result.seed,
                "seats": [f"{p.seat} / {p.team}" for p in mine],
                "rank": min(p.rank for p in mine) + 1,
                "forfeit": any(p.status is not Status.OK for p in mine),
                "score": sum(p.score for p in mine),
                "opponents": sorted({p.agent for p in result.participants if p.agent != agent}),
            }
        )
    return {"agent": agent, "rows": rows}


def _replay_view(result: MatchResult) -> dict | None:
    """What the page shows of ``result``'s replay, numbers already formatted; None when it has none, or one
    this page cannot read (a damaged or hand-made row must not stop the page)."""
    replay = result.replay
    if replay is None:
        return None
    view = {"match_id": result.match_id, "env_id": result.env_id, "seed": result.seed}
    try:
        if replay["kind"] == "game":
            roles = replay["roles"]
            transcript = replay["transcript"]
            return {
                **view,
                "kind": "game",
                "seats": [_seat_view(p, roles.get(p.seat)) for p in result.participants],
                "transcript": None if transcript is None else str(transcript),
            }
        if replay["kind"] == "episode":
            (episode,) = result.participants
            end = "terminated" if replay["terminated"] else "truncated" if replay["truncated"] else "stopped"
            rows = [
                {
                    "step": int(row["step"]),
                    "reward": f"{float(row['reward']):.4g}",
                    "return": f"{float(row['return']):.6g}",
                    "frame": str(row.get("frame", "")),
                }
                for row in replay["trace"]
            ]
            return {
                **view,
                "kind": "episode",
                "seat": _seat_view(episode, None),
                "length": int(replay["length"]),
                "stride": int(replay["stride"]),
                "end": end,
                "trace": rows,
            }
    except (AttributeError, KeyError, TypeError, ValueError):
        return None
    return None


def _seat_view(p: Participant, role: object) -> dict:
    """One seat of a replay: who played it, the role the end revealed (blank: none), and how it ended."""
    return {
        "seat": p.seat,
        "agent": p.agent,
        "team": p.team,
        "role": "" if role is None else str(role),
        "rank": p.rank + 1,
        "score": f"{p.score:.6g}",
        "status": p.status.value,
        "reason": p.reason,
    }
