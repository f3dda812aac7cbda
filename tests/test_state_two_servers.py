"""Two servers (real uvicorn processes on different ports, as on two machines) share state through
PostgreSQL without any lock file: one session answered alternately by both, feedback posted to both at
once while a turn streams, and nothing lost (rows counted in the database)."""

from __future__ import annotations

import httpx
from chat_server import chat, read_marks_during_a_slow_turn, uvicorn_server
from postgres_cluster import raw_rows

MARKS = 60
TURNS = 6


def test_two_servers_answer_one_session_alternately_and_lose_nothing(tmp_path, postgres_url: str) -> None:
    env = {"VIBESHELF_CHAT_RATE_LIMIT_PER_MINUTE": "0", "VIBESHELF_STATE_URL": postgres_url}
    with (
        uvicorn_server({**env, "VIBESHELF_HOME": str(tmp_path / "a")}) as a,
        uvicorn_server({**env, "VIBESHELF_HOME": str(tmp_path / "b")}) as b,
    ):
        servers = [a, b]
        sid = chat(a, message="cozy rainy weekend")[0].session_id
        for n in range(1, TURNS - 1):
            # Each message goes to the other server, which must know the session and its history.
            events = chat(servers[n % 2], session_id=sid, message=f"cozy mystery number {n}")
            assert events[0].session_id == sid
        # One more turn streams slowly on b while feedback lands on both servers at once.
        statuses = read_marks_during_a_slow_turn(servers, sid, MARKS, threads=12)
        assert statuses == [200] * MARKS
        views = [httpx.get(f"{s.url}/v1/sessions/{sid}", timeout=30).json() for s in servers]
        assert views[0] == views[1]  # both servers see the same session
        assert views[0]["turn_count"] == TURNS
        missing = {f"t:mark{n}" for n in range(MARKS)} - set(views[0]["read_ids"])
        assert not missing, f"{len(missing)} of {MARKS} acknowledged marks lost"
    # Both servers stopped (their query logs flushed on shutdown): count what reached PostgreSQL.
    assert raw_rows(postgres_url, "SELECT count(*) FROM feedback WHERE session_id = ?", [sid]) == [(MARKS,)]
    assert raw_rows(postgres_url, "SELECT idx FROM turns WHERE session_id = ? ORDER BY idx", [sid]) == [
        (i,) for i in range(TURNS)
    ]
    assert raw_rows(postgres_url, "SELECT count(*) FROM query_log WHERE session_id = ?", [sid]) == [(TURNS,)]
    assert raw_rows(postgres_url, "SELECT max(version) FROM schema_migrations") == [(1,)]
