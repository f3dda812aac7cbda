"""The public "most liked" chart cannot be rigged (issue 10, Medium 6): votes name catalog books only, and
a session counts once per book. The real app over the goodbooks-mini index, sessions in a temp file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from vibeshelf.layout import Layout
from vibeshelf.settings import Settings
from vibeshelf.web.app import create_app

pytestmark = pytest.mark.slow


@pytest.fixture
def client(goodbooks_mini_index: Layout, tmp_path: Path):
    settings = Settings(
        home=goodbooks_mini_index.home, state_db=tmp_path / "state.duckdb", chat_rate_limit_per_minute=0
    )
    with TestClient(create_app(settings)) as c:
        yield c


def _session(client: TestClient) -> str:
    response = client.post("/v1/chat", json={"message": "a cozy mystery"})
    return re.search(r'"session_id": ?"([^"]+)"', response.text).group(1)


def _liked(client: TestClient) -> str:
    page = client.get("/popular").text
    return page.split("<h1>Most liked</h1>")[1]


def test_votes_for_books_outside_the_catalog_are_refused(client: TestClient) -> None:
    sid = _session(client)
    for _ in range(30):
        response = client.post("/v1/feedback", json={"session_id": sid, "book_id": "RIGGED", "kind": "up"})
        assert response.status_code == 404
        assert response.json()["error"]["fields"][0]["field"] == "book_id"
    assert "RIGGED" not in _liked(client)


def test_one_session_counts_once_per_book(client: TestClient) -> None:
    first, second = _session(client), _session(client)
    for _ in range(30):
        vote = {"session_id": first, "book_id": "goodbooks:2", "kind": "up"}
        assert client.post("/v1/feedback", json=vote).status_code == 200
    assert client.post("/v1/feedback", json={"session_id": second, "book_id": "goodbooks:3", "kind": "up"})
    assert client.post("/v1/feedback", json={"session_id": second, "book_id": "goodbooks:2", "kind": "up"})
    liked = _liked(client)
    counts = [int(n) for n in re.findall(r"</meter> (\d+)</td>", liked)]
    assert counts == [2, 1], liked  # goodbooks:2 by two sessions, goodbooks:3 by one; not 30
    assert liked.index("Harry Potter") < liked.index("</tr>", liked.index("</meter> 2"))
