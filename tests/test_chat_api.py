"""``POST /v1/chat`` SSE, sessions, feedback and limits against a real uvicorn process (the test app)."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from chat_server import Server, books_of, chat, iter_sse, uvicorn_server

from vibeshelf.agent.events import BooksEvent, DoneEvent, SessionEvent, TextEvent
from vibeshelf.agent.session_store import SessionStore

LIMITS = {
    "VIBESHELF_CHAT_RATE_LIMIT_PER_MINUTE": "0",
    "VIBESHELF_CHAT_MAX_MESSAGE_CHARS": "300",
    "VIBESHELF_CHAT_MAX_BODY_BYTES": "4096",
    "VIBESHELF_SESSION_MAX_TURNS": "3",
    "VIBESHELF_CHAT_MAX_HISTORY_MESSAGES": "6",
}


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("home")


@pytest.fixture(scope="module")
def markers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("markers")


@pytest.fixture(scope="module")
def server(home: Path, markers: Path) -> Iterator[Server]:
    with uvicorn_server({"VIBESHELF_HOME": str(home), "CHAT_TEST_MARKERS": str(markers), **LIMITS}) as s:
        yield s


def test_chat_streams_the_typed_events_in_order(server: Server) -> None:
    events = chat(server, message="something cozy for a rainy weekend")
    types = [e.type for e in events]
    assert types[0] == "session" and types[-1] == "done"
    assert "tool_call" in types and "books" in types and "text" in types
    # Cards come before any of the explanation.
    assert types.index("books") < types.index("text")
    ids = books_of(events)
    assert ids[:2] == ["t:1", "t:12"]  # the two "cozy rainy" books rank first on the test shelf
    answer = "".join(e.delta for e in events if isinstance(e, TextEvent))
    shown_titles = {b.title for e in events if isinstance(e, BooksEvent) for b in e.books}
    assert "The Rain Cottage" in answer
    # Every title the answer names came in a books event.
    assert set(re.findall(r"\*\*(.+?)\*\*", answer)) <= shown_titles
    done = events[-1]
    assert isinstance(done, DoneEvent) and done.usage.total_tokens > 0


def test_a_session_carries_turns_and_books(server: Server) -> None:
    first = chat(server, message="a cozy mystery")
    sid = first[0].session_id
    second = chat(server, session_id=sid, message="something melancholic")
    assert isinstance(second[0], SessionEvent) and second[0].session_id == sid
    view = httpx.get(f"{server.url}/v1/sessions/{sid}").json()
    assert view["turn_count"] == 2
    assert [t["user"] for t in view["turns"]] == ["a cozy mystery", "something melancholic"]
    assert [t["book_ids"] for t in view["turns"]] == [books_of(first), books_of(second)]
    assert [(b["id"], b["turn"]) for b in view["shown"]] == [(i, 0) for i in books_of(first)] + [
        (i, 1) for i in books_of(second)
    ]
    assert view["expires_at"] > view["updated_at"]


def test_feedback_excludes_books_from_later_answers(server: Server) -> None:
    first = chat(server, message="cozy rainy")
    sid = first[0].session_id
    disliked, read = books_of(first)[:2]
    down = httpx.post(
        f"{server.url}/v1/feedback", json={"session_id": sid, "book_id": disliked, "kind": "down"}
    )
    assert down.status_code == 200, down.text
    seen = httpx.post(f"{server.url}/v1/feedback", json={"session_id": sid, "book_id": read, "kind": "read"})
    assert set(seen.json()["excluded_ids"]) == {disliked, read}
    again = chat(server, session_id=sid, message="cozy rainy")
    assert books_of(again), "the next answer still finds books"
    assert disliked not in books_of(again) and read not in books_of(again)


def test_request_filters_bind_every_search(server: Server) -> None:
    events = chat(
        server,
        message="melancholic teen vampire summer",
        filters={"genres_exclude": ["young_adult"], "year_max": 2000},
    )
    books = [b for e in events if isinstance(e, BooksEvent) for b in e.books]
    assert books
    assert all("young_adult" not in b.genres and b.year <= 2000 for b in books)


def _error(response: httpx.Response, status: int, code: str, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    if field is not None:
        assert [f["field"] for f in error["fields"]] == [field]
    return error


def test_unknown_sessions_and_bad_feedback_are_clear_errors(server: Server) -> None:
    _error(
        httpx.post(f"{server.url}/v1/chat", json={"session_id": "nope", "message": "hi"}),
        404,
        "session_not_found",
        "session_id",
    )
    _error(httpx.get(f"{server.url}/v1/sessions/nope"), 404, "session_not_found", "session_id")
    _error(
        httpx.post(f"{server.url}/v1/feedback", json={"session_id": "nope", "book_id": "t:1", "kind": "up"}),
        404,
        "session_not_found",
        "session_id",
    )
    _error(
        httpx.post(f"{server.url}/v1/feedback", json={"session_id": "s", "book_id": "t:1", "kind": "meh"}),
        422,
        "invalid_request",
        "kind",
    )
    _error(
        httpx.post(
            f"{server.url}/v1/chat", json={"message": "x", "filters": {"year_min": 2000, "year_max": 1990}}
        ),
        422,
        "invalid_request",
        "filters.year_max",
    )
    _error(
        httpx.post(f"{server.url}/v1/chat", json={"session_id": "bad id!", "message": "x"}),
        422,
        "invalid_request",
        "session_id",
    )


def test_message_length_body_size_and_turn_limits(server: Server) -> None:
    error = _error(
        httpx.post(f"{server.url}/v1/chat", json={"message": "x" * 301}), 422, "message_too_long", "message"
    )
    assert "300" in error["message"]
    _error(httpx.post(f"{server.url}/v1/chat", json={"message": "   "}), 422, "invalid_request", "message")
    big = json.dumps({"message": "hi", "filters": {"exclude_terms": ["y" * 5000]}})
    _error(
        httpx.post(f"{server.url}/v1/chat", content=big, headers={"content-type": "application/json"}),
        413,
        "body_too_large",
        "body",
    )

    def chunked() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield big[:2000].encode()
        yield big[2000:].encode()

    _error(
        httpx.post(f"{server.url}/v1/chat", content=chunked(), headers={"content-type": "application/json"}),
        413,
        "body_too_large",
        "body",
    )
    sid = chat(server, message="cozy")[0].session_id
    chat(server, session_id=sid, message="cozy")
    chat(server, session_id=sid, message="cozy")
    _error(
        httpx.post(f"{server.url}/v1/chat", json={"session_id": sid, "message": "more"}),
        409,
        "max_turns",
        "session_id",
    )


def _wait_for(path: Path, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.exists():
            return True
        time.sleep(0.02)
    return False


async def _query_log(home: Path, session_id: str) -> list[Any]:
    # Reading through our own StateDB takes the file from the server by the hand-over protocol.
    store = SessionStore.open(home / "state.duckdb", idle_expiry_s=3600)
    try:
        return await store.query_log(session_id=session_id)
    finally:
        store.close()


@pytest.mark.parametrize(("message", "what"), [("a glacial mood", "search"), ("stall-model please", "model")])
def test_disconnect_cancels_the_model_call_and_tool_work(
    server: Server, home: Path, markers: Path, message: str, what: str
) -> None:
    with httpx.stream("POST", f"{server.url}/v1/chat", json={"message": message}, timeout=30) as response:
        events = iter_sse(response)
        first = next(events)
        assert isinstance(first, SessionEvent)
        # The first event does not wait for the work, which is now blocked for 30 s.
        assert _wait_for(markers / f"{what}-started")
        # Leaving the block closes the connection mid-stream.
    # Cancelled, not finished: the work blocks for 30 s and leaves this marker only when cancelled.
    assert _wait_for(markers / f"{what}-cancelled", 10), f"{what} was not cancelled on disconnect"
    rows: list[Any] = []
    for _ in range(50):  # the log row is written just after the cancellation
        rows = asyncio.run(_query_log(home, first.session_id))
        if rows:
            break
        time.sleep(0.1)
    assert [(r.status, r.message) for r in rows] == [("cancelled", message)]
    assert "Traceback" not in server.output()


def test_rate_limit_answers_429_with_retry_after(tmp_path: Path) -> None:
    env = {"VIBESHELF_HOME": str(tmp_path), "VIBESHELF_CHAT_RATE_LIMIT_PER_MINUTE": "2"}
    with uvicorn_server(env) as server:
        for _ in range(2):
            chat(server, message="cozy")
        response = httpx.post(f"{server.url}/v1/chat", json={"message": "cozy"})
        error = _error(response, 429, "rate_limited")
        assert 1 <= int(response.headers["retry-after"]) <= 30
        assert "2 a minute" in error["message"]
        # Feedback counts against the same budget.
        limited = httpx.post(
            f"{server.url}/v1/feedback", json={"session_id": "s", "book_id": "t:1", "kind": "up"}
        )
        assert limited.status_code == 429
