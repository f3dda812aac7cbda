"""The state database on PostgreSQL (``VIBESHELF_STATE_URL=postgresql://...``): sessions, query log,
feedback and Slack memory shared by any number of server processes on any number of machines.

It keeps :class:`~vibeshelf.agent.state_db.StateDB`'s interface and its one writer thread per process
(jobs ``fn(conn)`` queued and run in order, batched into one transaction), so the stores above it do not
change. What differs:

* No lock file and no hand-over: every process keeps a connection (from a ``psycopg_pool`` pool, which
  checks it and reconnects after a restart of the server) and PostgreSQL arbitrates.
* Transactions are SERIALIZABLE and a batch that loses a race (``40001``, ``40P01``) is rerun from the
  start, so a read-modify-write job (a turn saved while feedback lands from another machine) always
  starts from what is committed: no lost update, no duplicate claim of a Slack event.
* Nothing is cached across transactions (:meth:`valid_epoch` is always None): another machine may have
  written since.
* The schema is created and migrated here, versioned (``agent/migrations/postgres/NNNN_name.sql``,
  recorded in ``schema_migrations``), under an advisory lock so servers starting together apply each
  migration once.

Jobs keep writing DuckDB's ``?`` placeholders; the connection handed to them turns them into psycopg's.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
from importlib import resources
from pathlib import Path
from typing import Any

from vibeshelf.agent.state_db import StateDB, StateDBError

log = logging.getLogger(__name__)

_MIGRATIONS = "vibeshelf.agent"
_MIGRATIONS_DIR = ("migrations", "postgres")
# Any constant both the servers and the migration step agree on; it only names the advisory lock.
_MIGRATION_LOCK = 0x766962657368656C  # "vibeshel"
_RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock detected


def is_postgres_url(target: object) -> bool:
    return isinstance(target, str) and target.split("://", 1)[0] in ("postgresql", "postgres")


def describe_url(url: str) -> str:
    """``host:port/dbname`` of a connection URL, for messages (never the password)."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        info = conninfo_to_dict(url)
    except Exception:
        return "an unreadable PostgreSQL URL"
    host = info.get("host") or "localhost"
    return f"{host}:{info.get('port') or 5432}/{info.get('dbname') or info.get('user') or ''}"


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, SQL) of every shipped migration, in order."""
    folder = resources.files(_MIGRATIONS).joinpath(*_MIGRATIONS_DIR)
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            version, _, name = entry.name.removesuffix(".sql").partition("_")
            found.append((int(version), name, entry.read_text(encoding="utf-8")))
    found.sort()
    if [v for v, _, _ in found] != list(range(1, len(found) + 1)):
        raise StateDBError(f"migrations must be numbered 1..n without gaps, found {[v for v, _, _ in found]}")
    return found


def migrate(conn: Any) -> int:
    """Bring the schema to the newest version; returns the version. ``conn`` is a psycopg connection."""
    from psycopg import IsolationLevel

    known = migrations()
    # READ COMMITTED here: a server that waited for the lock must see the migrations the holder committed
    # (a SERIALIZABLE snapshot would be from before the wait).
    level, conn.isolation_level = conn.isolation_level, IsolationLevel.READ_COMMITTED
    try:
        return _migrate_locked(conn, known)
    finally:
        conn.isolation_level = level


def _migrate_locked(conn: Any, known: list[tuple[int, str, str]]) -> int:
    with conn.transaction():
        # Held to the end of this transaction: a second server waits here, then finds nothing to do.
        conn.execute("SELECT pg_advisory_xact_lock(%s)", [_MIGRATION_LOCK])
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            "version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL DEFAULT now())"
        )
        current = conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()[0]
        if current > len(known):
            raise StateDBError(
                f"the state database is at schema version {current}, newer than this vibeshelf "
                f"(which knows {len(known)}); upgrade vibeshelf"
            )
        for version, name, sql in known[current:]:
            log.info("state database: applying migration %04d_%s", version, name)
            conn.execute(sql)
            conn.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, %s)", [version, name])
    return len(known)


class _Connection:
    """What a job sees: ``execute(sql, params)`` with ``?`` placeholders, like a DuckDB connection."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Any = None) -> Any:
        if params is not None:
            sql = sql.replace("?", "%s")
        return self._conn.execute(sql, params)


class PostgresStateDB(StateDB):
    """The writer thread of :class:`StateDB` over a pooled PostgreSQL connection; see the module docstring."""

    dialect = "postgres"

    def __init__(
        self,
        url: str,
        *,
        connect_timeout_s: float = 10.0,
        max_attempts: int = 20,
        linger_s: float = 300.0,
    ) -> None:
        # The DuckDB path is unused; the lock file and hand-over never run (see _acquire/_release).
        super().__init__(
            Path("postgresql"), init=None, lock_timeout_s=connect_timeout_s, linger_s=linger_s, tick_s=1.0
        )
        self.url = url
        self.where = describe_url(url)
        self._max_attempts = max_attempts
        self._pool: Any = None
        self.schema_version = 0
        self.retries = 0  # batches rerun after losing a race, for tests and the bench

    # --- lifecycle --------------------------------------------------------------------------------
    def start(self) -> PostgresStateDB:
        import psycopg
        from psycopg_pool import ConnectionPool, PoolTimeout

        pool = ConnectionPool(
            self.url,
            min_size=1,
            max_size=1,
            open=False,
            configure=self._configure,
            check=ConnectionPool.check_connection,
            name="vibeshelf-state",
        )
        try:
            pool.open(wait=True, timeout=self._lock_timeout_s)
            with pool.connection() as conn:
                self.schema_version = migrate(conn)
        except (PoolTimeout, psycopg.Error) as err:
            pool.close()
            raise StateDBError(
                f"cannot use the PostgreSQL state database at {self.where} (VIBESHELF_STATE_URL): {err}"
            ) from err
        except BaseException:
            pool.close()
            raise
        self._pool = pool
        self._initialised = True
        self._thread = threading.Thread(target=self._run, name="state-db:postgres", daemon=True)
        self._thread.start()
        return self

    def close(self, timeout_s: float = 10.0) -> None:
        super().close(timeout_s)
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    @staticmethod
    def _configure(conn: Any) -> None:
        from psycopg import IsolationLevel
        from psycopg.types.json import set_json_loads

        conn.isolation_level = IsolationLevel.SERIALIZABLE
        # JSON comes back as the text stored, as DuckDB returns it; the stores parse it themselves.
        set_json_loads(lambda data: bytes(data).decode("utf-8"), conn)

    def valid_epoch(self) -> int | None:
        return None  # another machine may have written since any read: never trust a cache

    # --- the connection ---------------------------------------------------------------------------
    def _someone_waiting(self) -> bool:
        return False

    def _acquire(self) -> None:
        if self._conn is not None:
            return
        from psycopg_pool import PoolTimeout

        try:
            self._conn = self._pool.getconn(timeout=self._lock_timeout_s)
        except PoolTimeout as err:
            raise StateDBError(f"PostgreSQL state database at {self.where} is unreachable: {err}") from err
        self.opens += 1
        self._held_since = time.monotonic()

    def _release(self, *, handover: bool) -> None:
        if self._conn is not None and self._pool is not None:
            with contextlib.suppress(Exception):
                self._pool.putconn(self._conn)  # a broken connection is discarded by the pool
        self._conn = None

    # --- transactions -----------------------------------------------------------------------------
    def _transaction(self, works: list[Any]) -> list[Any]:
        import psycopg

        for attempt in range(1, self._max_attempts + 1):
            self._after_commit = []
            self.txn_local = {}
            try:
                conn = _Connection(self._conn)
                results = [w.fn(conn) for w in works]
                self._conn.commit()
            except BaseException as err:
                self._after_commit = []
                self.txn_local = {}
                with contextlib.suppress(Exception):
                    self._conn.rollback()
                if isinstance(err, psycopg.OperationalError) and self._conn.broken:
                    self._release(handover=False)
                    raise StateDBError(f"lost the PostgreSQL state database at {self.where}: {err}") from err
                sqlstate = getattr(err, "sqlstate", None)
                if sqlstate in _RETRYABLE_SQLSTATES and attempt < self._max_attempts:
                    self.retries += 1
                    # Another transaction touched the same rows: back off a little (randomised, so two
                    # processes racing do not collide again in step) and rerun from a fresh snapshot.
                    time.sleep(random.uniform(0, 0.002 * attempt))
                    continue
                raise
            self._committed()
            return results
        raise AssertionError("unreachable")
