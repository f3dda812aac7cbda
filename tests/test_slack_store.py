"""The Slack bot's state in the real state database (DuckDB file and PostgreSQL): event claims and thread ->
session bindings, shared by two stores (as two uvicorn workers, or two servers, share it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from vibeshelf.agent.session_store import SessionStore
from vibeshelf.web.slack.store import SlackStore, thread_key


@pytest.fixture
def stores(state_target: Path | str) -> Iterator[tuple[SessionStore, SessionStore]]:
    path = state_target
    a = SessionStore.open(path, idle_expiry_s=3600, lock_timeout_s=5)
    b = SessionStore.open(path, idle_expiry_s=3600, lock_timeout_s=5)
    yield a, b
    a.close()
    b.close()


async def test_an_event_is_claimed_once_across_processes(stores: tuple[SessionStore, SessionStore]) -> None:
    first, second = SlackStore(stores[0]), SlackStore(stores[1])
    await first.ensure_schema()
    await second.ensure_schema()
    assert await first.claim("event:Ev1", "message:C1:1.1") is True
    assert await second.claim("event:Ev1", "message:C1:1.1") is False  # Slack's retry, other worker
    # The same message delivered as a second event (a DM that also mentions the bot): still a duplicate.
    assert await second.claim("event:Ev2", "message:C1:1.1") is False
    assert await second.claim("event:Ev3", "message:C1:1.2") is True
    assert await first.claim("event:Ev3") is False


async def test_a_thread_keeps_its_session(stores: tuple[SessionStore, SessionStore]) -> None:
    first, second = SlackStore(stores[0]), SlackStore(stores[1])
    await first.ensure_schema()
    key = thread_key("C1", "1700000000.000100")
    assert key == "C1:1700000000.000100"
    assert await first.session_for(key) is None
    await first.bind(key, "s-one")
    assert await second.session_for(key) == "s-one"
    await second.bind(key, "s-two")  # the first session expired: the thread moves on
    assert await first.session_for(key) == "s-two"
    assert await first.session_for(thread_key("C1", "other")) is None
