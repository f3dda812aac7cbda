"""Every acknowledged feedback mark is in the session state (issue 10, Medium 4).

Marks used to be lost when several landed in one state-DB batch: each job read the session from the
cache, which learns of a write only at commit, so the second job of a batch erased the first's mark.
Concurrent writers against a real server, one and two worker processes, with a chat turn of the same
session answering meanwhile.
"""

from __future__ import annotations

import httpx
import pytest
from chat_server import chat, read_marks_during_a_slow_turn, uvicorn_server

MARKS = 100


@pytest.mark.parametrize("workers", [1, 2])
def test_concurrent_read_marks_are_all_kept(tmp_path, workers: int) -> None:
    env = {"VIBESHELF_HOME": str(tmp_path), "VIBESHELF_CHAT_RATE_LIMIT_PER_MINUTE": "0"}
    with uvicorn_server(env, workers=workers) as server:
        sid = chat(server, message="cozy rainy weekend")[0].session_id
        # A turn of the same session streams (slowly) while the marks arrive; its save must keep them.
        statuses = read_marks_during_a_slow_turn([server], sid, MARKS, threads=16)
        assert statuses == [200] * MARKS
        view = httpx.get(f"{server.url}/v1/sessions/{sid}", timeout=30).json()
        missing = {f"t:mark{n}" for n in range(MARKS)} - set(view["read_ids"])
        assert not missing, f"{len(missing)} of {MARKS} acknowledged marks lost"
        assert set(view["read_ids"]) <= set(view["excluded_ids"])
        assert view["turn_count"] == 2
