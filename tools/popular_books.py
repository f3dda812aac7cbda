"""The ``popular_books`` tool: the most-read books overall or in one genre."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vibeshelf.retrieval.filters import closest_genres
from vibeshelf.retrieval.popular import popular_books as most_popular
from vibeshelf.retrieval.services import Services
from vibeshelf.tools.models import (
    BookCard,
    FieldError,
    MatchEvidence,
    PopularBooksArgs,
    PopularBooksResult,
    SearchFilters,
)
from vibeshelf.tools.tool import ToolContext, ToolFailure, tool


def check_genre(services: Services, genre: str, field: str = "genre") -> None:
    """Raise an invalid-arguments failure naming the closest known genres when ``genre`` is unknown."""
    if genre in services.genres:
        return
    close = closest_genres(genre, services.genres, n=5)
    top = sorted(services.genres, key=lambda g: -services.genres[g])[:12]
    hint = f"Did you mean {', '.join(close)}?" if close else f"Common genres: {', '.join(top)}."
    raise ToolFailure(
        f"Unknown genre {genre!r}. {hint}",
        error_type="invalid_arguments",
        fields=[FieldError(field=field, message=f"unknown genre; {hint}")],
    )


def _status(args: Mapping[str, Any]) -> str:
    return f"finding popular {str(args['genre']).replace('_', ' ') if args.get('genre') else 'books'}"


@tool(status=_status)
def popular_books(ctx: ToolContext[Services], args: PopularBooksArgs) -> PopularBooksResult:
    """List the most popular (most-rated) books overall, or in one genre, within optional hard filters. Use
    it when the reader asks for popular, classic or well-known picks without a more specific vibe, or for an
    author's books without a topic ('anything by Christie': filters.authors_any)."""
    services = ctx.deps
    filters, notes = services.search.usable_filters(args.filters)
    if args.genre:
        check_genre(services, args.genre)
        # The genre holds beside any genres the filters name: every book has it.
        base = filters or SearchFilters()
        filters = base.model_copy(
            update={"genres_all": list(dict.fromkeys([*(base.genres_all or []), args.genre]))}
        )
    ranked = most_popular(services.search.searcher, services.prior, filters, args.limit)
    books = []
    for rank, s in enumerate(ranked, start=1):
        reason = f"#{rank} most rated" + (f" in {args.genre}" if args.genre else "")
        why = MatchEvidence(method="popular", score=round(s.score, 4), reason=reason)
        books.append(BookCard.from_row(s.item, why))
    return PopularBooksResult(books=books, genre=args.genre, notes=notes)
