"""The "most recommended / most liked" chart, computed from the query log and reader feedback."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from vibeshelf.agent.session_store import SessionStore


class ChartRow(BaseModel):
    book_id: str
    count: int


class BookChart(BaseModel):
    most_recommended: list[ChartRow]
    most_liked: list[ChartRow]


async def book_chart(store: SessionStore, *, limit: int = 20) -> BookChart:
    def job(conn: Any) -> BookChart:
        # SQL that DuckDB and PostgreSQL both read (no arg_max, no output alias in HAVING).
        recommended = conn.execute(
            "SELECT book_id, count(*) AS n FROM (SELECT unnest(book_ids) AS book_id FROM query_log "
            "WHERE status = 'ok') AS shown GROUP BY book_id ORDER BY n DESC, book_id LIMIT ?",
            [limit],
        ).fetchall()
        # Net likes: thumbs up minus thumbs down, so a book many readers reject does not chart. One
        # vote per session and book (its latest), so repeating a click cannot push a book up.
        net = "sum(CASE kind WHEN 'up' THEN 1 WHEN 'down' THEN -1 ELSE 0 END)"
        liked = conn.execute(
            f"SELECT book_id, {net} AS n FROM (SELECT DISTINCT ON (session_id, book_id) book_id, kind "
            "FROM feedback WHERE kind IN ('up', 'down', 'clear') ORDER BY session_id, book_id, ts DESC) AS latest "
            f"GROUP BY book_id HAVING {net} > 0 ORDER BY n DESC, book_id LIMIT ?",
            [limit],
        ).fetchall()
        return BookChart(
            most_recommended=[ChartRow(book_id=b, count=n) for b, n in recommended],
            most_liked=[ChartRow(book_id=b, count=int(n)) for b, n in liked],
        )

    return await store.db.call(job)
