"""The ``search_books`` tool: hybrid vibe search with hard filters, reranked and diversified."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vibeshelf.retrieval.filters import closest_genres
from vibeshelf.retrieval.hybrid_search import SearchHit
from vibeshelf.retrieval.reranker import Scored
from vibeshelf.retrieval.services import Services
from vibeshelf.text import glance
from vibeshelf.tools.models import BookCard, MatchEvidence, SearchBooksArgs, SearchFilters, SearchResult
from vibeshelf.tools.tool import ToolContext, tool


def hit_reason(hit: SearchHit) -> str:
    """One line a person can read: which retrievers found the book and on which words."""
    found = []
    if hit.vector_rank is not None:
        found.append(f"#{hit.vector_rank} by meaning")
    if hit.text_rank is not None:
        found.append(f"#{hit.text_rank} by keywords")
    reason = " and ".join(found) or "retrieved"
    if hit.matched_terms:
        reason += f"; mentions {', '.join(hit.matched_terms[:6])}"
    return reason


def hit_card(scored: Scored, method: str = "hybrid") -> BookCard:
    hit: SearchHit = scored.item
    why = MatchEvidence(
        matched_terms=hit.matched_terms,
        fused_rank=hit.fused_rank or None,
        vector_rank=hit.vector_rank,
        text_rank=hit.text_rank,
        score=round(scored.score, 4),
        method=method,
        reason=hit_reason(hit),
    )
    return BookCard.from_row(hit.book, why)


def genre_notes(filters: SearchFilters | None, known: dict[str, int]) -> list[str]:
    """Notes for genre names the catalog does not have, with the closest ones it does."""
    if filters is None or not known:
        return []
    notes = []
    for field in ("genres_include", "genres_all", "genres_exclude"):
        for genre in getattr(filters, field) or []:
            if genre not in known:
                close = closest_genres(genre, known)
                hint = f"; did you mean {', '.join(close)}?" if close else ""
                notes.append(f"{field}: no book has the genre '{genre}'{hint}")
    return notes


def _status(args: Mapping[str, Any]) -> str | None:
    return f"searching for {glance(args['query'])}" if args.get("query") else None


@tool(status=_status)
def search_books(ctx: ToolContext[Services], args: SearchBooksArgs) -> SearchResult:
    """Search the catalog by vibe, theme, plot or half-remembered details, with optional hard filters.

    Use it for any "recommend me something like ..." or "that book where ..." request. Put exclusions
    (no vampires, not scary, nothing by X, already read) in filters, never in the query.
    """
    services = ctx.deps
    filters, unusable = services.search.usable_filters(args.filters)
    outcome = services.search.search(args.query, filters, limit=args.limit)
    notes = [*unusable, *genre_notes(filters, services.genres)]
    if not outcome.ranked:
        notes.append(
            "No book matched with these filters; relax a filter (genres, years, rating, language) and retry."
            if filters is not None and not filters.is_empty()
            else "No book matched; rephrase the query with other words."
        )
    return SearchResult(
        books=[hit_card(s) for s in outcome.ranked],
        query=args.query,
        applied_filters=filters,
        total_candidates=outcome.total_candidates,
        notes=notes,
    )
