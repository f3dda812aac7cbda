"""The reranker: Bayesian-smoothed quality, popularity, and diversification rules."""

from __future__ import annotations

import math

import pyarrow as pa

from vibeshelf.retrieval.reranker import (
    DEFAULT_WEIGHTS,
    QualityPrior,
    RerankWeights,
    diversify,
    rerank,
    work_key,
)


def book(i: int, **kw) -> dict:
    row = {
        "id": f"t:{i}",
        "title": f"Book {i}",
        "authors": [f"Author {i}"],
        "series": None,
        "work_id": str(i),
        "average_rating": 4.0,
        "ratings_count": 1000,
    }
    row.update(kw)
    return row


GOODBOOKS_LIKE = QualityPrior(mean_rating=4.0, prior_count=20_000, log_max_count=math.log1p(4_800_000))


def test_prior_from_catalog_uses_weighted_mean_and_quartile() -> None:
    table = pa.table(
        {
            "average_rating": pa.array([4.0, 3.0, 5.0, 4.5], pa.float32()),
            "ratings_count": pa.array([300, 100, 100, 500], pa.int64()),
        }
    )
    prior = QualityPrior.from_catalog(table)
    assert math.isclose(
        prior.mean_rating, (4.0 * 300 + 3.0 * 100 + 5.0 * 100 + 4.5 * 500) / 1000, rel_tol=1e-6
    )
    assert prior.prior_count == 100.0  # 25th percentile of the counts
    assert math.isclose(prior.log_max_count, math.log1p(500))


def test_few_perfect_ratings_do_not_beat_many_good_ones() -> None:
    few = GOODBOOKS_LIKE.bayes_rating(5.0, 3)
    many = GOODBOOKS_LIKE.bayes_rating(4.3, 300_000)
    assert few < many
    assert abs(few - GOODBOOKS_LIKE.mean_rating) < 0.01  # three readers barely move the prior
    assert abs(many - 4.3) < 0.03
    assert GOODBOOKS_LIKE.bayes_rating(None, 10) == GOODBOOKS_LIKE.mean_rating


def test_quality_breaks_relevance_ties_with_smoothing() -> None:
    weights = RerankWeights(relevance=1.0, quality=0.5, popularity=0.0)
    loved = book(1, average_rating=4.6, ratings_count=900_000)
    disliked = book(2, average_rating=3.4, ratings_count=900_000)
    barely_rated = book(3, average_rating=5.0, ratings_count=3)
    items = [(disliked, 1.0), (barely_rated, 1.0), (loved, 1.0)]
    ranked = rerank(items, lambda it: it[1], lambda it: it[0], GOODBOOKS_LIKE, weights)
    assert [s.item[0]["id"] for s in ranked] == ["t:1", "t:3", "t:2"]


def test_popularity_breaks_relevance_ties() -> None:
    weights = RerankWeights(relevance=1.0, quality=0.0, popularity=0.5)
    items = [
        (book(1, ratings_count=120), 1.0),
        (book(2, ratings_count=2_000_000), 1.0),
        (book(3, ratings_count=0), 1.0),
    ]
    ranked = rerank(items, lambda it: it[1], lambda it: it[0], GOODBOOKS_LIKE, weights)
    assert [s.item[0]["id"] for s in ranked] == ["t:2", "t:1", "t:3"]
    assert ranked[-1].popularity == 0.0


def test_relevance_dominates_with_zero_quality_weights() -> None:
    weights = RerankWeights(relevance=1.0, quality=0.0, popularity=0.0)
    items = [(book(i, average_rating=5.0 - i / 10, ratings_count=10**i), 1.0 / (i + 1)) for i in range(5)]
    ranked = rerank(items, lambda it: it[1], lambda it: it[0], GOODBOOKS_LIKE, weights)
    assert [s.item[0]["id"] for s in ranked] == [f"t:{i}" for i in range(5)]
    assert ranked[0].relevance == 1.0  # normalised by the best fused score
    assert all(0.0 <= s.quality <= 1.0 and 0.0 <= s.popularity <= 1.0 for s in ranked)


def test_one_edition_per_work() -> None:
    first = book(1, work_id="w1")
    second_edition = book(2, work_id="w1", title="Book 1 (Anniversary Edition)")
    no_work_a = book(3, work_id=None, title="Dracula", authors=["Bram Stoker"])
    no_work_b = book(4, work_id=None, title="DRACULA!", authors=["Bram  Stoker"])
    out = diversify([first, second_edition, no_work_a, no_work_b], lambda b: b)
    assert [b["id"] for b in out] == ["t:1", "t:3"]
    assert work_key(no_work_a) == work_key(no_work_b)


def test_at_most_two_per_author_and_series_in_the_top_window() -> None:
    rowling = [book(i, authors=["J.K. Rowling"], series="Harry Potter") for i in range(5)]
    others = [book(10 + i) for i in range(12)]
    series_only = [book(30 + i, series="Discworld") for i in range(3)]  # different authors, same series
    ordered = rowling + series_only + others
    out = diversify(ordered, lambda b: b)
    top10 = out[: DEFAULT_WEIGHTS.window]
    assert sum("J.K. Rowling" in b["authors"] for b in top10) == 2
    assert sum(b["series"] == "Discworld" for b in top10) == 2
    # Nothing is lost: deferred books follow the window in their original order.
    assert sorted(b["id"] for b in out) == sorted(b["id"] for b in ordered)
    deferred_rowling = [b["id"] for b in out[10:] if "J.K. Rowling" in b["authors"]]
    assert deferred_rowling == ["t:2", "t:3", "t:4"]


def test_co_authors_count_for_each_author() -> None:
    items = [
        book(1, authors=["Neil Gaiman", "Terry Pratchett"]),
        book(2, authors=["Terry Pratchett"]),
        book(3, authors=["Terry Pratchett"]),
        book(4),
    ]
    out = diversify(items, lambda b: b)
    assert [b["id"] for b in out] == ["t:1", "t:2", "t:4", "t:3"]
