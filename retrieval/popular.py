"""Popular books (overall or per genre) and the "I'm feeling lucky" pick.

Popular means most-rated, diversified like every other list (one edition per work, at most two books
of one author or series in the first ten) so "popular fantasy" is not seven Harry Potters.

"Feeling lucky" draws one book from the top of a ranked list with weights decaying geometrically with
rank (0.85 ** rank, so the first has ~16% of the mass of a 20-book pool, the tenth ~4%): the best matches
are the likeliest picks, but asking twice rarely gives the same book. Rank, not score, sets the odds,
so the draw behaves the same whatever the scale of the scores. Pass a seeded ``random.Random`` for a
reproducible pick.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np
import pyarrow.compute as pc

from vibeshelf.retrieval.hybrid_search import HybridSearcher
from vibeshelf.retrieval.reranker import DEFAULT_WEIGHTS, QualityPrior, RerankWeights, Scored, diversify
from vibeshelf.retrieval.search_filters import SearchFilters

# How many of the best-ranked books a lucky pick draws from, and how sharply it favours the best.
LUCKY_POOL = 20
LUCKY_DECAY = 0.85


def popular_books(
    searcher: HybridSearcher,
    prior: QualityPrior,
    filters: SearchFilters | None = None,
    limit: int = 10,
    weights: RerankWeights = DEFAULT_WEIGHTS,
) -> list[Scored]:
    """The most-rated books passing ``filters``, diversified (``Scored.item`` is the catalog row)."""
    counts = (
        pc.fill_null(searcher.catalog["ratings_count"], 0).to_numpy(zero_copy_only=False).astype(np.int64)
    )
    mask = searcher.mask(filters)
    candidates = np.flatnonzero(mask) if mask is not None else np.arange(len(counts))
    if not len(candidates):
        return []
    # Stable sort on -count keeps catalog order among ties, so the list is deterministic.
    order = candidates[np.argsort(-counts[candidates], kind="stable")]
    # Diversification can drop editions and defer authors: take a margin beyond the limit.
    rows = searcher.rows_at(order[: max(limit * 4, limit + 20)].tolist())
    scored = [
        Scored(
            item=row,
            relevance=0.0,
            quality=prior.quality(row.get("average_rating"), row.get("ratings_count")),
            popularity=prior.popularity(row.get("ratings_count")),
            score=prior.popularity(row.get("ratings_count")),
        )
        for row in rows
    ]
    return diversify(scored, lambda s: s.item, weights)[:limit]


def lucky_pick(
    ranked: Sequence[Scored],
    rng: random.Random | None = None,
    pool: int = LUCKY_POOL,
    decay: float = LUCKY_DECAY,
) -> Scored | None:
    """One item drawn from the top ``pool`` of ``ranked`` with probability ~ ``decay ** rank``."""
    top = list(ranked[:pool])
    if not top:
        return None
    rng = rng or random.Random()
    return rng.choices(top, weights=[decay**rank for rank in range(len(top))], k=1)[0]
