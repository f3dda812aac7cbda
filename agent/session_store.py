"""Conversation sessions, the query log and reader feedback, persisted in the state database: a DuckDB
file (the default) or PostgreSQL (``VIBESHELF_STATE_URL``; ``agent/postgres_state_db.py``).

A session holds what the next message needs: the recent turns (with the OpenAI-format messages each turn
added, tool calls and results included, because the planner re-reads them) and the agent's
:class:`~vibeshelf.agent.session_state.SessionState` (books shown, liked, disliked, read = exclusions, and
the reader's limits folded over every turn, which outlive the replayed history). A state stored before a
field existed loads with that field's default.
Sessions expire after ``Settings.session_idle_expiry_s`` without a message; expired ones read as
unknown and are purged.

A session belongs to the credential that created it (``owner``: an API key's hash, a site key, ``open``
or ``slack``); the HTTP surfaces refuse a session whose owner is not the caller (``web/chat_routes.py``).

Every statement runs on the process's single :class:`~vibeshelf.agent.state_db.StateDB` thread, so several
uvicorn workers can share the file (see that module), or any number of servers share PostgreSQL. Writes
that change a session are read-modify-write jobs on that thread, so feedback arriving during a streamed
answer is not overwritten when the turn is saved.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from vibeshelf.agent.session_state import ReaderLibrary, SessionState
from vibeshelf.agent.state_db import open_state_db

FeedbackKind = Literal["up", "down", "clear", "read", "unread"]
QueryStatus = Literal["ok", "error", "cancelled"]

# How often (at most) the writer deletes expired sessions, piggy-backed on a write.
_PURGE_EVERY_S = 600.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id VARCHAR PRIMARY KEY,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    turn_count INTEGER NOT NULL,
    state JSON NOT NULL,
    last_answer_sha VARCHAR,
    owner VARCHAR
);
CREATE TABLE IF NOT EXISTS turns (
    session_id VARCHAR NOT NULL,
    idx INTEGER NOT NULL,
    ts TIMESTAMP NOT NULL,
    user_text VARCHAR NOT NULL,
    answer VARCHAR NOT NULL,
    messages JSON NOT NULL,
    book_ids VARCHAR[] NOT NULL,
    model VARCHAR,
    fell_back BOOLEAN NOT NULL,
    PRIMARY KEY (session_id, idx)
);
CREATE TABLE IF NOT EXISTS query_log (
    id VARCHAR NOT NULL,
    ts TIMESTAMP NOT NULL,
    session_id VARCHAR,
    surface VARCHAR NOT NULL,
    client VARCHAR,
    message VARCHAR NOT NULL,
    model VARCHAR,
    fell_back BOOLEAN NOT NULL,
    status VARCHAR NOT NULL,
    error_code VARCHAR,
    book_ids VARCHAR[] NOT NULL,
    tool_calls JSON NOT NULL,
    first_event_ms DOUBLE,
    total_ms DOUBLE,
    usage JSON
);
CREATE TABLE IF NOT EXISTS feedback (
    ts TIMESTAMP NOT NULL,
    session_id VARCHAR NOT NULL,
    book_id VARCHAR NOT NULL,
    kind VARCHAR NOT NULL
);
"""


class SessionNotFound(LookupError):
    """No live session with this id (never created, or expired and purged)."""

    def __init__(self, session_id: str) -> None:
        super().__init__(f"session {session_id!r} is unknown or expired")
        self.session_id = session_id


def _now() -> datetime:
    # Naive UTC in the database: DuckDB's TIMESTAMP has no zone and needs no extra packages to read back.
    return datetime.now(UTC).replace(tzinfo=None)


def new_session_id() -> str:
    return uuid.uuid4().hex


class Turn(BaseModel):
    """One user message and vibeshelf's answer to it."""

    index: int
    at: datetime
    user: str
    answer: str
    messages: list[dict[str, Any]] = Field(
        default_factory=list,
        description="OpenAI-format messages the turn added: user, tool calls, tool results, answer.",
    )
    book_ids: list[str] = Field(default_factory=list)
    model: str | None = None
    fell_back: bool = False


class StoredSession(BaseModel):
    """A session as stored: the agent's :class:`SessionState` plus the recent turns and timestamps."""

    id: str
    created_at: datetime
    updated_at: datetime
    owner: str | None = Field(default=None, description="The credential that created it; None: legacy row.")
    turn_count: int = 0
    turns: list[Turn] = Field(default_factory=list, description="The most recent turns, oldest first.")
    state: SessionState = Field(default_factory=SessionState)

    def history_messages(self) -> list[dict[str, Any]]:
        """The loaded turns' messages, oldest first, ready to prepend to the next user message."""
        return [message for turn in self.turns for message in turn.messages]

    def expires_at(self, idle_expiry_s: float) -> datetime:
        return self.updated_at + timedelta(seconds=idle_expiry_s)


class TurnRecord(BaseModel):
    """What a finished turn adds to its session.

    ``state_before``/``state_after`` are the agent's state as loaded and as the agent left it; only what
    the agent added in between is merged into the stored state, so feedback posted while the answer
    streamed survives.
    """

    user: str
    answer: str
    messages: list[dict[str, Any]] = Field(default_factory=list)
    book_ids: list[str] = Field(default_factory=list)
    model: str | None = None
    fell_back: bool = False
    state_before: SessionState = Field(default_factory=SessionState)
    state_after: SessionState = Field(default_factory=SessionState)
    owner: str | None = None  # the session's owner, for recreating it if it expired meanwhile


class QueryLogEntry(BaseModel):
    """One row of the query log (Viberary-style): what was asked, what came back, how fast, by which model."""

    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    at: datetime = Field(default_factory=_now)
    session_id: str | None = None
    surface: Literal["chat", "completions", "slack"] = "chat"
    client: str | None = None
    message: str
    model: str | None = None
    fell_back: bool = False
    status: QueryStatus = "ok"
    error_code: str | None = None
    book_ids: list[str] = Field(default_factory=list)
    tool_calls: list[dict[str, Any]] = Field(default_factory=list)
    first_event_ms: float | None = None
    total_ms: float | None = None
    usage: dict[str, Any] | None = None


class FeedbackEntry(BaseModel):
    at: datetime
    session_id: str
    book_id: str
    kind: FeedbackKind


def _dedupe(*lists: list[str]) -> list[str]:
    return list(dict.fromkeys(item for items in lists for item in items))


def merge_turn_state(
    stored: SessionState, before: SessionState, after: SessionState, turns: int
) -> SessionState:
    """Three-way merge: the stored state plus whatever the agent added between ``before`` and ``after``.

    The reader's limits are the agent's fold over the turn it answered, so when the agent changed them
    its ``after`` replaces the stored ones (feedback never touches them).
    """

    def added(old: list[str], new: list[str]) -> list[str]:
        seen = set(old)
        return [item for item in new if item not in seen]

    known_shown = {(b.id, b.turn) for b in stored.shown}
    new_shown = [b for b in after.shown[len(before.shown) :] if (b.id, b.turn) not in known_shown]
    limits = after if after.constraints != before.constraints else stored
    return SessionState(
        shown=[*stored.shown, *new_shown],
        liked_ids=_dedupe(stored.liked_ids, added(before.liked_ids, after.liked_ids)),
        disliked_ids=_dedupe(stored.disliked_ids, added(before.disliked_ids, after.disliked_ids)),
        read_ids=_dedupe(stored.read_ids, added(before.read_ids, after.read_ids)),
        turns=turns,
        constraints=limits.constraints.model_copy(deep=True),
        library=stored.library,  # only an upload changes it, never a turn
    )


class SessionStore:
    """Sessions, query log and feedback over one :class:`StateDB` writer thread per process.

    Recently used sessions (with their last ``cache_turns`` turns) are kept in memory and served without
    touching the file while the cache is provably current: this process holds the file and nobody else
    has written to it since (see ``StateDB.valid_epoch``). With one worker that is always; with several,
    a session answered by another worker is re-read.
    """

    def __init__(
        self,
        target: Path | str,
        *,
        idle_expiry_s: float,
        lock_timeout_s: float = 10.0,
        cache_turns: int = 8,
        cache_bytes: int = 64 * 1024 * 1024,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.idle_expiry_s = idle_expiry_s
        self._clock = clock or _now  # naive UTC; tests pass their own to move time without waiting
        self.cache_turns = cache_turns
        self.cache_bytes = cache_bytes  # a rough bound on the cached messages' text
        self.db = open_state_db(target, init=self._init, lock_timeout_s=lock_timeout_s)
        self._next_purge = 0.0
        self._cache: OrderedDict[str, tuple[int, StoredSession, int]] = OrderedDict()  # id -> epoch, s, size
        self._cached_bytes = 0
        self._cache_lock = threading.Lock()
        self.cache_hits = 0  # for tests and the bench

    @classmethod
    def open(
        cls,
        target: Path | str,
        *,
        idle_expiry_s: float,
        lock_timeout_s: float = 10.0,
        cache_turns: int = 8,
        clock: Callable[[], datetime] | None = None,
    ) -> SessionStore:
        """Open the store on a DuckDB file path or a ``postgresql://`` URL (schema created/migrated)."""
        store = cls(
            target,
            idle_expiry_s=idle_expiry_s,
            lock_timeout_s=lock_timeout_s,
            cache_turns=cache_turns,
            clock=clock,
        )
        store.db.start()
        return store

    def close(self) -> None:
        self.db.close()

    # --- the in-memory cache ----------------------------------------------------------------------
    def _cached(self, session_id: str, history_turns: int, epoch: int | None) -> StoredSession | None:
        """A copy of the cached session with ``history_turns`` turns, if the cache can answer."""
        if epoch is None or history_turns > self.cache_turns:
            return None
        with self._cache_lock:
            entry = self._cache.get(session_id)
            if entry is None or entry[0] != epoch:
                return None
            self._cache.move_to_end(session_id)
            stored = entry[1]
        if stored.updated_at < self._cutoff():
            return None
        # Turns (and their messages) are shared and read-only; the state is the caller's to change.
        turns = stored.turns[-history_turns:] if history_turns else []
        return stored.model_copy(update={"turns": turns, "state": stored.state.model_copy(deep=True)})

    def _remember(self, stored: StoredSession) -> None:
        """After a commit (writer thread): cache ``stored``, which carries up to ``cache_turns`` turns."""
        size = 1024 + sum(
            256 + len(str(m.get("content") or "")) + len(str(m.get("tool_calls") or ""))
            for turn in stored.turns
            for m in turn.messages
        )
        with self._cache_lock:
            old = self._cache.pop(stored.id, None)
            self._cached_bytes -= old[2] if old else 0
            self._cache[stored.id] = (self.db.epoch, stored, size)
            self._cached_bytes += size
            while self._cached_bytes > self.cache_bytes and len(self._cache) > 1:
                _, (_, _, dropped) = self._cache.popitem(last=False)
                self._cached_bytes -= dropped

    def _current(self, conn: Any, session_id: str) -> StoredSession | None:
        """Inside a job: the session with ``cache_turns`` turns, from the cache when it is current.

        An earlier job of the same batch may have changed the session already; the cache only learns of
        that at commit, so that job's version (kept for the transaction) comes first, else two writes in
        one batch would each start from the same old state and the second would erase the first.
        """
        pending = self.db.txn_local.get(("session", session_id))
        if pending is not None:
            return pending
        cached = self._cached(session_id, self.cache_turns, self.db.valid_epoch())
        return cached if cached is not None else self._load(conn, session_id, self.cache_turns)

    def _written(self, stored: StoredSession) -> None:
        """Inside a job, after writing ``stored``: later jobs of the batch see it, the cache at commit."""
        self.db.txn_local[("session", stored.id)] = stored
        self.db.on_commit(lambda: self._remember(stored))

    # --- jobs run on the writer thread ------------------------------------------------------------
    def _init(self, conn: Any) -> None:
        conn.execute(_SCHEMA)
        # Files from before sessions had owners (their rows stay NULL: no credential matches them).
        conn.execute("ALTER TABLE sessions ADD COLUMN IF NOT EXISTS owner VARCHAR")

    def _cutoff(self) -> datetime:
        return self._clock() - timedelta(seconds=self.idle_expiry_s)

    def _maybe_purge(self, conn: Any) -> None:
        if time.monotonic() >= self._next_purge:
            self._next_purge = time.monotonic() + _PURGE_EVERY_S
            self._purge(conn)

    def _purge(self, conn: Any) -> int:
        cutoff = self._cutoff()
        expired = conn.execute("SELECT count(*) FROM sessions WHERE updated_at < ?", [cutoff]).fetchone()[0]
        if expired:
            conn.execute(
                "DELETE FROM turns WHERE session_id IN (SELECT id FROM sessions WHERE updated_at < ?)",
                [cutoff],
            )
            conn.execute("DELETE FROM sessions WHERE updated_at < ?", [cutoff])
        return int(expired)

    def _load(self, conn: Any, session_id: str, history_turns: int) -> StoredSession | None:
        row = conn.execute(
            "SELECT id, created_at, updated_at, turn_count, state, owner FROM sessions "
            "WHERE id = ? AND updated_at >= ?",
            [session_id, self._cutoff()],
        ).fetchone()
        if row is None:
            return None
        turns = []
        if history_turns > 0 and row[3] > 0:
            rows = conn.execute(
                "SELECT idx, ts, user_text, answer, messages, book_ids, model, fell_back FROM turns "
                "WHERE session_id = ? ORDER BY idx DESC LIMIT ?",
                [session_id, history_turns],
            ).fetchall()
            turns = [
                Turn(
                    index=r[0],
                    at=r[1],
                    user=r[2],
                    answer=r[3],
                    messages=json.loads(r[4]),
                    book_ids=list(r[5]),
                    model=r[6],
                    fell_back=r[7],
                )
                for r in reversed(rows)
            ]
        return StoredSession(
            id=row[0],
            created_at=row[1],
            updated_at=row[2],
            turn_count=row[3],
            turns=turns,
            state=SessionState.model_validate_json(row[4]),
            owner=row[5],
        )

    def _insert_session(
        self, conn: Any, session_id: str, owner: str | None, *, minted: bool = False
    ) -> StoredSession:
        """Insert a new session row unless one exists; ``minted``: the id was just made by
        :func:`new_session_id`, so no row can have it (DuckDB's ON CONFLICT check costs ~1 ms more)."""
        now = self._clock()
        inserted = conn.execute(
            "INSERT INTO sessions (id, created_at, updated_at, turn_count, state, owner) "
            "VALUES (?, ?, ?, 0, ?, ?)" + ("" if minted else " ON CONFLICT DO NOTHING") + " RETURNING id",
            [session_id, now, now, SessionState().model_dump_json(), owner],
        ).fetchone()
        # A new row is exactly what was just written: reading it back would cost a query per new session.
        stored = (
            StoredSession(id=session_id, created_at=now, updated_at=now, owner=owner)
            if inserted is not None
            else self._load(conn, session_id, self.cache_turns)
        )
        assert stored is not None
        self._written(stored)
        return stored

    # --- public API (async; every call runs on the writer thread) ---------------------------------
    async def create(self, session_id: str | None = None, *, owner: str | None = None) -> StoredSession:
        session_id = session_id or new_session_id()

        def job(conn: Any) -> StoredSession:
            self._maybe_purge(conn)
            return self._insert_session(conn, session_id, owner)

        return await self.db.call(job)

    def create_soon(self, session_id: str, *, owner: str | None = None) -> None:
        """Create the row of a session id just minted by :func:`new_session_id` without waiting (the first
        SSE event must not wait for the disk)."""
        self.db.submit(lambda conn: self._insert_session(conn, session_id, owner, minted=True))

    async def get(self, session_id: str, *, history_turns: int = 0) -> StoredSession | None:
        """The live session with its last ``history_turns`` turns, or None when unknown or expired."""
        cached = self._cached(session_id, history_turns, self.db.valid_epoch())
        if cached is not None:
            self.cache_hits += 1
            return cached

        def job(conn: Any) -> StoredSession | None:
            stored = self._load(conn, session_id, max(history_turns, self.cache_turns))
            if stored is None:
                return None
            if history_turns <= self.cache_turns:
                cacheable = stored.model_copy(update={"turns": stored.turns[-self.cache_turns :]})
                self.db.on_commit(lambda: self._remember(cacheable))
            turns = stored.turns[-history_turns:] if history_turns else []
            return stored.model_copy(update={"turns": turns})

        return await self.db.call(job, write=False)

    async def require(self, session_id: str, *, history_turns: int = 0) -> StoredSession:
        state = await self.get(session_id, history_turns=history_turns)
        if state is None:
            raise SessionNotFound(session_id)
        return state

    async def append_turn(self, session_id: str, turn: TurnRecord) -> StoredSession:
        """Save a finished turn; returns the session as stored (recreated if it expired meanwhile)."""

        def job(conn: Any) -> StoredSession:
            self._maybe_purge(conn)
            stored = self._current(conn, session_id)
            if stored is None:
                # Expired (or purged) while the answer streamed: start it afresh rather than lose the turn.
                conn.execute("DELETE FROM turns WHERE session_id = ?", [session_id])
                conn.execute("DELETE FROM sessions WHERE id = ?", [session_id])
                stored = self._insert_session(conn, session_id, turn.owner)
            now = self._clock()
            record = Turn(
                index=stored.turn_count,
                at=now,
                user=turn.user,
                answer=turn.answer,
                messages=turn.messages,
                book_ids=turn.book_ids,
                model=turn.model,
                fell_back=turn.fell_back,
            )
            conn.execute(
                "INSERT INTO turns VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    session_id,
                    record.index,
                    now,
                    record.user,
                    record.answer,
                    json.dumps(record.messages, default=str),
                    record.book_ids,
                    record.model,
                    record.fell_back,
                ],
            )
            state = merge_turn_state(stored.state, turn.state_before, turn.state_after, stored.turn_count + 1)
            conn.execute(
                "UPDATE sessions SET updated_at = ?, turn_count = ?, state = ? WHERE id = ?",
                [now, stored.turn_count + 1, state.model_dump_json(), session_id],
            )
            fresh = stored.model_copy(
                update={
                    "updated_at": now,
                    "turn_count": stored.turn_count + 1,
                    "turns": [*stored.turns, record][-self.cache_turns :] if self.cache_turns else [],
                    "state": state,
                }
            )
            self._written(fresh)
            return fresh.model_copy(update={"state": state.model_copy(deep=True)})

        return await self.db.call(job)

    async def add_feedback(
        self, session_id: str, book_id: str, kind: FeedbackKind, *, owner: str | None = None
    ) -> StoredSession:
        """Record up/down/read for a book (or take one back: clear, unread); down and read exclude it from
        later answers in the session.

        With ``owner``, a session someone else owns is reported as not found (its existence is not told).
        """

        def job(conn: Any) -> StoredSession:
            stored = self._current(conn, session_id)
            if stored is None or (owner is not None and stored.owner != owner):
                raise SessionNotFound(session_id)
            state = stored.state.model_copy(deep=True)
            # up and down exclude each other; clear takes back either, unread takes back read.
            if kind in ("down", "clear"):
                state.liked_ids = [b for b in state.liked_ids if b != book_id]
            if kind in ("up", "clear"):
                state.disliked_ids = [b for b in state.disliked_ids if b != book_id]
            if kind == "up":
                state.liked_ids = _dedupe(state.liked_ids, [book_id])
            elif kind == "down":
                state.disliked_ids = _dedupe(state.disliked_ids, [book_id])
            elif kind == "read":
                state.read_ids = _dedupe(state.read_ids, [book_id])
            elif kind == "unread":
                state.read_ids = [b for b in state.read_ids if b != book_id]
            now = self._clock()
            conn.execute("INSERT INTO feedback VALUES (?, ?, ?, ?)", [now, session_id, book_id, kind])
            conn.execute(
                "UPDATE sessions SET updated_at = ?, state = ? WHERE id = ?",
                [now, state.model_dump_json(), session_id],
            )
            fresh = stored.model_copy(update={"updated_at": now, "state": state})
            self._written(fresh)
            return fresh.model_copy(update={"turns": [], "state": state.model_copy(deep=True)})

        return await self.db.call(job)

    async def set_library(
        self, session_id: str, library: ReaderLibrary, *, owner: str | None = None
    ) -> StoredSession:
        """Store the reader's imported library on the session, replacing an earlier import (so a rerun
        of the same upload leaves the same state). Someone else's session reads as not found."""

        def job(conn: Any) -> StoredSession:
            stored = self._current(conn, session_id)
            if stored is None or (owner is not None and stored.owner != owner):
                raise SessionNotFound(session_id)
            state = stored.state.model_copy(update={"library": library}, deep=True)
            now = self._clock()
            conn.execute(
                "UPDATE sessions SET updated_at = ?, state = ? WHERE id = ?",
                [now, state.model_dump_json(), session_id],
            )
            fresh = stored.model_copy(update={"updated_at": now, "state": state})
            self._written(fresh)
            return fresh.model_copy(update={"turns": [], "state": state.model_copy(deep=True)})

        return await self.db.call(job)

    def log_query(self, entry: QueryLogEntry) -> None:
        """Append to the query log without waiting (nothing in a request waits on the log)."""
        values = [
            entry.id,
            entry.at,
            entry.session_id,
            entry.surface,
            entry.client,
            entry.message,
            entry.model,
            entry.fell_back,
            entry.status,
            entry.error_code,
            entry.book_ids,
            json.dumps(entry.tool_calls, default=str),
            entry.first_event_ms,
            entry.total_ms,
            json.dumps(entry.usage, default=str) if entry.usage is not None else None,
        ]
        placeholders = ", ".join("?" * len(values))
        self.db.submit(
            lambda conn: conn.execute(f"INSERT INTO query_log VALUES ({placeholders})", values), lazy=True
        )

    async def query_log(self, *, session_id: str | None = None, limit: int = 100) -> list[QueryLogEntry]:
        """Most recent query-log rows first (for ops, tests and the bench)."""

        def job(conn: Any) -> list[QueryLogEntry]:
            where, params = ("WHERE session_id = ?", [session_id]) if session_id else ("", [])
            rows = conn.execute(
                "SELECT id, ts, session_id, surface, client, message, model, fell_back, status, error_code, "
                f"book_ids, tool_calls, first_event_ms, total_ms, usage FROM query_log {where} "
                "ORDER BY ts DESC LIMIT ?",
                [*params, limit],
            ).fetchall()
            return [
                QueryLogEntry(
                    id=r[0],
                    at=r[1],
                    session_id=r[2],
                    surface=r[3],
                    client=r[4],
                    message=r[5],
                    model=r[6],
                    fell_back=r[7],
                    status=r[8],
                    error_code=r[9],
                    book_ids=list(r[10]),
                    tool_calls=json.loads(r[11]),
                    first_event_ms=r[12],
                    total_ms=r[13],
                    usage=json.loads(r[14]) if r[14] is not None else None,
                )
                for r in rows
            ]

        return await self.db.call(job, write=False)

    async def feedback(self, session_id: str) -> list[FeedbackEntry]:
        rows = await self.db.call(
            lambda conn: conn.execute(
                "SELECT ts, session_id, book_id, kind FROM feedback WHERE session_id = ? ORDER BY ts",
                [session_id],
            ).fetchall(),
            write=False,
        )
        return [FeedbackEntry(at=r[0], session_id=r[1], book_id=r[2], kind=r[3]) for r in rows]

    async def purge_expired(self) -> int:
        """Delete sessions idle past the expiry now; returns how many."""
        return await self.db.call(self._purge)

    async def flush(self) -> None:
        """Wait until everything submitted so far (the query log included) is committed."""
        await self.db.call(lambda conn: None, write=False)
