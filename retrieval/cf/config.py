"""The collaborative-filtering configuration, apart from the models so that serving imports no scipy.

``retrieval.cf.store`` reads a saved model's metadata (which includes this config) in the server, where
the fitting code (``retrieval.cf.models``: scipy, LAPACK) is never needed.

Two models are served, because the two ways the product asks differ:

* ``seeds``: "readers also liked" for the one to five books a reader names (``readers_also_liked``);
* ``history``: a reader's whole rated history (an imported library) -> what to read next.

Each is chosen on a validation split by ``retrieval.cf.eval`` (``vibeshelf eval``); the defaults below
are what won there on goodbooks (see the README's CF table).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

# A rating at or above this (1-5 scale) means the reader liked the book: it is what the split hides, what
# the metrics count as relevant and what ``co_readers`` counts.
LIKED_RATING = 4

ALGORITHMS = ("popularity", "item_knn", "rp3beta", "ease")  # fitted in process (retrieval.cf.models)
# "als": implicit ALS fitted on Spark (ingest.spark_als, `vibeshelf fit-cf --engine spark`); served alike.
Algorithm = Literal["popularity", "item_knn", "rp3beta", "ease", "als"]

# Why a book needs this many liked-or-rated interactions to be in the model: with one reader, every
# co-occurrence is that one reader's taste (the neighbour row is a copy of one shelf); two readers who
# agree are the least evidence of a shared audience. Below it a book is cold and content similarity
# answers for it, as for books nobody rated. The validation split checks the choice:
# ``python bench/cf.py --threshold`` scores 1, 2, 3, 5 and 10.
DEFAULT_MIN_ITEM_RATINGS = 2

# EASE's dense item x item matrix costs 4 * n^2 bytes, held about twice during the fit. Past this budget
# the history model is not EASE but the (sparse) seeds model: a memory rule, not a cap on books, so every
# book with enough ratings is still covered. 4 GiB allows ~23k books (goodbooks-10k: 0.8 GiB).
DEFAULT_EASE_MAX_BYTES = 4 << 30

DEFAULT_PARAMS: dict[str, dict[str, float]] = {
    "popularity": {},
    "item_knn": {"neighbours": 20.0, "shrink": 10.0},
    "rp3beta": {"neighbours": 100.0, "alpha": 1.0, "beta": 0.5},
    "ease": {"l2": 100.0, "dropout": 0.0},
    "als": {"rank": 64.0, "reg": 0.05, "alpha": 20.0, "iterations": 10.0, "neighbours": 200.0},
}


StarWeights = tuple[float, float, float, float, float]


def star_weight(weights: StarWeights | None, stars: float | None) -> float:
    """What a history book rated ``stars`` (1-5) weighs under ``weights`` (for 1, 2, 3, 4 and 5 stars).

    Quarter stars, as StoryGraph writes them, fall between the whole stars' weights. A book with no rating
    (a thumbs-up, an id the caller named, an implicit interaction) counts as liked: ``LIKED_RATING`` stars.
    1 when ``weights`` is None (every book alike)."""
    if weights is None:
        return 1.0
    value = float(LIKED_RATING if stars is None or stars <= 0 else min(max(stars, 1.0), 5.0))
    low = int(value)  # 1..5
    if low >= 5:
        return weights[4]
    frac = value - low
    return (1.0 - frac) * weights[low - 1] + frac * weights[low]


class CFModelSpec(BaseModel):
    """One served model: the algorithm, its hyper-parameters and which ratings it trains on."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    algorithm: Algorithm
    params: dict[str, float] = Field(default_factory=dict)
    min_rating: int = Field(
        default=LIKED_RATING,
        ge=0,
        le=5,
        description="Ratings >= this are training interactions; 0 also counts implicit ones.",
    )
    served_neighbours: int = Field(
        default=500, ge=1, description="EASE only: strongest weights per seed kept in the shipped table."
    )
    pool: int = Field(
        default=0,
        ge=0,
        description="item_knn/rp3beta: co-read books kept per seed in all, beyond ``neighbours`` at a weight "
        "below every kept neighbour's (``cf.models.with_tail``), so filtered requests still find co-read books; "
        "0 keeps ``neighbours`` only.",
    )
    content_weight: float = Field(
        default=0.0,
        ge=0,
        description="Blend of content similarity (author, series, shelves; ``retrieval.cf.content``) "
        "into the table: 1 gives it as much say as the co-read neighbours on average; 0 leaves it out.",
    )
    rating_weights: tuple[float, float, float, float, float] | None = Field(
        default=None,
        description="What a 1, 2, 3, 4 and 5-star rating weighs in the training matrix (an implicit "
        "interaction weighs 1); None: every kept interaction weighs 1. A book two readers loved then says "
        "more about their shared taste than one they both finished and disliked.",
    )
    two_step: float = Field(
        default=0.0,
        ge=0,
        description="item_knn/rp3beta: weight of the two-step neighbours (the neighbours of a book's "
        "neighbours, ``cf.table.two_step``) added to the table; 0 leaves them out. A few seeds reach "
        "few books in one step; the second step fills the list with books their readers' readers liked.",
    )

    history_weights: tuple[float, float, float, float, float] | None = Field(
        default=None,
        description="Whole-history scoring: what a book the reader rated 1, 2, 3, 4 and 5 stars weighs in "
        "their history when its neighbour rows are added up (``history_weight``); None: every book weighs "
        "1. A reader's 5-star book then says more about what to read next than one they gave 3 stars.",
    )

    @field_validator("rating_weights")
    @classmethod
    def _weights_are_weights(cls, value: tuple[float, ...] | None) -> tuple[float, ...] | None:
        if value is not None and (min(value) < 0 or max(value) <= 0):
            raise ValueError("rating_weights must be >= 0 with at least one > 0")
        return value

    @field_validator("history_weights")
    @classmethod
    def _history_weights_are_weights(cls, value: tuple[float, ...] | None) -> tuple[float, ...] | None:
        # Negative weights are allowed: a book the reader disliked may push its neighbours down.
        if value is not None and (max(value) <= 0 or any(w != w or abs(w) == float("inf") for w in value)):
            raise ValueError("history_weights must be finite with at least one > 0")
        return value

    def full_params(self) -> dict[str, float]:
        return {**DEFAULT_PARAMS[self.algorithm], **self.params}

    def history_weight(self, stars: float | None) -> float:
        """The weight of one history book rated ``stars`` (``star_weight`` with ``history_weights``)."""
        return star_weight(self.history_weights, stars)


# Chosen on goodbooks' validation split (``vibeshelf eval``, ``python bench/cf_refine.py``; README "Readers
# also liked"): for a few seeds, RP3beta on every rating, weighted by stars (a loved book counts 5x a disliked
# one), with content similarity and two-step neighbours (validation Recall@20 0.0906 over 1/3/5 seeds, test
# 0.0923; before the weights and second step 0.0871 / 0.0910); for whole histories, EASE with EDLAE dropout
# and a touch of content, the reader's own books weighted by their stars when scored (validation 0.2582, test
# 0.3213; unweighted 0.2432 / 0.309; rating weights in the training matrix did not win there).
DEFAULT_SEEDS = CFModelSpec(
    algorithm="rp3beta",
    params={"neighbours": 20.0, "alpha": 0.5, "beta": 0.2},
    min_rating=0,
    pool=200,
    content_weight=1.0,
    rating_weights=(0.2, 0.2, 0.4, 0.8, 1.0),
    two_step=1.0,
)
DEFAULT_HISTORY = CFModelSpec(
    algorithm="ease",
    params={"l2": 50.0, "dropout": 0.25},
    min_rating=0,
    served_neighbours=500,
    content_weight=0.05,
    history_weights=(0.3, 0.3, 0.6, 0.9, 1.0),
)


class CFConfig(BaseModel):
    """Which models are served and on which books."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    min_item_ratings: int = Field(
        default=DEFAULT_MIN_ITEM_RATINGS,
        ge=1,
        description="Books with fewer interactions are cold (content similarity answers for them).",
    )
    ease_max_bytes: int = Field(
        default=DEFAULT_EASE_MAX_BYTES,
        ge=1,
        description="Memory budget of EASE's dense matrix; past it the history model is the seeds model.",
    )
    seeds: CFModelSpec = DEFAULT_SEEDS
    history: CFModelSpec = DEFAULT_HISTORY

    def spec_for(self, algorithm: str) -> CFModelSpec:
        """The configured spec for ``algorithm`` (history first, then seeds), else its defaults."""
        for spec in (self.history, self.seeds):
            if spec.algorithm == algorithm:
                return spec
        if algorithm not in ALGORITHMS:
            raise ValueError(f"unknown CF algorithm {algorithm!r}; expected one of {', '.join(ALGORITHMS)}")
        return CFModelSpec(algorithm=algorithm)  # type: ignore[arg-type]

    def ease_fits(self, n_items: int) -> bool:
        """Whether EASE over ``n_items`` books stays within the memory budget (2 dense float32 copies)."""
        return 2 * 4 * n_items * n_items <= self.ease_max_bytes
