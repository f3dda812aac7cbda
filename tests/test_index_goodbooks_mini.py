"""Integration: goodbooks-mini normalised and indexed (shared session fixture), searched for real."""

from __future__ import annotations

import pytest
from lancedb.query import MultiMatchQuery

from vibeshelf.retrieval.book_index import FTS_COLUMNS, BookIndex
from vibeshelf.retrieval.encoder import QueryEncoder

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def index(goodbooks_mini_index) -> BookIndex:
    return BookIndex.open(goodbooks_mini_index)


def test_counts_and_ids(index: BookIndex) -> None:
    manifest = index.manifest
    assert manifest.counts.books == index.table.count_rows() == 500
    assert manifest.counts.with_description == 500  # the mini set keeps only described books
    ids = index.table.to_arrow().column("id").to_pylist()
    assert len(set(ids)) == 500 and all(i.startswith("goodbooks:") for i in ids)
    assert "goodbooks:1" in ids


def test_exact_title_is_the_top_full_text_hit(index: BookIndex) -> None:
    cases = [("The Catcher in the Rye", "goodbooks:8"), ("Pride and Prejudice", "goodbooks:10")]
    for title, book_id in cases:
        hits = index.table.search(MultiMatchQuery(title, list(FTS_COLUMNS)), query_type="fts").limit(3)
        assert hits.to_list()[0]["id"] == book_id
    by_title = index.table.search("the hunger games", query_type="fts", fts_columns="title").limit(1)
    assert by_title.to_list()[0]["id"] == "goodbooks:1"


def test_paraphrased_description_finds_the_book(index: BookIndex, goodbooks_mini_index) -> None:
    encoder = QueryEncoder.load(goodbooks_mini_index.encoder)
    cases = [
        ("an orphan boy living under the stairs learns he is a wizard", "goodbooks:2"),
        ("a professor of symbols investigates a killing at a Paris museum", "goodbooks:26"),
    ]
    for query, book_id in cases:
        vector = encoder.encode([query])[0]
        hits = index.table.search(vector).distance_type("cosine").limit(1).to_list()
        assert hits[0]["id"] == book_id, (query, hits[0]["title"])
