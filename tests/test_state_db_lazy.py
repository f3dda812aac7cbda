"""Lazy state-DB work (the query log): it shares the next job's transaction, in order, or commits alone
after a tick; nothing submitted is lost at close."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from vibeshelf.agent.state_db import StateDB


def _table(conn: Any) -> None:
    conn.execute("CREATE TABLE IF NOT EXISTS log (n INTEGER, txn BIGINT)")


def _insert(n: int) -> Any:
    def job(conn: Any) -> int:
        conn.execute("INSERT INTO log SELECT ?, txid_current()", [n])
        return n

    return job


def _rows(path: Path) -> list[tuple[int, int]]:
    with duckdb.connect(str(path), read_only=True) as conn:
        return conn.execute("SELECT n, txn FROM log ORDER BY rowid").fetchall()


def test_lazy_work_commits_with_the_next_job_in_order(tmp_path: Path) -> None:
    db = StateDB(tmp_path / "state.duckdb", init=_table, tick_s=5.0).start()
    try:
        db.call_sync(lambda conn: None)  # the file is open: the lazy job below waits for company
        lazy = db.submit(_insert(1), lazy=True)
        assert db.call_sync(_insert(2), timeout_s=10) == 2
        assert lazy.result(timeout=10) == 1
    finally:
        db.close()
    (first, txn_a), (second, txn_b) = _rows(tmp_path / "state.duckdb")
    assert (first, second) == (1, 2)
    assert txn_a == txn_b  # one transaction, one commit


def test_lazy_work_alone_commits_after_a_tick_and_nothing_is_lost_at_close(tmp_path: Path) -> None:
    db = StateDB(tmp_path / "state.duckdb", init=_table, tick_s=0.02).start()
    try:
        assert db.submit(_insert(1), lazy=True).result(timeout=10) == 1
        pending = [db.submit(_insert(n), lazy=True) for n in (2, 3)]
    finally:
        db.close()
    assert [f.result(timeout=0) for f in pending] == [2, 3]
    assert [n for n, _ in _rows(tmp_path / "state.duckdb")] == [1, 2, 3]
