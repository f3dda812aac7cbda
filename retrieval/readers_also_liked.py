"""Serve-time "readers also liked": books the readers of the seed books rated highly.

Loads the fitted CF model once (``ReadersAlsoLiked.load``, arrays memory-mapped) and answers in well under
a millisecond: a request only touches the seeds' neighbour rows and the hits' liked-by lists. Seeds the
model does not know (unrated, too few ratings, or beyond the item cap) are listed in ``cold_seeds``; the
tool layer answers those with content similarity.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from vibeshelf.layout import Layout
from vibeshelf.retrieval.cf_store import CFArtifacts, CFMeta, read_cf

MAX_K = 500


class CFHit(BaseModel):
    book_id: str
    score: float = Field(
        description="ease/item_knn: the seeds' mean neighbour weight for this book; popularity: the "
        "book's liked count over the most liked book's. Comparable within one result only."
    )
    co_readers: int = Field(description="Readers who rated a seed and this book >= 4.")


class CFResult(BaseModel):
    hits: list[CFHit]
    cold_seeds: list[str] = Field(
        description="Seeds the model cannot use (unknown, too few ratings or beyond the item cap)."
    )
    warm_seeds: list[str] = Field(description="Seeds the hits are computed from.")
    method: Literal["ease", "item_knn", "popularity"]


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
    def method(self) -> Literal["ease", "item_knn", "popularity"]:
        return self._a.meta.algorithm

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
        if isinstance(seed_ids, str) or isinstance(avoid_ids, str):
            raise TypeError("seed_ids and avoid_ids must be sequences of book ids, not one string")
        if not seed_ids:
            raise ValueError("at least one seed book id is required")
        if not 1 <= k <= MAX_K:
            raise ValueError(f"k must be between 1 and {MAX_K}, got {k}")
        seeds = list(dict.fromkeys(seed_ids))  # de-duplicate, keep order
        warm = [s for s in seeds if s in self._index]
        cold = [s for s in seeds if s not in self._index]
        if not warm:
            return CFResult(hits=[], cold_seeds=cold, warm_seeds=[], method=self.method)
        warm_idx = np.fromiter((self._index[s] for s in warm), dtype=np.int64, count=len(warm))
        excluded = set(warm_idx.tolist())
        excluded.update(self._index[a] for a in avoid_ids if a in self._index)

        if self.method == "popularity":
            candidates, scores = self._popular(excluded, k)
        else:
            candidates, scores = self._neighbours(warm_idx, excluded)
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
        return CFResult(hits=hits, cold_seeds=cold, warm_seeds=warm, method=self.method)

    def _neighbours(self, warm_idx: np.ndarray, excluded: set[int]) -> tuple[np.ndarray, np.ndarray]:
        a = self._a
        cols, weights = [], []
        for i in warm_idx.tolist():
            lo, hi = int(a.neighbours_indptr[i]), int(a.neighbours_indptr[i + 1])
            cols.append(np.asarray(a.neighbours_indices[lo:hi]))
            weights.append(np.asarray(a.neighbours_weights[lo:hi]))
        candidates, inverse = np.unique(np.concatenate(cols), return_inverse=True)
        scores = np.bincount(inverse, weights=np.concatenate(weights), minlength=len(candidates))
        scores = scores.astype(np.float64) / len(warm_idx)  # bincount of nothing is int64
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
