"""search_books and feeling_lucky against the real goodbooks-mini index."""

from __future__ import annotations

import re

import pytest

from vibeshelf.retrieval.hybrid_search import query_terms
from vibeshelf.tools.default_registry import default_registry
from vibeshelf.tools.models import SearchResult, ToolError
from vibeshelf.tools.tool import ToolContext

VAMPIRE = re.compile(r"\bvampires?\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def call(mini_services):
    registry = default_registry()

    async def run(name: str, arguments: dict):
        result = await registry.call(name, arguments, ToolContext(deps=mini_services))
        return result.output

    return run


def _mentions_vampires(services, book_id: str) -> bool:
    row = services.search.rows([book_id])[book_id]
    text = " ".join([row["full_title"], row.get("description") or "", " ".join(row["genres"])])
    return bool(VAMPIRE.search(text.replace("_", " ")))


async def test_vibe_search_finds_matching_books_with_evidence(call) -> None:
    out = await call("search_books", {"query": "vampire romance", "limit": 10})
    assert isinstance(out, SearchResult) and len(out.books) == 10
    assert out.total_candidates >= 10
    assert sum("vampires" in b.genres or "paranormal" in b.genres for b in out.books[:5]) >= 3
    terms = set(query_terms("vampire romance"))
    for book in out.books:
        why = book.why
        assert why.method == "hybrid" and why.fused_rank is not None and why.score is not None
        assert why.vector_rank is not None or why.text_rank is not None
        assert set(why.matched_terms) <= terms
        assert book.id.startswith("goodbooks:") and book.title and book.authors
    assert any(b.why.matched_terms for b in out.books)


async def test_no_vampires_means_no_vampires(call, mini_services) -> None:
    plain = await call("search_books", {"query": "vampire romance", "limit": 25})
    assert any(_mentions_vampires(mini_services, b.id) for b in plain.books)  # the filter has work to do
    out = await call(
        "search_books", {"query": "vampire romance", "filters": {"exclude_terms": ["vampires"]}, "limit": 25}
    )
    assert out.books, "the rest of the query should still match romances"
    assert not [b.title for b in out.books if _mentions_vampires(mini_services, b.id)]
    assert out.applied_filters.exclude_terms == ["vampires"]


async def test_hard_filters_hold_for_every_result(call) -> None:
    filters = {
        "genres_include": ["fantasy", "science_fiction"],
        "genres_exclude": ["young_adult"],
        "year_min": 1950,
        "year_max": 2010,
        "min_average_rating": 4.0,
        "exclude_authors": ["J.R.R. Tolkien"],
    }
    out = await call("search_books", {"query": "an epic quest", "filters": filters, "limit": 25})
    assert out.books
    for b in out.books:
        assert {"fantasy", "science_fiction"} & set(b.genres) and "young_adult" not in b.genres
        assert 1950 <= b.year <= 2010 and b.average_rating >= 4.0
        assert "J.R.R. Tolkien" not in b.authors


async def test_results_are_diversified(call) -> None:
    out = await call("search_books", {"query": "harry potter wizard school magic", "limit": 10})
    assert sum("J.K. Rowling" in b.authors for b in out.books) <= 2
    series = [b.series for b in out.books if b.series]
    assert all(series.count(s) <= 2 for s in series)


async def test_impossible_filters_say_so(call) -> None:
    out = await call(
        "search_books", {"query": "anything", "filters": {"year_min": 2090, "genres_include": ["scifi"]}}
    )
    assert out.books == [] and out.total_candidates == 0
    assert any("scifi" in n and "science_fiction" in n for n in out.notes)
    assert any("relax" in n for n in out.notes)


async def test_genres_all_keeps_books_with_every_shelf_and_names_unknown_ones(call) -> None:
    query = {"query": "funny life stories", "limit": 10}
    anyof = await call("search_books", {**query, "filters": {"genres_include": ["memoir", "humor"]}})
    assert any("humor" not in b.genres for b in anyof.books)  # any-of lets unfunny memoirs in
    out = await call(
        "search_books", {**query, "filters": {"genres_include": ["memoir"], "genres_all": ["Humor"]}}
    )
    assert out.books and out.applied_filters.genres_all == ["humor"]
    assert all({"memoir", "humor"} <= set(b.genres) for b in out.books)
    # An unknown shelf gets the same "did you mean" note as in genres_include.
    typo = await call("search_books", {**query, "filters": {"genres_all": ["humour"]}})
    assert typo.books == []
    assert any(
        n.startswith("genres_all: no book has the genre 'humour'") and "humor" in n for n in typo.notes
    )


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"query": "x", "filters": {"year_min": 2000, "year_max": 1990}}, "filters.year_max"),
        ({"query": "x", "limit": 0}, "limit"),
        ({"query": "", "limit": 5}, "query"),
        ({"query": "x", "filters": {"genre": "fantasy"}}, "filters.genre"),
        ({"query": "x", "filters": {"min_average_rating": 7}}, "filters.min_average_rating"),
    ],
)
async def test_invalid_arguments_come_back_as_errors_naming_the_field(call, arguments, field) -> None:
    out = await call("search_books", arguments)
    assert isinstance(out, ToolError) and out.error.type == "invalid_arguments"
    assert field in [f.field for f in out.error.fields]


async def test_feeling_lucky_gives_one_good_pick_not_always_the_same(call) -> None:
    picks = []
    for _ in range(12):
        out = await call(
            "feeling_lucky", {"mood": "creepy haunted house", "filters": {"exclude_terms": ["clown"]}}
        )
        assert out.book is not None and out.book.why.method == "lucky"
        assert "clown" not in (out.book.excerpt or "").lower()
        picks.append(out.book.id)
    assert len(set(picks)) >= 2
    top = await call(
        "search_books",
        {"query": "creepy haunted house", "filters": {"exclude_terms": ["clown"]}, "limit": 20},
    )
    assert set(picks) <= {b.id for b in top.books}  # drawn from the best matches only


async def test_feeling_lucky_without_a_mood_respects_filters(call) -> None:
    out = await call("feeling_lucky", {"filters": {"genres_include": ["horror"]}})
    assert out.book is not None and "horror" in out.book.genres
    none = await call("feeling_lucky", {"mood": "anything", "filters": {"year_min": 2099}})
    assert none.book is None and none.notes
