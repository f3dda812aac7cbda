"""What the Slack bot remembers in the state DuckDB: which vibeshelf session each Slack thread is, and
which Slack events were already handled.

Both tables live in the same file as the sessions and every statement runs on the session store's one
writer thread (:class:`~vibeshelf.agent.state_db.StateDB`), so several uvicorn workers share them: a
retry that Slack delivers to another worker is still recognised, and a thread's second message finds
the session its first one started.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from vibeshelf.agent.session_store import SessionStore

_SCHEMA = """
CREATE TABLE IF NOT EXISTS slack_threads (
    thread_key VARCHAR PRIMARY KEY,
    session_id VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS slack_events (
    event_key VARCHAR PRIMARY KEY,
    received_at TIMESTAMP NOT NULL
);
"""

# Slack retries an event for about an hour at most; a day of remembered keys is plenty.
EVENT_MEMORY_S = 24 * 3600
_PURGE_EVERY_S = 600.0


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def thread_key(channel: str, thread_ts: str) -> str:
    """The key of a Slack thread: ``channel:thread_ts`` (the parent message's timestamp)."""
    return f"{channel}:{thread_ts}"


class SlackStore:
    """Thread -> session map and handled-event keys, over the session store's writer thread."""

    def __init__(self, store: SessionStore) -> None:
        self._db = store.db
        self._thread_expiry_s = store.idle_expiry_s
        self._next_purge = 0.0
        self._ready = False

    async def ensure_schema(self) -> None:
        """Create the tables if missing (once per process; retried by the next call if it failed)."""
        if not self._ready:
            await self._db.call(lambda conn: conn.execute(_SCHEMA))
            self._ready = True

    def _maybe_purge(self, conn: Any) -> None:
        if time.monotonic() < self._next_purge:
            return
        self._next_purge = time.monotonic() + _PURGE_EVERY_S
        now = _now()
        conn.execute(
            "DELETE FROM slack_events WHERE received_at < ?", [now - timedelta(seconds=EVENT_MEMORY_S)]
        )
        # A thread idle past the session expiry points at a purged session: forget it too.
        conn.execute(
            "DELETE FROM slack_threads WHERE updated_at < ?",
            [now - timedelta(seconds=self._thread_expiry_s)],
        )

    async def claim(self, *keys: str) -> bool:
        """Record these event keys as handled; False when any of them was already recorded (a duplicate).

        Atomic across processes: only the process holding the state file runs statements.
        """
        await self.ensure_schema()

        def job(conn: Any) -> bool:
            self._maybe_purge(conn)
            placeholders = ", ".join("?" * len(keys))
            seen = conn.execute(
                f"SELECT count(*) FROM slack_events WHERE event_key IN ({placeholders})", list(keys)
            ).fetchone()[0]
            if seen:
                return False
            now = _now()
            for key in keys:
                conn.execute("INSERT INTO slack_events VALUES (?, ?)", [key, now])
            return True

        return await self._db.call(job)

    async def session_for(self, key: str) -> str | None:
        """The session id this thread was bound to, or None for a new thread."""
        await self.ensure_schema()
        row = await self._db.call(
            lambda conn: conn.execute(
                "SELECT session_id FROM slack_threads WHERE thread_key = ?", [key]
            ).fetchone()
        )
        return row[0] if row else None

    async def bind(self, key: str, session_id: str) -> None:
        """Point the thread at ``session_id`` (a new thread, or one whose session expired)."""
        await self.ensure_schema()

        def job(conn: Any) -> None:
            now = _now()
            conn.execute(
                "INSERT INTO slack_threads VALUES (?, ?, ?, ?) ON CONFLICT (thread_key) "
                "DO UPDATE SET session_id = excluded.session_id, updated_at = excluded.updated_at",
                [key, session_id, now, now],
            )

        await self._db.call(job)

    async def touch(self, key: str) -> None:
        """Mark the thread used now (it is forgotten after the session idle expiry)."""
        await self._db.call(
            lambda conn: conn.execute(
                "UPDATE slack_threads SET updated_at = ? WHERE thread_key = ?", [_now(), key]
            )
        )
