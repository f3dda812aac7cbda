"""The search pipeline every surface shares: filters -> hybrid retrieval -> rerank; plus content similarity.

``BookSearch.search`` is what ``search_books``, ``GET /v1/books/search``, ``feeling_lucky``, the eval
harness and the benchmark all call, so they measure and serve the same thing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from vibeshelf.retrieval.filters import build_where, drop_unknowable_pages
from vibeshelf.retrieval.hybrid_search import HybridSearcher, Mode, SearchHit
from vibeshelf.retrieval.reranker import DEFAULT_WEIGHTS, CatalogRanks, QualityPrior, RerankWeights, Scored
from vibeshelf.retrieval.search_filters import SearchFilters

# Arrow and LanceDB compare counts as int64; a bigger bound would fail the query instead of meaning
# "no limit" (an upper bound) or "nothing" (a lower bound).
_INT64_MAX = 2**63 - 1
_COUNT_BOUNDS = ("min_ratings_count", "max_ratings_count", "min_pages", "max_pages")


def _within_int64(filters: SearchFilters | None) -> SearchFilters | None:
    if filters is None:
        return None
    update: dict[str, int | None] = {}
    for name in _COUNT_BOUNDS:
        value = getattr(filters, name)
        if value is not None and value > _INT64_MAX:
            update[name] = None if name.startswith("max_") else _INT64_MAX
    return filters.model_copy(update=update) if update else filters


@dataclass
class SearchOutcome:
    ranked: list[Scored]  # Scored.item is a SearchHit
    where: str | None
    total_candidates: int


class BookSearch:
    def __init__(
        self, searcher: HybridSearcher, prior: QualityPrior, weights: RerankWeights = DEFAULT_WEIGHTS
    ) -> None:
        self.searcher = searcher
        self.prior = prior
        self.weights = weights
        self.ranks = CatalogRanks(searcher.catalog, prior)

    @property
    def table(self) -> Any:
        return self.searcher.table

    def search(
        self,
        query: str,
        filters: SearchFilters | None = None,
        *,
        limit: int = 10,
        mode: Mode = "hybrid",
        reranked: bool = True,
        weights: RerankWeights | None = None,
    ) -> SearchOutcome:
        """Best books for ``query`` that pass ``filters``; ``reranked=False`` keeps the fused order."""
        where = build_where(filters)
        # Candidates carry scores and catalog positions; rows are made only for the `limit` returned.
        hits = self.searcher.candidates(query, filters, mode=mode)
        if reranked:
            ranked = self.ranks.rerank(hits, _relevance, _position, weights or self.weights)
        else:
            ranked = [Scored(h, _relevance(h), 0.0, 0.0, _relevance(h)) for h in hits]
        ranked = ranked[:limit]
        self.searcher.fill_books([s.item for s in ranked])
        self.searcher.annotate(query, [s.item for s in ranked])
        return SearchOutcome(ranked=ranked, where=where, total_candidates=len(hits))

    # --- rows and vectors by id -------------------------------------------------------------------

    def rows(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Catalog rows for ``ids`` that exist, keyed by id."""
        return self.searcher.rows_by_id(ids)

    def usable_filters(self, filters: SearchFilters | None) -> tuple[SearchFilters | None, list[str]]:
        """The part of ``filters`` this catalog can honour, and notes on what it cannot.

        Every tool that takes filters calls this first: page bounds on a catalog without page counts
        would rule out every book, so they are dropped and a note says so (``filters.drop_unknowable_pages``).
        """
        return drop_unknowable_pages(_within_int64(filters), self.searcher.page_counts)

    def constrains(self, filters: SearchFilters | None) -> bool:
        """Whether ``filters`` rule out any book at all (False for None or all-null filters)."""
        return self.searcher.mask(filters) is not None

    def admitted(self, ids: Sequence[str], filters: SearchFilters | None) -> list[str]:
        """``ids``, in order, less those that fail ``filters`` or are not in the catalog.

        Unconstrained filters keep every id as given. Uses the searcher's cached catalog mask, so checking
        hundreds of candidates costs a dict lookup each."""
        mask = self.searcher.mask(filters)
        if mask is None:
            return list(ids)
        position = self.searcher.position
        return [i for i in ids if i in position and bool(mask[position[i]])]

    def similar_to(
        self,
        seed_ids: Sequence[str],
        avoid_ids: Sequence[str] = (),
        limit: int = 10,
        filters: SearchFilters | None = None,
    ) -> list[SearchHit]:
        """Content similarity: books nearest the mean embedding of the seeds that pass ``filters``
        (seeds and avoided excluded)."""
        vecs = list(self.searcher.vectors_by_id(seed_ids).values())
        if not vecs:
            return []
        centroid = np.mean(vecs, axis=0)
        centroid /= np.linalg.norm(centroid) or 1.0
        excluded = list(dict.fromkeys([*seed_ids, *avoid_ids]))
        found = self.searcher.vector_search(centroid, filters, limit, exclude=excluded)
        return [
            SearchHit(
                book=row, fused_score=1.0 - dist, fused_rank=rank, vector_rank=rank, vector_distance=dist
            )
            for rank, (row, dist) in enumerate(found, start=1)
        ]


def _relevance(hit: SearchHit) -> float:
    return hit.fused_score


def _position(hit: SearchHit) -> int:
    return hit.position
