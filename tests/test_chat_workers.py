"""Two uvicorn worker processes sharing one state DuckDB file: no lock errors, no lost turns."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from chat_server import books_of, chat, uvicorn_server


def test_two_workers_share_sessions_without_lock_errors(tmp_path: Path) -> None:
    env = {"VIBESHELF_HOME": str(tmp_path), "VIBESHELF_CHAT_RATE_LIMIT_PER_MINUTE": "0"}
    with uvicorn_server(env, workers=2) as server:

        def conversation(n: int) -> tuple[str, list[list[str]]]:
            first = chat(server, message=f"cozy rainy {n}")
            sid = first[0].session_id
            second = chat(server, session_id=sid, message="something melancholic")
            third = chat(server, session_id=sid, message="a mystery")
            return sid, [books_of(first), books_of(second), books_of(third)]

        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(conversation, range(16)))
        pids = set()
        with httpx.Client() as client:
            for _ in range(40):
                pids.add(client.get(f"{server.url}/healthz", headers={"connection": "close"}).json()["pid"])
            for sid, books in results:
                view = client.get(f"{server.url}/v1/sessions/{sid}").json()
                # Every turn landed in the session, whichever worker answered it.
                assert view["turn_count"] == 3
                assert [t["book_ids"] for t in view["turns"]] == books
        output = server.output()
    assert len(pids) == 2, "both workers should have answered"
    assert "could not set lock" not in output.lower()
    assert "Traceback" not in output
