"""The collaborative-filtering configuration, apart from the models so that serving imports no scipy.

``retrieval.cf_store`` reads a saved model's metadata (which includes this config) in the server, where
the fitting code (``retrieval.cf_models``: scipy, LAPACK) is never needed.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

# A rating at or above this (1-5 scale) means the reader liked the book: it is what the split hides, what
# the metrics count as relevant and what ``co_readers`` counts.
LIKED_RATING = 4

ALGORITHMS = ("popularity", "item_knn", "ease")


class CFConfig(BaseModel):
    """Model choices and hyper-parameters. Defaults won the held-out comparisons
    (``retrieval.cf_eval``, ``python bench/cf.py --eval --tune``): on goodbooks lambda=100 and item-kNN
    on liked books only. item-kNN scores best with 5 neighbours (shrink 10), but its default keeps 20 so
    that a single seed can still fill a page of results when item_knn is served. On Book-Crossing, EASE
    gained from implicit rows (Recall@20 0.065 vs 0.050 without them)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ease_min_rating: int = Field(
        default=0,
        ge=0,
        le=5,
        description="Ratings >= this are EASE's training interactions; 0 also counts implicit ones.",
    )
    knn_min_rating: int = Field(
        default=4, ge=0, le=5, description="The same for item-kNN (it does best on liked books only)."
    )
    min_item_ratings: int = Field(
        default=3, ge=1, description="Books with fewer interactions are left out of the model (cold seeds)."
    )
    ease_max_items: int = Field(
        default=8000,
        ge=1,
        description="EASE trains on at most this many most-rated books: its dense item x item matrix "
        "needs 4*n^2 bytes (8000 -> 256 MB) and O(n^3) time (about 15 s on 2 cores).",
    )
    knn_max_items: int = Field(default=300_000, ge=1, description="Cap for sparse item-kNN.")
    l2: float = Field(default=100.0, gt=0, description="EASE ridge penalty lambda.")
    neighbours: int = Field(default=20, ge=1, description="item-kNN neighbours kept per item.")
    shrink: float = Field(default=10.0, ge=0, description="item-kNN cosine shrinkage.")
    served_neighbours: int = Field(
        default=500, ge=1, description="Strongest weights per seed kept in the shipped EASE table."
    )

    def min_rating(self, algorithm: str) -> int:
        """Smallest rating that counts as a training interaction (0: implicit interactions count too)."""
        return {"ease": self.ease_min_rating, "item_knn": self.knn_min_rating}.get(algorithm, LIKED_RATING)

    def max_items(self, algorithm: str) -> int | None:
        return {"ease": self.ease_max_items, "item_knn": self.knn_max_items}.get(algorithm)

    def model_params(self, algorithm: str) -> dict[str, float]:
        if algorithm == "ease":
            return {"l2": self.l2}
        if algorithm == "item_knn":
            return {"neighbours": self.neighbours, "shrink": self.shrink}
        return {}
