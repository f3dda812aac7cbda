"""build_index over a hand-written catalog: table shape, FTS, vector search, atomic rebuilds, reruns."""

from __future__ import annotations

import gc
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from index_fixtures import BOOKS, CountingEmbedder, install_encoder, write_catalog

from vibeshelf.catalog import CATALOG_SCHEMA
from vibeshelf.ingest.index import CatalogMissingError, build_index
from vibeshelf.layout import Layout
from vibeshelf.retrieval.book_index import FTS_COLUMNS, BookIndex, IndexNotBuiltError
from vibeshelf.retrieval.encoder import QueryEncoder


@pytest.fixture
def layout(tmp_path: Path, exported_encoder: Path) -> Layout:
    layout = Layout(tmp_path / "home").ensure()
    write_catalog(layout)
    install_encoder(exported_encoder, layout)
    return layout


def test_build_writes_table_with_catalog_columns_doc_and_vectors(layout: Layout) -> None:
    manifest = build_index(layout, progress=False)
    index = BookIndex.open(layout)

    assert index.manifest == manifest
    assert manifest.table == f"books_{manifest.build_id}"
    assert manifest.model == "sentence-transformers/all-MiniLM-L6-v2"
    assert (manifest.dim, manifest.counts.books, manifest.counts.with_description) == (384, 12, 10)
    assert manifest.counts.embedded == 12 and manifest.counts.embed_cached == 0
    assert manifest.vector_index.type is None  # 12 rows: brute force

    schema = index.table.schema
    assert set(CATALOG_SCHEMA.names) <= set(schema.names)
    assert {"doc", "doc_hash", "authors_text", "genres_text"} <= set(schema.names)
    assert schema.field("vector").type == pa.list_(pa.float32(), 384)

    rows = {r["id"]: r for r in index.table.to_arrow().to_pylist()}
    quiet = rows["test:3"]
    assert quiet["authors_text"] == "Tom Beck, Ines Park"
    assert rows["test:2"]["genres_text"] == "young adult romance"
    assert quiet["doc"].startswith("The Quiet Ledger by Tom Beck, Ines Park. Genres: mystery, crime.")
    assert "(Tidebound #1)" in rows["test:2"]["doc"]
    # No description: the document still names the book, its author and genres.
    assert rows["test:9"]["doc"] == "The Gardener's Year by Ruth Bell. Genres: gardening, nonfiction."
    norms = np.linalg.norm(np.array([r["vector"] for r in rows.values()]), axis=1)
    np.testing.assert_allclose(norms, 1.0, atol=1e-4)

    indexed = {tuple(ix.columns) for ix in index.table.list_indices()}
    assert {(c,) for c in FTS_COLUMNS} <= indexed


def test_index_vectors_match_the_query_encoder(layout: Layout) -> None:
    """Documents and queries must be embedded alike (same model, same truncation), or vector search
    compares apples with pears. Book test:10 is longer than max_seq_len."""
    build_index(layout, progress=False)
    rows = {r["id"]: r for r in BookIndex.open(layout).table.to_arrow().to_pylist()}
    encoder = QueryEncoder.load(layout.encoder)
    long_doc = rows["test:10"]["doc"]
    assert len(encoder._tokenizer.encode(long_doc).ids) == encoder.info.max_seq_len  # truncated
    for book_id in ("test:1", "test:10"):
        again = encoder.encode([rows[book_id]["doc"]])[0]
        assert float(np.dot(again, rows[book_id]["vector"])) >= 0.999, book_id


def test_fts_and_vector_search_find_the_expected_book(layout: Layout) -> None:
    from lancedb.query import MultiMatchQuery

    build_index(layout, progress=False)
    index = BookIndex.open(layout)
    encoder = QueryEncoder.load(layout.encoder)

    by_title = index.table.search(MultiMatchQuery("clockwork orchard", list(FTS_COLUMNS)), query_type="fts")
    assert by_title.limit(3).to_list()[0]["id"] == "test:1"
    by_author = index.table.search("Okafor", query_type="fts", fts_columns="authors_text").limit(3)
    assert [r["id"] for r in by_author.to_list()] == ["test:8"]
    by_genre = index.table.search("cozy", query_type="fts", fts_columns="genres_text").limit(3)
    assert [r["id"] for r in by_genre.to_list()] == ["test:7"]

    # A paraphrase sharing no distinctive words with the description of test:7.
    query = encoder.encode(["a cat helps solve a murder at a bakery competition"])[0]
    hits = index.table.search(query).distance_type("cosine").limit(3).to_list()
    assert hits[0]["id"] == "test:7"
    query = encoder.encode(["workers stranded on a moon revolt against their employer"])[0]
    assert index.table.search(query).distance_type("cosine").limit(1).to_list()[0]["id"] == "test:4"


def test_rebuild_switches_atomically_and_keeps_previous_table(layout: Layout) -> None:
    first = build_index(layout, progress=False)
    old = BookIndex.open(layout)
    second = build_index(layout, progress=False)

    assert second.table != first.table and second.previous_table == first.table
    assert second.counts.embedded == 0 and second.counts.embed_cached == 12  # nothing changed
    assert json.loads(layout.index_manifest.read_text())["table"] == second.table
    # A server still holding the first table keeps working and learns it is stale.
    assert old.table.count_rows() == 12 and not old.is_current()
    assert BookIndex.open(layout).table.name == second.table

    # The first table is dropped after the next switch, once nobody holds it (docs/reindex.md).
    del old
    gc.collect()
    third = build_index(layout, progress=False)
    names = set(BookIndex.open(layout).db.list_tables().tables)
    assert names == {second.table, third.table}
    assert not list(layout.home.glob(".index.json*"))  # no temp manifest left behind


def test_changed_book_is_the_only_one_reembedded(layout: Layout, exported_encoder: Path) -> None:
    build_index(layout, progress=False)
    changed = list(BOOKS)
    changed[4] = (*BOOKS[4][:5], "Now with gluten-free loaves.")
    write_catalog(layout, changed)
    counter = CountingEmbedder(layout.encoder)

    manifest = build_index(layout, embedder=counter, progress=False)

    assert counter.texts == [t for t in counter.texts if "gluten-free" in t] and len(counter.texts) == 1
    assert (manifest.counts.embedded, manifest.counts.embed_cached) == (1, 11)


def test_interrupted_build_reruns_without_reembedding(layout: Layout) -> None:
    interrupted = CountingEmbedder(layout.encoder, fail_on_call=5)
    with pytest.raises(KeyboardInterrupt):
        # batches of 2, flushed every 4: calls 1-4 land in the cache, call 5 is the interrupt.
        build_index(layout, embedder=interrupted, batch_size=2, chunk_size=4, progress=False)
    assert len(interrupted.texts) == 8
    with pytest.raises(IndexNotBuiltError, match="vibeshelf ingest"):
        BookIndex.open(layout)  # nothing was switched in

    rerun = CountingEmbedder(layout.encoder)
    manifest = build_index(layout, embedder=rerun, batch_size=2, chunk_size=4, progress=False)

    assert len(rerun.texts) == 4 and not set(rerun.texts) & set(interrupted.texts)
    assert (manifest.counts.embedded, manifest.counts.embed_cached) == (4, 8)
    assert BookIndex.open(layout).table.count_rows() == 12


def test_leftover_table_of_a_crashed_build_is_dropped(layout: Layout) -> None:
    import lancedb

    db = lancedb.connect(str(layout.lancedb))
    db.create_table("books_crashed", pa.table({"id": ["x"]}))
    build_index(layout, progress=False)
    manifest = build_index(layout, progress=False)
    assert "books_crashed" not in db.list_tables().tables
    assert manifest.table in db.list_tables().tables


def test_open_without_index_says_to_run_ingest(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "empty").ensure()
    with pytest.raises(IndexNotBuiltError, match="run `vibeshelf ingest`"):
        BookIndex.open(layout)
    layout.index_manifest.write_text('{"table": "books_gone"')
    with pytest.raises(IndexNotBuiltError, match="unreadable"):
        BookIndex.open(layout)


def test_manifest_naming_a_missing_table_is_a_clear_error(layout: Layout) -> None:
    build_index(layout, progress=False)
    data = json.loads(layout.index_manifest.read_text())
    data["table"] = "books_missing"
    layout.index_manifest.write_text(json.dumps(data))
    with pytest.raises(IndexNotBuiltError, match="books_missing"):
        BookIndex.open(layout)


def test_missing_or_malformed_catalog_is_a_clear_error(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "home").ensure()
    with pytest.raises(CatalogMissingError, match=r"catalog\.parquet not found"):
        build_index(layout, progress=False)
    pq.write_table(pa.table({"id": ["a"], "title": ["t"]}), layout.catalog)
    with pytest.raises(CatalogMissingError, match="lacks column"):
        build_index(layout, progress=False)
    write_catalog(layout, [])
    with pytest.raises(CatalogMissingError, match="has no books"):
        build_index(layout, progress=False)


def test_vector_index_is_built_above_the_threshold(layout: Layout, monkeypatch: pytest.MonkeyPatch) -> None:
    import vibeshelf.ingest.index as index_module

    # The real threshold is thousands of rows (measured); lower it so 12 books get an index.
    monkeypatch.setattr(index_module, "VECTOR_INDEX_MIN_ROWS", 10)
    manifest = build_index(layout, progress=False)
    index = BookIndex.open(layout)

    assert manifest.vector_index.type == "IVF_HNSW_SQ"
    assert {"nprobes", "ef", "refine_factor"} <= set(manifest.vector_index.params)
    assert ("vector",) in {tuple(ix.columns) for ix in index.table.list_indices()}
    query = QueryEncoder.load(layout.encoder).encode(["a cat helps solve a murder at a bakery competition"])
    assert index.vector_search(query[0], limit=3).to_list()[0]["id"] == "test:7"


def test_small_table_is_searched_brute_force(layout: Layout) -> None:
    build_index(layout, progress=False)
    index = BookIndex.open(layout)
    assert ("vector",) not in {tuple(ix.columns) for ix in index.table.list_indices()}
    query = QueryEncoder.load(layout.encoder).encode(["workers stranded on a moon revolt"])[0]
    hits = index.vector_search(query, limit=12).to_list()
    assert hits[0]["id"] == "test:4" and len(hits) == 12
    distances = [h["_distance"] for h in hits]
    assert distances == sorted(distances) and 0 <= distances[0] < 1


def test_index_uri_elsewhere_is_built_switched_and_read_there(tmp_path: Path, exported_encoder: Path) -> None:
    # VIBESHELF_INDEX_URI: the tables live at a URI of their own (a file:// URI here; s3://, gs://, az://
    # go through the same lancedb.connect), the manifest stays in the home.
    store = tmp_path / "object-store" / "vibeshelf"
    layout = Layout(tmp_path / "home", index_uri=store.as_uri()).ensure()
    write_catalog(layout)
    install_encoder(exported_encoder, layout)
    first = build_index(layout, progress=False)
    reader = BookIndex.open(layout)
    assert reader.table.count_rows() == 12
    assert not layout.lancedb.exists()  # nothing under <home>/lancedb
    assert (store / f"{first.table}.lance").is_dir()

    second = build_index(layout, progress=False)
    assert not reader.is_current()  # a replica learns of the new build from the manifest...
    assert BookIndex.open(layout).table.name == second.table  # ...and opens it whole
    assert reader.table.count_rows() == 12  # the old table still answers until it lets go
