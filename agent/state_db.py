"""The single writer of the state DuckDB file (sessions, query log, feedback), shared across processes.

DuckDB lets one process at a time open a file for writing, so several uvicorn workers cannot each keep a
connection open: the second one fails with "could not set lock". Here every process funnels all of its
reads and writes through ONE thread that owns the connection, and the processes take turns on the file:

* A cross-process lock file (``state.duckdb.lock``) guards the DuckDB file. Only its holder has it open.
* The holder keeps the connection open while it is busy (opening costs tens of ms, a query well under one),
  and batches whatever is queued into one transaction (one WAL sync per batch, not per write).
* A process that wants the file touches ``state.duckdb.wanted`` while it waits. The holder sees the flag
  after its current batch (and at least every ``tick_s`` while idle), and hands over once it has held the
  file for ``min_hold_s``; with nobody waiting a busy worker never reopens the file. After ``linger_s``
  idle it closes the file anyway, so other tools can read it.
* After handing over, a process stands back briefly so the waiter gets the lock rather than the yielder.

Jobs are plain callables ``fn(conn) -> T`` run on that thread (they must not open or close transactions);
``await db.call(fn)`` waits for the commit, ``db.submit(fn)`` is fire-and-forget (the query log).
``db.submit(fn, lazy=True)`` may wait up to ``tick_s`` for other work to share its transaction: each commit
syncs the file (fdatasync) and costs ~0.5 ms of DuckDB CPU, and nobody waits on a query-log row, so it rides
with the next turn's writes instead of committing alone. Jobs still run in the order they were submitted.

Caching on top: the first batch with a write in each hold of the file bumps a generation counter stored
in it. A process that takes the file back and finds the counter where it left it knows nobody else wrote
meanwhile, so what it cached stays good; otherwise :attr:`epoch` moves on and caches keyed by the old
epoch are stale. One bump per hold is enough (nobody else can write until the file is handed over), and
saves an UPDATE on every later write (~0.4 ms of DuckDB CPU each).
:meth:`valid_epoch` is the epoch while this process holds the file, None when it does not (then only the
file itself can be trusted). Jobs register cache updates with :meth:`on_commit`, so a rolled-back batch
never leaves them behind.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
Job = Callable[[Any], Any]

_STOP = object()
_MAX_BATCH = 256


class StateDBError(RuntimeError):
    """The state file could not be opened or a statement failed; the message says which and why."""


@dataclass
class _Work:
    fn: Job
    write: bool = True
    lazy: bool = False
    future: concurrent.futures.Future[Any] = field(default_factory=concurrent.futures.Future)


_META = "CREATE TABLE IF NOT EXISTS statedb_meta (gen BIGINT NOT NULL)"


class StateDB:
    """One thread per process owning the state DuckDB connection; see the module docstring."""

    dialect = "duckdb"

    def __init__(
        self,
        path: Path,
        *,
        init: Job | None = None,
        lock_timeout_s: float = 10.0,
        min_hold_s: float = 0.1,
        linger_s: float = 30.0,
        tick_s: float = 0.02,
    ) -> None:
        self.path = Path(path)
        self._init = init
        self._lock_timeout_s = lock_timeout_s
        self._min_hold_s = min_hold_s
        self._linger_s = linger_s
        self._tick_s = tick_s
        self._wanted = self.path.with_name(self.path.name + ".wanted")
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._lazy: list[_Work] = []  # lazy work waiting (at most a tick) for company; writer thread only
        self._thread: threading.Thread | None = None
        self._conn: Any = None
        self._lock: Any = None
        self._held_since = 0.0
        self._last_used = 0.0
        self._initialised = False
        self._exclusive = False  # holding the file, with nobody else's writes since our caches were filled
        self._last_gen: int | None = None
        self._bumped = False  # the generation was bumped (and committed) during the current hold
        self._after_commit: list[Callable[[], None]] = []
        # Scratch space of the running transaction (cleared at its start): jobs of one batch leave
        # each other what they wrote that a cache only learns at commit.
        self.txn_local: dict[Any, Any] = {}
        self.epoch = 0
        # Counters for tests and the bench: how often this process opened the file / handed it over.
        self.opens = 0
        self.handovers = 0

    # --- lifecycle --------------------------------------------------------------------------------
    def start(self) -> StateDB:
        from filelock import FileLock

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = FileLock(self.path.with_name(self.path.name + ".lock"), thread_local=False)
        self._thread = threading.Thread(target=self._run, name=f"state-db:{self.path.name}", daemon=True)
        self._thread.start()
        return self

    def close(self, timeout_s: float = 10.0) -> None:
        """Run what is queued, close the file and stop the thread."""
        if self._thread is None:
            return
        self._queue.put(_STOP)
        self._thread.join(timeout_s)
        self._thread = None

    # --- submitting work --------------------------------------------------------------------------
    def submit(
        self, fn: Callable[[Any], T], *, write: bool = True, lazy: bool = False
    ) -> concurrent.futures.Future[T]:
        """Queue ``fn(conn)``; ``write=False`` promises it only reads (no generation bump); ``lazy=True`` lets
        it wait up to a tick for other work to commit with (see the module docstring)."""
        if self._thread is None:
            raise StateDBError(f"state database {self.path} is not open (StateDB.start() not called)")
        work = _Work(fn, write, lazy)
        self._queue.put(work)
        return work.future

    async def call(self, fn: Callable[[Any], T], *, write: bool = True) -> T:
        """Run ``fn(conn)`` on the writer thread; returns once its transaction committed."""
        return await asyncio.wrap_future(self.submit(fn, write=write))

    def call_sync(self, fn: Callable[[Any], T], timeout_s: float | None = None) -> T:
        return self.submit(fn).result(timeout_s)

    def on_commit(self, callback: Callable[[], None]) -> None:
        """From inside a job: run ``callback`` on this thread once the job's transaction has committed."""
        self._after_commit.append(callback)

    def valid_epoch(self) -> int | None:
        """The current cache epoch while this process holds the file unchallenged, else None."""
        return self.epoch if self._exclusive else None

    # --- the writer thread ------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            try:
                ticking = self._conn is not None or self._lazy
                item = self._queue.get(timeout=self._tick_s) if ticking else self._queue.get()
            except queue.Empty:
                item = None
            if item is _STOP:
                self._drain_and_stop()
                return
            if item is None and self._lazy:  # nothing came to share its transaction within a tick
                self._run_batch(self._take_lazy())
                continue
            if item is None:  # idle while holding the file
                idle = time.monotonic() - self._last_used
                if self._someone_waiting() or idle >= self._linger_s:
                    self._release(handover=self._someone_waiting())
                continue
            batch = [item]
            stop = self._take_more(batch)
            if not stop and all(w.lazy for w in batch):
                self._lazy += batch
                continue
            self._run_batch(self._take_lazy() + batch)
            if stop:
                self._drain_and_stop()
                return
            held_s = time.monotonic() - self._held_since
            if self._conn is not None and self._someone_waiting() and held_s >= self._min_hold_s:
                self._release(handover=True)

    def _take_more(self, batch: list[Any]) -> bool:
        while len(batch) < _MAX_BATCH:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return False
            if item is _STOP:
                return True
            batch.append(item)
        return False

    def _take_lazy(self) -> list[_Work]:
        lazy, self._lazy = self._lazy, []
        return lazy

    def _drain_and_stop(self) -> None:
        batch: list[Any] = self._take_lazy()
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not _STOP:
                batch.append(item)
        if batch:
            self._run_batch(batch)
        self._release(handover=False)

    def _run_batch(self, batch: list[_Work]) -> None:
        live = [w for w in batch if w.future.set_running_or_notify_cancel()]
        if not live:
            return
        try:
            self._acquire()
        except Exception as err:
            log.error("%s", err)
            for w in live:
                w.future.set_exception(err)
            return
        self._last_used = time.monotonic()
        # One transaction for the whole batch; if any job fails, roll back and rerun each alone so one bad
        # job cannot take the others down with it.
        try:
            results = self._transaction(live)
        except Exception:
            pass
        else:
            for w, result in zip(live, results, strict=True):
                w.future.set_result(result)
            return
        for w in live:
            try:
                (result,) = self._transaction([w])
            except Exception as err:
                if not isinstance(err, LookupError):  # "not found" is an answer, not a failure
                    log.exception("state db job failed on %s", self.path)
                w.future.set_exception(err)
            else:
                w.future.set_result(result)

    def _transaction(self, works: list[_Work]) -> list[Any]:
        self._after_commit = []
        self.txn_local = {}
        try:
            self._conn.execute("BEGIN TRANSACTION")
            results = [w.fn(self._conn) for w in works]
            gen = None
            if not self._bumped and any(w.write for w in works):
                gen = self._conn.execute("UPDATE statedb_meta SET gen = gen + 1 RETURNING gen").fetchone()[0]
            self._conn.execute("COMMIT")
        except BaseException:
            self._after_commit = []
            self.txn_local = {}
            with contextlib.suppress(Exception):
                self._conn.execute("ROLLBACK")
            raise
        if gen is not None:
            self._last_gen = gen
            self._bumped = True
        self._committed()
        return results

    def _committed(self) -> None:
        """After a commit: the transaction's scratch is cleared and its after-commit callbacks run (a failing
        one is logged, never undoes the commit)."""
        self.txn_local = {}
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            try:
                callback()
            except Exception:
                log.exception("state db after-commit callback failed")

    # --- the cross-process hand-over --------------------------------------------------------------
    def _someone_waiting(self) -> bool:
        return self._wanted.exists()

    def _acquire(self) -> None:
        if self._conn is not None:
            return
        import duckdb
        from filelock import Timeout

        deadline = time.monotonic() + self._lock_timeout_s
        while True:
            try:
                self._lock.acquire(timeout=0)
                break
            except Timeout:
                self._wanted.touch()
                if time.monotonic() >= deadline:
                    raise StateDBError(
                        f"state database {self.path} stayed locked by another process for "
                        f"{self._lock_timeout_s:.0f}s (VIBESHELF_STATE_LOCK_TIMEOUT_S)"
                    ) from None
                time.sleep(0.005)
        self._wanted.unlink(missing_ok=True)
        # A process outside this protocol (a duckdb shell, say) may still hold DuckDB's own lock: retry.
        while True:
            try:
                # Point reads and writes on a small file: one thread and a small buffer pool are faster
                # than DuckDB's defaults (a thread per core, 80% of RAM) and keep the server's memory flat.
                self._conn = duckdb.connect(str(self.path), config={"threads": 1, "memory_limit": "64MB"})
                break
            except duckdb.IOException as err:
                if time.monotonic() >= deadline:
                    self._lock.release()
                    raise StateDBError(f"cannot open state database {self.path}: {err}") from err
                time.sleep(0.05)
        self.opens += 1
        self._held_since = time.monotonic()
        self._bumped = False
        try:
            if not self._initialised:
                self._conn.execute(_META)
                self._conn.execute("INSERT INTO statedb_meta SELECT 0 WHERE NOT EXISTS (FROM statedb_meta)")
                if self._init is not None:
                    self._init(self._conn)
                self._initialised = True
            gen = self._conn.execute("SELECT max(gen) FROM statedb_meta").fetchone()[0]
        except Exception as err:
            self._release(handover=False)
            raise StateDBError(f"cannot prepare state database {self.path}: {err}") from err
        if gen != self._last_gen:  # someone else wrote since we last held the file: caches are stale
            self.epoch += 1
            self._last_gen = gen
        self._exclusive = True

    def _release(self, *, handover: bool) -> None:
        self._exclusive = False  # first: from here on another process may write
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None
        if self._lock is not None and self._lock.is_locked:
            self._lock.release()
        if handover:
            self.handovers += 1
            # Stand back until the waiter has taken the lock (it removes the flag) or a short while passed,
            # so the yielding process does not grab the lock straight back.
            until = time.monotonic() + 0.2
            while self._wanted.exists() and time.monotonic() < until:
                time.sleep(0.002)


def open_state_db(target: Path | str, *, init: Job | None = None, lock_timeout_s: float = 10.0) -> StateDB:
    """The state database for ``target`` (not started): a ``postgresql://`` URL or a DuckDB file path.

    ``init`` prepares a DuckDB file; PostgreSQL migrates its own versioned schema (agent/postgres_state_db.py).
    """
    from vibeshelf.agent.postgres_state_db import PostgresStateDB, is_postgres_url

    if is_postgres_url(target):
        return PostgresStateDB(str(target), connect_timeout_s=lock_timeout_s)
    if isinstance(target, str) and "://" in target:
        raise StateDBError(
            f"unsupported state database URL scheme in {target.split('://', 1)[0]}://...; "
            "use postgresql://user:password@host:port/dbname or a DuckDB file path"
        )
    return StateDB(Path(target), init=init, lock_timeout_s=lock_timeout_s)
