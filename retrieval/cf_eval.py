"""Offline comparison of the CF models on a held-out split: Recall@k, NDCG@k and fit time.

Protocol: per user, hide 20% of the books rated >= 4 (seeded, ``cf_split``); train on everything else;
rank every book the user has not rated in training and count how many hidden books reach the top k.
Hyper-parameters are tuned on a second split carved out of the training part (never on the test
users' hidden books), then each model is refitted on the full training part and measured once.

Recall@k = hits / min(k, hidden), as in the EASE and Mult-VAE papers, so a user with 50 hidden books can
still reach 1.0. NDCG@k uses binary relevance: sum(1/log2(rank+1)) over hits, divided by its best value.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import scipy.sparse as sp
from pydantic import BaseModel, ConfigDict
from tqdm import tqdm

from vibeshelf.retrieval.cf_config import CFConfig
from vibeshelf.retrieval.cf_models import (
    EASE,
    CFModel,
    CodedRatings,
    Interactions,
    ItemKNN,
    NeighbourTable,
    Popularity,
    encode_ratings,
    gram_matrix,
    select_items,
)
from vibeshelf.retrieval.cf_split import HoldoutSplit, split_liked

# Grids around the values that won on goodbooks (see CFConfig's defaults).
DEFAULT_L2_GRID = (50.0, 100.0, 200.0, 500.0)
DEFAULT_NEIGHBOURS_GRID = (5, 10, 20, 50)
DEFAULT_SHRINK_GRID = (0.0, 10.0, 20.0)
DEFAULT_MIN_RATING_GRID = (0, 4)
DEFAULT_SERVED_GRID = (200, 500, 1000)


class CFEvalRow(BaseModel):
    """One line of the CF comparison table."""

    model_config = ConfigDict(frozen=True)

    model: str
    params: dict[str, float | int]
    k: int
    recall: float
    ndcg: float
    fit_seconds: float
    items: int  # books the model can recommend
    users: int  # users averaged over


def batch_metrics(hits: np.ndarray, n_relevant: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-user Recall@k and NDCG@k from a (users x k) hit matrix in rank order.

    ``n_relevant`` is each user's number of hidden books (> 0).
    """
    hits = np.asarray(hits, dtype=bool)
    n_relevant = np.asarray(n_relevant)
    if hits.ndim != 2 or len(hits) != len(n_relevant):
        raise ValueError("hits must be (users x k) with one n_relevant per user")
    if (n_relevant <= 0).any():
        raise ValueError("every user needs at least one relevant item")
    k = hits.shape[1]
    ideal_hits = np.minimum(n_relevant, k)
    recall = hits.sum(axis=1) / ideal_hits
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = (hits * discount).sum(axis=1)
    idcg = np.cumsum(discount)[ideal_hits - 1]
    return recall, dcg / idcg


def recall_at_k(ranked: Sequence[object], relevant: Iterable[object], k: int) -> float:
    """Recall@k of one ranked list: hits in the top k over min(k, number of relevant items)."""
    rel = set(relevant)
    hits = np.array([[item in rel for item in list(ranked)[:k]] + [False] * max(0, k - len(ranked))])
    return float(batch_metrics(hits, np.array([len(rel)]))[0][0])


def ndcg_at_k(ranked: Sequence[object], relevant: Iterable[object], k: int) -> float:
    """NDCG@k of one ranked list with binary relevance."""
    rel = set(relevant)
    hits = np.array([[item in rel for item in list(ranked)[:k]] + [False] * max(0, k - len(ranked))])
    return float(batch_metrics(hits, np.array([len(rel)]))[1][0])


def _seen_matrix(codes: CodedRatings, inter: Interactions) -> sp.csr_matrix:
    """Every training rating (any value) in the model's columns: books never to recommend back."""
    full = Interactions.build(codes, items=inter.items, min_rating=0)
    return full.matrix


def evaluate_model(
    model: CFModel,
    inter: Interactions,
    seen: sp.csr_matrix,
    split: HoldoutSplit,
    *,
    k: int = 20,
    batch_users: int | None = None,
) -> tuple[float, float, int]:
    """Mean Recall@k, NDCG@k and the number of users, for a fitted model on the split's hidden books.

    Hidden books outside the model's columns count as misses, so capping items is not free.
    """
    n_global = len(split.train.item_ids)
    hidden_keys = split.hidden_users.astype(np.int64) * n_global + split.hidden_items
    hidden_keys.sort()
    users = split.test_users
    n_rel = np.bincount(split.hidden_users, minlength=split.train.n_users)
    if batch_users is None:
        batch_users = max(1, min(2048, (32 << 20) // max(inter.n_items, 1)))
    recalls, ndcgs = [], []
    kk = min(k, inter.n_items)
    for start in range(0, len(users), batch_users):
        batch = users[start : start + batch_users]
        scores = model.score_users(inter.matrix[batch])
        rows, cols = seen[batch].nonzero()
        scores[rows, cols] = -np.inf
        top = np.argpartition(-scores, kk - 1, axis=1)[:, :kk]
        order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1, kind="stable")
        top = np.take_along_axis(top, order, axis=1)
        valid = np.isfinite(np.take_along_axis(scores, top, axis=1))
        keys = batch[:, None].astype(np.int64) * n_global + inter.items[top]
        pos = np.searchsorted(hidden_keys, keys).clip(max=len(hidden_keys) - 1)
        hits = (hidden_keys[pos] == keys) & valid
        if kk < k:
            hits = np.pad(hits, ((0, 0), (0, k - kk)))
        r, n = batch_metrics(hits, n_rel[batch])
        recalls.append(r)
        ndcgs.append(n)
    return float(np.concatenate(recalls).mean()), float(np.concatenate(ndcgs).mean()), len(users)


def _interactions(codes: CodedRatings, config: CFConfig, algorithm: str) -> Interactions:
    items = select_items(codes, min_ratings=config.min_item_ratings, max_items=config.max_items(algorithm))
    return Interactions.build(codes, items=items, min_rating=config.min_rating(algorithm))


def _tune_ease(
    val: HoldoutSplit,
    config: CFConfig,
    l2_grid: Sequence[float],
    min_ratings: Sequence[int],
    served_grid: Sequence[int],
    k: int,
    bar: tqdm,
) -> dict[str, float]:
    best: tuple[float, dict[str, float]] = (-1.0, {})
    best_model = best_inter = best_seen = None
    for min_rating in min_ratings:
        trial = config.model_copy(update={"ease_min_rating": min_rating})
        inter = _interactions(val.train, trial, "ease")
        seen = _seen_matrix(val.train, inter)
        gram = gram_matrix(inter)  # shared by every lambda
        for l2 in l2_grid:
            model = EASE(l2).fit(inter, gram=gram)
            recall, _, _ = evaluate_model(model, inter, seen, val, k=k)
            bar.set_postfix_str(f"ease min_rating={min_rating} l2={l2:g} val recall={recall:.4f}")
            bar.update()
            if recall > best[0]:
                best = (recall, {"ease_min_rating": min_rating, "l2": l2})
                best_model, best_inter, best_seen = model, inter, seen
            del model
    # How many weights per seed to ship, on the best model.
    served_best = (-1.0, config.served_neighbours)
    for top_n in served_grid:
        served = NeighbourTable(best_model.neighbours_table(top_n), source="ease")
        recall, _, _ = evaluate_model(served, best_inter, best_seen, val, k=k)
        bar.set_postfix_str(f"ease served top {top_n} val recall={recall:.4f}")
        bar.update()
        served_best = max(served_best, (recall, top_n))
    return {**best[1], "served_neighbours": served_best[1]}


def _tune_knn(
    val: HoldoutSplit,
    config: CFConfig,
    neighbours_grid: Sequence[int],
    shrink_grid: Sequence[float],
    min_ratings: Sequence[int],
    k: int,
    bar: tqdm,
) -> dict[str, float]:
    best: tuple[float, dict[str, float]] = (-1.0, {})
    for min_rating in min_ratings:
        trial = config.model_copy(update={"knn_min_rating": min_rating})
        inter = _interactions(val.train, trial, "item_knn")
        seen = _seen_matrix(val.train, inter)
        for neighbours, shrink in itertools.product(neighbours_grid, shrink_grid):
            model = ItemKNN(neighbours=neighbours, shrink=shrink).fit(inter)
            recall, _, _ = evaluate_model(model, inter, seen, val, k=k)
            bar.set_postfix_str(f"knn min_rating={min_rating} n={neighbours} s={shrink:g} val={recall:.4f}")
            bar.update()
            if recall > best[0]:
                best = (recall, {"knn_min_rating": min_rating, "neighbours": neighbours, "shrink": shrink})
    return best[1]


def evaluate_cf(
    ratings: pa.Table | CodedRatings,
    *,
    config: CFConfig | None = None,
    k: int = 20,
    fraction: float = 0.2,
    seed: int = 0,
    tune: bool = True,
    l2_grid: Sequence[float] = DEFAULT_L2_GRID,
    neighbours_grid: Sequence[int] = DEFAULT_NEIGHBOURS_GRID,
    shrink_grid: Sequence[float] = DEFAULT_SHRINK_GRID,
    min_rating_grid: Sequence[int] = DEFAULT_MIN_RATING_GRID,
    served_grid: Sequence[int] = DEFAULT_SERVED_GRID,
    progress: bool = True,
) -> list[CFEvalRow]:
    """Compare popularity, item-kNN and EASE (raw and in the shipped sparse form) on a held-out split.

    ``ratings`` is a RATINGS_SCHEMA table (or already coded ratings). With ``tune`` the EASE lambda and
    the kNN neighbourhood size/shrinkage are chosen on a validation split of the training part; without
    it the values in ``config`` are used. ``min_rating_grid`` also tunes which ratings count as training
    interactions (0: all, including implicit; 4: liked only) and ``served_grid`` how many weights per
    seed the shipped EASE table keeps. Rows come back in a fixed order:
    popularity, item_knn, ease, ease (served).
    """
    config = config or CFConfig()
    codes = ratings if isinstance(ratings, CodedRatings) else encode_ratings(ratings)
    test = split_liked(codes, fraction=fraction, seed=seed)
    n_tune = len(min_rating_grid) * (len(l2_grid) + len(neighbours_grid) * len(shrink_grid)) + len(
        served_grid
    )
    n_steps = 4 + (n_tune if tune else 0)
    with tqdm(total=n_steps, desc="cf eval", disable=not progress, leave=False) as bar:
        if tune:
            val = split_liked(test.train, fraction=fraction, seed=seed + 1)
            knn = _tune_knn(val, config, neighbours_grid, shrink_grid, min_rating_grid, k, bar)
            ease = _tune_ease(val, config, l2_grid, min_rating_grid, served_grid, k, bar)
            config = config.model_copy(update={**knn, **ease})

        rows: list[CFEvalRow] = []

        def run(algorithm: str, model: CFModel) -> CFModel:
            inter = _interactions(test.train, config, algorithm)
            seen = _seen_matrix(test.train, inter)
            started = time.perf_counter()
            model.fit(inter)
            fit_seconds = time.perf_counter() - started
            recall, ndcg, users = evaluate_model(model, inter, seen, test, k=k)
            params = {**model.params(), "min_rating": config.min_rating(algorithm)}
            rows.append(
                CFEvalRow(
                    model=model.name,
                    params=params,
                    k=k,
                    recall=recall,
                    ndcg=ndcg,
                    fit_seconds=fit_seconds,
                    items=inter.n_items,
                    users=users,
                )
            )
            bar.set_postfix_str(f"{model.name} recall={recall:.4f}")
            bar.update()
            if isinstance(model, EASE):
                # The shipped form keeps each seed's top neighbours only: measure what is served.
                started = time.perf_counter()
                served = NeighbourTable(model.neighbours_table(config.served_neighbours), source=model.name)
                export_seconds = time.perf_counter() - started
                recall, ndcg, users = evaluate_model(served, inter, seen, test, k=k)
                rows.append(
                    CFEvalRow(
                        model=served.name,
                        params={**params, **served.params()},
                        k=k,
                        recall=recall,
                        ndcg=ndcg,
                        fit_seconds=fit_seconds + export_seconds,
                        items=inter.n_items,
                        users=users,
                    )
                )
                bar.update()
            return model

        run("popularity", Popularity())
        run("item_knn", ItemKNN(neighbours=config.neighbours, shrink=config.shrink))
        run("ease", EASE(l2=config.l2))
    return rows


def render_cf_table(rows: Sequence[CFEvalRow]) -> str:
    """The comparison as a plain-text table (what ``vibeshelf eval`` prints)."""
    k = rows[0].k if rows else 20
    header = (
        f"{'model':<20} {'Recall@' + str(k):>10} {'NDCG@' + str(k):>10} {'fit s':>8} {'items':>7}  params"
    )
    lines = [header, "-" * len(header)]
    for r in rows:
        params = ", ".join(f"{key}={value:g}" for key, value in r.params.items())
        lines.append(
            f"{r.model:<20} {r.recall:>10.4f} {r.ndcg:>10.4f} {r.fit_seconds:>8.1f} {r.items:>7}  {params}"
        )
    if rows:
        lines.append(f"({rows[0].users} users, 20% of each user's books rated >= 4 hidden)")
    return "\n".join(lines)


def goodbooks_ratings(path: Path) -> pa.Table:
    """goodbooks ``ratings.csv`` as a RATINGS_SCHEMA table (book ids become ``goodbooks:<book_id>``).

    For evaluation before ingest has written ``ratings.parquet``; ingest's table is the same.
    """
    import duckdb

    from vibeshelf.ingest.catalog import RATINGS_SCHEMA

    if not path.is_file():
        raise FileNotFoundError(f"ratings file not found: {path}")
    con = duckdb.connect()
    try:
        table = con.sql(
            "SELECT CAST(user_id AS VARCHAR) AS user_id, 'goodbooks:' || CAST(book_id AS VARCHAR) AS book_id,"
            " CAST(rating AS TINYINT) AS rating"
            " FROM read_csv(?, header = true, columns = {'user_id': 'BIGINT', 'book_id': 'BIGINT',"
            " 'rating': 'BIGINT'})",
            params=[str(path)],
        ).to_arrow_table()
    finally:
        con.close()
    return table.cast(RATINGS_SCHEMA)
