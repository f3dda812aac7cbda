"""Content similarity (author, series, shelves) as a table, and its blend into the seeds model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import scipy.sparse as sp

from vibeshelf.catalog import RATINGS_SCHEMA
from vibeshelf.ingest.cf_fit import fit_cf
from vibeshelf.layout import Layout
from vibeshelf.retrieval.cf.config import CFConfig, CFModelSpec
from vibeshelf.retrieval.cf.content import blend, content_table
from vibeshelf.retrieval.readers_also_liked import ReadersAlsoLiked


def catalog() -> pa.Table:
    rows = [
        ("b:dune", ["Frank Herbert"], "Dune", ["science_fiction", "classics"]),
        ("b:messiah", ["Frank Herbert"], "Dune", ["science_fiction"]),
        ("b:eye", ["Frank Herbert"], None, ["science_fiction", "horror"]),
        ("b:found", ["Isaac Asimov"], "Foundation", ["science_fiction", "classics"]),
        ("b:emma", ["Jane Austen"], None, ["romance", "classics"]),
        ("b:persuasion", ["JANE AUSTEN", "Someone"], None, ["romance", "classics"]),
    ]
    ids, authors, series, genres = zip(*rows, strict=True)
    return pa.table({"id": ids, "authors": authors, "series": series, "genres": genres})


def test_content_table_ranks_series_then_author_then_shelves() -> None:
    ids = np.array(["b:dune", "b:messiah", "b:eye", "b:found", "b:emma", "b:persuasion", "b:unknown"])
    table = content_table(ids, catalog(), neighbours=3)
    dense = table.toarray()
    assert np.allclose(dense[:6].sum(axis=1), 1.0) and not dense[6].any() and not dense[:, 6].any()
    assert (np.diff(table.indptr) <= 3).all() and not np.diag(dense).any()
    dune = dense[0]
    # Same series and author > same author > same shelves only > nothing in common.
    assert dune[1] > dune[2] > dune[3] > 0 and dune[4] == 0
    # Author names compare case-insensitively; only the first author counts.
    assert dense[4, 5] == dense[4].max() > 0


def test_blend_scales_content_to_the_collaborative_rows() -> None:
    cf = sp.csr_matrix(np.array([[0, 4.0, 0], [2.0, 0, 0], [0, 0, 0]], dtype=np.float32))
    content = sp.csr_matrix(np.array([[0, 0, 1.0], [0, 0, 1.0], [1.0, 0, 0]], dtype=np.float32))
    mixed = blend(cf, content, 0.5).toarray()
    # Mean collaborative row sum over rows that have one: 3; half of that goes to content.
    assert np.allclose(mixed, [[0, 4, 1.5], [2, 0, 1.5], [1.5, 0, 0]])
    assert blend(cf, content, 0.0) is cf


def test_seeds_model_with_content_finds_the_same_author_without_co_readers(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "home").ensure()
    # Dune and Foundation are co-read; Messiah (same author, series) shares no reader with Dune.
    rows = [(f"u{u}", b, 5) for u in range(6) for b in ("b:dune", "b:found")]
    rows += [(f"m{u}", "b:messiah", 4) for u in range(3)] + [(f"m{u}", "b:emma", 4) for u in range(3)]
    users, books, ratings = zip(*rows, strict=True)
    pq.write_table(
        pa.table({"user_id": users, "book_id": books, "rating": ratings}, schema=RATINGS_SCHEMA),
        layout.ratings,
    )
    pq.write_table(catalog(), layout.catalog)
    plain = CFModelSpec(algorithm="item_knn", params={"neighbours": 5, "shrink": 0})
    fit_cf(layout, config=CFConfig(seeds=plain, history=plain), progress=False)
    assert [h.book_id for h in ReadersAlsoLiked.load(layout).recommend(["b:dune"]).hits] == ["b:found"]

    mixed = plain.model_copy(update={"content_weight": 1.0})
    fit_cf(layout, config=CFConfig(seeds=mixed, history=plain), progress=False)
    cf = ReadersAlsoLiked.load(layout)
    assert [h.book_id for h in cf.recommend(["b:dune"]).hits][:2] == ["b:found", "b:messiah"]
    assert cf.meta.config.seeds.content_weight == 1.0
    # The history model was asked for no blend.
    assert [h.book_id for h in cf.recommend_history(["b:dune"]).hits] == ["b:found"]
