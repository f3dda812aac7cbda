"""Collaborative-filtering models over a users x items interaction matrix.

Every model has the same small interface: ``fit(interactions)``, then ``score(seed item indices)`` for
one request and ``score_users(history rows)`` for batch evaluation. Item indices are column indices of
``Interactions.matrix``. The neighbour models also export ``neighbours_table()``: the sparse
item -> item weights that are saved and served (``retrieval.readers_also_liked``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, Self

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import scipy.linalg.lapack as lapack
import scipy.sparse as sp

from vibeshelf.retrieval.cf.config import ALGORITHMS


class CFDataError(ValueError):
    """The ratings cannot be used; the message names the source, row and field."""


@dataclass(frozen=True)
class CodedRatings:
    """Ratings with user and book ids replaced by dense integer codes; one row per (user, book)."""

    users: np.ndarray  # int32, per rating
    items: np.ndarray  # int32, per rating; index into item_ids
    ratings: np.ndarray  # int8, 1..5; 0 marks an implicit interaction
    item_ids: np.ndarray  # object array of catalog ids
    n_users: int

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    def __len__(self) -> int:
        return len(self.users)

    def subset(self, mask: np.ndarray) -> CodedRatings:
        """The same codes (users and items keep their numbers) restricted to the rows in ``mask``."""
        return CodedRatings(
            users=self.users[mask],
            items=self.items[mask],
            ratings=self.ratings[mask],
            item_ids=self.item_ids,
            n_users=self.n_users,
        )


def _first_bad_row(mask: pa.Array | pa.ChunkedArray) -> int:
    return int(pc.index(mask, True).as_py())


def _check_ids(table: pa.Table, source: str) -> None:
    missing = [c for c in ("user_id", "book_id") if c not in table.column_names]
    if missing:
        raise CFDataError(f"{source}: missing column(s) {', '.join(missing)} (have {table.column_names})")
    for name in ("user_id", "book_id"):
        col = table.column(name)
        if col.null_count:
            raise CFDataError(f"{source} row {_first_bad_row(pc.is_null(col))}: {name} is null")
        if not pa.types.is_string(col.type) and not pa.types.is_large_string(col.type):
            raise CFDataError(f"{source}: column {name} must be a string, got {col.type}")
        empty = pc.equal(pc.utf8_length(col), 0)
        if pc.any(empty).as_py():
            raise CFDataError(f"{source} row {_first_bad_row(empty)}: {name} is empty")


def encode_ratings(
    table: pa.Table,
    *,
    implicit: pa.Table | None = None,
    source: str = "ratings",
    implicit_source: str = "implicit",
) -> CodedRatings:
    """Validate a RATINGS_SCHEMA table (and optionally an IMPLICIT_SCHEMA one) and code their ids.

    Implicit interactions (read or shelved, no rating) get rating 0. A (user, book) pair that appears more
    than once keeps its highest rating, so an explicit rating wins over an implicit row. ``source`` and
    ``implicit_source`` name the inputs in error messages (e.g. the Parquet paths).
    """
    _check_ids(table, source)
    if "rating" not in table.column_names:
        raise CFDataError(f"{source}: missing column(s) rating (have {table.column_names})")
    if table.num_rows == 0:
        raise CFDataError(f"{source}: no ratings")
    rating = table.column("rating")
    if rating.null_count:
        raise CFDataError(f"{source} row {_first_bad_row(pc.is_null(rating))}: rating is null")
    if not pa.types.is_integer(rating.type):
        raise CFDataError(f"{source}: column rating must be an integer 1..5, got {rating.type}")
    bad = pc.or_(pc.less(rating, 1), pc.greater(rating, 5))
    if pc.any(bad).as_py():
        row = _first_bad_row(bad)
        raise CFDataError(f"{source} row {row}: rating={rating[row].as_py()} is outside 1..5")
    user_col = table.column("user_id").cast(pa.string())
    book_col = table.column("book_id").cast(pa.string())
    ratings = rating.to_numpy().astype(np.int8)
    if implicit is not None and implicit.num_rows:
        _check_ids(implicit, implicit_source)
        user_col = pa.chunked_array(user_col.chunks + implicit.column("user_id").cast(pa.string()).chunks)
        book_col = pa.chunked_array(book_col.chunks + implicit.column("book_id").cast(pa.string()).chunks)
        ratings = np.concatenate([ratings, np.zeros(implicit.num_rows, dtype=np.int8)])

    users_dict = pc.dictionary_encode(user_col.combine_chunks())
    items_dict = pc.dictionary_encode(book_col.combine_chunks())
    users = users_dict.indices.to_numpy().astype(np.int32)
    items = items_dict.indices.to_numpy().astype(np.int32)
    item_ids = np.asarray(items_dict.dictionary.to_pylist(), dtype=object)
    n_users = len(users_dict.dictionary)

    # One row per pair: sort by (user, item, rating) and keep each pair's last (= highest) rating.
    order = np.lexsort((ratings, items, users))
    users, items, ratings = users[order], items[order], ratings[order]
    last = np.ones(len(users), dtype=bool)
    last[:-1] = (users[1:] != users[:-1]) | (items[1:] != items[:-1])
    return CodedRatings(users[last], items[last], ratings[last], item_ids, n_users)


def select_items(codes: CodedRatings, *, min_ratings: int = 1, max_items: int | None = None) -> np.ndarray:
    """Item codes (sorted) with at least ``min_ratings`` interactions, capped to the ``max_items`` most rated.

    The cap bounds EASE's dense item x item matrix (memory 4 * n^2 bytes, time O(n^3)); capped-out items
    have too little evidence for CF anyway and are reported as cold seeds at serve time.
    """
    counts = np.bincount(codes.items, minlength=codes.n_items)
    eligible = np.flatnonzero(counts >= max(1, min_ratings))
    if max_items is not None and len(eligible) > max_items:
        # Most rated first; ties broken by code so the choice is deterministic.
        order = np.lexsort((eligible, -counts[eligible]))
        eligible = np.sort(eligible[order[:max_items]])
    return eligible


@dataclass(frozen=True)
class Interactions:
    """Users x items training matrix over a chosen set of items.

    ``matrix[u, j]`` is 1 (or the rating's weight, see ``build``) when user ``u`` rated item ``items[j]``
    at least ``min_rating`` (0: or interacted without rating). ``item_ids[j]`` is the catalog id of
    column ``j``.
    """

    matrix: sp.csr_matrix
    items: np.ndarray  # int32 codes into CodedRatings.item_ids, one per column
    item_ids: np.ndarray

    @property
    def n_users(self) -> int:
        return self.matrix.shape[0]

    @property
    def n_items(self) -> int:
        return self.matrix.shape[1]

    @classmethod
    def build(
        cls,
        codes: CodedRatings,
        *,
        items: np.ndarray | None = None,
        min_rating: int = 0,
        rating_weights: Sequence[float] | None = None,
    ) -> Interactions:
        """Matrix of ``codes`` restricted to ``items`` (all when None) and ratings >= ``min_rating``.

        Entries are 1, or with ``rating_weights`` (five weights, for 1 to 5 stars) the rating's weight;
        implicit interactions (rating 0) weigh 1 either way. Entries weighing 0 are dropped."""
        if items is None:
            items = np.arange(codes.n_items, dtype=np.int32)
        column = np.full(codes.n_items, -1, dtype=np.int64)
        column[items] = np.arange(len(items))
        keep = (column[codes.items] >= 0) & (codes.ratings >= min_rating)
        if rating_weights is None:
            values = np.ones(int(keep.sum()), dtype=np.float32)
        else:
            if len(rating_weights) != 5:
                raise ValueError(f"rating_weights needs 5 weights (1-5 stars), got {len(rating_weights)}")
            by_rating = np.asarray([1.0, *rating_weights], dtype=np.float32)  # index 0: implicit
            values = by_rating[codes.ratings[keep]]
        matrix = sp.csr_matrix(
            (values, (codes.users[keep], column[codes.items[keep]])), shape=(codes.n_users, len(items))
        )
        matrix.eliminate_zeros()
        return cls(matrix=matrix, items=np.asarray(items, dtype=np.int32), item_ids=codes.item_ids[items])


def _check_seeds(seeds: Sequence[int], n_items: int) -> np.ndarray:
    idx = np.asarray(seeds, dtype=np.int64).reshape(-1)
    if idx.size and (idx.min() < 0 or idx.max() >= n_items):
        raise IndexError(f"seed item index out of range 0..{n_items - 1}: {idx.tolist()}")
    return idx


def top_n_per_row(dense: np.ndarray, top_n: int) -> sp.csr_matrix:
    """Keep each row's ``top_n`` entries of largest magnitude, sign included (zeros are dropped)."""
    n_rows, n_cols = dense.shape
    top_n = min(top_n, n_cols)
    if top_n <= 0:
        return sp.csr_matrix((n_rows, n_cols), dtype=np.float32)
    part = np.argpartition(-np.abs(dense), top_n - 1, axis=1)[:, :top_n]
    values = np.take_along_axis(dense, part, axis=1).reshape(-1)
    rows = np.repeat(np.arange(n_rows), top_n)
    keep = values != 0
    return sp.csr_matrix(
        (values[keep].astype(np.float32), (rows[keep], part.reshape(-1)[keep])), shape=(n_rows, n_cols)
    )


def _top_n_csr(
    indptr: np.ndarray, cols: np.ndarray, values: np.ndarray, top_n: int, n_cols: int
) -> sp.csr_matrix:
    """CSR matrix keeping each row's ``top_n`` largest positive entries of a CSR pattern.

    One float sort per block: the key is the row number plus a fraction that falls as the value rises,
    which orders entries by row, then by value descending.
    """
    n_rows = len(indptr) - 1
    row = np.repeat(np.arange(n_rows), np.diff(indptr))
    top = float(values.max(initial=0.0))
    if top <= 0:
        return sp.csr_matrix((n_rows, n_cols), dtype=np.float32)
    key = row + 0.5 * (1.0 - values.astype(np.float64) / top)
    order = np.argsort(key, kind="stable")
    rank = np.arange(len(order)) - indptr[row]  # rows stay grouped, so the rank restarts per row
    keep = (rank < top_n) & (values[order] > 0)
    kept = order[keep]
    new_indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(row[kept], minlength=n_rows), out=new_indptr[1:])
    return sp.csr_matrix((values[kept].astype(np.float32), cols[kept], new_indptr), shape=(n_rows, n_cols))


def with_tail(head: sp.csr_matrix, deep: sp.csr_matrix, *, fraction: float = 0.5) -> sp.csr_matrix:
    """``head`` plus the entries of ``deep`` that ``head`` lacks, scaled per row so that the strongest
    added one weighs ``fraction`` of the row's weakest head entry.

    A neighbour model keeps few neighbours per book because that ranks best; the tail keeps more co-read
    books behind them, so a filtered request ("like X but not YA") still finds co-read books while the
    head's order is untouched.
    """
    head = head.tocsr()
    deep = deep.tocsr()
    extra = (deep - deep.multiply(head != 0)).tocsr()
    extra.eliminate_zeros()
    extra.data[extra.data < 0] = 0.0
    extra.eliminate_zeros()
    n_rows = head.shape[0]
    head_min = np.zeros(n_rows, dtype=np.float64)
    tail_max = np.zeros(n_rows, dtype=np.float64)
    for matrix, out, reduce in ((head, head_min, np.minimum), (extra, tail_max, np.maximum)):
        positive = matrix.copy()
        positive.data[positive.data <= 0] = 0.0
        positive.eliminate_zeros()
        counts = np.diff(positive.indptr)
        rows = np.flatnonzero(counts)
        if rows.size:
            out[rows] = reduce.reduceat(positive.data.astype(np.float64), positive.indptr[rows])
    scale = np.divide(
        fraction * head_min, tail_max, out=np.zeros(n_rows), where=(tail_max > 0) & (head_min > 0)
    )
    return (head + sp.diags(scale.astype(np.float32)) @ extra).tocsr().astype(np.float32)


class CFModel(Protocol):
    name: str

    def fit(self, interactions: Interactions) -> Self: ...

    def score(self, seeds: Sequence[int]) -> np.ndarray:
        """Scores of every item for a reader who liked ``seeds`` (float32, one per column)."""
        ...

    def score_users(self, history: sp.csr_matrix) -> np.ndarray:
        """Scores (rows x items) for each row of a binary history matrix."""
        ...

    def params(self) -> dict[str, float | int]: ...


class Popularity:
    """Most-liked books overall; ignores the seeds. The baseline every other model must beat."""

    name = "popularity"

    def __init__(self) -> None:
        self.counts: np.ndarray | None = None

    def fit(self, interactions: Interactions) -> Self:
        self.counts = np.asarray(interactions.matrix.sum(axis=0), dtype=np.float32).reshape(-1)
        return self

    def _counts(self) -> np.ndarray:
        if self.counts is None:
            raise RuntimeError("Popularity model is not fitted")
        return self.counts

    def score(self, seeds: Sequence[int]) -> np.ndarray:
        counts = self._counts()
        _check_seeds(seeds, len(counts))
        return counts.copy()

    def score_users(self, history: sp.csr_matrix) -> np.ndarray:
        return np.broadcast_to(self._counts(), (history.shape[0], len(self._counts()))).copy()

    def params(self) -> dict[str, float | int]:
        return {}


class _SparseNeighbours:
    """Scoring shared by the models whose fitted form is a sparse item -> item weight table: several seeds add
    their rows, a user's history multiplies the table."""

    name: str
    weights: sp.csr_matrix | None = None

    def _weights(self) -> sp.csr_matrix:
        if self.weights is None:
            raise RuntimeError(f"{self.name} model is not fitted")
        return self.weights

    def score(self, seeds: Sequence[int]) -> np.ndarray:
        w = self._weights()
        idx = _check_seeds(seeds, w.shape[0])
        return np.asarray(w[idx].sum(axis=0), dtype=np.float32).reshape(-1)

    def score_users(self, history: sp.csr_matrix) -> np.ndarray:
        return np.asarray((history @ self._weights()).toarray(), dtype=np.float32)

    def neighbours_table(self) -> sp.csr_matrix:
        """The kept neighbours, one row per seed item: the sparse form that is shipped."""
        return self._weights()


class ItemKNN(_SparseNeighbours):
    """Item-based kNN: shrunk cosine similarity between item columns, ``neighbours`` kept per item.

    sim(i, j) = |U_i & U_j| / (sqrt(|U_i| |U_j|) + shrink). The shrink term damps similarities that rest on
    few co-readers. Computed sparsely in row blocks, so memory follows the co-rated pairs of one block.
    """

    name = "item_knn"

    def __init__(self, neighbours: int = 100, shrink: float = 10.0, block_items: int = 2048) -> None:
        if neighbours < 1:
            raise ValueError("neighbours must be >= 1")
        if shrink < 0:
            raise ValueError("shrink must be >= 0")
        self.neighbours = neighbours
        self.shrink = shrink
        self.block_items = block_items
        self.weights: sp.csr_matrix | None = None

    def fit(self, interactions: Interactions) -> Self:
        x = interactions.matrix.tocsc().astype(np.float32)
        xt = x.T.tocsr()
        norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=0), dtype=np.float32).reshape(-1))
        n = interactions.n_items
        parts = []
        for start in range(0, n, self.block_items):
            stop = min(n, start + self.block_items)
            # Sparse co-occurrence counts for this block of items: work and memory follow the number of
            # co-rated pairs, not items^2, so 100k+ items stay cheap.
            co = (xt[start:stop] @ x).tocsr()
            row = np.repeat(np.arange(stop - start), np.diff(co.indptr))
            sim = co.data / (norms[row + start] * norms[co.indices] + self.shrink + 1e-9)
            sim[co.indices == row + start] = 0.0  # an item is not its own neighbour
            parts.append(_top_n_csr(co.indptr, co.indices, sim, self.neighbours, n))
        self.weights = sp.vstack(parts, format="csr").astype(np.float32)
        return self

    def params(self) -> dict[str, float | int]:
        return {"neighbours": self.neighbours, "shrink": self.shrink}


class RP3beta(_SparseNeighbours):
    """RP3beta (Paudel et al., 2017): a three-step random walk item -> user -> item, popularity-damped.

    W[i, j] = sum_u P(u | i)^alpha P(j | u)^alpha / pop(j)^beta, where P(u | i) = 1/|U_i| and
    P(j | u) = 1/|I_u| on a binary matrix. Dividing by pop(j)^beta pushes down the books every reader has
    read, which is what a few seeds need: with one seed, plain co-occurrence recommends the bestsellers.
    Each row keeps its ``neighbours`` strongest weights, then is scaled to sum to 1 so that every seed has
    the same say. Sparse and computed in row blocks like ``ItemKNN``: no item cap is needed.
    """

    name = "rp3beta"

    def __init__(
        self, neighbours: int = 100, alpha: float = 1.0, beta: float = 0.5, block_items: int = 2048
    ) -> None:
        if neighbours < 1:
            raise ValueError("neighbours must be >= 1")
        if alpha <= 0 or beta < 0:
            raise ValueError("alpha must be > 0 and beta >= 0")
        self.neighbours = neighbours
        self.alpha = alpha
        self.beta = beta
        self.block_items = block_items
        self.weights: sp.csr_matrix | None = None

    def fit(self, interactions: Interactions) -> Self:
        x = interactions.matrix.tocsr().astype(np.float32)
        # A weighted matrix (``Interactions.build(rating_weights=...)``) makes each step's probability
        # proportional to the rating's weight; popularity (the damping) stays a count of readers.
        per_user = np.asarray(x.sum(axis=1), dtype=np.float64).reshape(-1)
        per_item = np.asarray(x.sum(axis=0), dtype=np.float64).reshape(-1)
        readers = np.diff(x.tocsc().indptr).astype(np.float64)
        inv_user = np.zeros_like(per_user)
        np.divide(1.0, per_user, out=inv_user, where=per_user > 0)
        inv_item = np.zeros_like(per_item)
        np.divide(1.0, per_item, out=inv_item, where=per_item > 0)
        # P(j | u)^alpha: each user's row scaled by 1/|I_u|; P(u | i)^alpha: each item's row of X^T by 1/|U_i|.
        p_ui = (sp.diags(inv_user.astype(np.float32)) @ x).tocsr()
        p_iu = (x @ sp.diags(inv_item.astype(np.float32))).T.tocsr()
        p_ui.data **= self.alpha
        p_iu.data **= self.alpha
        damp = np.zeros_like(readers)
        np.power(readers, -self.beta, out=damp, where=readers > 0)
        damp = damp.astype(np.float32)
        n = interactions.n_items
        parts = []
        for start in range(0, n, self.block_items):
            stop = min(n, start + self.block_items)
            walk = (p_iu[start:stop] @ p_ui).tocsr()
            row = np.repeat(np.arange(stop - start), np.diff(walk.indptr))
            values = walk.data * damp[walk.indices]
            values[walk.indices == row + start] = 0.0  # a book is not its own neighbour
            parts.append(_top_n_csr(walk.indptr, walk.indices, values, self.neighbours, n))
        weights = sp.vstack(parts, format="csr").astype(np.float32)
        sums = np.asarray(weights.sum(axis=1), dtype=np.float64).reshape(-1)
        scale = np.zeros_like(sums)
        np.divide(1.0, sums, out=scale, where=sums > 0)
        self.weights = (sp.diags(scale.astype(np.float32)) @ weights).tocsr()
        return self

    def params(self) -> dict[str, float | int]:
        return {"neighbours": self.neighbours, "alpha": self.alpha, "beta": self.beta}


def gram_matrix(interactions: Interactions) -> np.ndarray:
    """Dense item x item co-occurrence counts X^T X (float32)."""
    x = interactions.matrix.astype(np.float32)
    return (x.T @ x).toarray().astype(np.float32, copy=False)


def _mirror_lower_to_upper(a: np.ndarray, block: int = 1024) -> None:
    """Copy the lower triangle of square ``a`` onto its upper one, in place, in blocks (bounded memory)."""
    n = a.shape[0]
    for s in range(0, n, block):
        e = min(n, s + block)
        diag_block = a[s:e, s:e]
        diag_block[:] = np.tril(diag_block) + np.tril(diag_block, -1).T
        a[s:e, e:] = a[e:, s:e].T


class EASE:
    """EASE (Steck, 2019): closed-form linear item-item model with a zero diagonal.

    B = I - P diag(1/diag(P)), P = (X^T X + Lambda)^-1 with Lambda = lambda I + p/(1-p) diag(X^T X)
    (``dropout`` p > 0: the EDLAE variant, Steck 2020, "Autoencoders that don't overfit towards the
    identity"). Dense in the item count: 4 * n^2 bytes and O(n^3)
    time, which is why training items are capped (``select_items``).
    """

    name = "ease"

    def __init__(self, l2: float = 500.0, dropout: float = 0.0) -> None:
        if l2 <= 0:
            raise ValueError("l2 must be > 0")
        if not 0.0 <= dropout < 1.0:
            raise ValueError("dropout must be in [0, 1)")
        self.l2 = l2
        self.dropout = dropout
        self.weights: np.ndarray | None = None

    def fit(self, interactions: Interactions, *, gram: np.ndarray | None = None) -> Self:
        """Fit; ``gram`` (X^T X from ``gram_matrix``) may be passed to share it across several lambdas."""
        g = gram_matrix(interactions) if gram is None else gram.copy()
        n = g.shape[0]
        # EDLAE (Steck, 2020): dropout p adds p / (1 - p) * diag(X^T X) to the penalty, which shrinks the
        # weights of popular books more; p = 0 is plain EASE.
        penalty = self.l2 + self.dropout / (1.0 - self.dropout) * np.diag(g).astype(np.float64)
        g[np.diag_indices(n)] += penalty.astype(np.float32)
        # Cholesky inverse (potrf + potri) in place: about half the work of a general inverse. LAPACK wants
        # Fortran order; g is symmetric, so its transpose is the same matrix in the other order (no copy).
        chol, info = lapack.spotrf(g if g.flags.f_contiguous else g.T, lower=0, overwrite_a=1, clean=0)
        if info != 0:
            raise np.linalg.LinAlgError(f"EASE: Cholesky failed (info={info}); increase l2")
        inv, info = lapack.spotri(chol, lower=0, overwrite_c=1)
        if info != 0:
            raise np.linalg.LinAlgError(f"EASE: inverse failed (info={info})")
        p = np.ascontiguousarray(inv.T)  # a view when LAPACK worked in place
        _mirror_lower_to_upper(p)
        diag = np.diag(p).copy()
        p /= -diag[None, :]
        p[np.diag_indices(n)] = 0.0
        self.weights = p
        return self

    def _weights(self) -> np.ndarray:
        if self.weights is None:
            raise RuntimeError("EASE model is not fitted")
        return self.weights

    def score(self, seeds: Sequence[int]) -> np.ndarray:
        w = self._weights()
        idx = _check_seeds(seeds, w.shape[0])
        return w[idx].sum(axis=0, dtype=np.float32)

    def score_users(self, history: sp.csr_matrix) -> np.ndarray:
        return np.asarray(history @ self._weights(), dtype=np.float32)

    def neighbours_table(self, top_n: int) -> sp.csr_matrix:
        """Each seed row's ``top_n`` weights of largest magnitude: the sparse form that is shipped.

        Negative weights are kept: they push down books the seed's readers avoid, and on goodbooks the
        500 strongest weights per row score slightly above the full dense matrix (Recall@20 0.300 vs
        0.291), at 1/16 of its size.
        """
        w = self._weights()
        parts = [top_n_per_row(w[s : s + 2048], top_n) for s in range(0, w.shape[0], 2048)]
        return sp.vstack(parts, format="csr").astype(np.float32)

    def params(self) -> dict[str, float | int]:
        return {"l2": self.l2, "dropout": self.dropout}


class NeighbourTable(_SparseNeighbours):
    """Serving form of a neighbour model: a sparse item -> item table, one row per seed item.

    Several seeds add their rows, as the full model adds a user's history. Evaluated like the other
    models so the shipped (truncated) form is measured, not assumed.
    """

    def __init__(self, table: sp.csr_matrix, *, source: str) -> None:
        self.weights = table.tocsr().astype(np.float32)
        self.name = f"{source} (served)"

    def fit(self, interactions: Interactions) -> Self:
        return self  # built from an already fitted model

    def params(self) -> dict[str, float | int]:
        return {"kept_per_item": int(np.diff(self._weights().indptr).max(initial=0))}


def make_model(algorithm: str, **params: float) -> CFModel:
    """A fresh model by name: popularity, item_knn (neighbours, shrink), rp3beta (neighbours, alpha, beta)
    or ease (l2)."""
    if algorithm == "popularity":
        return Popularity()
    if algorithm == "item_knn":
        return ItemKNN(neighbours=int(params.get("neighbours", 100)), shrink=float(params.get("shrink", 10)))
    if algorithm == "ease":
        return EASE(l2=float(params.get("l2", 500)), dropout=float(params.get("dropout", 0.0)))
    if algorithm == "rp3beta":
        return RP3beta(
            neighbours=int(params.get("neighbours", 100)),
            alpha=float(params.get("alpha", 1.0)),
            beta=float(params.get("beta", 0.5)),
        )
    raise ValueError(f"unknown CF algorithm {algorithm!r}; expected one of {', '.join(ALGORITHMS)}")
