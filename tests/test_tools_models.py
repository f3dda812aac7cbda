"""The tool contracts: filters' validation, book cards built from catalog rows, excerpts, result bounds."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest
from pydantic import ValidationError

from vibeshelf.tools.models import (
    EXCERPT_CHARS,
    BookCard,
    BookDetails,
    FindBookResult,
    GetBookArgs,
    MatchEvidence,
    PopularBooksArgs,
    ReadersAlsoLikedArgs,
    ReadersAlsoLikedResult,
    SearchBooksArgs,
    SearchFilters,
    ToolError,
    clean_text,
    make_excerpt,
)

MINI = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "goodbooks-mini"


def error_locs(exc: pytest.ExceptionInfo[ValidationError]) -> set[tuple[object, ...]]:
    return {tuple(e["loc"]) for e in exc.value.errors()}


# --- SearchFilters ----------------------------------------------------------------------------------


def test_filters_default_to_no_constraint() -> None:
    assert SearchFilters().is_empty()
    assert not SearchFilters(year_min=1990).is_empty()


@pytest.mark.parametrize(
    ("data", "loc"),
    [
        ({"year_min": 2000, "year_max": 1999}, ("year_max",)),
        ({"min_ratings_count": 10, "max_ratings_count": 9}, ("max_ratings_count",)),
        ({"min_pages": 300, "max_pages": 200}, ("max_pages",)),
        ({"min_pages": 0}, ("min_pages",)),
        ({"max_pages": -1}, ("max_pages",)),
        ({"min_average_rating": 5.5}, ("min_average_rating",)),
        ({"min_average_rating": -1}, ("min_average_rating",)),
        ({"min_ratings_count": -1}, ("min_ratings_count",)),
        ({"year_min": 3000}, ("year_min",)),
        ({"genres": ["fantasy"]}, ("genres",)),  # a plausible typo must not be silently ignored
        ({"exclude_ids": ["x"] * 201}, ("exclude_ids",)),
    ],
)
def test_filters_reject_bad_values_naming_the_field(data: dict[str, object], loc: tuple[str, ...]) -> None:
    with pytest.raises(ValidationError) as exc:
        SearchFilters.model_validate(data)
    assert error_locs(exc) == {loc}


def test_filters_accept_equal_bounds_and_bc_years() -> None:
    filters = SearchFilters(year_min=-500, year_max=-500, min_ratings_count=5, max_ratings_count=5)
    assert (filters.year_min, filters.year_max) == (-500, -500)
    assert SearchFilters(min_pages=200, max_pages=200).max_pages == 200


def test_an_inverted_page_range_error_names_both_bounds() -> None:
    with pytest.raises(ValidationError, match=r"max_pages \(200\) must be >= min_pages \(300\)"):
        SearchFilters(min_pages=300, max_pages=200)


def test_filters_normalise_genres_and_lists() -> None:
    filters = SearchFilters(
        genres_include=["Science Fiction", "science-fiction", " Fantasy ", ""],
        genres_all=[" Humor", "humor", ""],
        genres_exclude=["Horror"],
        exclude_ids=[" goodbooks:1 ", "goodbooks:1", "goodbooks:2"],
        exclude_authors=["  "],
        language=" EN ",
    )
    assert filters.genres_include == ["science_fiction", "fantasy"]
    assert filters.genres_all == ["humor"]
    assert filters.genres_exclude == ["horror"]
    assert SearchFilters(genres_all=[" ", ""]).genres_all is None
    assert filters.exclude_ids == ["goodbooks:1", "goodbooks:2"]
    assert filters.exclude_authors is None  # nothing left after cleaning means no constraint
    assert filters.language == "en"


def test_genre_names_match_the_real_catalog_vocabulary() -> None:
    if not MINI.is_dir():
        pytest.skip(f"shared data not found at {MINI}")
    with (MINI / "genres.csv").open(newline="") as f:
        vocabulary = {g for row in csv.DictReader(f) for g in row["genres"].split("|") if g}
    # How a language model tends to write them -> the catalog's shelf names.
    for written, shelf in [
        ("Science Fiction", "science_fiction"),
        ("Young Adult", "young_adult"),
        ("Horror", "horror"),
    ]:
        assert shelf in vocabulary
        assert SearchFilters(genres_include=[written]).genres_include == [shelf]
        assert PopularBooksArgs(genre=written).genre == shelf


# --- arguments --------------------------------------------------------------------------------------


def test_search_args_bounds() -> None:
    assert SearchBooksArgs(query="  cosy  ").query == "cosy"
    assert SearchBooksArgs(query="x").limit == 10
    for bad in (
        {"query": "   "},
        {"query": "x", "limit": 0},
        {"query": "x", "limit": 26},
        {"query": "x" * 501},
    ):
        with pytest.raises(ValidationError):
            SearchBooksArgs.model_validate(bad)


def test_readers_also_liked_args_bounds() -> None:
    args = ReadersAlsoLikedArgs(book_ids=["goodbooks:1"])
    assert args.avoid_ids == [] and args.limit == 10
    with pytest.raises(ValidationError) as exc:
        ReadersAlsoLikedArgs(book_ids=[])
    assert error_locs(exc) == {("book_ids",)}
    with pytest.raises(ValidationError):
        ReadersAlsoLikedArgs(book_ids=[f"goodbooks:{i}" for i in range(11)])
    with pytest.raises(ValidationError) as exc:
        ReadersAlsoLikedArgs(book_ids=["goodbooks:1", " "])
    assert error_locs(exc) == {("book_ids", 1)}


def test_get_book_id_is_trimmed_and_required() -> None:
    assert GetBookArgs(book_id=" goodbooks:7 ").book_id == "goodbooks:7"
    with pytest.raises(ValidationError):
        GetBookArgs.model_validate({})


# --- excerpts ---------------------------------------------------------------------------------------


def test_short_text_is_kept_whole_and_cleaned() -> None:
    assert make_excerpt("A <i>short</i> &amp;  sweet\n blurb.") == "A short & sweet blurb."
    assert make_excerpt(None) is None
    assert make_excerpt("   ") is None
    assert make_excerpt(float("nan")) is None  # type: ignore[arg-type]


def test_long_text_is_cut_at_a_word_boundary() -> None:
    text = " ".join(f"word{i}" for i in range(200))
    excerpt = make_excerpt(text, 50)
    assert excerpt is not None and len(excerpt) <= 50 and excerpt.endswith("…")
    kept = excerpt.removesuffix("…")
    assert text.startswith(kept) and text[len(kept)] == " "


def test_a_late_sentence_end_is_preferred_over_a_fragment() -> None:
    text = "First sentence is here and long enough. " + "More words follow without end " * 5
    assert make_excerpt(text, 60) == "First sentence is here and long enough."
    # A sentence end too early would waste the budget: cut at a word instead.
    early = "Hi. " + "and the words go on " * 10
    excerpt = make_excerpt(early, 60)
    assert excerpt is not None and excerpt.endswith("…") and len(excerpt) > 40


def test_excerpts_of_real_descriptions() -> None:
    if not MINI.is_dir():
        pytest.skip(f"shared data not found at {MINI}")
    with (MINI / "descriptions.csv").open(newline="") as f:
        descriptions = [row["description"] for row in csv.DictReader(f)]
    assert len(descriptions) >= 400
    cut = 0
    for text in descriptions:
        excerpt = make_excerpt(text)
        clean = clean_text(text)
        assert excerpt is not None and clean is not None
        assert len(excerpt) <= EXCERPT_CHARS
        kept = excerpt.removesuffix("…")
        assert clean.startswith(kept)
        if len(clean) > EXCERPT_CHARS:
            cut += 1
            # Never mid-word: the kept text is followed by a space or punctuation, not a letter.
            assert not clean[len(kept)].isalnum(), excerpt[-40:]
        assert "<" not in excerpt or ">" not in excerpt  # HTML tags removed
    assert cut > 100  # the data really exercises the cutting path


# --- book cards ---------------------------------------------------------------------------------------

ROW = {
    "id": "goodbooks:2",
    "title": "Harry Potter and the Sorcerer's Stone",
    "full_title": "Harry Potter and the Sorcerer's Stone (Harry Potter, #1)",
    "series": "Harry Potter",
    "series_index": 1.0,
    "authors": ["J.K. Rowling", "Mary GrandPré"],
    "year": 1997,
    "language": "eng",
    "genres": ["fantasy", "young_adult"],
    "description": "<p>Harry Potter has never even heard of Hogwarts.</p> " + "Magic abounds. " * 40,
    "average_rating": 4.440000057220459,  # float32 noise as read from parquet
    "ratings_count": 4602479,
    "num_pages": 309,
    "isbn": "439554934",
    "image_url": "https://images.gr-assets.com/books/1474154022m/3.jpg",
    "link": "https://www.goodreads.com/book/show/3",
}


def test_book_card_from_a_catalog_row() -> None:
    why = MatchEvidence(matched_terms=["wizard"], fused_rank=1, method="hybrid")
    card = BookCard.from_row(ROW, why=why)
    assert card.id == "goodbooks:2" and card.series == "Harry Potter" and card.series_index == 1.0
    assert card.average_rating == 4.44
    assert card.authors == ["J.K. Rowling", "Mary GrandPré"]
    assert card.excerpt is not None and card.excerpt.startswith(
        "Harry Potter has never even heard of Hogwarts."
    )
    assert len(card.excerpt) <= EXCERPT_CHARS
    assert card.why.fused_rank == 1
    assert card.num_pages == 309
    assert set(BookCard.model_fields) >= {"id", "title", "series", "authors", "year", "genres", "why"}


def test_book_card_tolerates_missing_values() -> None:
    row = {"id": "bookcrossing:0002005018", "title": "Clara Callan", "authors": "Richard Bruce Wright"}
    row |= {"average_rating": math.nan, "year": None, "genres": None, "series": "", "description": None}
    card = BookCard.from_row(row | {"num_pages": math.nan})
    assert card.authors == ["Richard Bruce Wright"]
    assert card.average_rating is None and card.year is None and card.genres == [] and card.series is None
    assert card.num_pages is None
    assert card.excerpt is None and card.why == MatchEvidence()


def test_book_details_keep_the_full_record() -> None:
    details = BookDetails.from_row(ROW)
    assert details.num_pages == 309 and details.language == "eng" and details.isbn == "439554934"
    assert details.description is not None and len(details.description) > EXCERPT_CHARS
    assert "<p>" not in details.description


# --- results and errors -------------------------------------------------------------------------------


def test_result_bounds() -> None:
    card = BookCard(id="goodbooks:1", title="T")
    assert FindBookResult(match=None, suggestions=[card] * 7, exact=False).suggestions
    with pytest.raises(ValidationError):
        FindBookResult(match=None, suggestions=[card] * 8, exact=False)
    with pytest.raises(ValidationError):
        ReadersAlsoLikedResult(books=[], method="magic")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        BookCard(id="x", title="T", average_rating=5.5)
    with pytest.raises(ValidationError):
        MatchEvidence(fused_rank=0)


def test_tool_error_shape_and_status() -> None:
    error = ToolError.of("not_found", "No book with id 'goodbooks:0'.")
    assert error.model_dump() == {
        "error": {"type": "not_found", "message": "No book with id 'goodbooks:0'.", "fields": []}
    }
    assert error.http_status == 404
    assert ToolError.of("invalid_arguments", "x").http_status == 422
    with pytest.raises(ValidationError):
        ToolError.of("oops", "x")  # type: ignore[arg-type]
