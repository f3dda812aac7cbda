"""Content similarity between catalog books (same author, same series, shared shelves), as a sparse
item -> item table that is blended into a collaborative one.

Why: a reader who names a few books is often after "more like these" in the plainest sense (the same
author, the next in the series, the same shelf); co-reading finds most of that, but not for books whose
readers are few. Blending this table into the seeds model (``CFModelSpec.content_weight``) raised the
seeds protocol's validation Recall@20 on goodbooks (README, "Readers also liked"). Built at fit time from
the catalog; served inside the same table, so serving does not change.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import scipy.sparse as sp

from vibeshelf.retrieval.cf.models import _top_n_csr

# Feature weights before L2 normalisation: a shared (first) author or series counts as much as two
# shared shelves. Chosen on goodbooks' validation split among (author, series) = (0|1|2|4, 0|1|2|4).
AUTHOR_WEIGHT = 2.0
SERIES_WEIGHT = 2.0
GENRE_WEIGHT = 1.0
CONTENT_NEIGHBOURS = 50


def content_table(
    item_ids: np.ndarray,
    catalog: pa.Table,
    *,
    author_weight: float = AUTHOR_WEIGHT,
    series_weight: float = SERIES_WEIGHT,
    neighbours: int = CONTENT_NEIGHBOURS,
) -> sp.csr_matrix:
    """Cosine similarity of books' (first author, series, genres), ``neighbours`` kept per row, rows
    scaled to sum to 1; one row and column per ``item_ids`` entry (books not in ``catalog``: empty)."""
    cols = catalog.select(["id", "authors", "series", "genres"]).to_pydict()
    by_id = {book_id: i for i, book_id in enumerate(cols["id"])}
    features: dict[str, int] = {}
    rows: list[int] = []
    feats: list[int] = []
    values: list[float] = []

    def add(row: int, key: str, weight: float) -> None:
        if weight > 0:
            rows.append(row)
            feats.append(features.setdefault(key, len(features)))
            values.append(weight)

    for row, book_id in enumerate(np.asarray(item_ids).tolist()):
        i = by_id.get(book_id)
        if i is None:
            continue
        authors = cols["authors"][i] or []
        if authors:
            add(row, "a:" + authors[0].casefold(), author_weight)
        if cols["series"][i]:
            add(row, "s:" + cols["series"][i].casefold(), series_weight)
        for genre in dict.fromkeys(cols["genres"][i] or []):
            add(row, "g:" + genre, GENRE_WEIGHT)
    n = len(item_ids)
    matrix = sp.csr_matrix(
        (np.asarray(values, dtype=np.float32), (rows, feats)), shape=(n, max(1, len(features)))
    )
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1), dtype=np.float64)).reshape(-1)
    scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0).astype(np.float32)
    matrix = (sp.diags(scale) @ matrix).tocsr()
    parts = []
    for start in range(0, n, 2048):
        sim = (matrix[start : start + 2048] @ matrix.T).tocsr()
        sim.sort_indices()
        row = np.repeat(np.arange(sim.shape[0]), np.diff(sim.indptr))
        data = sim.data.copy()
        data[sim.indices == row + start] = 0.0  # a book is not its own neighbour
        parts.append(_top_n_csr(sim.indptr, sim.indices, data, neighbours, n))
    table = sp.vstack(parts, format="csr") if parts else sp.csr_matrix((n, n), dtype=np.float32)
    sums = np.asarray(table.sum(axis=1), dtype=np.float64).reshape(-1)
    rescale = np.divide(1.0, sums, out=np.zeros_like(sums), where=sums > 0).astype(np.float32)
    return (sp.diags(rescale) @ table).tocsr().astype(np.float32)


def blend(collaborative: sp.csr_matrix, content: sp.csr_matrix, weight: float) -> sp.csr_matrix:
    """``collaborative + weight * s * content``, where s is the collaborative rows' mean sum, so that
    ``weight`` = 1 gives a book's content neighbours as much say as its co-read ones on average."""
    if weight <= 0:
        return collaborative
    sums = np.asarray(collaborative.sum(axis=1), dtype=np.float64).reshape(-1)
    active = sums[sums > 0]
    scale = float(active.mean()) if active.size else 1.0
    return (collaborative + content * np.float32(weight * scale)).tocsr().astype(np.float32)
