"""A request's ``filters`` bind every tool call of that answer, whatever the model sends."""

from __future__ import annotations

from typing import Any

from chat_test_app import shelf_registry

from vibeshelf.tools.models import SearchBooksArgs, SearchFilters, SearchResult
from vibeshelf.tools.registry import ToolRegistry
from vibeshelf.tools.tool import ToolContext, tool
from vibeshelf.web.chat_routes import _FilteredRegistry

seen: list[SearchFilters | None] = []


@tool
def search_books(ctx: ToolContext[Any], args: SearchBooksArgs) -> SearchResult:
    """Records the filters it was called with."""
    seen.append(args.filters)
    return SearchResult(books=[], query=args.query, total_candidates=0)


async def test_request_filters_merge_into_the_model_s_filters() -> None:
    registry = _FilteredRegistry(
        ToolRegistry([search_books]),
        SearchFilters(language="eng", genres_exclude=["young_adult"], year_max=2000),
    )
    seen.clear()
    result = await registry.call(
        "search_books",
        {"query": "x", "filters": {"year_max": 2010, "genres_exclude": ["horror"]}},
        ToolContext(deps=None),
    )
    assert result.ok
    (filters,) = seen
    assert filters.language == "eng"
    assert set(filters.genres_exclude) == {"horror", "young_adult"}
    assert filters.year_max == 2000  # the tighter bound wins
    assert registry.names() == ["search_books"] and "search_books" in registry


async def test_results_breaking_a_request_filter_are_dropped() -> None:
    # The shelf's readers_also_liked ignores its filters: the results are checked against them as well.
    registry = _FilteredRegistry(shelf_registry(), SearchFilters(genres_exclude=["young_adult"]))
    result = await registry.call("readers_also_liked", '{"book_ids": ["t:10"]}', ToolContext(deps=None))
    assert result.ok and result.output.books
    assert all("young_adult" not in b.genres for b in result.output.books)
    plain = await shelf_registry().call(
        "readers_also_liked", '{"book_ids": ["t:10"]}', ToolContext(deps=None)
    )
    assert any("young_adult" in b.genres for b in plain.output.books)
