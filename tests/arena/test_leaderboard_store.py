"""The SQLite match log: one transaction per match, never a match twice, exact round trips."""

import sqlite3

import pytest

from arena.leaderboard import Board, board_path, scenario_table
from arena.results import MatchResult, Participant, Status


def result(match_id, seed=0, status=Status.OK):
    return MatchResult(
        match_id=match_id,
        scenario="abc",
        env_id="game",
        seed=seed,
        participants=(
            Participant(agent="a", seat="p0", team="p0", rank=0, score=1.0),
            Participant(
                agent="b",
                seat="p1",
                team="p1",
                rank=1,
                score=-1.0,
                status=status,
                reason="" if status is Status.OK else "boom",
            ),
        ),
        duration_s=0.25,
        extra={"note": 1},
    )


@pytest.fixture
def board(tmp_path):
    with Board("test", root=tmp_path) as store:
        store.add_scenario("abc", "s", "match", "s.toml", {"scenario": {}})
        yield store


def test_a_match_is_stored_once_and_reads_back_identically(board):
    first = result("m1", status=Status.TIMEOUT)
    assert board.record(first) is True
    assert board.record(first) is False  # same id again: nothing written
    assert board.results("abc") == [first]
    assert board.match_ids("abc") == {"m1"}


def test_results_keep_storage_order(board):
    for i in (3, 1, 2):
        board.record(result(f"m{i}", seed=i))
    assert [r.match_id for r in board.results()] == ["m3", "m1", "m2"]


def test_a_failed_write_leaves_no_partial_match(board):
    seat = Participant(agent="a", seat="p0", team="p0", rank=0, score=1.0)
    broken = MatchResult(match_id="m9", scenario="abc", env_id="game", seed=0, participants=(seat, seat))
    with pytest.raises(sqlite3.IntegrityError):
        board.record(broken)
    assert board.match_ids("abc") == set()
    assert board._db.execute("SELECT COUNT(*) FROM participants").fetchone()[0] == 0


def test_the_same_agent_label_with_other_content_is_refused(board):
    board.add_agent("bot@1", "/x", "1", "aaaa")
    board.add_agent("bot@1", "/x", "1", "aaaa")  # same content: fine
    with pytest.raises(ValueError, match="already on board 'test' with other content"):
        board.add_agent("bot@1", "/x", "1", "bbbb")


def test_the_database_is_in_wal_mode_under_the_board_directory(board, tmp_path):
    assert board.path == tmp_path / "test" / "board.sqlite"
    assert board._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


@pytest.mark.parametrize("name", ["", "../up", "a b", "x" * 65])
def test_bad_board_names_are_refused(name):
    with pytest.raises(ValueError, match="board="):
        board_path(name)


def test_a_board_keeps_one_random_secret_of_32_bytes_for_its_lifetime(tmp_path):
    with Board("one", root=tmp_path) as one, Board("two", root=tmp_path) as two:
        first, other = one.secret, two.secret
    assert len(first) == len(other) == 32 and first != other
    with Board("one", root=tmp_path) as again:
        assert again.secret == first
    with Board("one", root=tmp_path, secret=first) as same:  # the same secret may be named again
        assert same.secret == first
    with pytest.raises(ValueError, match="already has another secret"):
        Board("one", root=tmp_path, secret=b"x" * 32)
    with Board("chosen", root=tmp_path, secret=b"y" * 32) as chosen:
        assert chosen.secret == b"y" * 32


def test_a_match_stored_again_with_overwrite_replaces_its_row_and_keeps_its_versions(board):
    from arena.versions import MatchVersions

    old, new = result("m1"), result("m1", seed=5)
    assert board.record(old) is True
    assert board.match_versions("abc") == {"m1": MatchVersions()}  # stored without versions: unknown
    versions = MatchVersions(env="1.0/aaaa", agents={"a": "1.0/bbbb", "b": "1.0/cccc"})
    assert board.record(new, versions) is False  # without overwrite nothing changes
    assert board.record(new, versions, overwrite=True) is True
    assert board.results("abc") == [new] and board.match_versions("abc") == {"m1": versions}
    assert board._db.execute("SELECT COUNT(*) FROM participants").fetchone()[0] == 2
    assert board.versions_played("abc") == (
        {"game": ["1.0/aaaa"]},
        {"a": ["1.0/bbbb"], "b": ["1.0/cccc"]},
    )


def test_the_secret_appears_in_no_table_page_or_cli_output(tmp_path, monkeypatch, registered_test_envs):
    import base64

    from typer.testing import CliRunner

    from arena.cli import app

    monkeypatch.setenv("PG_ARENA_HOME", str(tmp_path))
    scenario = tmp_path / "p.toml"
    scenario.write_text(
        '[scenario]\nname = "p"\nkind = "match"\nenv = "test_matching_pennies"\ngames_per_pairing = 2\n'
        '[[agents]]\nname = "random"\n[[agents]]\nname = "random"\nlabel = "random-b"\n'
    )
    runner = CliRunner()
    outputs = [runner.invoke(app, ["tournament", str(scenario), "--board", "b"])]
    outputs += [
        runner.invoke(app, ["leaderboard", "--board", "b", *flag]) for flag in ([], ["--json"], ["--csv"])
    ]
    assert all(out.exit_code == 0 for out in outputs), [out.output for out in outputs]
    with Board("b", root=tmp_path) as board:
        secret = board.secret
    forms = [secret.hex(), secret.hex().upper(), base64.b64encode(secret).decode(), repr(secret)[2:-1]]
    texts = [out.output for out in outputs]
    texts += [
        (tmp_path / "b" / name).read_text()
        for name in ("leaderboard.json", "leaderboard.csv", "leaderboard.html")
    ]
    assert not [form for form in forms for text in texts if form in text]


@pytest.mark.parametrize(
    ("record", "fields"),
    [
        (Participant, ("a", "p0", "p0", 0, 1.0)),
        (MatchResult, ("m1", "abc", "game", 0, ())),
    ],
)
def test_stored_records_are_built_with_field_names_only(record, fields):
    """A positional construction would silently swap fields of the same type (seat and team, say)."""
    with pytest.raises(TypeError):
        record(*fields)


def test_a_stored_three_agent_forfeit_reads_back_as_the_offenders_two_losses_and_no_draw(board):
    """A free-for-all where c crashed, stored as the match runner records it (c last, a and b sharing first
    place). The log keeps those ranks unchanged; the table recomputed from it has c losing to a and to b and
    no draw between a and b: each of them wins, c loses and forfeits, and a and b stay level."""
    seats = tuple(
        Participant(
            agent=agent,
            seat=f"p{k}",
            team=f"p{k}",
            rank=int(agent == "c"),
            score=0.0,
            status=Status.TIMEOUT if agent == "c" else Status.OK,
            reason="slow" if agent == "c" else "",
        )
        for k, agent in enumerate("abc")
    )
    stored = MatchResult(match_id="ffa", scenario="abc", env_id="game", seed=0, participants=seats)
    board.record(stored)
    assert board.results() == [stored]
    rows = {row["agent"]: row for row in scenario_table(board, board.scenarios()[0])}
    wdl = {agent: (row["wins"], row["draws"], row["losses"], row["forfeits"]) for agent, row in rows.items()}
    assert wdl == {"a": (1, 0, 0, 0), "b": (1, 0, 0, 0), "c": (0, 0, 1, 1)}
    assert (
        rows["a"]["rating"] == pytest.approx(rows["b"]["rating"])
        and rows["c"]["rating"] < rows["a"]["rating"]
    )
