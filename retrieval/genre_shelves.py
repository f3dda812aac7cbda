"""Which Goodreads shelves say something about a book, and which are too broad to.

"fiction" or "literature" sits on most of the catalog, so two books sharing it are not alike; "dystopian"
or "cozy_mystery" are. The planner, the answer writer and ``readers_also_liked`` all ask this question.
"""

from __future__ import annotations

from collections.abc import Iterable

BROAD_GENRES = frozenset(
    {"fiction", "adult_fiction", "general_fiction", "literature", "contemporary", "adult"}
)


def specific_genres(genres: Iterable[str] | None) -> list[str]:
    """The shelves of ``genres`` that describe the book, in their order."""
    return [g for g in (genres or []) if g not in BROAD_GENRES]
