"""The hybrid searcher's fast paths return exactly what LanceDB itself returns (goodbooks-mini index)."""

from __future__ import annotations

import numpy as np
import pytest
from lancedb.query import MultiMatchQuery

from vibeshelf.retrieval.filters import build_where
from vibeshelf.retrieval.hybrid_search import FusionConfig, HybridSearcher, matched_terms, query_terms
from vibeshelf.tools.models import SearchFilters

FILTERS = [
    None,
    SearchFilters(genres_include=["fantasy", "horror"]),
    SearchFilters(exclude_terms=["vampire", "war"], year_min=1950),
    SearchFilters(min_average_rating=4.2, language="en"),
]


@pytest.fixture(scope="module")
def searcher(mini_services) -> HybridSearcher:
    return mini_services.search.searcher


@pytest.mark.parametrize("filters", FILTERS)
def test_in_memory_vector_search_equals_lancedb_exact_search(searcher, filters) -> None:
    assert searcher.matrix is not None  # 500 rows, no ANN index: the in-memory path
    vector = searcher.encode("a dark and stormy gothic tale")
    ours = searcher.vector_search(vector, filters, 20)
    query = searcher.table.search(vector).distance_type("cosine")
    where = build_where(filters)
    if where:
        query = query.where(where, prefilter=True)
    theirs = query.select(["id", "_distance"]).limit(20).to_arrow()
    assert [row["id"] for row, _ in ours] == theirs["id"].to_pylist()
    np.testing.assert_allclose([d for _, d in ours], theirs["_distance"].to_numpy(), atol=1e-5)


@pytest.mark.parametrize("filters", FILTERS)
def test_masked_full_text_search_equals_lancedb_prefiltered_search(searcher, filters) -> None:
    query = "murder mystery detective in london"
    ours = [row["id"] for row, _ in searcher.text_search(query, filters, 15)]
    fts = MultiMatchQuery(" ".join(query_terms(query)), searcher.text_columns)
    lance = searcher.table.search(fts, query_type="fts")
    where = build_where(filters)
    if where:
        lance = lance.where(where, prefilter=True)
    assert ours == lance.select(["id", "_score"]).limit(15).to_arrow()["id"].to_pylist()


def test_fusion_keeps_each_retrievers_rank_and_orders_by_fused_score(searcher) -> None:
    hits = searcher.search("wizard school magic friendship")
    assert [h.fused_rank for h in hits] == list(range(1, len(hits) + 1))
    scores = [h.fused_score for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert any(h.vector_rank and h.text_rank for h in hits[:10])  # both retrievers contribute
    rrf = HybridSearcher(
        searcher.table, searcher.encoder, FusionConfig(method="rrf", rrf_k=60, text_full_terms=0)
    )
    top = rrf.search("wizard school magic friendship")[0]
    expected = (1 / (60 + top.vector_rank) if top.vector_rank else 0) + (
        1 / (60 + top.text_rank) if top.text_rank else 0
    )
    assert top.fused_score == pytest.approx(expected)


def test_text_only_and_vector_only_modes(searcher) -> None:
    text = searcher.search("hogwarts", mode="text")
    assert text and all(h.vector_rank is None and h.text_rank for h in text)
    vector = searcher.search("hogwarts", mode="vector")
    assert vector and all(h.text_rank is None and h.vector_rank for h in vector)
    assert searcher.search("the of and", mode="text") == []  # only stop words: nothing to match


def test_matched_terms_are_words_in_the_book_singular_or_plural() -> None:
    book = {
        "title": "Salem's Lot",
        "description": "Vampires come to a small town.",
        "authors": ["Stephen King"],
        "genres": ["horror", "paranormal_romance"],
    }
    terms = query_terms("a vampire story in a small-town, romance please")
    assert terms == ["vampire", "small", "town", "romance"]
    assert matched_terms(terms, book) == ["vampire", "small", "town", "romance"]
    assert matched_terms(["king", "queen"], book) == ["king"]
