"""collect_stats: figures read back from the built table and the Parquet files."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from index_fixtures import BOOKS, install_encoder, write_catalog

from vibeshelf.catalog import IMPLICIT_SCHEMA, RATINGS_SCHEMA
from vibeshelf.ingest.index import build_index
from vibeshelf.ingest.stats import collect_stats
from vibeshelf.layout import Layout
from vibeshelf.retrieval.book_index import IndexNotBuiltError


def _write_interactions(layout: Layout) -> None:
    ratings = [("u1", "test:1", 5), ("u1", "test:2", 3), ("u2", "test:1", 4), ("u3", "test:7", 1)]
    pq.write_table(
        pa.Table.from_pylist(
            [{"user_id": u, "book_id": b, "rating": r} for u, b, r in ratings], schema=RATINGS_SCHEMA
        ),
        layout.ratings,
    )
    implicit = [("u3", "test:4"), ("u9", "test:4")]  # u9 only has implicit interactions
    pq.write_table(
        pa.Table.from_pylist([{"user_id": u, "book_id": b} for u, b in implicit], schema=IMPLICIT_SCHEMA),
        layout.implicit,
    )


def test_stats_after_build(tmp_path: Path, exported_encoder: Path) -> None:
    layout = Layout(tmp_path / "home").ensure()
    write_catalog(layout)
    install_encoder(exported_encoder, layout)
    _write_interactions(layout)
    manifest = build_index(layout, progress=False)

    stats = collect_stats(layout)

    assert (stats["books"], stats["books_with_description"]) == (12, 10)
    assert (stats["ratings"], stats["implicit_interactions"], stats["users"]) == (4, 2, 4)
    # 18 distinct slugs ("fantasy" and "nonfiction" are used twice).
    assert stats["genres"] == len({g for book in BOOKS for g in book[4]}) == 18
    assert stats["index_version"] == manifest.build_id and stats["index_table"] == manifest.table
    assert stats["model"] == "sentence-transformers/all-MiniLM-L6-v2" and stats["dim"] == 384
    assert stats["vector_index"] == "none (brute force)"
    assert stats["catalog_matches_index"] == "yes"

    write_catalog(layout, [])  # a re-normalised catalog the index has not caught up with
    assert collect_stats(layout)["catalog_matches_index"].startswith("no: the catalog changed")


def test_stats_with_catalog_only(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "home").ensure()
    write_catalog(layout)
    _write_interactions(layout)
    stats = collect_stats(layout)
    assert (stats["books"], stats["books_with_description"], stats["ratings"]) == (12, 10, 4)
    assert "not built" in stats["index"]


def test_stats_without_anything_built(tmp_path: Path) -> None:
    with pytest.raises(IndexNotBuiltError, match="vibeshelf ingest"):
        collect_stats(Layout(tmp_path / "empty").ensure())
