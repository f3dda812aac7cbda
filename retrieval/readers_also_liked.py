"""Serve-time "readers also liked": books the readers of the seed books rated highly.

Loads the fitted CF model (``ReadersAlsoLiked.load``, arrays memory-mapped) and answers in well under
a millisecond: a request only touches the seeds' neighbour rows and the hits' liked-by lists. Seeds the
model does not know (unrated or too few ratings) are listed in ``cold_seeds``; the tool layer answers
those with content similarity.

Two tables are served: ``recommend`` (a few named books) reads the seeds model, ``recommend_history``
(a reader's whole rated history) the history model; each won its own protocol on validation. A history's
books are weighted by the reader's stars as the history model was chosen to (``CFMeta.history_weights``,
``cf.config.star_weight``), exactly as ``vibeshelf eval`` scores it.
``ReloadingReadersAlsoLiked`` is what the server holds: one ``stat`` per request notices a model that
``vibeshelf fit-cf`` swapped in, and loads it without a restart.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from vibeshelf.layout import Layout
from vibeshelf.retrieval.cf.config import Algorithm, star_weight
from vibeshelf.retrieval.cf.store import CFArtifacts, CFMeta, CFModelMissing, model_version, read_cf

logger = logging.getLogger(__name__)

MAX_K = 500


class CFHit(BaseModel):
    book_id: str
    score: float = Field(
        description="ease/item_knn/rp3beta: the seeds' mean neighbour weight for this book; popularity: the "
        "book's liked count over the most liked book's. Comparable within one result only."
    )
    co_readers: int = Field(description="Readers who rated a seed and this book >= 4.")


class CFResult(BaseModel):
    hits: list[CFHit]
    cold_seeds: list[str] = Field(description="Seeds the model cannot use (unknown or too few ratings).")
    warm_seeds: list[str] = Field(description="Seeds the hits are computed from.")
    method: Algorithm


class ReadersAlsoLiked:
    """A loaded CF model. Thread-safe for reads: ``recommend`` allocates its own buffers."""

    def __init__(self, artifacts: CFArtifacts) -> None:
        self._a = artifacts
        self._index = {book_id: i for i, book_id in enumerate(artifacts.item_ids.tolist())}
        self._n_users = artifacts.meta.users
        pop = np.asarray(artifacts.popularity, dtype=np.float32)
        self._popularity_order = np.lexsort((np.arange(len(pop)), -pop))  # most liked first
        top = float(pop.max(initial=0.0))
        self._popularity_score = pop / top if top > 0 else pop

    @classmethod
    def load(cls, layout: Layout, *, mmap: bool = True) -> ReadersAlsoLiked:
        """Load the model saved under ``layout.cf``; raises ``CFModelMissing`` (a FileNotFoundError)
        with a fix-it message when there is none."""
        return cls(read_cf(layout.cf, mmap=mmap))

    @property
    def meta(self) -> CFMeta:
        return self._a.meta

    @property
    def method(self) -> Algorithm:
        return self._a.meta.algorithm

    @property
    def history_method(self) -> Algorithm:
        return self._a.meta.history_algorithm

    def __len__(self) -> int:
        return len(self._index)

    def knows(self, book_id: str) -> bool:
        """Whether ``book_id`` is warm (can seed a recommendation and be recommended)."""
        return book_id in self._index

    def recommend(self, seed_ids: Sequence[str], avoid_ids: Sequence[str] = (), k: int = 10) -> CFResult:
        """Up to ``k`` books liked by the readers of ``seed_ids``, best first.

        Several seeds add up their neighbour rows (averaged, so scores stay comparable across requests
        with different numbers of seeds); EASE rows carry negative weights too, so a book one seed's
        readers avoid can drop out. Only books with a positive total are returned; seeds and
        ``avoid_ids`` never are. No warm seed means no hits: the caller falls back to content
        similarity for the ``cold_seeds``.
        """
        return self._recommend(seed_ids, avoid_ids, k, history=False)

    def recommend_history(
        self,
        history_ids: Sequence[str],
        avoid_ids: Sequence[str] = (),
        k: int = 10,
        ratings: Mapping[str, float] | None = None,
    ) -> CFResult:
        """Up to ``k`` books for a reader whose whole history (the books they rated) is ``history_ids``,
        from the history model. ``ratings`` (book id -> 1-5 stars) weighs each book as the model was
        chosen to (``CFMeta.history_weights``; a book without one counts as liked). As ``recommend`` otherwise:
        the history and ``avoid_ids`` (e.g. every book the reader has read, liked or not) are never
        returned."""
        return self._recommend(history_ids, avoid_ids, k, history=True, ratings=ratings or {})

    def history_weights(self, book_ids: Sequence[str], ratings: Mapping[str, float]) -> list[float]:
        """What each of ``book_ids`` weighs in a history rated ``ratings`` (1 each for an unweighted model)."""
        weights = self._a.meta.history_weights
        return [star_weight(weights, ratings.get(b)) for b in book_ids]

    def _recommend(
        self,
        seed_ids: Sequence[str],
        avoid_ids: Sequence[str],
        k: int,
        *,
        history: bool,
        ratings: Mapping[str, float] | None = None,
    ) -> CFResult:
        if isinstance(seed_ids, str) or isinstance(avoid_ids, str):
            raise TypeError("seed_ids and avoid_ids must be sequences of book ids, not one string")
        if not seed_ids:
            raise ValueError("at least one seed book id is required")
        if not 1 <= k <= MAX_K:
            raise ValueError(f"k must be between 1 and {MAX_K}, got {k}")
        seeds = list(dict.fromkeys(seed_ids))  # de-duplicate, keep order
        warm = [s for s in seeds if s in self._index]
        cold = [s for s in seeds if s not in self._index]
        method = self.history_method if history else self.method
        if not warm:
            return CFResult(hits=[], cold_seeds=cold, warm_seeds=[], method=method)
        warm_idx = np.fromiter((self._index[s] for s in warm), dtype=np.int64, count=len(warm))
        excluded = set(warm_idx.tolist())
        excluded.update(self._index[a] for a in avoid_ids if a in self._index)

        if method == "popularity":
            candidates, scores = self._popular(excluded, k)
        elif history:
            a = self._a
            table = (a.history_indptr, a.history_indices, a.history_weights)
            weights = np.asarray(self.history_weights(warm, ratings or {}), dtype=np.float64)
            candidates, scores = self._neighbours(warm_idx, excluded, table, weights)
        else:
            a = self._a
            table = (a.neighbours_indptr, a.neighbours_indices, a.neighbours_weights)
            candidates, scores = self._neighbours(warm_idx, excluded, table)
        if len(candidates) > k:
            top = np.argpartition(-scores, k - 1)[:k]
            candidates, scores = candidates[top], scores[top]
        order = np.lexsort((candidates, -scores))  # ties: lower code first, so results are stable
        candidates, scores = candidates[order], scores[order]
        co_readers = self._co_readers(warm_idx, candidates)
        ids = self._a.item_ids
        hits = [
            CFHit(book_id=str(ids[i]), score=round(float(s), 6), co_readers=int(c))
            for i, s, c in zip(candidates.tolist(), scores.tolist(), co_readers.tolist(), strict=True)
        ]
        return CFResult(hits=hits, cold_seeds=cold, warm_seeds=warm, method=method)

    def _neighbours(
        self,
        warm_idx: np.ndarray,
        excluded: set[int],
        table: tuple[np.ndarray, np.ndarray, np.ndarray],
        seed_weights: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Each seed's neighbour row times its weight (1 without ``seed_weights``), added up and divided
        by the total weight: a weighted mean, comparable across requests like the plain one."""
        indptr, indices, values = table
        if seed_weights is None:
            seed_weights = np.ones(len(warm_idx), dtype=np.float64)
        cols, weights = [], []
        for i, w in zip(warm_idx.tolist(), seed_weights.tolist(), strict=True):
            lo, hi = int(indptr[i]), int(indptr[i + 1])
            cols.append(np.asarray(indices[lo:hi]))
            weights.append(np.asarray(values[lo:hi], dtype=np.float64) * w)
        entries, entry_weights = np.concatenate(cols), np.concatenate(weights)
        total = float(np.abs(seed_weights).sum())
        scale = total if total > 0 else 1.0
        if len(entries) * 8 >= len(self._index):
            # A long history (a library) touches many books: add up into one dense row, which skips the
            # sort that finding the distinct books costs (a 200-book library on goodbooks: p50 ~10 ms -> ~5 ms).
            dense = np.bincount(entries, weights=entry_weights, minlength=len(self._index)) / scale
            keep = dense > 0
            if excluded:
                keep[np.fromiter(excluded, dtype=np.int64)] = False
            candidates = np.flatnonzero(keep)
            return candidates, dense[candidates]
        candidates, inverse = np.unique(entries, return_inverse=True)
        scores = np.bincount(inverse, weights=entry_weights, minlength=len(candidates))
        scores = scores.astype(np.float64) / scale  # bincount of nothing is int64
        keep = scores > 0
        if excluded:
            keep &= ~np.isin(candidates, np.fromiter(excluded, dtype=np.int64))
        return candidates[keep], scores[keep]

    def _popular(self, excluded: set[int], k: int) -> tuple[np.ndarray, np.ndarray]:
        head = self._popularity_order[: k + len(excluded)]
        head = head[~np.isin(head, np.fromiter(excluded, dtype=np.int64))][:k]
        scores = self._popularity_score[head].astype(np.float64)
        keep = scores > 0
        return head[keep], scores[keep]

    def _co_readers(self, warm_idx: np.ndarray, candidates: np.ndarray) -> np.ndarray:
        """Per candidate, how many readers liked at least one warm seed and the candidate."""
        a = self._a
        seed_readers = np.zeros(self._n_users, dtype=bool)
        for i in warm_idx.tolist():
            seed_readers[a.liked_by_users[a.liked_by_indptr[i] : a.liked_by_indptr[i + 1]]] = True
        counts = np.empty(len(candidates), dtype=np.int64)
        for n, j in enumerate(candidates.tolist()):
            readers = a.liked_by_users[a.liked_by_indptr[j] : a.liked_by_indptr[j + 1]]
            counts[n] = int(seed_readers[readers].sum())
        return counts


class ReloadingReadersAlsoLiked:
    """The server's handle on the CF model: the same methods as ``ReadersAlsoLiked``, and each call
    first checks (one ``stat`` of meta.json) whether ``vibeshelf fit-cf`` swapped in a new model.

    A new model is loaded once, by whichever request sees it first; requests already running keep the
    arrays they started with (the old files stay readable while mapped). A model that is missing or
    damaged leaves the previous one serving; with none at all, every seed is cold (content similarity).
    """

    def __init__(self, path: Path, *, mmap: bool = True) -> None:
        self._path = path
        self._mmap = mmap
        self._lock = threading.Lock()
        self._version: tuple[int, int] | None = None
        self._model: ReadersAlsoLiked | None = None
        self.current()

    @classmethod
    def load(cls, layout: Layout, *, mmap: bool = True) -> ReloadingReadersAlsoLiked:
        return cls(layout.cf, mmap=mmap)

    def current(self) -> ReadersAlsoLiked | None:
        """The newest complete model on disk (None when there has never been one)."""
        version = model_version(self._path)
        if version is None or version == self._version:
            return self._model
        with self._lock:
            if version != self._version:
                try:
                    self._model = ReadersAlsoLiked(read_cf(self._path, mmap=self._mmap))
                    logger.info("readers-also-liked model (re)loaded from %s", self._path)
                except CFModelMissing as err:  # half-replaced or damaged: keep serving the last one
                    logger.warning(
                        "CF model at %s not loaded (%s); keeping the previous one", self._path, err
                    )
                self._version = version
        return self._model

    def _required(self) -> ReadersAlsoLiked:
        model = self.current()
        if model is None:
            raise CFModelMissing(f"no CF model at {self._path}: run `vibeshelf fit-cf` first")
        return model

    @property
    def meta(self) -> CFMeta:
        return self._required().meta

    @property
    def method(self) -> Algorithm:
        return self._required().method

    def __len__(self) -> int:
        model = self.current()
        return len(model) if model is not None else 0

    def knows(self, book_id: str) -> bool:
        model = self.current()
        return model is not None and model.knows(book_id)

    def recommend(self, seed_ids: Sequence[str], avoid_ids: Sequence[str] = (), k: int = 10) -> CFResult:
        model = self.current()
        if model is None:
            return _all_cold(seed_ids, k)
        return model.recommend(seed_ids, avoid_ids, k)

    def recommend_history(
        self,
        history_ids: Sequence[str],
        avoid_ids: Sequence[str] = (),
        k: int = 10,
        ratings: Mapping[str, float] | None = None,
    ) -> CFResult:
        model = self.current()
        if model is None:
            return _all_cold(history_ids, k)
        return model.recommend_history(history_ids, avoid_ids, k, ratings)


def _all_cold(seed_ids: Sequence[str], k: int) -> CFResult:
    if isinstance(seed_ids, str):
        raise TypeError("seed_ids must be a sequence of book ids, not one string")
    if not seed_ids:
        raise ValueError("at least one seed book id is required")
    if not 1 <= k <= MAX_K:
        raise ValueError(f"k must be between 1 and {MAX_K}, got {k}")
    return CFResult(hits=[], cold_seeds=list(dict.fromkeys(seed_ids)), warm_seeds=[], method="popularity")
