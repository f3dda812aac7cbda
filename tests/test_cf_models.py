"""CF models on hand-made interaction matrices with an obvious answer, and the ratings coding."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
import scipy.sparse as sp

from vibeshelf.catalog import IMPLICIT_SCHEMA, RATINGS_SCHEMA
from vibeshelf.retrieval.cf.models import (
    EASE,
    CFDataError,
    Interactions,
    ItemKNN,
    NeighbourTable,
    Popularity,
    RP3beta,
    encode_ratings,
    make_model,
    select_items,
)


def two_groups() -> Interactions:
    """Readers 0-11 read books 0-2 (some also book 3); readers 12-19 read books 4-6. Nobody crosses over.

    Group one is larger, so its books are the most popular overall.
    """
    rows, cols = [], []
    for user in range(12):
        for book in (0, 1, 2):
            rows.append(user)
            cols.append(book)
        if user < 4:
            rows.append(user)
            cols.append(3)
    for user in range(12, 20):
        for book in (4, 5, 6):
            rows.append(user)
            cols.append(book)
    return interactions(sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(20, 7)))


def interactions(matrix: sp.csr_matrix) -> Interactions:
    n = matrix.shape[1]
    ids = np.array([f"b:{i}" for i in range(n)], dtype=object)
    return Interactions(matrix=matrix, items=np.arange(n, dtype=np.int32), item_ids=ids)


def ranking(scores: np.ndarray, exclude: set[int]) -> list[int]:
    return [int(i) for i in np.argsort(-scores, kind="stable") if int(i) not in exclude]


@pytest.mark.parametrize(
    "model",
    [ItemKNN(neighbours=3, shrink=0.0), EASE(l2=1.0), RP3beta(neighbours=3, beta=0.5)],
    ids=["knn", "ease", "rp3beta"],
)
def test_neighbour_models_recommend_within_the_seeds_reader_group(model) -> None:
    inter = two_groups()
    model.fit(inter)
    for seed, group in ((0, {1, 2, 3}), (4, {5, 6})):
        scores = model.score([seed])
        top = ranking(scores, {seed})[: len(group)]
        assert set(top) == group, (model.name, seed, scores)
        outside = [i for i in range(7) if i not in group | {seed}]
        assert scores[outside].max() <= 0.0 < scores[list(group)].min()
    # The two books every group-one reader read score above book 3, which only a third of them read.
    scores = model.score([0])
    assert min(scores[1], scores[2]) > scores[3]


def test_several_seeds_add_up() -> None:
    model = EASE(l2=1.0).fit(two_groups())
    both = model.score([0, 4])
    assert np.allclose(both, model.score([0]) + model.score([4]), atol=1e-6)
    assert set(ranking(both, {0, 4})[:4]) >= {1, 2, 5, 6}


def test_popularity_ignores_the_seed() -> None:
    model = Popularity().fit(two_groups())
    scores = model.score([4])  # a group-two seed still gets group-one's popular books first
    assert ranking(scores, {4})[:3] == [0, 1, 2]
    assert scores.tolist() == [12, 12, 12, 4, 8, 8, 8]


@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_ease_matches_the_closed_form(dropout: float) -> None:
    rng = np.random.default_rng(3)
    matrix = sp.csr_matrix((rng.random((60, 25)) < 0.3).astype(np.float32))
    inter = interactions(matrix)
    model = EASE(l2=7.0, dropout=dropout).fit(inter)
    gram = (matrix.T @ matrix).toarray().astype(np.float64)
    # EDLAE: the penalty grows with each book's own count when dropout > 0.
    gram += np.diag(7.0 + dropout / (1 - dropout) * np.diag(gram))
    p = np.linalg.inv(gram)
    expected = -p / np.diag(p)[None, :]
    np.fill_diagonal(expected, 0.0)
    assert np.allclose(model.weights, expected, atol=1e-5)
    history = matrix[:5]
    assert np.allclose(model.score_users(history), history.toarray() @ expected, atol=1e-4)


@pytest.mark.parametrize("shrink", [0.0, 5.0])
def test_item_knn_is_shrunk_cosine_with_top_neighbours(shrink: float) -> None:
    rng = np.random.default_rng(4)
    matrix = sp.csr_matrix((rng.random((80, 30)) < 0.25).astype(np.float32))
    inter = interactions(matrix)
    model = ItemKNN(neighbours=4, shrink=shrink, block_items=7).fit(inter)  # several blocks
    counts = (matrix.T @ matrix).toarray()
    norms = np.sqrt(np.diag(counts))
    cosine = counts / (norms[:, None] * norms[None, :] + shrink)
    np.fill_diagonal(cosine, 0.0)
    weights = model.weights.toarray()
    assert (np.diff(model.weights.indptr) <= 4).all()
    for row in range(30):
        kept = np.flatnonzero(weights[row])
        assert np.allclose(weights[row, kept], cosine[row, kept], atol=1e-5)
        # Nothing left out beats what was kept.
        assert np.sort(cosine[row])[::-1][3] <= weights[row, kept].min() + 1e-6


@pytest.mark.parametrize(("alpha", "beta"), [(1.0, 0.0), (1.0, 0.6), (0.5, 0.3)])
def test_rp3beta_is_the_damped_three_step_walk(alpha: float, beta: float) -> None:
    rng = np.random.default_rng(6)
    dense = (rng.random((70, 20)) < 0.3).astype(np.float32)
    dense[:, 19] = 0.0  # a book nobody read: an empty row, no division by zero
    model = RP3beta(neighbours=5, alpha=alpha, beta=beta, block_items=6).fit(
        interactions(sp.csr_matrix(dense))
    )
    per_user, per_item = dense.sum(axis=1), dense.sum(axis=0)
    p_ui = np.divide(dense, per_user[:, None], out=np.zeros_like(dense), where=per_user[:, None] > 0) ** alpha
    p_iu = np.divide(dense.T, per_item[:, None], out=np.zeros_like(dense.T), where=per_item[:, None] > 0)
    walk = (p_iu**alpha) @ p_ui
    walk = walk / np.where(per_item > 0, per_item, 1.0)[None, :] ** beta
    np.fill_diagonal(walk, 0.0)
    weights = model.weights.toarray()
    assert (np.diff(model.weights.indptr) <= 5).all() and not weights[19].any()
    for row in range(19):
        kept = np.flatnonzero(weights[row])
        # The kept entries are the row's 5 strongest, rescaled to sum to 1 (each seed has the same say).
        assert set(kept) == set(np.argsort(-walk[row], kind="stable")[:5])
        assert np.allclose(weights[row, kept], walk[row, kept] / walk[row, kept].sum(), atol=1e-5)
    assert np.allclose(model.score([0, 3]), weights[0] + weights[3], atol=1e-6)
    assert make_model("rp3beta", neighbours=5, beta=0.2).params() == {
        "neighbours": 5,
        "alpha": 1.0,
        "beta": 0.2,
    }


def test_rp3beta_popularity_damping_lifts_the_niche_co_read() -> None:
    # Everyone read book 0 and book 1 (a bestseller); readers 0-4 also read the niche book 2 with seed 3.
    rows = [(u, 0) for u in range(40)] + [(u, 1) for u in range(40)] + [(u, 2) for u in range(5)]
    rows += [(u, 3) for u in range(5)]
    users, items = zip(*rows, strict=True)
    matrix = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (users, items)), shape=(40, 4))
    plain = RP3beta(neighbours=3, beta=0.0).fit(interactions(matrix)).score([3])
    damped = RP3beta(neighbours=3, beta=0.8).fit(interactions(matrix)).score([3])
    assert plain[2] == pytest.approx(plain[0])  # undamped: the niche book only ties the bestsellers
    assert damped[2] > damped[0] and damped[2] > damped[1]


def test_served_table_keeps_the_strongest_weights_with_their_sign() -> None:
    rng = np.random.default_rng(5)
    model = EASE(l2=2.0).fit(interactions(sp.csr_matrix((rng.random((50, 12)) < 0.35).astype(np.float32))))
    table = model.neighbours_table(4)
    assert np.diff(table.indptr).tolist() == [4] * 12
    dense = model.weights
    for row in range(12):
        kept = table[row].toarray().ravel()
        cols = np.flatnonzero(kept)
        assert np.allclose(kept[cols], dense[row, cols])
        # Nothing dropped is stronger than what was kept, whatever its sign.
        dropped = np.setdiff1d(np.arange(12), cols)
        assert np.abs(dense[row, dropped]).max() <= np.abs(kept[cols]).min() + 1e-7
    assert (table.data < 0).any()  # EASE's negative weights survive

    served = NeighbourTable(EASE(l2=1.0).fit(two_groups()).neighbours_table(3), source="ease")
    assert served.name == "ease (served)"
    assert set(ranking(served.score([0]), {0})[:2]) == {1, 2}


def test_make_model_rejects_unknown_algorithm() -> None:
    assert isinstance(make_model("ease", l2=3), EASE)
    with pytest.raises(ValueError, match="unknown CF algorithm 'svd'"):
        make_model("svd")


def ratings_table(rows: list[tuple[str, str, int]]) -> pa.Table:
    users, books, ratings = zip(*rows, strict=True)
    return pa.table({"user_id": users, "book_id": books, "rating": ratings}, schema=RATINGS_SCHEMA)


def test_encode_ratings_codes_ids_and_keeps_the_highest_duplicate() -> None:
    table = ratings_table([("u1", "a", 3), ("u2", "b", 5), ("u1", "a", 5), ("u1", "b", 2)])
    implicit = pa.table({"user_id": ["u2", "u3"], "book_id": ["b", "c"]}, schema=IMPLICIT_SCHEMA)
    codes = encode_ratings(table, implicit=implicit)
    assert codes.n_users == 3 and sorted(codes.item_ids.tolist()) == ["a", "b", "c"]
    rows = zip(codes.users, codes.items, codes.ratings, strict=True)
    pairs = {(int(u), codes.item_ids[i], int(r)) for u, i, r in rows}
    # u1/a keeps 5 over 3; u2/b keeps its explicit 5 over the implicit row; u3/c is implicit (0).
    assert len(pairs) == 4
    by_book = {(b, r) for _, b, r in pairs}
    assert by_book == {("a", 5), ("b", 5), ("b", 2), ("c", 0)}


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (ratings_table([("u1", "a", 4), ("u2", "b", 7)]), "ratings.parquet row 1: rating=7 is outside 1..5"),
        (ratings_table([("u1", "a", 4), ("u2", "b", 0)]), "row 1: rating=0 is outside 1..5"),
        (
            pa.table({"user_id": ["u1", None], "book_id": ["a", "b"], "rating": pa.array([4, 4], pa.int8())}),
            "ratings.parquet row 1: user_id is null",
        ),
        (ratings_table([("u1", "", 4)]), "row 0: book_id is empty"),
        (pa.table({"user_id": ["u1"], "book": ["a"], "rating": [4]}), "missing column(s) book_id"),
        (
            pa.table({"user_id": ["u1"], "book_id": ["a"], "rating": [4.5]}),
            "column rating must be an integer",
        ),
        (ratings_table([("u1", "a", 4)]).slice(0, 0), "no ratings"),
    ],
)
def test_bad_ratings_name_the_row_and_field(table: pa.Table, message: str) -> None:
    with pytest.raises(CFDataError) as err:
        encode_ratings(table, source="ratings.parquet")
    assert message in str(err.value)


def test_select_items_applies_the_minimum_and_keeps_the_most_rated() -> None:
    rows = [(f"u{u}", "a", 5) for u in range(5)] + [(f"u{u}", "b", 4) for u in range(3)]
    rows += [(f"u{u}", "c", 2) for u in range(4)] + [("u0", "d", 5)]
    codes = encode_ratings(ratings_table(rows))
    ids = codes.item_ids

    assert sorted(ids[select_items(codes, min_ratings=2)].tolist()) == ["a", "b", "c"]
    assert sorted(ids[select_items(codes, min_ratings=1, max_items=2)].tolist()) == ["a", "c"]

    liked = Interactions.build(codes, items=select_items(codes), min_rating=4)
    assert liked.matrix.sum() == 5 + 3 + 1  # the 2-star ratings of c are not interactions here
    assert liked.item_ids.tolist() == ids[liked.items].tolist()


def test_with_tail_keeps_the_head_order_and_adds_weaker_co_reads() -> None:
    from vibeshelf.retrieval.cf.models import with_tail

    rng = np.random.default_rng(8)
    matrix = sp.csr_matrix((rng.random((120, 40)) < 0.2).astype(np.float32))
    head = RP3beta(neighbours=3).fit(interactions(matrix)).neighbours_table()
    deep = RP3beta(neighbours=15).fit(interactions(matrix)).neighbours_table()
    served = with_tail(head, deep).toarray()
    h, d = head.toarray(), deep.toarray()
    for row in range(40):
        kept = np.flatnonzero(h[row])
        assert np.allclose(served[row, kept], h[row, kept])  # the head is untouched
        tail = np.setdiff1d(np.flatnonzero(d[row]), kept)
        assert set(np.flatnonzero(served[row])) == set(kept) | set(tail)
        if tail.size:
            # Every added book weighs less than every kept one, in the deep model's order.
            assert served[row, tail].max() == pytest.approx(0.5 * h[row, kept].min(), rel=1e-5)
            order = tail[np.argsort(-d[row, tail], kind="stable")]
            assert (np.diff(served[row, order]) <= 1e-9).all()


def test_rating_weights_weigh_the_training_matrix() -> None:
    table = pa.table(
        {"user_id": ["u1", "u1", "u2", "u2"], "book_id": ["a", "b", "a", "c"], "rating": [5, 2, 4, 1]},
        schema=RATINGS_SCHEMA,
    )
    implicit = pa.table({"user_id": ["u3"], "book_id": ["b"]}, schema=IMPLICIT_SCHEMA)
    codes = encode_ratings(table, implicit=implicit)
    weighted = Interactions.build(codes, rating_weights=(0.0, 0.2, 0.4, 0.8, 1.0))
    users, cols, values = sp.find(weighted.matrix)
    cell = {(codes.item_ids[c], u): float(v) for u, c, v in zip(users, cols, values, strict=True)}
    # 5 -> 1, 4 -> 0.8, 2 -> 0.2, an implicit read weighs 1, a zero weight (1 star) drops the entry.
    assert sorted(cell.values()) == pytest.approx([0.2, 0.8, 1.0, 1.0])
    assert "c" not in {book for book, _ in cell}
    assert (Interactions.build(codes).matrix != 0).nnz == 5  # without weights: every interaction is 1
    with pytest.raises(ValueError, match="5 weights"):
        Interactions.build(codes, rating_weights=(1.0, 1.0))


def test_rp3beta_on_a_weighted_matrix_walks_by_weight_and_damps_by_readers() -> None:
    rng = np.random.default_rng(7)
    dense = (rng.random((60, 12)) < 0.35) * rng.choice([0.2, 0.4, 0.8, 1.0], size=(60, 12))
    dense = dense.astype(np.float32)
    model = RP3beta(neighbours=4, alpha=0.5, beta=0.3, block_items=5).fit(interactions(sp.csr_matrix(dense)))
    per_user, per_item = dense.sum(axis=1), dense.sum(axis=0)
    readers = (dense > 0).sum(axis=0)
    walk = (dense.T / per_item[:, None]) ** 0.5 @ (dense / per_user[:, None]) ** 0.5
    walk = walk / readers[None, :] ** 0.3
    np.fill_diagonal(walk, 0.0)
    weights = model.weights.toarray()
    for row in range(12):
        kept = np.flatnonzero(weights[row])
        assert set(kept) == set(np.argsort(-walk[row], kind="stable")[:4])
        assert np.allclose(weights[row, kept], walk[row, kept] / walk[row, kept].sum(), atol=1e-5)


def test_a_loved_co_read_outranks_a_disliked_one_with_rating_weights() -> None:
    # Seed 0's readers 0-5 loved book 1 (5 stars) and finished book 2 disliking it (2 stars), the same
    # number of readers each: unweighted they tie, weighted the loved one wins.
    rows = [(u, 0, 5) for u in range(6)] + [(u, 1, 5) for u in range(6)] + [(u, 2, 2) for u in range(6)]
    users, books, stars = zip(*rows, strict=True)
    table = pa.table(
        {"user_id": [f"u{u}" for u in users], "book_id": [f"b{b}" for b in books], "rating": list(stars)},
        schema=RATINGS_SCHEMA,
    )
    codes = encode_ratings(table)
    col = {book: i for i, book in enumerate(codes.item_ids)}
    plain = RP3beta(neighbours=2, beta=0.0).fit(Interactions.build(codes)).score([col["b0"]])
    weighted = RP3beta(neighbours=2, beta=0.0).fit(
        Interactions.build(codes, rating_weights=(0.2, 0.2, 0.4, 0.8, 1.0))
    )
    loved = weighted.score([col["b0"]])
    assert plain[col["b1"]] == pytest.approx(plain[col["b2"]])
    assert loved[col["b1"]] > loved[col["b2"]] > 0


def test_two_step_adds_the_neighbours_of_neighbours() -> None:
    from vibeshelf.retrieval.cf.table import two_step

    # 0 -> 1 -> 2 -> 3 and back: book 0 reaches 2 only in two steps, and never itself.
    table = sp.csr_matrix(
        np.array([[0, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 1], [0, 0, 1, 0]], dtype=np.float32)
    )
    both = two_step(table, 0.5).toarray()
    assert both[0].tolist() == pytest.approx([0.0, 1.0, 0.5, 0.0])
    assert both[1].tolist() == pytest.approx([1.0, 0.0, 1.0, 0.5])
    assert np.diag(both).tolist() == [0.0] * 4  # a book is not its own neighbour
    assert both[1, 3] == pytest.approx(0.5) and both[1, 0] == pytest.approx(1.0)
    cut = two_step(table, 0.5, keep=1).toarray()
    assert (np.count_nonzero(cut, axis=1) == 1).all() and cut[0, 1] == pytest.approx(1.0)
    assert np.array_equal(two_step(table, 0.0).toarray(), table.toarray())


def test_rating_weights_must_be_weights() -> None:
    from pydantic import ValidationError

    from vibeshelf.retrieval.cf.config import CFModelSpec

    assert CFModelSpec(algorithm="rp3beta", rating_weights=(0.2, 0.2, 0.4, 0.8, 1)).rating_weights[4] == 1
    for bad in ((-1, 0, 0, 0, 1), (0, 0, 0, 0, 0)):
        with pytest.raises(ValidationError, match="rating_weights"):
            CFModelSpec(algorithm="rp3beta", rating_weights=bad)
