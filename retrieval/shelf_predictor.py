"""Which Goodreads shelves a reader's words ask for: ``ShelfPredictor.predict("cozy village mystery")``.

63% of goodbooks has no description, so for most books title, authors and shelves are all there is.
A mood ("something to make me laugh on the train") rarely shares a word with the shelf that answers it
("humor"), but its embedding lies near the books on that shelf. Each shelf gets a prototype vector in
the encoder's space, the normalised mean of

* the embedding of the shelf's label phrased as a request ("humor books"), and
* the centroid of the embeddings of the catalog's books on that shelf,

and a query's shelves are a softmax over its cosine to every prototype, cut to the ``top_k`` most likely.
``HybridSearcher`` uses the result as a soft signal in fusion (``FusionConfig.shelf_weight``): every
candidate book gains the predicted probability mass of the shelves it is on, and the books that match
the predicted shelves best join the candidates even when neither words nor vectors found them.

Building it costs one encoder pass over the shelf labels and one pass over the catalog's vectors
(~0.1 s for goodbooks' 62 shelves); it happens in ``retrieval.services.open_services`` (the app
lifespan), never at import. The planner reads moods with the same object: ``services.shelves``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np


class Encoder(Protocol):
    def encode(self, texts: list[str]) -> np.ndarray: ...


def shelf_label(shelf: str) -> str:
    """``young_adult`` -> ``young adult``: how a shelf name reads in a request."""
    return " ".join(shelf.replace("_", " ").replace("-", " ").split())


class ShelfPredictor:
    """Predicts a query's shelves from its embedding; also scores catalog books against a prediction.

    ``predict(query)`` is the API the planner and tools use. The array methods (``probabilities``,
    ``book_scores``) serve fusion, which already holds the query vector and the catalog's row order.
    """

    # On a plateau on eval/search/dev.jsonl's moods (see README, "Mood search").
    LABEL_WEIGHT = 0.5
    TEMPERATURE = 0.03
    TOP_K = 4

    def __init__(
        self,
        encoder: Encoder,
        shelves: Sequence[str],
        prototypes: np.ndarray,
        membership: np.ndarray,
        *,
        temperature: float = TEMPERATURE,
        top_k: int = TOP_K,
    ) -> None:
        if prototypes.shape[0] != len(shelves) or membership.shape[1] != len(shelves):
            raise ValueError("one prototype and one membership column per shelf")
        if temperature <= 0 or top_k < 1:
            raise ValueError("temperature must be > 0 and top_k >= 1")
        self.encoder = encoder
        self.shelves: list[str] = list(shelves)
        self.prototypes = np.ascontiguousarray(prototypes, dtype=np.float32)
        # Kept as the rows on each shelf, not the (books x shelves) 0/1 matrix: 2.5 MB on goodbooks' 10k
        # books and 62 shelves, and book_scores reads only the predicted shelves' rows.
        self._n_books = membership.shape[0]
        self._rows = [np.flatnonzero(membership[:, j]) for j in range(len(self.shelves))]
        self.temperature = temperature
        self.top_k = min(top_k, len(self.shelves))

    @classmethod
    def from_catalog(
        cls,
        encoder: Encoder,
        genres: Sequence[Sequence[str] | None],
        vectors: np.ndarray | None,
        *,
        label_weight: float = LABEL_WEIGHT,
        temperature: float = TEMPERATURE,
        top_k: int = TOP_K,
    ) -> ShelfPredictor:
        """Prototypes from the catalog: ``genres[i]`` are the shelves of the book whose vector is
        ``vectors[i]`` (the searcher's in-memory matrix, same row order). Without vectors (a table too big
        to hold in memory) the prototypes are the label embeddings alone."""
        shelves = sorted({g for row in genres for g in row or ()})
        column = {s: j for j, s in enumerate(shelves)}
        membership = np.zeros((len(genres), len(shelves)), dtype=np.float32)
        for i, row in enumerate(genres):
            for g in row or ():
                membership[i, column[g]] = 1.0
        if not shelves:
            return cls(
                encoder, [], np.zeros((0, 1), np.float32), membership, temperature=temperature, top_k=1
            )
        labels = np.asarray(encoder.encode([f"{shelf_label(s)} books" for s in shelves]), dtype=np.float32)
        prototypes = labels
        if vectors is not None and label_weight < 1.0:
            counts = np.clip(membership.sum(axis=0), 1.0, None)[:, None]
            centroids = (membership.T @ np.asarray(vectors, dtype=np.float32)) / counts
            centroids /= np.clip(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12, None)
            prototypes = label_weight * labels + (1.0 - label_weight) * centroids
        prototypes = prototypes / np.clip(np.linalg.norm(prototypes, axis=1, keepdims=True), 1e-12, None)
        return cls(encoder, shelves, prototypes, membership, temperature=temperature, top_k=top_k)

    def probabilities(self, vector: np.ndarray) -> np.ndarray:
        """One probability per shelf (``self.shelves`` order) for an L2-normalised query vector; all
        but the ``top_k`` most likely are zero, and the kept ones sum to 1."""
        if not self.shelves:
            return np.zeros(0, dtype=np.float32)
        logits = (self.prototypes @ np.asarray(vector, dtype=np.float32)) / self.temperature
        keep = np.argpartition(-logits, self.top_k - 1)[: self.top_k]
        kept = np.exp(logits[keep] - logits[keep].max())
        probs = np.zeros(len(self.shelves), dtype=np.float32)
        probs[keep] = kept / kept.sum()
        return probs

    def predict(self, query: str) -> list[tuple[str, float]]:
        """The ``top_k`` shelves ``query`` most likely asks for, most likely first, with probabilities
        summing to 1: ``[("mystery", 0.61), ("cozy_mystery", 0.22), ...]``."""
        if not query.strip() or not self.shelves:
            return []
        probs = self.probabilities(np.asarray(self.encoder.encode([query])[0], dtype=np.float32))
        order = np.argsort(-probs, kind="stable")[: self.top_k]
        return [(self.shelves[j], float(probs[j])) for j in order if probs[j] > 0]

    def book_scores(self, probabilities: np.ndarray) -> np.ndarray:
        """Per catalog row, the predicted probability mass of the shelves the book is on (0..1)."""
        # Only the predicted shelves (top_k columns) add anything: summing their rows directly takes
        # microseconds, where a (books x shelves) BLAS product took ~5 ms on the busy 2-core box.
        probabilities = np.asarray(probabilities, dtype=np.float32)
        scores = np.zeros(self._n_books, dtype=np.float32)
        for j in np.flatnonzero(probabilities):
            scores[self._rows[j]] += probabilities[j]
        return scores
