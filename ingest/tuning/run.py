"""One `vibeshelf tune` run over a built index: mine pairs, encode their requests, fit, write the adapter."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

import numpy as np
import pyarrow.parquet as pq
from tqdm import tqdm

from vibeshelf.ingest.tuning.adapter_fit import AdapterConfig, fit_adapter, positive_sets, training_books
from vibeshelf.ingest.tuning.pairs import mine_pairs
from vibeshelf.layout import Layout

ENCODE_BATCH = 64


@dataclass
class TuneSummary:
    pairs: dict[str, int]
    books: int
    held_out_books: int
    encode_seconds: float
    fit_seconds: float
    model: str


def encode_requests(encoder, texts: list[str], layout: Layout, *, progress: bool = True) -> np.ndarray:
    """The base encoder's vectors of ``texts``, kept under ``<home>/tune_cache`` (keyed by the model and
    the texts), so a rerun with the same pairs, or after an interrupt, skips the slow part."""
    digest = hashlib.sha256("\n".join([encoder.info.model, *texts]).encode()).hexdigest()[:16]
    cached = layout.home / "tune_cache" / f"requests-{digest}.npy"
    if cached.is_file():
        return np.load(cached)
    anchors = np.empty((len(texts), encoder.dim), dtype=np.float32)
    with tqdm(total=len(texts), desc="encoding requests", unit="pair", disable=not progress) as bar:
        for start in range(0, len(texts), ENCODE_BATCH):
            chunk = texts[start : start + ENCODE_BATCH]
            anchors[start : start + len(chunk)] = encoder.encode_uncached(chunk)
            bar.update(len(chunk))
    cached.parent.mkdir(parents=True, exist_ok=True)
    # Written then renamed: an interrupted run leaves no half-written cache.
    staging = cached.with_name(cached.name + ".tmp.npy")
    np.save(staging, anchors)
    staging.replace(cached)
    return anchors


def tune(layout: Layout, config: AdapterConfig | None = None, *, progress: bool = True) -> TuneSummary:
    """Fit and write ``layout.query_adapter`` for the index under ``layout`` (raises the index's own
    "not built" error when there is none)."""
    config = config or AdapterConfig()
    from vibeshelf.retrieval.book_index import BookIndex
    from vibeshelf.retrieval.encoder import QueryEncoder

    index = BookIndex.open(layout)
    encoder = QueryEncoder.load(layout.encoder)
    data = index.table.search().select(["id", "vector", "genres"]).limit(index.table.count_rows()).to_arrow()
    ids = data["id"].to_pylist()
    vectors = np.asarray(
        data["vector"].combine_chunks().flatten().to_numpy(zero_copy_only=False), dtype=np.float32
    ).reshape(len(ids), -1)
    genres = data["genres"].to_pylist()
    book_ids, book_vectors, book_genres = training_books(ids, vectors, genres, config.held_out_fraction)

    catalog = pq.read_table(layout.catalog)
    ratings = pq.read_table(layout.ratings) if layout.ratings.is_file() else None
    pairs = mine_pairs(
        catalog, ratings, n_pairs=config.n_pairs, seed=config.seed, held_out_fraction=config.held_out_fraction
    )
    indexed = set(book_ids)
    pairs = [p for p in pairs if p.positive in indexed]
    if not pairs:
        raise ValueError(f"no training pairs could be mined from {layout.catalog}")

    started = time.perf_counter()
    anchors = encode_requests(encoder, [p.anchor for p in pairs], layout, progress=progress)
    encode_seconds = time.perf_counter() - started

    started = time.perf_counter()
    with tqdm(desc="fitting", unit="step", disable=not progress) as bar:

        def report(step: int, total: int, loss: float) -> None:
            bar.total = total
            bar.set_postfix(loss=f"{loss:.3f}")
            bar.update(1)

        adapter = fit_adapter(
            anchors,
            positive_sets(pairs, book_ids, book_genres),
            book_vectors,
            config,
            model=encoder.info.model,
            progress=report,
        )
    fit_seconds = time.perf_counter() - started
    adapter.save(layout.query_adapter)
    kinds: dict[str, int] = {}
    for p in pairs:
        kinds[p.kind] = kinds.get(p.kind, 0) + 1
    return TuneSummary(
        pairs=kinds,
        books=len(book_ids),
        held_out_books=len(ids) - len(book_ids),
        encode_seconds=encode_seconds,
        fit_seconds=fit_seconds,
        model=encoder.info.model,
    )
