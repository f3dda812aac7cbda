"""The ``find_book`` tool: a title (and optional author) -> the book, or "did you mean" suggestions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vibeshelf.retrieval.services import Services
from vibeshelf.retrieval.title_lookup import TitleMatch
from vibeshelf.tools.models import BookCard, FindBookArgs, FindBookResult, MatchEvidence
from vibeshelf.tools.tool import ToolContext, tool


def _card(services: Services, rows: dict, match: TitleMatch, exact: bool) -> BookCard | None:
    row = rows.get(match.book_id)
    if row is None:  # the lookup and the index are built from the same table; guard anyway
        return None
    reason = "exact title match" if exact else f"title {match.score:.0f}% similar"
    why = MatchEvidence(method="lookup", score=match.score, reason=reason)
    return BookCard.from_row(row, why)


def _status(args: Mapping[str, Any]) -> str | None:
    return f"looking up {args['title']}" if args.get("title") else None


# A lookup answers "which book is X": its cards are not recommendations.
@tool(status=_status, recommends=False)
def find_book(ctx: ToolContext[Services], args: FindBookArgs) -> FindBookResult:
    """Find a specific book by its title (and author, if known). Returns the book on an exact title match,
    otherwise up to 7 "did you mean" suggestions to show the reader."""
    services = ctx.deps
    result = services.titles.find(args.title, args.author)
    rows = services.search.rows([m.book_id for m in result.matches])
    cards = [c for m in result.matches if (c := _card(services, rows, m, result.exact)) is not None]
    if result.exact and cards:
        return FindBookResult(match=cards[0], suggestions=cards[1:], exact=True)
    return FindBookResult(match=None, suggestions=cards, exact=False)
