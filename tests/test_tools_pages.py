"""Page bounds in the three tools that take filters (search_books, feeling_lucky, readers_also_liked).

On goodbooks-mini, which has no page counts at all (nor has goodbooks-10k), a page bound is not applied:
the tools return what they return without it and say so in ``notes``. On a copy of the same index with
page counts filled in, the bound holds for every book, and a book without a page count fails it.
"""

from __future__ import annotations

import dataclasses

import lancedb
import pyarrow as pa
import pytest

from vibeshelf.retrieval.book_search import BookSearch
from vibeshelf.retrieval.filters import NO_PAGE_COUNTS_NOTE
from vibeshelf.retrieval.hybrid_search import HybridSearcher
from vibeshelf.tools.default_registry import default_registry
from vibeshelf.tools.models import SearchFilters
from vibeshelf.tools.tool import ToolContext

HUNGER_GAMES = "goodbooks:1"


@pytest.fixture(scope="module")
def registry():
    return default_registry()


async def _call(registry, services, name: str, arguments: dict):
    return (await registry.call(name, arguments, ToolContext(deps=services))).output


def _pages(book_id: str) -> int | None:
    """A made-up page count for a goodbooks-mini book: 50-949 pages, none for every tenth book."""
    number = int(book_id.split(":")[1])
    return None if number % 10 == 0 else 50 + (number * 97) % 900


@pytest.fixture(scope="module")
def paged_services(mini_services, tmp_path_factory):
    """mini_services over a copy of its LanceDB table with ``_pages`` as num_pages (same vectors, CF)."""
    data = mini_services.search.table.to_arrow()
    pages = pa.array([_pages(i) for i in data["id"].to_pylist()], pa.int32())
    data = data.set_column(data.schema.get_field_index("num_pages"), "num_pages", pages)
    table = lancedb.connect(str(tmp_path_factory.mktemp("paged-db"))).create_table("books", data)
    searcher = HybridSearcher(table, mini_services.encoder)
    return dataclasses.replace(mini_services, search=BookSearch(searcher, mini_services.prior))


# --- a catalog without page counts: not applied, and said so --------------------------------------


async def test_search_ignores_a_page_bound_the_catalog_cannot_check_and_says_so(registry, mini_services):
    assert not mini_services.search.searcher.page_counts
    query = {"query": "a short funny read", "limit": 10}
    plain = await _call(registry, mini_services, "search_books", query)
    out = await _call(registry, mini_services, "search_books", {**query, "filters": {"max_pages": 200}})
    assert out.books and [b.id for b in out.books] == [b.id for b in plain.books]  # no book lost
    assert out.total_candidates == plain.total_candidates
    assert out.notes == [NO_PAGE_COUNTS_NOTE] and plain.notes == []
    assert out.applied_filters == SearchFilters()  # what was actually applied: no page bound

    # The other filters still hold; only the page bound is left out.
    both = {"genres_exclude": ["humor"], "min_pages": 300}
    out = await _call(registry, mini_services, "search_books", {**query, "filters": both})
    alone = await _call(
        registry, mini_services, "search_books", {**query, "filters": {"genres_exclude": ["humor"]}}
    )
    assert [b.id for b in out.books] == [b.id for b in alone.books] and out.books
    assert not [b.title for b in out.books if "humor" in b.genres]
    assert out.applied_filters == SearchFilters(genres_exclude=["humor"])
    assert NO_PAGE_COUNTS_NOTE in out.notes


async def test_feeling_lucky_still_picks_and_says_so(registry, mini_services):
    for arguments in ({"mood": "cozy village mystery"}, {"mood": None}):
        out = await _call(
            registry, mini_services, "feeling_lucky", {**arguments, "filters": {"max_pages": 150}}
        )
        assert out.book is not None, arguments
        assert out.notes == [NO_PAGE_COUNTS_NOTE] and out.applied_filters == SearchFilters()


async def test_readers_also_liked_keeps_its_answer_and_says_so(registry, mini_services):
    arguments = {"book_ids": [HUNGER_GAMES], "limit": 8}
    plain = await _call(registry, mini_services, "readers_also_liked", arguments)
    out = await _call(
        registry, mini_services, "readers_also_liked", {**arguments, "filters": {"max_pages": 200}}
    )
    assert out.books and [b.id for b in out.books] == [b.id for b in plain.books]
    assert out.method == plain.method == "collaborative"
    assert out.notes == [NO_PAGE_COUNTS_NOTE] and out.applied_filters == SearchFilters()


async def test_no_note_without_a_page_bound(registry, mini_services):
    out = await _call(
        registry, mini_services, "search_books", {"query": "dragons", "filters": {"year_min": 1950}}
    )
    assert NO_PAGE_COUNTS_NOTE not in out.notes


# --- a catalog with page counts: the bound holds ---------------------------------------------------


async def test_with_page_counts_every_book_keeps_to_the_bound(registry, paged_services):
    assert paged_services.search.searcher.page_counts
    search = await _call(
        registry,
        paged_services,
        "search_books",
        {"query": "a short funny read", "filters": {"max_pages": 300}, "limit": 15},
    )
    lucky = await _call(
        registry, paged_services, "feeling_lucky", {"mood": "epic quest", "filters": {"min_pages": 600}}
    )
    related = await _call(
        registry,
        paged_services,
        "readers_also_liked",
        {"book_ids": [HUNGER_GAMES], "filters": {"min_pages": 200, "max_pages": 500}, "limit": 10},
    )
    for out in (search, lucky, related):
        assert NO_PAGE_COUNTS_NOTE not in out.notes
    assert len(search.books) == 15 and search.applied_filters == SearchFilters(max_pages=300)
    # The cards carry the page count, and none lacks one: an unknown length fails a page bound.
    assert all(b.num_pages is not None and b.num_pages <= 300 for b in search.books)
    assert lucky.book is not None and lucky.book.num_pages >= 600
    assert related.books and all(200 <= b.num_pages <= 500 for b in related.books)
    assert [b.num_pages for b in search.books] == [_pages(b.id) for b in search.books]

    # The same search without the bound does return longer books: the filter had work to do.
    plain = await _call(
        registry, paged_services, "search_books", {"query": "a short funny read", "limit": 15}
    )
    assert any(b.num_pages is None or b.num_pages > 300 for b in plain.books)
