"""The held-out split, the ranking metrics, and the model comparison on real (mini) ratings."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from vibeshelf.catalog import RATINGS_SCHEMA
from vibeshelf.retrieval.cf.config import CFModelSpec
from vibeshelf.retrieval.cf.eval import (
    batch_metrics,
    chosen_config,
    default_candidates,
    evaluate_cf,
    goodbooks_ratings,
    history_query,
    ndcg_at_k,
    recall_at_k,
    render_cf_table,
    seed_query,
)
from vibeshelf.retrieval.cf.models import encode_ratings
from vibeshelf.retrieval.cf.split import split_liked


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


def test_seed_query_draws_five_star_training_books_and_excludes_only_them() -> None:
    # u10 rated b0..b9 4/5 alternately (b1, b3, ... five stars); u7 b0..b6; u3 three liked books.
    codes = encode_ratings(user_ratings())
    split = split_liked(codes, fraction=0.2, seed=0)
    eligible = np.ones(codes.n_items, dtype=bool)
    q3 = seed_query(split, 3, eligible=eligible, seed=1)
    # Users with 3+ five-star books left in training, among those with a hidden book (u3 has only b1
    # rated five, u2 hides nothing).
    five = split.train.users[split.train.ratings == 5]
    expected = [u for u in split.test_users.tolist() if (five == u).sum() >= 3]
    assert q3.users.tolist() == expected and 0 in expected and 1 not in expected and 2 not in expected
    assert (np.diff(q3.rows.indptr) == 3).all() and not q3.exclude_all_rated
    train = set(zip(split.train.users.tolist(), split.train.items.tolist(), strict=True))
    pairs = zip(codes.users.tolist(), codes.items.tolist(), strict=True)
    rating = dict(zip(pairs, codes.ratings.tolist(), strict=True))
    for row, user in enumerate(q3.users.tolist()):
        for item in q3.rows[row].indices.tolist():
            assert (user, item) in train and rating[(user, item)] == 5
    # Books outside ``eligible`` are never seeds.
    only_b1 = np.array([name == "b1" for name in codes.item_ids])
    q1 = seed_query(split, 1, eligible=only_b1, seed=1)
    assert set(q1.rows.indices.tolist()) <= {int(np.flatnonzero(only_b1)[0])}
    assert seed_query(split, 3, eligible=eligible, seed=1).rows.nnz == q3.rows.nnz  # seeded
    history = history_query(split, 4)
    assert history.exclude_all_rated and sorted(history.users.tolist()) == sorted(split.test_users.tolist())


def test_history_weights_weigh_each_book_by_its_stars() -> None:
    spec = CFModelSpec(algorithm="ease", history_weights=(-0.2, 0.0, 0.4, 0.8, 1.0))
    assert [spec.history_weight(s) for s in (1, 2, 3, 4, 5)] == [-0.2, 0.0, 0.4, 0.8, 1.0]
    assert spec.history_weight(3.5) == pytest.approx(0.6)  # StoryGraph's quarter stars fall between
    assert spec.history_weight(4.75) == pytest.approx(0.95)
    assert spec.history_weight(None) == spec.history_weight(4) == spec.history_weight(0)  # unrated: liked
    assert CFModelSpec(algorithm="ease").history_weight(1) == 1.0  # no weights: every book counts the same
    with pytest.raises(ValueError, match="history_weights"):
        CFModelSpec(algorithm="ease", history_weights=(0.0, 0.0, 0.0, 0.0, -1.0))

    # The history protocol reads every training rating with its weight, as the server scores a library.
    split = split_liked(encode_ratings(user_ratings()), fraction=0.2, seed=0)
    plain, weighted = history_query(split, 0), history_query(split, 0, spec)
    assert plain.rows.nnz == weighted.rows.nnz and set(plain.rows.data.tolist()) == {1.0}
    rated = {
        (u, i): r
        for u, i, r in zip(
            split.train.users.tolist(), split.train.items.tolist(), split.train.ratings.tolist(), strict=True
        )
    }
    coo = weighted.rows.tocoo()
    for row, item, value in zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True):
        assert value == pytest.approx(spec.history_weight(rated[(int(weighted.users[row]), item)]))


# The refinement stages left out where a test is about something else (they fit each best model more times).
PLAIN: dict = {"rating_weights_grid": (None,), "two_step_grid": (0.0,), "history_weights_grid": (None,)}


@pytest.mark.slow
def test_both_protocols_choose_on_validation_and_report_test(shared_data: Path) -> None:
    ratings = goodbooks_ratings(shared_data / "goodbooks-mini" / "ratings.csv")
    assert ratings.schema.equals(RATINGS_SCHEMA) and ratings.num_rows == 161_410
    assert ratings["book_id"][0].as_py().startswith("goodbooks:")
    candidates = default_candidates(
        ease_grid=((100.0, 0.0), (1000.0, 0.0)),
        knn_grid=((50, 10.0),),
        rp3_grid=((100, 1.0, 0.0), (100, 1.0, 0.5)),
        min_rating_grid=(4,),
    )
    rows = evaluate_cf(ratings, candidates=candidates, progress=False, **PLAIN)
    assert [(r.protocol, r.model) for r in rows] == [
        (p, m) for p in ("history", "seeds") for m in ("popularity", "item_knn", "rp3beta", "ease")
    ]
    for r in rows:
        assert 0.0 <= r.recall <= 1.0 and 0.0 <= r.ndcg <= 1.0 and 0.0 <= r.val_recall <= 1.0
        assert r.k == 20 and r.items == 500 and r.users > 1000
    by = {(r.protocol, r.model): r for r in rows}
    for protocol in ("history", "seeds"):
        chosen = [r for r in rows if r.protocol == protocol and r.chosen]
        # The winner is the best on validation, whatever test says.
        assert len(chosen) == 1
        assert chosen[0].val_recall == max(r.val_recall for r in rows if r.protocol == protocol)
        assert (
            min(by[(protocol, m)].recall for m in ("item_knn", "rp3beta", "ease"))
            > by[(protocol, "popularity")].recall
        )
    seeds = by[("seeds", "rp3beta")]
    assert set(seeds.by_seeds) == set(seeds.val_by_seeds) == {1, 3, 5}
    assert seeds.recall == pytest.approx(np.mean(list(seeds.by_seeds.values())))
    assert seeds.by_seeds[5] > seeds.by_seeds[1]  # more seeds, better picks
    # Each protocol keeps its own best setting: seeds favour the larger EASE lambda here.
    assert by[("history", "ease")].params["l2"] == 100 and by[("seeds", "ease")].params["l2"] == 1000
    config = chosen_config(rows)
    assert config.seeds.algorithm == next(r.model for r in rows if r.protocol == "seeds" and r.chosen)
    assert config.history.algorithm == next(r.model for r in rows if r.protocol == "history" and r.chosen)
    table = render_cf_table(rows)
    assert "test R@20" in table and "seeds" in table and "*" in table


@pytest.mark.slow
def test_content_blend_is_tried_on_validation_when_the_catalog_is_given(goodbooks_mini_catalog) -> None:
    import pyarrow.parquet as pq

    ratings = pq.read_table(goodbooks_mini_catalog.ratings)
    catalog = pq.read_table(goodbooks_mini_catalog.catalog)
    candidates = default_candidates(
        ease_grid=((1000.0, 0.0),), knn_grid=((20, 10.0),), rp3_grid=((20, 0.5, 0.2),), min_rating_grid=(0,)
    )
    plain = evaluate_cf(ratings, candidates=candidates, progress=False, **PLAIN)
    mixed = evaluate_cf(
        ratings, candidates=candidates, catalog=catalog, content_grid=(1.0, 3.0), progress=False, **PLAIN
    )
    best = {
        name: max(r.val_recall for r in rows if r.protocol == "seeds")
        for name, rows in (("plain", plain), ("mixed", mixed))
    }
    # Same splits, more candidates: the blend can only match or beat the plain models on validation.
    assert best["mixed"] >= best["plain"]
    blended = [r for r in mixed if r.protocol == "seeds" and "content_weight" in r.params]
    for row in blended:
        assert row.params["content_weight"] in (1.0, 3.0) and row.model in ("item_knn", "rp3beta", "ease")
    winner = next(r for r in mixed if r.protocol == "seeds" and r.chosen)
    assert chosen_config(mixed).seeds.content_weight == winner.params.get("content_weight", 0.0)


@pytest.mark.slow
def test_rating_weights_and_two_step_are_tried_on_validation(shared_data: Path) -> None:
    ratings = goodbooks_ratings(shared_data / "goodbooks-mini" / "ratings.csv")
    start = [
        CFModelSpec(algorithm="popularity", min_rating=4),
        CFModelSpec(algorithm="rp3beta", params={"neighbours": 20, "alpha": 0.5, "beta": 0.2}, min_rating=0),
    ]
    weights = (0.2, 0.2, 0.4, 0.8, 1.0)
    plain = evaluate_cf(ratings, candidates=start, progress=False, **PLAIN)
    refined = evaluate_cf(
        ratings,
        candidates=start,
        rating_weights_grid=(None, weights),
        two_step_grid=(0.0, 1.0),
        progress=False,
    )
    for protocol in ("history", "seeds"):
        best = {
            name: next(r for r in rows if r.protocol == protocol and r.model == "rp3beta")
            for name, rows in (("plain", plain), ("refined", refined))
        }
        # Same splits, more candidates: the refined pick can only match or beat the plain one on validation.
        assert best["refined"].val_recall >= best["plain"].val_recall
        spec = best["refined"].spec
        assert spec.rating_weights in (None, weights) and spec.two_step in (0.0, 1.0)
        if spec.two_step:
            assert best["refined"].params["two_step"] == 1.0
    seeds = chosen_config(refined).seeds
    assert seeds == next(r.spec for r in refined if r.protocol == "seeds" and r.chosen)


@pytest.mark.slow
def test_history_weights_are_chosen_on_validation_for_histories_only(shared_data: Path) -> None:
    ratings = goodbooks_ratings(shared_data / "goodbooks-mini" / "ratings.csv")
    start = [
        CFModelSpec(algorithm="popularity", min_rating=4),
        CFModelSpec(algorithm="ease", params={"l2": 50.0, "dropout": 0.25}, min_rating=0),
    ]
    lead = (0.3, 0.3, 0.6, 0.9, 1.0)
    grid = {**PLAIN, "history_weights_grid": (None, (0.0, 0.0, 0.0, 1.0, 1.0), lead)}
    plain = evaluate_cf(ratings, candidates=start, progress=False, **PLAIN)
    weighted = evaluate_cf(ratings, candidates=start, progress=False, **grid)

    def ease(rows: list, protocol: str):
        return next(r for r in rows if r.protocol == protocol and r.model == "ease")

    history = ease(weighted, "history")
    assert history.val_recall >= ease(plain, "history").val_recall  # more candidates, same splits
    assert history.spec.history_weights in grid["history_weights_grid"]
    if history.spec.history_weights is not None:  # the label says how the history was weighed
        assert history.params["history_weights"] == "/".join(f"{w:g}" for w in history.spec.history_weights)
        assert history.recall != ease(plain, "history").recall  # test scored with the chosen weights
    # A few five-star seeds weigh the same whatever the mapping: the seeds protocol is untouched.
    assert ease(weighted, "seeds").spec.history_weights is None
    assert ease(weighted, "seeds").recall == ease(plain, "seeds").recall


def test_goodbooks_ratings_reports_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="ratings file not found"):
        goodbooks_ratings(tmp_path / "ratings.csv")


def test_vibeshelf_eval_table_shows_both_protocols_validation_and_test() -> None:
    from rich.console import Console

    from vibeshelf.retrieval.cf.eval import CFEvalRow
    from vibeshelf.retrieval.evaluation import cf_table

    def row(
        protocol: str, model: str, val: float, test: float, chosen: bool, by: dict[int, float]
    ) -> CFEvalRow:
        return CFEvalRow(
            protocol=protocol,
            model=model,
            params={"l2": 50.0},
            k=20,
            val_recall=val,
            recall=test,
            ndcg=0.3,
            by_seeds=by,
            val_by_seeds=by,
            fit_seconds=1.0,
            items=9934,
            users=1000,
            chosen=chosen,
            spec=CFModelSpec(algorithm=model, params={"l2": 50.0}),  # type: ignore[arg-type]
        )

    rows = [
        row("history", "ease", 0.2385, 0.3063, True, {}),
        row("seeds", "rp3beta", 0.0829, 0.0870, True, {1: 0.07, 3: 0.09, 5: 0.1}),
        row("seeds", "ease", 0.0758, 0.0813, False, {1: 0.06, 3: 0.08, 5: 0.09}),
    ]
    console = Console(width=200, record=True)
    console.print(cf_table(rows, 455_867))
    text = console.export_text()
    assert "455,867 ratings" in text and "val R@20" in text and "test R@20" in text
    assert "ease *" in text and "rp3beta *" in text and "0.3063" in text and "0.070/0.090/0.100" in text
