"""The tool contracts: arguments and results of the six tools the language model calls.

Every model here is part of a public contract read by three audiences at once: the language model
(field descriptions become the JSON schema it sees, so they are written for it), the HTTP / MCP
surfaces (results are serialised as-is) and the retrieval code that fills them. Argument models
subclass :class:`ToolArgs`; a tool function whose only parameter is one of them uses it as its whole
arguments object (see ``vibeshelf.tools.tool``).

Conventions: ids are catalog ids (``"goodbooks:2767"``), genres are Goodreads shelf names in
snake_case (``science_fiction``), unknown fields are rejected rather than ignored (a typo by the model
must come back as an error it can fix, not as a silently unfiltered search).
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator

from vibeshelf.retrieval.search_filters import SearchFilters, normalise_genre

# --- shared building blocks -----------------------------------------------------------------------


class ToolModel(BaseModel):
    """Base of every tool-facing model: unknown fields are errors, strings arrive trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ToolArgs(ToolModel):
    """Marker base for a tool's whole arguments object.

    A tool function whose single (non-context) parameter is annotated with a ``ToolArgs`` subclass
    gets that model's fields as its top-level arguments, instead of one nested object.
    """


BookId = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    Field(description="A catalog book id such as 'goodbooks:2767', exactly as another tool returned it."),
]

MAX_LIMIT = 25
MAX_SUGGESTIONS = 7
EXCERPT_CHARS = 300
DETAIL_DESCRIPTION_CHARS = 2000

_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"[.!?](?=\s)")


def clean_text(text: str | None) -> str | None:
    """Plain one-line text from a catalog description: HTML tags and entities removed, spaces collapsed."""
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return None
    text = _SPACE.sub(" ", _TAG.sub(" ", html.unescape(str(text)))).strip()
    return text or None


def make_excerpt(text: str | None, limit: int = EXCERPT_CHARS) -> str | None:
    """A short excerpt of at most ``limit`` characters, cut at a sentence end or a word boundary.

    A sentence end is preferred when it keeps at least 60% of the budget (a complete sentence reads
    better than a longer fragment); otherwise the text is cut after the last whole word and "…" added.
    """
    text = clean_text(text)
    if text is None or len(text) <= limit:
        return text
    window = text[: limit - 1]  # room for the ellipsis
    sentence_ends = [m.end() for m in _SENTENCE_END.finditer(text[: limit + 1])]
    if sentence_ends and sentence_ends[-1] <= limit and sentence_ends[-1] >= 0.6 * limit:
        return text[: sentence_ends[-1]]
    cut = window.rfind(" ")
    if cut <= 0:  # one enormous "word" (a URL, say): a hard cut is all we can do
        cut = len(window)
    return window[:cut].rstrip(" ,;:-–—") + "…"


def _none_if_nan(value: Any) -> Any:
    # Catalog rows read through pandas/numpy carry NaN for missing numbers.
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _as_list(value: Any) -> list[str]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


# --- books ----------------------------------------------------------------------------------------


class MatchEvidence(ToolModel):
    """Why a book is in a result: the evidence an explanation to the reader must be grounded in."""

    matched_terms: list[str] = Field(
        default_factory=list,
        description="Query words found in the book's title, authors, genres or description.",
    )
    fused_rank: int | None = Field(
        default=None,
        ge=1,
        description="1-based rank after fusing vector and full-text search; null if not searched.",
    )
    vector_rank: int | None = Field(
        default=None,
        ge=1,
        description="1-based rank in semantic (vector) search; null if not retrieved by it.",
    )
    text_rank: int | None = Field(
        default=None,
        ge=1,
        description="1-based rank in full-text (keyword) search; null if not retrieved by it.",
    )
    score: float | None = Field(
        default=None, description="Final ranking score (higher is better); only comparable within one result."
    )
    co_readers: int | None = Field(
        default=None,
        ge=0,
        description="Readers who rated both this book and the seed books highly (collaborative filtering).",
    )
    method: str | None = Field(
        default=None,
        description="What produced this book: 'hybrid', 'collaborative', 'content', 'popular', 'lookup' "
        "or 'lucky'.",
    )
    reason: str | None = Field(default=None, description="One-line human-readable reason it matched.")


class BookCard(ToolModel):
    """One book as every tool returns it."""

    id: str = Field(description="Catalog id; pass it to get_book or readers_also_liked.")
    title: str = Field(description="Title without the series suffix.")
    series: str | None = Field(default=None, description="Series name, if the book belongs to one.")
    series_index: float | None = Field(default=None, description="Position in the series (1, 2, 2.5, ...).")
    authors: list[str] = Field(default_factory=list)
    year: int | None = Field(default=None, description="Original publication year; negative for BC.")
    genres: list[str] = Field(default_factory=list, description="Goodreads shelf genres, most used first.")
    average_rating: float | None = Field(
        default=None, ge=0, le=5, description="Mean reader rating, 1-5 scale."
    )
    ratings_count: int | None = Field(
        default=None, ge=0, description="Number of ratings; a popularity signal."
    )
    num_pages: int | None = Field(
        default=None, ge=0, description="Page count of the edition; null when the catalog does not say."
    )
    image_url: str | None = Field(default=None, description="Cover image URL.")
    link: str | None = Field(default=None, description="Link to the book's page at its source.")
    excerpt: str | None = Field(
        default=None,
        max_length=EXCERPT_CHARS,
        description="The start of the description, cut at a word boundary.",
    )
    why: MatchEvidence = Field(default_factory=MatchEvidence, description="Why this book matched.")

    @classmethod
    def card_fields(cls, row: Mapping[str, Any]) -> dict[str, Any]:
        """The BookCard fields of a catalog row (``CATALOG_SCHEMA`` names), cleaned of NaN and float noise."""
        rating = _none_if_nan(row.get("average_rating"))
        index = _none_if_nan(row.get("series_index"))
        year = _none_if_nan(row.get("year"))
        count = _none_if_nan(row.get("ratings_count"))
        pages = _none_if_nan(row.get("num_pages"))
        return {
            "id": str(row["id"]),
            "title": str(row["title"]),
            "series": _none_if_nan(row.get("series")) or None,
            "series_index": None if index is None else float(index),
            "authors": _as_list(row.get("authors")),
            "year": None if year is None else int(year),
            "genres": _as_list(row.get("genres")),
            # float32 storage turns 4.34 into 4.340000152...; two decimals is what a reader sees.
            "average_rating": None if rating is None else round(float(rating), 2),
            "ratings_count": None if count is None else int(count),
            "num_pages": None if pages is None else int(pages),
            "image_url": _none_if_nan(row.get("image_url")) or None,
            "link": _none_if_nan(row.get("link")) or None,
            "excerpt": make_excerpt(row.get("description")),
        }

    @classmethod
    def from_row(cls, row: Mapping[str, Any], why: MatchEvidence | None = None) -> BookCard:
        """Build a card from a catalog row (a dict with ``CATALOG_SCHEMA`` column names)."""
        return cls(**cls.card_fields(row), why=why or MatchEvidence())


class BookDetails(BookCard):
    """A book with its full record, as get_book returns it."""

    description: str | None = Field(
        default=None, description=f"The description, up to {DETAIL_DESCRIPTION_CHARS} characters."
    )
    language: str | None = Field(default=None, description="Language code of the edition.")
    isbn: str | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any], why: MatchEvidence | None = None) -> BookDetails:
        return cls(
            **cls.card_fields(row),
            why=why or MatchEvidence(),
            description=make_excerpt(row.get("description"), DETAIL_DESCRIPTION_CHARS),
            language=_none_if_nan(row.get("language")) or None,
            isbn=_none_if_nan(row.get("isbn")) or None,
        )


# --- arguments ------------------------------------------------------------------------------------

Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT, description=f"How many books to return, 1-{MAX_LIMIT}.")]


class SearchBooksArgs(ToolArgs):
    query: str = Field(
        min_length=1,
        max_length=500,
        description="What the reader wants, in their words: a vibe, theme, plot, setting or half-remembered "
        "details. Leave exclusions out of it and put them in filters.",
    )
    filters: SearchFilters | None = Field(default=None, description="Hard constraints; null for none.")
    limit: Limit = 10


class FindBookArgs(ToolArgs):
    title: str = Field(min_length=1, max_length=300, description="The book's title, as the reader wrote it.")
    author: str | None = Field(default=None, max_length=200, description="Author name, if known.")


MAX_SEEDS = 10
MAX_HISTORY = 500


class ReadersAlsoLikedArgs(ToolArgs):
    # history comes first: the seed count below depends on it.
    history: bool = Field(
        default=False,
        description="True when book_ids are the reader's own reading history (their library, or every book "
        "they liked), not a few named favourites: 'what should I read next?'.",
    )
    book_ids: list[BookId] = Field(
        min_length=1,
        max_length=MAX_HISTORY,
        description=f"Seed books the reader liked (1-{MAX_SEEDS} ids), or with history true the reader's "
        f"whole history of books they rated highly (up to {MAX_HISTORY}).",
    )
    avoid_ids: list[BookId] = Field(
        default_factory=list, max_length=200, description="Books not to recommend, e.g. already read."
    )
    filters: SearchFilters | None = Field(default=None, description="Hard constraints; null for none.")
    limit: Limit = 10

    @field_validator("book_ids")
    @classmethod
    def _few_seeds_unless_history(cls, value: list[str], info: ValidationInfo) -> list[str]:
        if not info.data.get("history") and len(value) > MAX_SEEDS:
            raise ValueError(
                f"at most {MAX_SEEDS} seed books unless history is true (a whole reading history); got {len(value)}"
            )
        return value


class GetBookArgs(ToolArgs):
    book_id: BookId


class FeelingLuckyArgs(ToolArgs):
    mood: str | None = Field(
        default=None,
        max_length=300,
        description="The reader's mood or the vibe they want, e.g. 'cosy rainy-day mystery'; null for any.",
    )
    filters: SearchFilters | None = Field(default=None, description="Hard constraints; null for none.")


class PopularBooksArgs(ToolArgs):
    genre: str | None = Field(
        default=None,
        max_length=100,
        description="Genre (Goodreads shelf in snake_case, e.g. 'fantasy'); null for popular books overall.",
    )
    filters: SearchFilters | None = Field(
        default=None,
        description="Hard constraints, e.g. authors_any for an author's most read books; null for none.",
    )
    limit: Limit = 10

    @field_validator("genre")
    @classmethod
    def _genre(cls, value: str | None) -> str | None:
        return normalise_genre(value) or None if value is not None else None


# --- results --------------------------------------------------------------------------------------

Notes = Annotated[
    list[str],
    Field(
        default_factory=list,
        description="Caveats for the assistant, e.g. a filter that matched nothing or an unknown genre.",
    ),
]


class SearchResult(ToolModel):
    books: list[BookCard] = Field(description="Best match first.")
    query: str = Field(description="The query that was searched.")
    applied_filters: SearchFilters | None = Field(default=None, description="The filters actually applied.")
    total_candidates: int = Field(ge=0, description="Books that passed the filters and matched the query.")
    notes: Notes


class FindBookResult(ToolModel):
    match: BookCard | None = Field(description="The book, when the title identifies one; null otherwise.")
    suggestions: list[BookCard] = Field(
        default_factory=list, max_length=MAX_SUGGESTIONS, description="'Did you mean' candidates, best first."
    )
    exact: bool = Field(description="True when the title (and author, if given) matched exactly.")


class ReadersAlsoLikedResult(ToolModel):
    books: list[BookCard] = Field(description="Best recommendation first; why.co_readers gives the support.")
    method: Literal["collaborative", "content", "mixed"] = Field(
        description="'collaborative': from readers' ratings; 'content': similar descriptions because the "
        "seeds have too few ratings or none of their co-read books passes the filters; 'mixed': both."
    )
    cold_seeds: list[str] = Field(
        default_factory=list, description="Seed ids with too few ratings, answered by content similarity."
    )
    unknown_ids: list[str] = Field(default_factory=list, description="Seed ids not in the catalog; ignored.")
    applied_filters: SearchFilters | None = Field(default=None, description="The filters actually applied.")
    notes: Notes


class GetBookResult(ToolModel):
    book: BookDetails


class FeelingLuckyResult(ToolModel):
    book: BookCard | None = Field(description="The pick; null when nothing passes the filters.")
    mood: str | None = None
    applied_filters: SearchFilters | None = None
    notes: Notes


class PopularBooksResult(ToolModel):
    books: list[BookCard] = Field(description="Most popular first.")
    genre: str | None = Field(default=None, description="The genre used; null for overall.")
    notes: Notes


# --- errors ---------------------------------------------------------------------------------------

ErrorType = Literal["invalid_arguments", "not_found", "tool_failed"]

_HTTP_STATUS: dict[str, int] = {"invalid_arguments": 422, "not_found": 404, "tool_failed": 500}


class FieldError(ToolModel):
    field: str = Field(
        description="Path of the offending argument, e.g. 'filters.year_min' or 'book_ids[2]'."
    )
    message: str


class ErrorDetail(ToolModel):
    type: ErrorType
    message: str = Field(description="What went wrong and how to correct the call.")
    fields: list[FieldError] = Field(default_factory=list)


class ToolError(ToolModel):
    """The result of a tool call that did not succeed, shaped for the model to read and correct."""

    error: ErrorDetail

    @classmethod
    def of(cls, type: ErrorType, message: str, fields: list[FieldError] | None = None) -> ToolError:
        return cls(error=ErrorDetail(type=type, message=message, fields=fields or []))

    @property
    def http_status(self) -> int:
        """The HTTP status the REST surface answers with: 422, 404 or 500."""
        return _HTTP_STATUS[self.error.type]
