"""Search ranks candidates without their rows and makes rows only for the books returned: the results are
those of ranking full rows (the rows, scores, ranks and order alike)."""

from __future__ import annotations

import pytest

from vibeshelf.retrieval.reranker import RerankWeights, rerank
from vibeshelf.tools.models import SearchFilters

QUERIES = [
    ("a cozy mystery in a small village", None),
    ("dragons and court intrigue", SearchFilters(year_min=1990)),
    ("the hunger games", None),
    ("sad war story", SearchFilters(genres_exclude=["fantasy"])),
]
TIGHT = RerankWeights(
    relevance=1.0, quality=0.4, popularity=0.3, window=6, max_per_author=1, max_per_series=1
)


def _evidence(scored) -> list[tuple]:
    hit = scored.item
    return [
        scored.relevance,
        scored.quality,
        scored.popularity,
        scored.score,
        hit.fused_score,
        hit.fused_rank,
        hit.vector_rank,
        hit.text_rank,
        hit.vector_distance,
        hit.text_score,
        hit.shelf_score,
        hit.book,
    ]


@pytest.mark.parametrize(("query", "filters"), QUERIES)
@pytest.mark.parametrize("weights", [None, TIGHT])
def test_ranking_candidates_by_position_equals_ranking_their_rows(
    mini_services, query: str, filters: SearchFilters | None, weights: RerankWeights | None
) -> None:
    book_search = mini_services.search
    weights = weights or book_search.weights
    with_rows = book_search.searcher.search(query, filters)
    assert with_rows and all(h.book for h in with_rows)
    expected = rerank(with_rows, lambda h: h.fused_score, lambda h: h.book, book_search.prior, weights)

    candidates = book_search.searcher.candidates(query, filters)
    assert not any(h.book for h in candidates)  # no rows made for ranking
    ranked = book_search.ranks.rerank(candidates, lambda h: h.fused_score, lambda h: h.position, weights)
    book_search.searcher.fill_books([s.item for s in ranked])
    assert [_evidence(s) for s in ranked] == [_evidence(s) for s in expected]

    outcome = book_search.search(query, filters, limit=7, weights=weights)
    assert [_evidence(s) for s in outcome.ranked] == [_evidence(s) for s in expected[:7]]
    assert outcome.total_candidates == len(with_rows)
