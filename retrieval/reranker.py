"""The reranker: relevance blended with quality and popularity, then diversified.

Scoring (every component is in [0, 1], so the weights are comparable)::

    score = relevance_weight  * relevance            # fused retrieval score / best fused score in the list
          + quality_weight    * quality              # Bayesian-smoothed average rating, rescaled
          + popularity_weight * popularity           # log(1 + ratings_count) / log(1 + max ratings_count)

``quality`` smooths the average rating ``r`` of a book with ``n`` ratings towards the catalog mean ``m``
with a prior of ``C`` ratings: ``bayes = (C * m + n * r) / (C + n)``; ``quality = clip((bayes - 3) / 2)``.
``C`` is the catalog's 25th percentile of ratings_count (at least 10), so a 5.0 from 3 readers stays near
the mean while a 4.3 from 300k readers keeps its 4.3, on goodbooks (counts in the thousands) and on
Book-Crossing (counts in single digits) alike.

Diversification then walks the scored list once: a second edition of a work already listed is dropped
(``work_id``, else normalised title + first author); inside the first ``window`` (10) places at most
``max_per_author`` / ``max_per_series`` (2) books share an author or a series, the rest are deferred
to after the window, in score order.

The weights live in ``DEFAULT_WEIGHTS`` only. They were chosen by a grid search on the dev set
(``eval/dev_queries.jsonl``, ``vibeshelf eval --grid``) over the goodbooks-10k index, jointly with the
fusion settings; the grid and its result are recorded in ``WEIGHT_GRID_NOTE`` below.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, Field

from vibeshelf.text import fold

T = TypeVar("T")


class RerankWeights(BaseModel):
    model_config = ConfigDict(frozen=True)

    relevance: float = Field(ge=0)
    quality: float = Field(ge=0)
    popularity: float = Field(ge=0)
    window: int = Field(default=10, ge=1, description="Positions in which the author/series caps apply.")
    max_per_author: int = Field(default=2, ge=1)
    max_per_series: int = Field(default=2, ge=1)


# The one place the weights are set. See WEIGHT_GRID_NOTE for how they were chosen.
DEFAULT_WEIGHTS = RerankWeights(relevance=1.0, quality=0.2, popularity=0.1)

WEIGHT_GRID_NOTE = """
Grid (`vibeshelf eval --grid`, retrieval.evaluation.default_grid), goodbooks-10k index of 2026-11-22,
75 dev queries (43 known-item, 32 mood), NDCG@10 over all queries (known-item / mood). Single
retrievers for comparison: BM25 0.748 (0.930/0.503), vector 0.715 (0.646/0.807).

  fusion x rerank: RRF k in {10, 30, 60} x vector weight in {1, 1.5, 2} x length-scaled text weight
  (text_full_terms in {0, 10}), and convex score fusion with vector weight in {1, 1.5, 2}; each with no
  rerank and with quality in {0, 0.1, 0.2, 0.4} x popularity in {0, 0.1, 0.2} (relevance weight 1).

  best RRF:     k=30, w_vec=1, terms=10        fused 0.855 (0.897/0.798), reranked 0.864 (0.909/0.802)
  best convex:  w_vec=1, terms=10              fused 0.876 (0.935/0.797), reranked 0.886 (0.953/0.795)
  without length-scaling the text weight, the best setting reached 0.840 (mood queries suffer).

Chosen: convex fusion, w_vec=1, terms=10 (``hybrid_search.DEFAULT_FUSION``) and quality 0.2,
popularity 0.1 here: 0.883 (0.952/0.791). Every quality/popularity pair on the grid lands within
0.882-0.886 for that fusion (one query's worth of NDCG), so the centre of the plateau is taken, not the
noisy argmax (0.4, 0). Reranking adds about +0.01 NDCG over the fused order; its main job is the
guarantees (smoothed quality, one edition per work, at most two per author/series in the top 10).
"""


@dataclass(frozen=True)
class QualityPrior:
    """Catalog statistics the quality and popularity terms need: computed once per index."""

    mean_rating: float = 4.0
    prior_count: float = 10.0
    log_max_count: float = math.log1p(1_000_000)

    @classmethod
    def from_catalog(cls, table: pa.Table) -> QualityPrior:
        """Mean rating (weighted by ratings_count), the 25th-percentile count as prior, the max count."""
        counts = pc.fill_null(table["ratings_count"], 0).cast(pa.float64())
        ratings = table["average_rating"].cast(pa.float64())
        rated = pc.and_(pc.greater(counts, 0), pc.is_valid(ratings))
        counts_r = pc.filter(counts, rated)
        ratings_r = pc.filter(ratings, rated)
        if len(counts_r) == 0:
            return cls()
        total = pc.sum(counts_r).as_py()
        mean = pc.sum(pc.multiply(counts_r, ratings_r)).as_py() / total
        p25 = pc.quantile(counts_r, q=0.25).to_pylist()[0]
        max_count = pc.max(counts_r).as_py()
        return cls(mean_rating=mean, prior_count=max(10.0, p25), log_max_count=math.log1p(max_count))

    def bayes_rating(self, average_rating: float | None, ratings_count: int | None) -> float:
        n = float(ratings_count or 0)
        if average_rating is None or n <= 0:
            return self.mean_rating
        c = self.prior_count
        return (c * self.mean_rating + n * float(average_rating)) / (c + n)

    def quality(self, average_rating: float | None, ratings_count: int | None) -> float:
        return min(1.0, max(0.0, (self.bayes_rating(average_rating, ratings_count) - 3.0) / 2.0))

    def popularity(self, ratings_count: int | None) -> float:
        if not ratings_count or ratings_count <= 0:
            return 0.0
        return min(1.0, math.log1p(ratings_count) / self.log_max_count)


@dataclass
class Scored:
    """One reranked item: the scores that explain its place, plus the caller's object."""

    item: Any
    relevance: float
    quality: float
    popularity: float
    score: float


_PUNCT = re.compile(r"[^\w\s]+")
_SPACE = re.compile(r"\s+")


def _norm(text: str) -> str:
    text = fold(text)
    return _SPACE.sub(" ", _PUNCT.sub("", text)).strip()


def work_key(book: Mapping[str, Any]) -> str:
    """One key per work: editions of the same book share it."""
    if book.get("work_id"):
        return f"w:{book['work_id']}"
    authors = book.get("authors") or []
    first = _norm(authors[0]) if authors else ""
    return f"t:{_norm(book.get('title') or '')}|{first}"


def diversify(
    items: Sequence[T],
    book_of: Callable[[T], Mapping[str, Any]],
    weights: RerankWeights = DEFAULT_WEIGHTS,
) -> list[T]:
    """Drop repeated editions; cap books per author and per series inside the first window.

    ``items`` must already be in score order; deferred items keep their relative order after the window.
    """
    return _diversify(
        items,
        lambda it: work_key(book_of(it)),
        lambda it: [_norm(a) for a in (book_of(it).get("authors") or [])],
        lambda it: _norm(book_of(it)["series"]) if book_of(it).get("series") else None,
        weights,
    )


K = TypeVar("K")


def _diversify(
    items: Sequence[T],
    work_of: Callable[[T], K],
    authors_of: Callable[[T], Sequence[K]],
    series_of: Callable[[T], K | None],
    weights: RerankWeights,
) -> list[T]:
    """``diversify`` over keys (the strings it compares, or ids standing for them one to one)."""
    seen_works: set[K] = set()
    unique: list[T] = []
    for item in items:
        key = work_of(item)
        if key in seen_works:
            continue
        seen_works.add(key)
        unique.append(item)

    head: list[T] = []
    deferred: list[T] = []
    per_author: Counter[K] = Counter()
    per_series: Counter[K] = Counter()
    for item in unique:
        if len(head) >= weights.window:
            deferred.append(item)
            continue
        authors = authors_of(item)
        series = series_of(item)
        over_author = any(per_author[a] >= weights.max_per_author for a in authors)
        over_series = series is not None and per_series[series] >= weights.max_per_series
        if over_author or over_series:
            deferred.append(item)
            continue
        head.append(item)
        per_author.update(authors)
        if series is not None:
            per_series[series] += 1
    return head + deferred


def rerank(
    items: Sequence[T],
    relevance_of: Callable[[T], float],
    book_of: Callable[[T], Mapping[str, Any]],
    prior: QualityPrior,
    weights: RerankWeights = DEFAULT_WEIGHTS,
    *,
    diversified: bool = True,
) -> list[Scored]:
    """Score ``items`` (any objects; ``book_of`` gives their catalog row) and return them best first."""

    def quality(it: T) -> float:
        book = book_of(it)
        return prior.quality(book.get("average_rating"), book.get("ratings_count"))

    scored = _scored(
        items, relevance_of, quality, lambda it: prior.popularity(book_of(it).get("ratings_count")), weights
    )
    if diversified:
        scored = diversify(scored, lambda s: book_of(s.item), weights)
    return scored


def _scored(
    items: Sequence[T],
    relevance_of: Callable[[T], float],
    quality_of: Callable[[T], float],
    popularity_of: Callable[[T], float],
    weights: RerankWeights,
) -> list[Scored]:
    if not items:
        return []
    raw = [max(0.0, relevance_of(it)) for it in items]
    top = max(raw) or 1.0
    scored: list[Scored] = []
    for it, rel in zip(items, raw, strict=True):
        quality = quality_of(it)
        popularity = popularity_of(it)
        relevance = rel / top
        score = weights.relevance * relevance + weights.quality * quality + weights.popularity * popularity
        scored.append(Scored(it, relevance, quality, popularity, score))
    scored.sort(key=lambda s: s.score, reverse=True)
    return scored


class CatalogRanks:
    """What reranking reads of each catalog row, computed once per index: quality and popularity (as
    ``QualityPrior`` gives them) and ids standing for the work key, normalised authors and series that
    ``diversify`` compares (equal ids exactly where the strings are equal).

    Reranking ~100 candidates from these instead of their rows means rows are made only for the books
    shown (``BookSearch.search``); 10k rows take ~0.4 MB here, where rows as dicts took ~2.6 KB each.
    """

    def __init__(self, catalog: pa.Table, prior: QualityPrior) -> None:
        def column(name: str) -> list[Any]:
            return catalog[name].to_pylist() if name in catalog.column_names else [None] * catalog.num_rows

        counts = column("ratings_count")
        self._quality = np.array(
            [prior.quality(r, n) for r, n in zip(column("average_rating"), counts, strict=True)]
        )
        self._popularity = np.array([prior.popularity(n) for n in counts])
        ids: dict[str, int] = {}  # each distinct string once; dropped after building
        works, series, authors = [], [], []
        starts = [0]
        for work_id, title, names, name in zip(
            column("work_id"), column("title"), column("authors"), column("series"), strict=True
        ):
            book = {"work_id": work_id, "title": title, "authors": names}
            works.append(ids.setdefault(work_key(book), len(ids)))
            series.append(ids.setdefault(_norm(name), len(ids)) if name else -1)
            authors += [ids.setdefault(_norm(a), len(ids)) for a in (names or [])]
            starts.append(len(authors))
        self._works = np.array(works, dtype=np.int32)
        self._series = np.array(series, dtype=np.int32)
        self._authors = np.array(authors, dtype=np.int32)
        self._author_starts = np.array(starts, dtype=np.int64)

    def rerank(
        self,
        items: Sequence[T],
        relevance_of: Callable[[T], float],
        position_of: Callable[[T], int],
        weights: RerankWeights = DEFAULT_WEIGHTS,
        *,
        diversified: bool = True,
    ) -> list[Scored]:
        """``rerank`` for items that know their catalog position: the same scores and order."""
        quality, popularity = self._quality, self._popularity
        scored = _scored(
            items,
            relevance_of,
            lambda it: float(quality[position_of(it)]),
            lambda it: float(popularity[position_of(it)]),
            weights,
        )
        if not diversified:
            return scored
        starts, authors = self._author_starts, self._authors

        def authors_of(s: Scored) -> list[int]:
            p = position_of(s.item)
            return authors[starts[p] : starts[p + 1]].tolist()

        def series_of(s: Scored) -> int | None:
            found = int(self._series[position_of(s.item)])
            return None if found < 0 else found

        return _diversify(
            scored, lambda s: int(self._works[position_of(s.item)]), authors_of, series_of, weights
        )
