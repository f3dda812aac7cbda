"""Session store over a real DuckDB file and a real PostgreSQL database (``state_target``: both backends
run the same tests): turns, feedback, expiry, query log, and two processes sharing it. The cache tests
are DuckDB's own (PostgreSQL never caches across transactions)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from postgres_cluster import raw_rows

from vibeshelf.agent.intent import Constraints
from vibeshelf.agent.session_state import ReaderConstraints, SessionState, ShownBook
from vibeshelf.agent.session_store import (
    QueryLogEntry,
    SessionNotFound,
    SessionStore,
    TurnRecord,
    merge_turn_state,
)


@pytest.fixture
async def store(state_target: Path | str):
    s = SessionStore.open(state_target, idle_expiry_s=3600)
    yield s
    s.close()


def _turn(user: str, answer: str, ids: list[str], before: SessionState, turn: int) -> TurnRecord:
    after = before.model_copy(deep=True)
    after.record_shown([ShownBook(id=i, title=f"Book {i}", turn=turn) for i in ids])
    return TurnRecord(
        user=user,
        answer=answer,
        messages=[{"role": "user", "content": user}, {"role": "assistant", "content": answer}],
        book_ids=ids,
        model="vibeshelf/planner",
        state_before=before,
        state_after=after,
    )


async def test_turns_accumulate_and_history_is_the_most_recent(store: SessionStore) -> None:
    created = await store.create()
    state = created.state
    for n in range(5):
        state.turns = n
        saved = await store.append_turn(created.id, _turn(f"q{n}", f"a{n}", [f"b{n}", "shared"], state, n))
        state = saved.state
    loaded = await store.require(created.id, history_turns=2)
    assert loaded.turn_count == 5
    assert [t.user for t in loaded.turns] == ["q3", "q4"]
    assert [m["content"] for m in loaded.history_messages()] == ["q3", "a3", "q4", "a4"]
    # Shown books keep their order and the turn they were shown in.
    assert [(b.id, b.turn) for b in loaded.state.shown][:3] == [("b0", 0), ("shared", 0), ("b1", 1)]
    assert loaded.state.turns == 5


async def test_feedback_excludes_and_survives_a_concurrent_turn(store: SessionStore) -> None:
    created = await store.create()
    before = created.state
    # Feedback lands while the turn is "streaming" (after the state was loaded, before it is saved).
    await store.add_feedback(created.id, "b1", "down")
    await store.add_feedback(created.id, "b2", "read")
    await store.add_feedback(created.id, "b3", "up")
    saved = await store.append_turn(created.id, _turn("q", "a", ["b9"], before, 0))
    assert saved.state.excluded_ids == ["b2", "b1"]
    assert saved.state.liked_ids == ["b3"]
    assert [b.id for b in saved.state.shown] == ["b9"]
    # A thumbs-up after a thumbs-down moves the book out of the disliked list.
    flipped = await store.add_feedback(created.id, "b1", "up")
    assert "b1" not in flipped.state.disliked_ids and "b1" in flipped.state.liked_ids
    kinds = [(f.book_id, f.kind) for f in await store.feedback(created.id)]
    assert kinds == [("b1", "down"), ("b2", "read"), ("b3", "up"), ("b1", "up")]


async def test_feedback_on_unknown_session_raises(store: SessionStore) -> None:
    with pytest.raises(SessionNotFound, match="nope"):
        await store.add_feedback("nope", "b1", "up")
    assert await store.get("nope") is None


def test_merge_keeps_only_what_the_agent_added() -> None:
    stored = SessionState(liked_ids=["x"], disliked_ids=[], read_ids=["r"])
    before = SessionState(liked_ids=[], disliked_ids=["x"])  # loaded before feedback flipped x to liked
    after = SessionState(liked_ids=[], disliked_ids=["x"], read_ids=["new"])
    merged = merge_turn_state(stored, before, after, turns=1)
    assert merged.disliked_ids == []  # the agent did not add x, so the flip stands
    assert merged.read_ids == ["r", "new"]
    assert merged.liked_ids == ["x"]


def test_merge_takes_the_agents_constraints_only_when_it_changed_them() -> None:
    no_ya = ReaderConstraints(rules=Constraints(genres_exclude=["young_adult"]), exclude_titles=["Dune"])
    stored = SessionState(constraints=no_ya)
    lifted = SessionState(constraints=ReaderConstraints(exclude_titles=["Dune"]))
    assert merge_turn_state(stored, stored, lifted, turns=2).constraints == lifted.constraints
    # A turn that left them as loaded keeps what is stored.
    assert merge_turn_state(stored, lifted, lifted, turns=2).constraints == no_ya


async def test_constraints_survive_a_reload_from_the_file(state_target: Path | str) -> None:
    path = state_target
    kept = ReaderConstraints(rules=Constraints(genres_exclude=["young_adult"], year_max=1999))
    store = SessionStore.open(path, idle_expiry_s=3600)
    try:
        created = await store.create()
        record = _turn("nothing young adult before 2000", "a", ["b1"], created.state, 0)
        record.state_after.constraints = kept
        await store.append_turn(created.id, record)
        await store.add_feedback(created.id, "b1", "read")  # feedback keeps them
    finally:
        store.close()
    raw = raw_rows(path, "SELECT state FROM sessions WHERE id = ?", [created.id])[0][0]
    assert "young_adult" in json.dumps(raw)
    store = SessionStore.open(path, idle_expiry_s=3600)  # a new process: nothing cached
    try:
        loaded = await store.require(created.id, history_turns=1)
        assert loaded.state.constraints == kept
        assert loaded.state.read_ids == ["b1"]
    finally:
        store.close()


async def test_a_session_stored_before_constraints_were_kept_still_loads(state_target: Path | str) -> None:
    path = state_target
    store = SessionStore.open(path, idle_expiry_s=3600)
    try:
        created = await store.create()
    finally:
        store.close()
    old_state = {
        "shown": [{"id": "b1", "title": "Book b1", "authors": [], "turn": 0}],
        "liked_ids": [],
        "disliked_ids": ["b1"],
        "read_ids": [],
        "turns": 1,
    }
    raw_rows(
        path,
        "UPDATE sessions SET state = ?, turn_count = 1 WHERE id = ?",
        [json.dumps(old_state), created.id],
    )
    store = SessionStore.open(path, idle_expiry_s=3600)
    try:
        loaded = await store.require(created.id, history_turns=2)
        assert loaded.state.constraints == ReaderConstraints()
        assert loaded.state.disliked_ids == ["b1"] and loaded.state.turns == 1
        # The next turn saves the new field beside the old ones.
        record = _turn("no horror", "a", [], loaded.state, 1)
        record.state_after.constraints = ReaderConstraints(rules=Constraints(genres_exclude=["horror"]))
        saved = await store.append_turn(created.id, record)
        assert saved.state.constraints.rules.genres_exclude == ["horror"]
        assert saved.state.disliked_ids == ["b1"] and saved.turn_count == 2
    finally:
        store.close()


async def test_idle_sessions_expire_and_are_purged(state_target: Path | str) -> None:
    now = [datetime(2026, 1, 1, 12, 0, 0)]  # an explicit clock: time moves when the test says so
    store = SessionStore.open(state_target, idle_expiry_s=300, clock=lambda: now[0])
    try:
        old = await store.create()
        now[0] += timedelta(seconds=299)
        assert await store.get(old.id) is not None  # idle, but not for long enough
        now[0] += timedelta(seconds=2)
        fresh = await store.create()
        assert await store.get(old.id) is None
        assert await store.get(fresh.id) is not None
        assert await store.purge_expired() == 1
        # A turn finishing after its session expired starts it afresh instead of losing the turn.
        saved = await store.append_turn(old.id, _turn("q", "a", ["b"], SessionState(), 0))
        assert saved.turn_count == 1 and saved.turns[0].user == "q"
    finally:
        store.close()


async def test_query_log_round_trips(store: SessionStore) -> None:
    entry = QueryLogEntry(
        session_id="s1",
        message="cozy mysteries",
        model="vibeshelf/planner",
        book_ids=["1", "2"],
        tool_calls=[{"name": "search_books", "arguments": {"query": "cozy mystery"}}],
        first_event_ms=3.5,
        total_ms=40.0,
        usage={"total_tokens": 12},
    )
    store.log_query(entry)
    store.log_query(QueryLogEntry(session_id="s1", message="gone", status="cancelled"))
    await store.flush()
    rows = await store.query_log(session_id="s1")
    assert {r.status for r in rows} == {"ok", "cancelled"}
    ok = next(r for r in rows if r.status == "ok")
    assert ok.model_dump(exclude={"at"}) == entry.model_dump(exclude={"at"})


async def test_a_failing_job_does_not_sink_its_batch(store: SessionStore) -> None:
    created = await store.create()
    bad = store.db.submit(lambda conn: conn.execute("SELECT * FROM no_such_table"))
    good = store.db.submit(lambda conn: conn.execute("SELECT count(*) FROM sessions").fetchone()[0])
    assert await asyncio.wrap_future(good) == 1
    with pytest.raises(Exception, match="no_such_table"):  # duckdb.CatalogException / psycopg UndefinedTable
        await asyncio.wrap_future(bad)
    assert await store.get(created.id) is not None


_WORKER = textwrap.dedent(
    """
    import asyncio, sys, time
    from vibeshelf.agent.session_state import SessionState
    from vibeshelf.agent.session_store import QueryLogEntry, SessionStore, TurnRecord

    async def main(path, tag, n):
        store = SessionStore.open(path, idle_expiry_s=3600, lock_timeout_s=20)
        sid = f"shared"
        await store.create(sid)
        started = time.perf_counter()
        for i in range(n):
            await store.append_turn(sid, TurnRecord(user=f"{tag}-{i}", answer="a"))
            await store.add_feedback(sid, f"{tag}-{i}", "read")
            store.log_query(QueryLogEntry(session_id=sid, message=f"{tag}-{i}"))
            await asyncio.sleep(0.002)
        await store.flush()
        print(f"{tag} ok {time.perf_counter() - started:.2f}s opens={store.db.opens}", flush=True)
        store.close()

    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
    """
)


def test_two_processes_share_the_state_without_lock_errors(tmp_path: Path, state_target: Path | str) -> None:
    path = state_target
    script = tmp_path / "worker.py"
    script.write_text(_WORKER)
    n = 40
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(path), tag, str(n)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for tag in ("A", "B")
    ]
    outputs = [p.communicate(timeout=90) for p in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        assert "could not set lock" not in err.lower()
        assert " ok " in out
    turns = raw_rows(path, "SELECT user_text FROM turns WHERE session_id = 'shared'")
    idx = raw_rows(path, "SELECT idx FROM turns ORDER BY idx")
    logs = raw_rows(path, "SELECT count(*) FROM query_log")[0][0]
    state = SessionState.model_validate_json(
        raw_rows(path, "SELECT state FROM sessions WHERE id = 'shared'")[0][0]
    )
    turn_count = raw_rows(path, "SELECT turn_count FROM sessions")[0][0]
    # Nothing lost, nothing doubled: every turn numbered once, every feedback merged, every log row kept.
    assert sorted(t[0] for t in turns) == sorted(f"{tag}-{i}" for tag in "AB" for i in range(n))
    assert [i[0] for i in idx] == list(range(2 * n))
    assert turn_count == 2 * n
    assert sorted(state.read_ids) == sorted(f"{tag}-{i}" for tag in "AB" for i in range(n))
    assert logs == 2 * n


_APPEND_ONE = textwrap.dedent(
    """
    import asyncio, sys
    from vibeshelf.agent.session_store import SessionStore, TurnRecord

    async def main(path, sid):
        store = SessionStore.open(path, idle_expiry_s=3600)
        await store.append_turn(sid, TurnRecord(user="from the other process", answer="b"))
        await store.add_feedback(sid, "x9", "read")
        store.close()

    asyncio.run(main(sys.argv[1], sys.argv[2]))
    """
)


async def test_cache_answers_reads_until_another_process_writes(tmp_path: Path) -> None:
    path = tmp_path / "state.duckdb"
    store = SessionStore.open(path, idle_expiry_s=3600)
    try:
        created = await store.create()
        await store.append_turn(created.id, _turn("here", "a", ["b1"], created.state, 0))
        hits = store.cache_hits
        cached = await store.get(created.id, history_turns=2)
        assert store.cache_hits == hits + 1  # served from memory: this process holds the file
        assert [t.user for t in cached.turns] == ["here"]
        # Changing the copy we got must not change what the next reader gets.
        cached.state.read_ids.append("mutated")
        assert "mutated" not in (await store.get(created.id)).state.read_ids

        script = tmp_path / "append_one.py"
        script.write_text(_APPEND_ONE)
        proc = await asyncio.create_subprocess_exec(sys.executable, str(script), str(path), created.id)
        assert await asyncio.wait_for(proc.wait(), 60) == 0

        await store.flush()  # take the file back: the cached copy from before must not be served now
        fresh = await store.get(created.id, history_turns=2)
        assert fresh.turn_count == 2
        assert [t.user for t in fresh.turns] == ["here", "from the other process"]
        assert fresh.state.read_ids == ["x9"]
        # Our next write builds on the other process's, not on the stale copy.
        saved = await store.append_turn(created.id, _turn("again", "c", [], fresh.state, 2))
        assert saved.turn_count == 3 and saved.state.read_ids == ["x9"]
    finally:
        store.close()


async def test_cache_memory_is_bounded_and_evicted_sessions_still_load(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "state.duckdb", idle_expiry_s=3600, cache_bytes=40_000)
    store.db.start()
    try:
        ids = []
        for n in range(12):
            created = await store.create()
            big = [{"role": "tool", "content": "x" * 10_000}]
            await store.append_turn(created.id, TurnRecord(user=f"q{n}", answer="a", messages=big))
            ids.append(created.id)
        assert store._cached_bytes <= 40_000
        assert len(store._cache) < 12
        hits = store.cache_hits
        first = await store.get(ids[0], history_turns=1)  # evicted long ago: read from the file
        assert store.cache_hits == hits
        assert first.turns[0].user == "q0" and first.turns[0].messages[0]["content"] == "x" * 10_000
    finally:
        store.close()
