"""The search filters: hard constraints on which books a search may return, as one validated model.

It lives in retrieval (the filters' SQL, mask and card check are in ``retrieval.filters``) so retrieval depends
on nothing above it; the tools take it as an argument type (``tools.models`` imports it from here).
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

YEAR_MIN = -3000  # the oldest works in the catalogs are a few centuries BC
YEAR_MAX = 2100


def normalise_genre(genre: str) -> str:
    # The catalog's shelf names are snake_case; the model often writes "Science Fiction" or "sci-fi".
    return re.sub(r"[\s\-]+", "_", genre.strip().lower())


def _clean_strings(values: list[str] | None, *, genre: bool = False) -> list[str] | None:
    """Trimmed, de-duplicated (order kept), empties dropped; None when nothing is left."""
    if values is None:
        return None
    seen: dict[str, None] = {}
    for value in values:
        value = normalise_genre(value) if genre else value.strip()
        if value:
            seen.setdefault(value, None)
    return list(seen) or None


# Each upper bound of SearchFilters and the lower bound it must not fall below.
_RANGE_LOWER = {"year_max": "year_min", "max_ratings_count": "min_ratings_count", "max_pages": "min_pages"}


class SearchFilters(BaseModel):
    """Hard constraints on which books may be returned. Every field is optional; null means no constraint."""

    # As every tool-facing model: unknown fields are errors, strings arrive trimmed.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    year_min: int | None = Field(
        default=None,
        ge=YEAR_MIN,
        le=YEAR_MAX,
        description="Earliest original publication year, inclusive. Negative years are BC.",
    )
    year_max: int | None = Field(
        default=None,
        ge=YEAR_MIN,
        le=YEAR_MAX,
        description="Latest original publication year, inclusive. Must be >= year_min.",
    )
    genres_include: list[str] | None = Field(
        default=None,
        max_length=20,
        description="Keep only books tagged with at least one of these genres (Goodreads shelves in "
        "snake_case, e.g. 'fantasy', 'science_fiction', 'historical_fiction', 'romance', 'horror', "
        "'non_fiction').",
    )
    genres_all: list[str] | None = Field(
        default=None,
        max_length=20,
        description="Keep only books tagged with EVERY one of these genres, for a tone that qualifies the "
        "others (e.g. 'a funny fantasy' -> genres_include ['fantasy'], genres_all ['humor']).",
    )
    genres_exclude: list[str] | None = Field(
        default=None,
        max_length=20,
        description="Drop every book tagged with any of these genres, for genres the reader does NOT want "
        "(e.g. 'nothing scary' -> ['horror']). Never put exclusions in the query.",
    )
    min_average_rating: float | None = Field(
        default=None, ge=0, le=5, description="Minimum average reader rating on the 1-5 scale, e.g. 4.0."
    )
    min_ratings_count: int | None = Field(
        default=None,
        ge=0,
        description="Minimum number of ratings. A high value (e.g. 100000) keeps only well-known books.",
    )
    max_ratings_count: int | None = Field(
        default=None,
        ge=0,
        description="Maximum number of ratings. A low value (e.g. 20000) finds lesser-known books. "
        "Must be >= min_ratings_count.",
    )
    min_pages: int | None = Field(
        default=None,
        ge=1,
        description="Fewest pages, inclusive ('at least 300 pages' -> 300). Ignored, with a note, when "
        "the catalog has no page counts.",
    )
    max_pages: int | None = Field(
        default=None,
        ge=1,
        description="Most pages, inclusive ('under 200 pages' -> 200). Must be >= min_pages. Ignored, "
        "with a note, when the catalog has no page counts.",
    )
    language: str | None = Field(
        default=None,
        max_length=20,
        description="Language of the edition as a code, e.g. 'en' for English, 'fr', 'es', 'de'.",
    )
    authors_any: list[str] | None = Field(
        default=None,
        max_length=20,
        description="Keep only books by at least one of these authors, for a reader who asks for an "
        "author's own books ('anything by Agatha Christie' -> ['Agatha Christie']). Not for 'authors like "
        "X', which asks for other authors.",
    )
    exclude_authors: list[str] | None = Field(
        default=None, max_length=50, description="Author names whose books must not be returned."
    )
    exclude_ids: list[str] | None = Field(
        default=None,
        max_length=200,
        description="Book ids that must not be returned, e.g. books the reader has already read.",
    )
    # Added by the retrieval helper: negative intent as a filter, not as query text.
    exclude_terms: list[str] | None = Field(
        default=None,
        max_length=20,
        description="Words or short phrases the reader does NOT want; books whose title, description or "
        "genres mention any of them are dropped (plural forms included). E.g. 'no vampires' -> ['vampire'], "
        "'nothing with zombies or war' -> ['zombie', 'war'].",
    )

    @field_validator("genres_include", "genres_all", "genres_exclude")
    @classmethod
    def _genres(cls, value: list[str] | None) -> list[str] | None:
        return _clean_strings(value, genre=True)

    @field_validator("authors_any", "exclude_authors", "exclude_ids", "exclude_terms")
    @classmethod
    def _strings(cls, value: list[str] | None) -> list[str] | None:
        return _clean_strings(value)

    @field_validator("language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        return value.lower() or None if value is not None else None

    # Range checks sit on the upper field (not a model validator) so the error names a field path
    # the model can fix: "filters.year_max", not just "filters".
    @field_validator("year_max", "max_ratings_count", "max_pages")
    @classmethod
    def _range(cls, value: int | None, info: ValidationInfo) -> int | None:
        lower = _RANGE_LOWER[info.field_name]
        low = info.data.get(lower)
        if value is not None and low is not None and value < low:
            raise ValueError(f"{info.field_name} ({value}) must be >= {lower} ({low})")
        return value

    def is_empty(self) -> bool:
        """True when no constraint is set."""
        return all(v is None for v in self.model_dump().values())
