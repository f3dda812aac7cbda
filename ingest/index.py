"""Build the LanceDB book index from the catalog: documents, embeddings, FTS and vector indexes.

A build writes a new table ``books_<build_id>`` completely (rows, FTS indexes, the vector index
when it pays), then switches ``index.json`` to it with ``os.replace``. Tables older than the
previous one, and leftovers of interrupted builds, are dropped after the switch, except those some
process still has open (``retrieval.book_index.TableLease``): a later build drops them once released. Rerunning an
interrupted build is cheap: the embedding cache already holds what was embedded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from vibeshelf.catalog import CATALOG_SCHEMA
from vibeshelf.ingest.document import (
    authors_text,
    compose_documents,
    document_hash,
    genres_text,
)
from vibeshelf.ingest.embedder import (
    Backend,
    Embedder,
    EmbeddingCache,
    OnnxEmbedder,
    SentenceTransformerEmbedder,
    cache_namespace,
    embed_documents,
    model_id,
    resolve_max_seq_len,
    resolve_model,
)
from vibeshelf.layout import Layout
from vibeshelf.retrieval.book_index import (
    DISTANCE,
    FTS_COLUMNS,
    TABLE_PREFIX,
    VECTOR_COLUMN,
    IndexCounts,
    IndexManifest,
    TableLease,
    VectorIndexInfo,
    read_manifest,
)

# Below this many rows the table is searched brute force (exact, nothing to train or store).
# bench/vector_index.py on this 2-core machine (busy: other jobs running), the goodbooks book vectors
# grown by jittered copies, k=10, 100-200 queries, p50 latency (recall@10 vs brute force):
#   rows     brute force   IVF_HNSW_SQ (build s)      IVF_PQ (build s)
#   1,000      2.4 ms      2.4 ms 1.000 (0.2)
#   2,500      3.0 ms      2.3 ms 1.000 (0.5)
#   5,000      4.1 ms      2.5 ms 1.000 (1.2)
#  10,000     10.9 ms      2.8 ms 1.000 (3.3)        4.6 ms 0.757 (5.1)
#  25,000     42.9 ms      4.1 ms 0.998 (5.8)        4.9 ms 0.911 (17.8)
#  50,000     77.7 ms      4.2 ms 0.999 (14.3)       5.4 ms 0.984 (38.4)
# 100,000    177.5 ms      4.7 ms 1.000 (35.6)       4.3 ms 0.986 (91.4)
# HNSW pays from about 5k rows (faster, recall ~1, seconds to build); IVF_PQ builds slower and
# recalls less at every size measured. Query with HNSW_QUERY_PARAMS: LanceDB's defaults recall 0.958
# at 10k, ef=100 + refine_factor=2 recall 0.998 (4 ms).
VECTOR_INDEX_MIN_ROWS = 5_000
VECTOR_INDEX_TYPE = "IVF_HNSW_SQ"
HNSW_ROWS_PER_PARTITION = 50_000  # the graph does the narrowing; IVF only splits very large tables
HNSW_QUERY_PARAMS = {"ef": 100, "refine_factor": 2}

# Document embedding backend. Measured on goodbooks documents (sorted by length, batches of 32, one
# thread, CPU time per book so the shared machine's load cancels out): sentence-transformers on
# torch 19.5-22 ms, our ONNX export under onnxruntime 31 ms (dynamo graph; 22-24 ms for a
# TorchScript/eager-attention export, fused or not). torch is the cheaper one, and it is the
# reference the query encoder is checked against, so the index vectors are sentence-transformers'.
DEFAULT_BACKEND: Backend = "torch"


class CatalogMissingError(RuntimeError):
    """The catalog parquet is missing or does not have the canonical schema."""


def read_catalog(path: Path) -> pa.Table:
    """The catalog table, checked against ``CATALOG_SCHEMA`` (a clear error instead of a KeyError)."""
    if not path.is_file():
        raise CatalogMissingError(
            f"catalog {path} not found; run `vibeshelf ingest --source ... --path ...` to build it"
        )
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        raise CatalogMissingError(f"catalog {path} is not a readable Parquet file: {exc}") from exc
    missing = [f.name for f in CATALOG_SCHEMA if f.name not in table.column_names]
    if missing:
        raise CatalogMissingError(f"catalog {path} lacks column(s) {', '.join(missing)} (see CATALOG_SCHEMA)")
    try:
        table = table.select(CATALOG_SCHEMA.names).cast(CATALOG_SCHEMA)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise CatalogMissingError(f"catalog {path} does not match CATALOG_SCHEMA: {exc}") from exc
    if table.num_rows == 0:
        raise CatalogMissingError(f"catalog {path} has no books (see the ingest report for dropped rows)")
    return table


def new_build_id() -> str:
    """Sortable and unique: UTC timestamp plus a random suffix (two builds in one second differ)."""
    return f"{dt.datetime.now(dt.UTC).strftime('%Y%m%dT%H%M%S')}_{uuid.uuid4().hex[:6]}"


def _parity_sample(docs: list[str], n: int = 24) -> list[str]:
    """Documents spread over the length range, for the ONNX parity check."""
    if not docs:
        return []
    order = sorted(range(len(docs)), key=lambda i: len(docs[i]))
    picks = np.linspace(0, len(order) - 1, num=min(n, len(order))).astype(int)
    return [docs[order[i]] for i in sorted(set(picks))]


def _book_table(catalog: pa.Table, docs: list[str], vectors: np.ndarray) -> pa.Table:
    dim = vectors.shape[1]
    extra = {
        "doc": pa.array(docs, pa.string()),
        "doc_hash": pa.array([document_hash(d) for d in docs], pa.string()),
        "authors_text": pa.array(
            [authors_text(a) for a in catalog.column("authors").to_pylist()], pa.string()
        ),
        "genres_text": pa.array([genres_text(g) for g in catalog.column("genres").to_pylist()], pa.string()),
        VECTOR_COLUMN: pa.FixedSizeListArray.from_arrays(
            pa.array(np.ascontiguousarray(vectors, np.float32).reshape(-1), pa.float32()), dim
        ),
    }
    table = catalog
    for name, column in extra.items():
        table = table.append_column(name, column)
    return table


def _create_indexes(table, rows: int, dim: int) -> VectorIndexInfo:
    from lancedb.index import FTS, HnswSq

    for column in FTS_COLUMNS:
        # Positions enable phrase queries ("the hunger games"); keeping stop words in short
        # fields keeps titles such as "It" or "Me Before You" findable at all.
        short = column in ("title", "authors_text")
        config = FTS(with_position=True, remove_stop_words=not short)
        table.create_index(column, config=config, name=f"{column}_fts", replace=True)
    if rows < VECTOR_INDEX_MIN_ROWS:
        return VectorIndexInfo(
            type=None,
            reason=f"{rows} rows < VECTOR_INDEX_MIN_ROWS={VECTOR_INDEX_MIN_ROWS}: brute force is exact "
            "and fast enough",
        )
    partitions = max(1, rows // HNSW_ROWS_PER_PARTITION)
    table.create_index(
        VECTOR_COLUMN,
        config=HnswSq(distance_type=DISTANCE, num_partitions=partitions),
        name=f"{VECTOR_COLUMN}_idx",
        replace=True,
    )
    return VectorIndexInfo(
        type=VECTOR_INDEX_TYPE,
        params={"num_partitions": partitions, "nprobes": partitions, **HNSW_QUERY_PARAMS},
        reason=f"{rows} rows >= VECTOR_INDEX_MIN_ROWS={VECTOR_INDEX_MIN_ROWS}",
    )


def write_manifest(layout: Layout, manifest: IndexManifest) -> None:
    """Atomic switch: readers see the old manifest or the new one, never a partial file."""
    path = layout.index_manifest
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(manifest.model_dump_json(indent=2))
    with tmp.open("rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _drop_stale_tables(layout: Layout, db, keep: set[str]) -> list[str]:
    dropped = []
    for name in _table_names(db):
        if not name.startswith(TABLE_PREFIX) or name in keep:
            continue
        lease = TableLease.try_exclusive(layout, name)
        if lease is None:
            continue  # a server (or a query still running) reads it: a later build drops it
        try:
            db.drop_table(name)
            dropped.append(name)
            # Gone only after the drop: a reader that opened the old file finds the table missing and
            # rereads the manifest (BookIndex.open).
            TableLease.path(layout, name).unlink(missing_ok=True)
        finally:
            lease.release()
    return dropped


def _table_names(db) -> list[str]:
    names, token = [], None
    while True:
        page = db.list_tables(page_token=token)
        names.extend(page.tables)
        token = page.page_token
        if not token:
            return names


def _catalog_source(path: Path, rows: int) -> dict:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return {"catalog": str(path), "catalog_rows": rows, "catalog_sha256": digest}


def build_index(
    layout: Layout,
    *,
    model: str | None = None,
    batch_size: int = 64,
    max_seq_len: int | None = None,
    chunk_size: int = 1024,
    backend: Backend | Literal["auto"] = "auto",
    embedder: Embedder | None = None,
    progress: bool = True,
) -> IndexManifest:
    """Build the book index for ``layout.catalog`` and make it the live one.

    ``model`` defaults to ``VIBESHELF_EMBED_MODEL`` / the packaged all-MiniLM-L6-v2, ``max_seq_len``
    (word pieces per document and query) to ``VIBESHELF_EMBED_MAX_SEQ_LEN``. Documents are
    embedded with ``backend`` ("onnx": the parity-checked export, "torch": sentence-transformers;
    "auto" = ``DEFAULT_BACKEND``) unless an ``embedder`` is passed in, in batches of ``batch_size``,
    flushing the embedding cache every ``chunk_size`` documents. Returns the new manifest.
    """
    import lancedb

    from vibeshelf.ingest.onnx_export import export_encoder

    timings: dict[str, float] = {}
    start = clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = round(now - clock, 3)
        clock = now

    layout.ensure()
    catalog = read_catalog(layout.catalog)
    docs = compose_documents(catalog)
    lap("documents")

    model_ref = resolve_model(model)
    name = model_id(model_ref)
    max_seq_len = resolve_max_seq_len(max_seq_len)
    encoder_info = export_encoder(
        model_ref,
        layout.encoder,
        max_seq_len=max_seq_len,
        sample_texts=_parity_sample(docs),
        quiet=not progress,
    )
    lap("encoder_export")

    if embedder is None:
        chosen = DEFAULT_BACKEND if backend == "auto" else backend
        if chosen == "torch":
            embedder = SentenceTransformerEmbedder(model_ref, encoder_info.dim, max_seq_len)
        else:
            embedder = OnnxEmbedder(layout.encoder)  # truncates at the exported max_seq_len
    cache = EmbeddingCache(layout.embed_cache, cache_namespace(name, max_seq_len), embedder.dim)
    result = embed_documents(
        docs, embedder, cache, batch_size=batch_size, chunk_size=chunk_size, progress=progress
    )
    lap("embed")

    build_id = new_build_id()
    table_name = f"{TABLE_PREFIX}{build_id}"
    data = _book_table(catalog, docs, result.vectors)
    db = lancedb.connect(layout.lancedb_uri, storage_options=layout.index_storage_options)
    table = db.create_table(table_name, data, mode="overwrite")
    lap("write_table")
    vector_index = _create_indexes(table, data.num_rows, embedder.dim)
    lap("indexes")

    previous = read_manifest_quietly(layout)
    manifest = IndexManifest(
        table=table_name,
        build_id=build_id,
        model=name,
        dim=embedder.dim,
        max_seq_len=max_seq_len,
        built_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        counts=IndexCounts(
            books=data.num_rows,
            with_description=sum(1 for d in catalog.column("description").to_pylist() if d),
            embedded=result.embedded,
            embed_cached=result.cached,
        ),
        vector_index=vector_index,
        source=_catalog_source(layout.catalog, catalog.num_rows),
        encoder=json.loads(encoder_info.model_dump_json()),
        timings_s={**timings, "total": round(time.perf_counter() - start, 3)},
        previous_table=previous.table if previous else None,
    )
    write_manifest(layout, manifest)
    keep = {table_name} | ({previous.table} if previous else set())
    dropped = _drop_stale_tables(layout, db, keep)
    if dropped and progress:
        print(f"dropped old index tables: {', '.join(dropped)}", file=sys.stderr)
    return manifest


def read_manifest_quietly(layout: Layout) -> IndexManifest | None:
    """The previous manifest, or None when it is missing or unreadable (a rebuild replaces it)."""
    try:
        return read_manifest(layout)
    except RuntimeError:
        return None
