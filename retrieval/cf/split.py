"""The held-out split for CF evaluation: per user, hide a seeded share of the books they liked."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vibeshelf.retrieval.cf.config import LIKED_RATING
from vibeshelf.retrieval.cf.models import CodedRatings


@dataclass(frozen=True)
class HoldoutSplit:
    """``train`` keeps every rating except the hidden ones; ``hidden`` are (user, item) codes to predict."""

    train: CodedRatings
    hidden_users: np.ndarray  # int32, one per hidden rating, sorted by user
    hidden_items: np.ndarray  # int32

    @property
    def test_users(self) -> np.ndarray:
        """Users with at least one hidden book (the ones the metrics average over)."""
        return np.unique(self.hidden_users)


def hidden_count(n_liked: np.ndarray, fraction: float) -> np.ndarray:
    """How many liked books to hide per user: ``fraction`` of them rounded half up (so 2 of 10, 1 of 3).

    Users with too few liked books to hide one (fewer than 3 at 20%) keep them all and are not evaluated.
    """
    return np.floor(n_liked * fraction + 0.5).astype(np.int64)


def split_liked(
    codes: CodedRatings, *, fraction: float = 0.2, seed: int = 0, liked_rating: int = LIKED_RATING
) -> HoldoutSplit:
    """Hide ``fraction`` of each user's ratings >= ``liked_rating``, chosen at random with ``seed``.

    Ratings below ``liked_rating`` always stay in training: only liked books are prediction targets.
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must be in (0, 1), got {fraction}")
    liked_rows = np.flatnonzero(codes.ratings >= liked_rating)
    users = codes.users[liked_rows]
    n_liked = np.bincount(users, minlength=codes.n_users)
    n_hide = hidden_count(n_liked, fraction)

    # Random order inside each user: sort liked rows by (user, random key), then rank within the user.
    keys = np.random.default_rng(seed).random(len(liked_rows))
    order = np.lexsort((keys, users))
    sorted_users = users[order]
    first = np.searchsorted(sorted_users, sorted_users, side="left")
    rank = np.arange(len(sorted_users)) - first
    hide_sorted = rank < n_hide[sorted_users]

    hidden_rows = liked_rows[order[hide_sorted]]
    keep = np.ones(len(codes), dtype=bool)
    keep[hidden_rows] = False
    hidden_rows = np.sort(hidden_rows)  # codes are sorted by (user, item), so this sorts by user
    return HoldoutSplit(
        train=codes.subset(keep),
        hidden_users=codes.users[hidden_rows],
        hidden_items=codes.items[hidden_rows],
    )
