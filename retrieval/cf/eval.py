"""Offline comparison of the CF models on a held-out split, under the two protocols the product serves.

Split: per user, hide 20% of the books rated >= 4 (seeded, ``cf.split``); train on everything else.

* ``history``: the model reads the user's whole training history, ranks every book the user has not
  rated in training, and we count how many hidden books reach the top k (an imported library ->
  "what should I read next").
* ``seeds``: the model reads only 1, 3 or 5 of the user's five-star training books (how
  ``readers_also_liked`` is called); only the seeds are excluded from the ranking, since a caller
  naming seeds knows nothing else about the reader; hits are again the hidden books.

Algorithms and hyper-parameters are chosen on a second split carved out of the training part
(validation: never the test users' hidden books), separately per protocol (the seeds protocol scores
the mean over 1, 3 and 5 seeds). Each protocol's best setting per algorithm is then refitted on the full
training part and measured once on test.

Recall@k = hits / min(k, hidden), as in the EASE and Mult-VAE papers, so a user with 50 hidden books can
still reach 1.0. NDCG@k uses binary relevance: sum(1/log2(rank+1)) over hits, divided by its best value.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import scipy.sparse as sp
from pydantic import BaseModel, ConfigDict
from tqdm import tqdm

from vibeshelf.retrieval.cf.config import CFConfig, CFModelSpec
from vibeshelf.retrieval.cf.models import (
    CFModel,
    CodedRatings,
    Interactions,
    NeighbourTable,
    encode_ratings,
    gram_matrix,
    make_model,
    select_items,
)
from vibeshelf.retrieval.cf.split import HoldoutSplit, split_liked
from vibeshelf.retrieval.cf.table import content_for, interactions, neighbour_table

Protocol = Literal["history", "seeds"]
SEED_COUNTS = (1, 3, 5)
SEED_RATING = 5  # seeds are books the user rated five stars: the favourites a reader would name

# The grids tried on the validation split (``vibeshelf eval``, ``python bench/cf.py --eval``).
# Earlier, wider runs on goodbooks (neighbours 5-200, shrink 0-100, beta 0.1-0.7, lambda 50-3000,
# EDLAE dropout 0-0.5) found every winner inside these.
DEFAULT_EASE_GRID = (
    (50.0, 0.0),
    (100.0, 0.0),
    (200.0, 0.0),
    (50.0, 0.25),
    (100.0, 0.25),
    (1000.0, 0.0),
    (3000.0, 0.25),
)
DEFAULT_KNN_GRID = ((5, 10.0), (10, 10.0), (20, 10.0), (50, 10.0), (20, 0.0), (20, 50.0))
DEFAULT_RP3_GRID = tuple((n, a, b) for n in (20, 50) for a in (0.5, 1.0) for b in (0.2, 0.3, 0.5))
DEFAULT_MIN_RATING_GRID = (0, 4)
# Content blend weights tried on each algorithm's best settings (needs the catalog). Small weights suit
# EASE (whose rows sum to little: positive and negative weights), larger ones the neighbour models.
DEFAULT_CONTENT_GRID = (0.05, 0.1, 0.5, 1.0)
# Then rating weights (None: every rating weighs 1) and two-step neighbours, on top of each algorithm's
# best (EASE: weights only). The weights favour loved books: 1-2 stars 0.2, 3 stars 0.4, 4 stars 0.8.
DEFAULT_RATING_WEIGHTS_GRID: tuple[tuple[float, float, float, float, float] | None, ...] = (
    None,
    (0.2, 0.2, 0.4, 0.8, 1.0),
)
DEFAULT_TWO_STEP_GRID = (0.0, 0.5, 1.0)
# Last, for the whole-history protocol: what each of the reader's own books weighs by its stars when the
# history is scored (``CFModelSpec.history_weights``), tried on each algorithm's best history setting.
# Scoring only: the fitted table is shared, so the whole grid costs one fit per algorithm.
DEFAULT_HISTORY_WEIGHTS_GRID: tuple[tuple[float, float, float, float, float] | None, ...] = (
    None,
    (0.0, 0.0, 0.0, 1.0, 1.0),  # liked books only, as serving read a history before the weights
    (0.5, 0.5, 0.7, 0.9, 1.0),
    (0.3, 0.3, 0.6, 0.9, 1.0),
    (0.2, 0.2, 0.4, 0.8, 1.0),
    (0.1, 0.2, 0.5, 0.8, 1.0),
    (0.0, 0.1, 0.4, 0.8, 1.0),
    (-0.2, 0.0, 0.4, 0.8, 1.0),
)


class CFEvalRow(BaseModel):
    """One line of the CF comparison: an algorithm's validation-chosen setting for one protocol."""

    model_config = ConfigDict(frozen=True)

    protocol: Protocol
    model: str
    params: dict[str, float | int | str]
    k: int
    val_recall: float  # the validation score it was chosen on (seeds: mean over SEED_COUNTS)
    recall: float  # test; seeds: mean over SEED_COUNTS
    ndcg: float
    by_seeds: dict[int, float]  # seeds protocol: test Recall@k per seed count
    val_by_seeds: dict[int, float]
    fit_seconds: float
    items: int  # books the model can recommend
    users: int  # users averaged over (seeds: with 3 seeds)
    chosen: bool  # the protocol's winner on validation: what is served
    spec: CFModelSpec  # the setting measured (what chosen_config serves)


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


@dataclass(frozen=True)
class Query:
    """What one protocol shows the models: per user, the books they read (global item codes)."""

    users: np.ndarray  # int64 user codes, one per row
    rows: sp.csr_matrix  # users x all items (global codes): the books the model reads
    exclude_all_rated: bool  # history: never recommend a book rated in training; seeds: only the seeds


def history_query(split: HoldoutSplit, min_rating: int, spec: CFModelSpec | None = None) -> Query:
    """Each test user's training ratings >= ``min_rating`` (what a history model reads), each book
    weighted by its stars as ``spec.history_weight`` weighs it when served (1 without a spec)."""
    users = split.test_users.astype(np.int64)
    keep = split.train.ratings >= min_rating
    values = None
    if spec is not None and spec.history_weights is not None:
        by_stars = np.asarray([spec.history_weight(None if r == 0 else r) for r in range(6)], np.float32)
        values = by_stars[split.train.ratings[keep]]
    rows = _global_matrix(split.train, keep, values)
    return Query(users=users, rows=rows[users], exclude_all_rated=True)


def seed_query(
    split: HoldoutSplit, n: int, *, eligible: np.ndarray, seed: int = 0, seed_rating: int = SEED_RATING
) -> Query:
    """``n`` random training books rated >= ``seed_rating`` per test user, among ``eligible`` items
    (a boolean mask over global codes: the books every model knows). Users with fewer are left out."""
    train = split.train
    is_test = np.zeros(train.n_users, dtype=bool)
    is_test[split.test_users] = True
    rows = np.flatnonzero((train.ratings >= seed_rating) & eligible[train.items] & is_test[train.users])
    users = train.users[rows]
    keys = np.random.default_rng(seed).random(len(rows))
    order = np.lexsort((keys, users))
    sorted_users = users[order]
    rank = np.arange(len(order)) - np.searchsorted(sorted_users, sorted_users, side="left")
    counts = np.bincount(users, minlength=train.n_users)
    take = order[(rank < n) & (counts[sorted_users] >= n)]
    mask = np.zeros(len(train), dtype=bool)
    mask[rows[take]] = True
    matrix = _global_matrix(train, mask)
    chosen = np.flatnonzero(np.diff(matrix.indptr) > 0).astype(np.int64)
    return Query(users=chosen, rows=matrix[chosen], exclude_all_rated=False)


def _global_matrix(codes: CodedRatings, mask: np.ndarray, values: np.ndarray | None = None) -> sp.csr_matrix:
    if values is None:
        values = np.ones(int(mask.sum()), dtype=np.float32)
    return sp.csr_matrix(
        (values, (codes.users[mask], codes.items[mask])), shape=(codes.n_users, codes.n_items)
    )


def evaluate_query(
    model: CFModel,
    inter: Interactions,
    query: Query,
    split: HoldoutSplit,
    *,
    k: int = 20,
    batch_users: int | None = None,
) -> tuple[float, float, int]:
    """Mean Recall@k, NDCG@k and the number of users for a fitted model under one protocol.

    Books outside the model's columns can be neither read nor recommended: a hidden one is a miss.
    """
    n_global = len(split.train.item_ids)
    hidden_keys = split.hidden_users.astype(np.int64) * n_global + split.hidden_items
    hidden_keys.sort()
    n_rel = np.bincount(split.hidden_users, minlength=split.train.n_users)
    to_columns = query.rows[:, inter.items].tocsr()  # the model's view of each user's books
    if query.exclude_all_rated:
        rated = _global_matrix(split.train, np.ones(len(split.train), dtype=bool))
        seen = rated[query.users][:, inter.items].tocsr()
    else:
        seen = to_columns
    if batch_users is None:
        batch_users = max(1, min(2048, (32 << 20) // max(inter.n_items, 1)))
    recalls, ndcgs = [], []
    kk = min(k, inter.n_items)
    for start in range(0, len(query.users), batch_users):
        batch = query.users[start : start + batch_users]
        part = slice(start, start + len(batch))
        scores = model.score_users(to_columns[part])
        rows, cols = seen[part].nonzero()
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
    if not recalls:
        return 0.0, 0.0, 0
    return float(np.concatenate(recalls).mean()), float(np.concatenate(ndcgs).mean()), len(query.users)


def evaluate_model(
    model: CFModel, inter: Interactions, split: HoldoutSplit, *, k: int = 20, min_rating: int = 0
) -> tuple[float, float, int]:
    """The whole-history protocol for one fitted model (Recall@k, NDCG@k, users)."""
    return evaluate_query(model, inter, history_query(split, min_rating), split, k=k)


@dataclass(frozen=True)
class Candidate:
    spec: CFModelSpec

    @property
    def label(self) -> str:
        params = ", ".join(f"{k}={v:g}" for k, v in self.spec.full_params().items())
        return f"{self.spec.algorithm}({params}, min_rating={self.spec.min_rating})"


def default_candidates(
    *,
    ease_grid: Sequence[tuple[float, float]] = DEFAULT_EASE_GRID,
    knn_grid: Sequence[tuple[int, float]] = DEFAULT_KNN_GRID,
    rp3_grid: Sequence[tuple[int, float, float]] = DEFAULT_RP3_GRID,
    min_rating_grid: Sequence[int] = DEFAULT_MIN_RATING_GRID,
    served_neighbours: int = 500,
) -> list[CFModelSpec]:
    specs = [CFModelSpec(algorithm="popularity", min_rating=4)]
    for mr in min_rating_grid:
        specs += [
            CFModelSpec(algorithm="item_knn", params={"neighbours": n, "shrink": s}, min_rating=mr)
            for n, s in knn_grid
        ]
        specs += [
            CFModelSpec(algorithm="rp3beta", params={"neighbours": n, "alpha": a, "beta": b}, min_rating=mr)
            for n, a, b in rp3_grid
        ]
        specs += [
            CFModelSpec(
                algorithm="ease",
                params={"l2": l2, "dropout": dropout},
                min_rating=mr,
                served_neighbours=served_neighbours,
            )
            for l2, dropout in ease_grid
        ]
    return specs


def _fit_specs(
    codes: CodedRatings, specs: Sequence[CFModelSpec], items: np.ndarray, catalog: pa.Table | None = None
) -> Iterator[tuple[CFModelSpec, CFModel, Interactions, float]]:
    """Fit each spec on ``codes`` over ``items`` and yield it in its served form (``cf.table``: what
    ``vibeshelf fit-cf`` ships); EASE specs sharing a training matrix share one Gram matrix."""
    content = content_for(list(specs), codes.item_ids[items], catalog)
    if content is None and any(spec.content_weight > 0 for spec in specs):
        raise ValueError("a content_weight > 0 needs the catalog (catalog=...)")
    grams: dict[tuple[int, tuple[float, ...] | None], np.ndarray] = {}

    def matrix_key(spec: CFModelSpec) -> tuple[int, tuple[float, ...] | None]:
        return spec.min_rating, spec.rating_weights

    def fit_key(spec: CFModelSpec) -> str:
        return _key(spec.model_copy(update={"history_weights": None}))  # scoring only: same table

    last: tuple[str, CFModel, Interactions, float] | None = None
    ordered = sorted(
        specs, key=lambda s: (s.algorithm != "ease", s.min_rating, str(s.rating_weights), fit_key(s))
    )
    for spec in ordered:
        if last is not None and last[0] == fit_key(spec):
            yield spec, last[1], last[2], last[3]
            continue
        last = None
        inter = interactions(codes, items, spec)
        started = time.perf_counter()
        if spec.algorithm == "popularity":
            served: CFModel = make_model("popularity").fit(inter)
        else:
            gram = None
            if spec.algorithm == "ease":
                if matrix_key(spec) not in grams:
                    grams.clear()  # one dense Gram matrix at a time
                    grams[matrix_key(spec)] = gram_matrix(inter)
                gram = grams[matrix_key(spec)]
            served = NeighbourTable(
                neighbour_table(inter, spec, content=content, gram=gram), source=spec.algorithm
            )
            served.name = spec.algorithm
        last = (fit_key(spec), served, inter, time.perf_counter() - started)
        yield spec, served, inter, last[3]
    last = None
    grams.clear()


def _score_both(
    model: CFModel,
    inter: Interactions,
    spec: CFModelSpec,
    split: HoldoutSplit,
    seed_queries: dict[int, Query],
    k: int,
) -> tuple[tuple[float, float, int], dict[int, tuple[float, float, int]]]:
    history = evaluate_query(model, inter, history_query(split, spec.min_rating, spec), split, k=k)
    seeds = {n: evaluate_query(model, inter, q, split, k=k) for n, q in seed_queries.items()}
    return history, seeds


def _key(spec: CFModelSpec) -> str:
    return spec.model_dump_json()


def _unique(specs: Sequence[CFModelSpec]) -> list[CFModelSpec]:
    return list({_key(s): s for s in specs}.values())


def evaluate_cf(
    ratings: pa.Table | CodedRatings,
    *,
    config: CFConfig | None = None,
    k: int = 20,
    fraction: float = 0.2,
    seed: int = 0,
    tune: bool = True,
    candidates: Sequence[CFModelSpec] | None = None,
    seed_counts: Sequence[int] = SEED_COUNTS,
    seed_rating: int = SEED_RATING,
    catalog: pa.Table | None = None,
    content_grid: Sequence[float] = DEFAULT_CONTENT_GRID,
    rating_weights_grid: Sequence[
        tuple[float, float, float, float, float] | None
    ] = DEFAULT_RATING_WEIGHTS_GRID,
    two_step_grid: Sequence[float] = DEFAULT_TWO_STEP_GRID,
    history_weights_grid: Sequence[
        tuple[float, float, float, float, float] | None
    ] = DEFAULT_HISTORY_WEIGHTS_GRID,
    progress: bool = True,
) -> list[CFEvalRow]:
    """Both protocols, each algorithm at its validation-chosen setting, scored on test.

    With ``tune`` every spec in ``candidates`` (default: ``default_candidates()``) is fitted on the
    validation split's training part and scored there; per protocol and algorithm the best is kept.
    Without it the configured ``config.seeds`` and ``config.history`` (plus popularity) are measured
    as they are. ``catalog`` (the catalog table) is needed by specs that blend in content similarity;
    without it they are measured without the blend. With it (and ``tune``), each algorithm's best
    setting for either protocol is then tried again with each ``content_grid`` blend weight, and then
    with each ``rating_weights_grid`` x ``two_step_grid`` pair (``tune`` only), and last each
    algorithm's best history setting with each ``history_weights_grid`` scoring (``tune`` only; the
    table is fitted once for all of them). Rows come back per
    protocol (history, then seeds), one per algorithm, the validation winner marked ``chosen``.
    """
    config = config or CFConfig()
    codes = ratings if isinstance(ratings, CodedRatings) else encode_ratings(ratings)
    test = split_liked(codes, fraction=fraction, seed=seed)
    val = split_liked(test.train, fraction=fraction, seed=seed + 1)
    if tune:
        specs = list(candidates if candidates is not None else default_candidates())
    else:
        specs = _unique([CFModelSpec(algorithm="popularity"), config.history, config.seeds])
    if catalog is None:
        specs = _unique([s.model_copy(update={"content_weight": 0.0}) for s in specs])

    def seed_queries(split: HoldoutSplit, items: np.ndarray, offset: int) -> dict[int, Query]:
        eligible = np.zeros(split.train.n_items, dtype=bool)
        eligible[items] = True
        return {
            n: seed_query(split, n, eligible=eligible, seed=seed + offset + n, seed_rating=seed_rating)
            for n in seed_counts
        }

    # Validation: score every spec under both protocols.
    val_items = select_items(val.train, min_ratings=config.min_item_ratings)
    if not config.ease_fits(len(val_items)):  # as at fit time: EASE only within its memory budget
        specs = [spec for spec in specs if spec.algorithm != "ease"]
    val_seeds = seed_queries(val, val_items, 100)
    scored: list[tuple[CFModelSpec, float, dict[int, float]]] = []

    def validate(specs: Sequence[CFModelSpec], desc: str) -> None:
        with tqdm(total=len(specs), desc=desc, disable=not progress, leave=False) as bar:
            for spec, model, inter, _ in _fit_specs(val.train, specs, val_items, catalog):
                (h, _, _), by_n = _score_both(model, inter, spec, val, val_seeds, k)
                scored.append((spec, h, {n: r for n, (r, _, _) in by_n.items()}))
                bar.set_postfix_str(f"{Candidate(spec).label}: history {h:.4f}")
                bar.update()
                del model

    validate(specs, "cf validation")

    def best_per_algorithm(protocol: Protocol) -> dict[str, tuple[CFModelSpec, float, dict[int, float]]]:
        best: dict[str, tuple[CFModelSpec, float, dict[int, float]]] = {}
        for spec, h, by_n in scored:
            value = h if protocol == "history" else float(np.mean(list(by_n.values())))
            if spec.algorithm not in best or value > best[spec.algorithm][1]:
                best[spec.algorithm] = (spec, value, by_n)
        return best

    if tune and catalog is not None and content_grid:
        # A blend with content similarity, on top of each model's best setting for either protocol.
        base = _unique(
            [
                spec
                for protocol in ("history", "seeds")
                for alg, (spec, _, _) in best_per_algorithm(protocol).items()  # type: ignore[arg-type]
                if alg != "popularity" and spec.content_weight == 0
            ]
        )
        validate(
            [b.model_copy(update={"content_weight": w}) for b in base for w in content_grid],
            "cf validation, content blend",
        )
    if tune and (len(rating_weights_grid) > 1 or len(two_step_grid) > 1):
        tried = {_key(spec) for spec, _, _ in scored}
        refined: list[CFModelSpec] = []
        for protocol in ("history", "seeds"):
            for alg, (spec, _, _) in best_per_algorithm(protocol).items():  # type: ignore[arg-type]
                if alg == "popularity":
                    continue
                steps = two_step_grid if alg in ("item_knn", "rp3beta") else (0.0,)
                for weights in rating_weights_grid:
                    for step in steps:
                        variant = spec.model_copy(update={"rating_weights": weights, "two_step": step})
                        if _key(variant) not in tried:
                            tried.add(_key(variant))
                            refined.append(variant)
        validate(refined, "cf validation, rating weights and two-step")
    if tune and len(history_weights_grid) > 1:
        tried = {_key(spec) for spec, _, _ in scored}
        weighted = [
            variant
            for alg, (spec, _, _) in best_per_algorithm("history").items()
            if alg != "popularity"
            for weights in history_weights_grid
            if _key(variant := spec.model_copy(update={"history_weights": weights})) not in tried
        ]
        validate(weighted, "cf validation, history weights")
    winners = {p: best_per_algorithm(p) for p in ("history", "seeds")}

    # Test: refit each protocol's per-algorithm best on the full training part, once.
    test_items = select_items(test.train, min_ratings=config.min_item_ratings)
    test_seeds = seed_queries(test, test_items, 200)
    to_fit = _unique([spec for w in winners.values() for spec, _, _ in w.values()])
    results: dict[str, tuple[tuple[float, float, int], dict[int, tuple[float, float, int]], float, int]]
    results = {}
    with tqdm(total=len(to_fit), desc="cf test", disable=not progress, leave=False) as bar:
        for spec, model, inter, fit_s in _fit_specs(test.train, to_fit, test_items, catalog):
            history, by_n = _score_both(model, inter, spec, test, test_seeds, k)
            results[_key(spec)] = (history, by_n, fit_s, inter.n_items)
            bar.update()
            del model

    rows: list[CFEvalRow] = []
    for protocol in ("history", "seeds"):
        best = winners[protocol]
        top = max(best.values(), key=lambda t: t[1])[0]
        for algorithm in sorted(best, key=lambda a: ("popularity", "item_knn", "rp3beta", "ease").index(a)):
            spec, val_value, val_by_n = best[algorithm]
            history, by_n, fit_s, n_items = results[_key(spec)]
            if protocol == "history":
                recall, ndcg, users = history
                test_by_n: dict[int, float] = {}
                val_by: dict[int, float] = {}
            else:
                recall = float(np.mean([r for r, _, _ in by_n.values()]))
                ndcg = float(np.mean([g for _, g, _ in by_n.values()]))
                users = by_n.get(3, next(iter(by_n.values())))[2]
                test_by_n = {n: r for n, (r, _, _) in by_n.items()}
                val_by = dict(val_by_n)
            params: dict[str, float | int | str] = {**spec.full_params(), "min_rating": spec.min_rating}
            if spec.algorithm == "ease":
                params["served_neighbours"] = spec.served_neighbours
            if spec.content_weight > 0:
                params["content_weight"] = spec.content_weight
            if spec.pool > 0:
                params["pool"] = spec.pool
            if spec.rating_weights is not None:
                params["rating_weights"] = "/".join(f"{w:g}" for w in spec.rating_weights)
            if spec.two_step > 0:
                params["two_step"] = spec.two_step
            if spec.history_weights is not None:
                params["history_weights"] = "/".join(f"{w:g}" for w in spec.history_weights)
            rows.append(
                CFEvalRow(
                    protocol=protocol,
                    model=algorithm,
                    params=params,
                    k=k,
                    val_recall=val_value,
                    recall=recall,
                    ndcg=ndcg,
                    by_seeds=test_by_n,
                    val_by_seeds=val_by,
                    fit_seconds=fit_s,
                    items=n_items,
                    users=users,
                    chosen=_key(spec) == _key(top),
                    spec=spec,
                )
            )
    return rows


def chosen_config(rows: Sequence[CFEvalRow], base: CFConfig | None = None) -> CFConfig:
    """The config that serves each protocol's validation winner."""
    base = base or CFConfig()
    update = {("history" if row.protocol == "history" else "seeds"): row.spec for row in rows if row.chosen}
    return base.model_copy(update=update)


def render_cf_table(rows: Sequence[CFEvalRow]) -> str:
    """The comparison as a plain-text table (what ``bench/cf.py`` prints)."""
    k = rows[0].k if rows else 20
    header = f"{'protocol':<9} {'model':<11} {'val R@' + str(k):>9} {'test R@' + str(k):>10} "
    header += f"{'NDCG@' + str(k):>8} {'seeds 1/3/5 (test)':>20} {'fit s':>6} {'items':>7}  params"
    lines = [header, "-" * len(header)]
    for r in rows:
        params = ", ".join(
            f"{key}={value}" if isinstance(value, str) else f"{key}={value:g}"
            for key, value in r.params.items()
        )
        per = "/".join(f"{v:.3f}" for v in r.by_seeds.values()) if r.by_seeds else ""
        mark = "*" if r.chosen else " "
        lines.append(
            f"{r.protocol:<9} {r.model + mark:<11} {r.val_recall:>9.4f} {r.recall:>10.4f} {r.ndcg:>8.4f} "
            f"{per:>20} {r.fit_seconds:>6.1f} {r.items:>7}  {params}"
        )
    if rows:
        lines.append("* chosen on validation (served). 20% of each user's books rated >= 4 hidden.")
    return "\n".join(lines)


def goodbooks_ratings(path: Path) -> pa.Table:
    """goodbooks ``ratings.csv`` as a RATINGS_SCHEMA table (book ids become ``goodbooks:<book_id>``).

    For evaluation before ingest has written ``ratings.parquet``; ingest's table is the same.
    """
    import duckdb

    from vibeshelf.catalog import RATINGS_SCHEMA

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
