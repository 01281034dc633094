"""The SQLite match log: one transaction per match, never a match twice, exact round trips."""

import sqlite3

import pytest

from arena.leaderboard import Board, board_path
from arena.results import MatchResult, Participant, Status


def result(match_id, seed=0, status=Status.OK):
    return MatchResult(
        match_id=match_id,
        scenario="abc",
        env_id="game",
        seed=seed,
        participants=(
            Participant("a", "p0", "p0", 0, 1.0),
            Participant("b", "p1", "p1", 1, -1.0, status, "" if status is Status.OK else "boom"),
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
    broken = MatchResult(
        "m9", "abc", "game", 0, (Participant("a", "p0", "p0", 0, 1.0),) * 2
    )  # same seat twice
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
