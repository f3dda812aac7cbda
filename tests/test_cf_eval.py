"""The held-out split, the ranking metrics, and the model comparison on real (mini) ratings."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from vibeshelf.ingest.catalog import RATINGS_SCHEMA
from vibeshelf.retrieval.cf_eval import (
    batch_metrics,
    evaluate_cf,
    goodbooks_ratings,
    ndcg_at_k,
    recall_at_k,
    render_cf_table,
)
from vibeshelf.retrieval.cf_models import encode_ratings
from vibeshelf.retrieval.cf_split import split_liked


def user_ratings() -> pa.Table:
    """u10 likes 10 books, u3 likes 3, u2 likes 2, u7 likes 7; everyone also rated 4 books low."""
    rows = []
    for user, n_liked in (("u10", 10), ("u3", 3), ("u2", 2), ("u7", 7)):
        rows += [(user, f"b{i}", 4 + i % 2) for i in range(n_liked)]
        rows += [(user, f"low{i}", 1 + i % 3) for i in range(4)]
    users, books, ratings = zip(*rows, strict=True)
    return pa.table({"user_id": users, "book_id": books, "rating": ratings}, schema=RATINGS_SCHEMA)


def test_split_hides_a_fifth_of_liked_books_only() -> None:
    codes = encode_ratings(user_ratings())
    split = split_liked(codes, fraction=0.2, seed=0)
    # User codes follow first appearance.
    user_names = {name: i for i, name in enumerate(["u10", "u3", "u2", "u7"])}
    hidden_per_user = np.bincount(split.hidden_users, minlength=4)
    # round(0.2 * n) half up: 10 -> 2, 3 -> 1 (0.6), 2 -> 0 (0.4), 7 -> 1 (1.4)
    assert hidden_per_user[[user_names[u] for u in ("u10", "u3", "u2", "u7")]].tolist() == [2, 1, 0, 1]
    assert split.test_users.tolist() == sorted(user_names[u] for u in ("u10", "u3", "u7"))

    all_pairs = set(zip(codes.users.tolist(), codes.items.tolist(), strict=True))
    hidden = set(zip(split.hidden_users.tolist(), split.hidden_items.tolist(), strict=True))
    train = set(zip(split.train.users.tolist(), split.train.items.tolist(), strict=True))
    assert hidden.isdisjoint(train) and hidden | train == all_pairs
    pairs = zip(codes.users.tolist(), codes.items.tolist(), strict=True)
    rating_of = dict(zip(pairs, codes.ratings.tolist(), strict=True))
    assert all(rating_of[p] >= 4 for p in hidden)  # only liked books are hidden
    assert len(split.train) == len(codes) - 4


def test_split_is_seeded() -> None:
    codes = encode_ratings(user_ratings())
    a, b = split_liked(codes, seed=1), split_liked(codes, seed=1)
    assert a.hidden_items.tolist() == b.hidden_items.tolist()
    draws = {tuple(split_liked(codes, seed=s).hidden_items.tolist()) for s in range(8)}
    assert len(draws) > 1
    with pytest.raises(ValueError, match="fraction"):
        split_liked(codes, fraction=1.0)


def test_metrics_match_a_hand_computed_example() -> None:
    ranked = ["a", "b", "c", "d", "e"]
    relevant = {"b", "d", "x"}
    # top 3 = a, b, c: one hit (b at rank 2) of min(3, 3) relevant.
    assert recall_at_k(ranked, relevant, 3) == pytest.approx(1 / 3)
    idcg = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at_k(ranked, relevant, 3) == pytest.approx((1 / math.log2(3)) / idcg)
    # top 5: b (rank 2) and d (rank 4) of 3 relevant.
    assert recall_at_k(ranked, relevant, 5) == pytest.approx(2 / 3)
    assert ndcg_at_k(ranked, relevant, 5) == pytest.approx((1 / math.log2(3) + 1 / math.log2(5)) / idcg)
    # More relevant books than k: recall divides by k, and a perfect list scores 1.
    assert recall_at_k(["b", "d"], relevant, 2) == 1.0 and ndcg_at_k(["b", "d"], relevant, 2) == 1.0
    # A short list is padded with misses.
    assert recall_at_k(["x"], relevant, 20) == pytest.approx(1 / 3)


def test_batch_metrics_average_per_user() -> None:
    hits = np.array([[True, False], [False, False], [False, True]])
    recall, ndcg = batch_metrics(hits, np.array([1, 4, 2]))
    assert recall.tolist() == [1.0, 0.0, 0.5]
    assert ndcg[0] == 1.0 and ndcg[1] == 0.0
    assert ndcg[2] == pytest.approx((1 / math.log2(3)) / (1 + 1 / math.log2(3)))
    with pytest.raises(ValueError, match="relevant"):
        batch_metrics(hits, np.array([1, 0, 2]))


@pytest.mark.slow
def test_ease_beats_popularity_and_item_knn_on_goodbooks_mini(shared_data: Path) -> None:
    ratings = goodbooks_ratings(shared_data / "goodbooks-mini" / "ratings.csv")
    assert ratings.schema.equals(RATINGS_SCHEMA) and ratings.num_rows == 161_410
    assert ratings["book_id"][0].as_py().startswith("goodbooks:")
    rows = evaluate_cf(ratings, tune=False, progress=False)
    by_model = {r.model: r for r in rows}
    assert list(by_model) == ["popularity", "item_knn", "ease", "ease (served)"]
    for r in rows:
        assert 0.0 <= r.recall <= 1.0 and 0.0 <= r.ndcg <= 1.0 and r.k == 20
        assert r.items == 500 and r.users > 3000
    ease, knn, pop = by_model["ease"], by_model["item_knn"], by_model["popularity"]
    assert ease.recall > knn.recall > pop.recall
    assert by_model["ease (served)"].recall > knn.recall
    table = render_cf_table(rows)
    assert "Recall@20" in table and "ease (served)" in table


def test_goodbooks_ratings_reports_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="ratings file not found"):
        goodbooks_ratings(tmp_path / "ratings.csv")
