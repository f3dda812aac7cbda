"""The live book index: the LanceDB table the manifest names, opened for reading.

``Layout.index_manifest`` (JSON) names the table of the last *complete* build. Ingest builds a
new ``books_<build_id>`` table (data and indexes) and only then replaces the manifest with
``os.replace``, so a reader opens either the old table or the new one, never a half-built one.

A reader *leases* the table it opens: a shared ``flock`` on ``index_leases/<table>.lock``, held until
the table object is garbage. Ingest drops an old table only when it can take that lock exclusively, so
a table is never deleted while a process may still read it (a server that has not switched yet, an
answer still running on the previous table). No torch on this import path.
"""

from __future__ import annotations

import contextlib
import json
import os
import weakref
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from vibeshelf.layout import Layout

TABLE_PREFIX = "books_"
# Full-text search: one native LanceDB FTS index per column (an index covers one column), searched
# together with ``lancedb.query.MultiMatchQuery(query, list(FTS_COLUMNS))`` (boosts optional) or one
# column at a time with ``fts_columns=``.
FTS_COLUMNS = ("title", "authors_text", "description", "genres_text")
VECTOR_COLUMN = "vector"
# Vectors are L2-normalised, so cosine distance = 1 - dot product.
DISTANCE = "cosine"


class IndexNotBuiltError(RuntimeError):
    """There is no complete index under the vibeshelf home yet."""


class IndexCounts(BaseModel):
    books: int
    with_description: int
    embedded: int = 0  # documents encoded during this build
    embed_cached: int = 0  # documents whose vector came from the embedding cache


class VectorIndexInfo(BaseModel):
    type: str | None  # e.g. "IVF_HNSW_SQ"; None = brute-force (exact) search
    distance: str = DISTANCE
    # Build parameters plus the query parameters that keep recall ~1 (nprobes, ef, refine_factor);
    # ``BookIndex.vector_search`` applies them.
    params: dict[str, Any] = Field(default_factory=dict)
    reason: str = ""


class IndexManifest(BaseModel):
    """What ``index.json`` records about the live table."""

    model_config = ConfigDict(protected_namespaces=())

    table: str
    build_id: str
    model: str
    dim: int
    max_seq_len: int | None = None  # word pieces documents were truncated to
    built_at: str  # ISO 8601, UTC
    counts: IndexCounts
    vector_index: VectorIndexInfo
    fts_columns: list[str] = Field(default_factory=lambda: list(FTS_COLUMNS))
    source: dict[str, Any] = Field(default_factory=dict)  # catalog path, rows, sha256
    encoder: dict[str, Any] = Field(default_factory=dict)  # encoder.json at build time
    timings_s: dict[str, float] = Field(default_factory=dict)  # per build stage
    previous_table: str | None = None


def read_manifest(layout: Layout) -> IndexManifest | None:
    """The manifest of the live index, or None when no build has completed."""
    path = layout.index_manifest
    try:
        raw = path.read_text()
    except FileNotFoundError:
        return None
    try:
        return IndexManifest.model_validate(json.loads(raw))
    except (ValueError, ValidationError) as exc:
        raise IndexNotBuiltError(
            f"index manifest {path} is unreadable ({exc.__class__.__name__}: {str(exc)[:200]}); "
            "run `vibeshelf ingest` to rebuild the index"
        ) from exc


class TableLease:
    """A shared lock on one table's lease file; :meth:`try_exclusive` is ingest's side of it."""

    def __init__(self, fd: int) -> None:
        self._fd = fd

    @staticmethod
    def path(layout: Layout, table: str) -> Path:
        return layout.index_leases / f"{table}.lock"

    @classmethod
    def shared(cls, layout: Layout, table: str) -> TableLease:
        import fcntl

        layout.index_leases.mkdir(parents=True, exist_ok=True)
        fd = os.open(cls.path(layout, table), os.O_RDWR | os.O_CREAT, 0o644)
        # Blocks only while an ingest is deciding to drop this very table (a few ms); the caller then
        # finds the table gone and reads the manifest again.
        fcntl.flock(fd, fcntl.LOCK_SH)
        return cls(fd)

    @classmethod
    def try_exclusive(cls, layout: Layout, table: str) -> TableLease | None:
        """The exclusive lock when no process holds the table, else None (it is in use)."""
        import fcntl

        layout.index_leases.mkdir(parents=True, exist_ok=True)
        fd = os.open(cls.path(layout, table), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return None
        return cls(fd)

    def release(self) -> None:
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._fd)  # closing drops the flock
            self._fd = -1


def open_leased_table(layout: Layout, db, table_name: str):
    """``db.open_table(table_name)`` with a lease that lasts as long as the returned table object."""
    lease = TableLease.shared(layout, table_name)
    try:
        table = db.open_table(table_name)
    except BaseException:
        lease.release()
        raise
    weakref.finalize(table, lease.release)
    return table


class BookIndex:
    """An open handle on the live table. Holding one keeps working across rebuilds: the old
    table stays on disk until the build after next."""

    def __init__(self, layout: Layout, manifest: IndexManifest, db, table) -> None:
        self.layout = layout
        self.manifest = manifest
        self.db = db
        self.table = table

    @classmethod
    def open(cls, layout: Layout) -> BookIndex:
        import lancedb

        manifest = read_manifest(layout)
        if manifest is None:
            raise IndexNotBuiltError(
                f"no book index under {layout.home} (missing {layout.index_manifest.name}); "
                "run `vibeshelf ingest` first"
            )
        db = lancedb.connect(layout.lancedb_uri, storage_options=layout.index_storage_options)
        try:
            table = open_leased_table(layout, db, manifest.table)
        except (FileNotFoundError, ValueError) as exc:
            # An ingest may have switched the manifest and dropped this table since we read it.
            newer = read_manifest(layout)
            if newer is not None and newer.table != manifest.table:
                return cls.open(layout)
            raise IndexNotBuiltError(
                f"index manifest names table {manifest.table!r} but {layout.lancedb_uri} has no such table; "
                "run `vibeshelf ingest` to rebuild the index"
            ) from exc
        return cls(layout, manifest, db, table)

    def vector_search(self, vector, limit: int = 10):
        """A LanceDB query for the nearest books to ``vector`` (cosine), with the vector index's
        recall-preserving parameters applied when the table has one. Chain ``.where(...)``,
        ``.select(...)`` etc. and call ``.to_list()`` / ``.to_arrow()``; ``_distance`` is 1 - cos."""
        query = self.table.search(vector, vector_column_name=VECTOR_COLUMN).distance_type(DISTANCE)
        params = self.manifest.vector_index.params if self.manifest.vector_index.type else {}
        if params.get("nprobes"):
            query = query.nprobes(int(params["nprobes"]))
        if params.get("ef"):
            query = query.ef(int(params["ef"]))
        if params.get("refine_factor"):
            query = query.refine_factor(int(params["refine_factor"]))
        return query.limit(limit)

    @property
    def path(self) -> Path:
        return self.layout.lancedb

    def __len__(self) -> int:
        return self.table.count_rows()

    def is_current(self) -> bool:
        """False once a newer build has replaced the manifest (a server may then reopen)."""
        current = read_manifest(self.layout)
        return current is not None and current.table == self.manifest.table
