"""find_book, get_book and popular_books against the real goodbooks-mini index."""

from __future__ import annotations

import pytest

from vibeshelf.tools.default_registry import default_registry
from vibeshelf.tools.models import BookDetails, ToolError
from vibeshelf.tools.tool import ToolContext


@pytest.fixture(scope="module")
def call(mini_services):
    registry = default_registry()

    async def run(name: str, arguments: dict):
        return (await registry.call(name, arguments, ToolContext(deps=mini_services))).output

    return run


async def test_find_book_exact_title(call) -> None:
    out = await call("find_book", {"title": "the hunger games (the hunger games, #1)"})
    assert out.exact and out.match is not None
    assert out.match.title == "The Hunger Games" and out.match.authors == ["Suzanne Collins"]
    assert out.match.why.method == "lookup"


async def test_find_book_near_miss_suggests(call) -> None:
    out = await call("find_book", {"title": "Harry Poter and the Philosopher Stone", "author": "rowling"})
    assert not out.exact and out.match is None
    assert 1 <= len(out.suggestions) <= 7
    assert out.suggestions[0].title == "Harry Potter and the Sorcerer's Stone"


async def test_find_book_finds_nothing_for_nonsense(call) -> None:
    out = await call("find_book", {"title": "qzxv plmk wwww"})
    assert out.match is None and out.suggestions == []


async def test_get_book_returns_details_and_accepts_bare_ids(call) -> None:
    out = await call("get_book", {"book_id": "goodbooks:1"})
    assert isinstance(out.book, BookDetails) and out.book.title == "The Hunger Games"
    assert out.book.description and len(out.book.description) > len(out.book.excerpt or "") - 1
    bare = await call("get_book", {"book_id": "1"})
    assert bare.book.id == "goodbooks:1"


async def test_get_book_unknown_id_is_a_not_found_error(call) -> None:
    out = await call("get_book", {"book_id": "goodbooks:99999999"})
    assert isinstance(out, ToolError) and out.error.type == "not_found"
    assert out.error.fields[0].field == "book_id"


async def test_popular_books_overall_and_per_genre(call) -> None:
    overall = await call("popular_books", {"limit": 10})
    counts = [b.ratings_count for b in overall.books]
    assert len(overall.books) == 10 and overall.books[0].ratings_count == max(counts)
    fantasy = await call("popular_books", {"genre": "Fantasy", "limit": 10})
    assert fantasy.genre == "fantasy" and all("fantasy" in b.genres for b in fantasy.books)
    assert sum("J.K. Rowling" in b.authors for b in fantasy.books) <= 2  # diversified
    assert all(b.why.method == "popular" for b in fantasy.books)


async def test_popular_books_unknown_genre_suggests_known_ones(call) -> None:
    out = await call("popular_books", {"genre": "scifi"})
    assert isinstance(out, ToolError) and out.error.type == "invalid_arguments"
    assert out.error.fields[0].field == "genre" and "science_fiction" in out.error.message


async def test_popular_books_within_filters_lists_an_authors_most_read_books(call) -> None:
    out = await call(
        "popular_books", {"filters": {"authors_any": ["Stephen King"], "year_max": 1985}, "limit": 5}
    )
    assert len(out.books) == 5
    assert all("Stephen King" in b.authors and b.year <= 1985 for b in out.books)
    counts = [b.ratings_count for b in out.books]
    assert counts[0] == max(counts)
    both = await call(
        "popular_books", {"genre": "horror", "filters": {"authors_any": ["Stephen King"]}, "limit": 5}
    )
    assert both.books and all("horror" in b.genres and "Stephen King" in b.authors for b in both.books)
