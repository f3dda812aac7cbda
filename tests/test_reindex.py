"""Zero-downtime reindexing (issue 10, High 2; docs/reindex.md).

A running server follows ``vibeshelf ingest``: the rebuilt index is opened beside the old one and swapped
in, no query fails meanwhile, a table is never dropped while a process holds it, and ``/healthz`` answers
503 with the reason when the live table cannot answer.
"""

from __future__ import annotations

import gc
import shutil
import threading
from pathlib import Path

import httpx
import lancedb
import pytest
from chat_server import uvicorn_server
from fastapi.testclient import TestClient

from vibeshelf.ingest.embedder import OnnxEmbedder
from vibeshelf.ingest.index import build_index
from vibeshelf.layout import Layout
from vibeshelf.retrieval.book_index import BookIndex, read_manifest
from vibeshelf.settings import Settings

pytestmark = pytest.mark.slow

QUERIES = ["space opera", "a cozy mystery", "wizard school", "war and love", "dystopian teens"]


@pytest.fixture
def home(goodbooks_mini_index: Layout, tmp_path: Path) -> Layout:
    """A private copy of the goodbooks-mini home (the shared one is read-only for tests)."""
    layout = Layout(tmp_path / "home")
    shutil.copytree(
        goodbooks_mini_index.home, layout.home, ignore=shutil.ignore_patterns("index_leases", "state*")
    )
    return layout


def rebuild(layout: Layout) -> str:
    # Every document is in the copied embedding cache, so this is the warm rebuild `vibeshelf ingest` does.
    return build_index(layout, progress=False, embedder=OnnxEmbedder(layout.encoder)).table


def _tables(layout: Layout) -> set[str]:
    db = lancedb.connect(str(layout.lancedb))
    return {name for name in db.list_tables().tables}


def test_a_running_server_switches_index_across_two_rebuilds_without_a_failed_query(home: Layout) -> None:
    original = read_manifest(home).table
    env = {"VIBESHELF_HOME": str(home.home), "VIBESHELF_RATE_LIMIT_PER_MINUTE": "0"}
    with uvicorn_server(env, app="vibeshelf.web.app:create_app", timeout_s=120) as server:
        statuses: list[int] = []
        failures: list[str] = []
        stop = threading.Event()

        def query_forever() -> None:
            with httpx.Client(base_url=server.url, timeout=30) as client:
                n = 0
                while not stop.is_set():
                    query = QUERIES[n % len(QUERIES)]
                    n += 1
                    if n % 2:
                        response = client.post("/v1/tools/search_books", json={"query": query, "limit": 3})
                    else:
                        response = client.get("/v1/books/search", params={"q": query, "limit": 3})
                    statuses.append(response.status_code)
                    if response.status_code != 200 or not response.json()["books"]:
                        failures.append(f"{response.status_code} {response.text[:300]}")

        def served_table(client: httpx.Client, wanted: str) -> str:
            # Each health check is a request that lets the server notice the new manifest; bounded.
            for _ in range(2000):
                health = client.get("/healthz")
                assert health.status_code == 200, health.text
                if health.json()["index"] == wanted:
                    return wanted
            raise AssertionError(f"the server never switched to {wanted}: {server.output()[-2000:]}")

        worker = threading.Thread(target=query_forever)
        worker.start()
        try:
            with httpx.Client(base_url=server.url, timeout=30) as client:
                before_first = len(statuses)
                first = rebuild(home)
                served_table(client, first)
                during_first = len(statuses) - before_first
                before_second = len(statuses)
                second = rebuild(home)
                served_table(client, second)
                during_second = len(statuses) - before_second
        finally:
            stop.set()
            worker.join(60)
        assert first != original and second != first
        assert failures == [], failures[:3]
        assert during_first > 0 and during_second > 0, (during_first, during_second)
        assert set(statuses) == {200}
        # The server's old tables are released once its in-flight work lets go of them; the live one stays.
        assert second in _tables(home)


def test_a_table_a_process_holds_is_never_dropped(home: Layout) -> None:
    held = BookIndex.open(home)
    original = held.manifest.table
    rebuild(home)
    rebuild(home)  # used to drop `original` (older than the previous table)
    assert original in _tables(home)
    assert held.table.search().select(["id"]).limit(1).to_list()  # still readable
    del held
    gc.collect()
    third = rebuild(home)
    assert original not in _tables(home) and third in _tables(home)


def test_healthz_reports_an_unusable_index_with_503(home: Layout) -> None:
    app_settings = Settings(home=home.home, chat_rate_limit_per_minute=0)
    from vibeshelf.web.app import create_app

    with TestClient(create_app(app_settings)) as client:
        assert client.get("/healthz").status_code == 200
        table = read_manifest(home).table
        shutil.rmtree(home.lancedb / f"{table}.lance")  # what the old ingest did to a running server
        response = client.get("/healthz")
        assert response.status_code == 503
        error = response.json()["error"]
        assert error["code"] == "index_unavailable" and table in error["message"]
