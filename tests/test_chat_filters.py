"""A request's ``filters`` bind every tool call of that answer, whatever the model sends."""

from __future__ import annotations

from typing import Any

from chat_test_app import shelf_registry

from vibeshelf.agent.constraints import ConstraintGuard, HardConstraints
from vibeshelf.agent.intent import Constraints
from vibeshelf.tools.models import SearchBooksArgs, SearchFilters, SearchResult
from vibeshelf.tools.registry import ToolRegistry
from vibeshelf.tools.tool import ToolContext, tool

NO_LIMITS = HardConstraints()

seen: list[SearchFilters | None] = []


@tool
def search_books(ctx: ToolContext[Any], args: SearchBooksArgs) -> SearchResult:
    """Records the filters it was called with."""
    seen.append(args.filters)
    return SearchResult(books=[], query=args.query, total_candidates=0)


async def test_request_filters_merge_into_the_model_s_filters() -> None:
    guard = ConstraintGuard(
        ToolRegistry([search_books]),
        NO_LIMITS,
        SearchFilters(language="eng", genres_exclude=["young_adult"], year_max=2000),
    )
    seen.clear()
    result = await guard.call(
        "search_books",
        '{"query": "x", "filters": {"year_max": 2010, "genres_exclude": ["horror"]}}',
        ToolContext(deps=None),
    )
    assert result.ok
    filters = seen[
        0
    ]  # the call as merged (a retry without the model's own filters may follow: no books here)
    assert filters.language == "eng"
    assert set(filters.genres_exclude) == {"horror", "young_adult"}
    assert filters.year_max == 2000  # the tighter bound wins


async def test_request_filters_and_the_reader_s_limits_both_bind() -> None:
    reader = HardConstraints(rules=Constraints(year_min=1950))
    guard = ConstraintGuard(
        ToolRegistry([search_books]), reader, SearchFilters(year_max=2000, language="eng")
    )
    seen.clear()
    await guard.call("search_books", '{"query": "x"}', ToolContext(deps=None))
    (filters,) = seen
    assert (filters.year_min, filters.year_max, filters.language) == (1950, 2000, "eng")


async def test_results_breaking_a_request_filter_are_dropped() -> None:
    # The shelf's readers_also_liked ignores its filters: the results are checked against them as well.
    guard = ConstraintGuard(shelf_registry(), NO_LIMITS, SearchFilters(genres_exclude=["young_adult"]))
    result = await guard.call("readers_also_liked", '{"book_ids": ["t:10"]}', ToolContext(deps=None))
    assert result.ok and result.output.books
    assert all("young_adult" not in b.genres for b in result.output.books)
    plain = await shelf_registry().call(
        "readers_also_liked", '{"book_ids": ["t:10"]}', ToolContext(deps=None)
    )
    assert any("young_adult" in b.genres for b in plain.output.books)
