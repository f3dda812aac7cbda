"""SearchFilters -> LanceDB SQL prefilter, checked against a real LanceDB table in tmp_path."""

from __future__ import annotations

import lancedb
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from vibeshelf.catalog import CATALOG_SCHEMA
from vibeshelf.retrieval.filters import (
    NO_PAGE_COUNTS_NOTE,
    CatalogFilter,
    admits,
    build_where,
    drop_unknowable_pages,
    has_page_counts,
    language_codes,
    term_pattern,
)
from vibeshelf.tools.models import SearchFilters


def _row(id_: str, title: str, **kw) -> dict:
    row = {name: None for name in CATALOG_SCHEMA.names}
    row.update(id=id_, source="t", title=title, full_title=title, authors=["Anon"], genres=[])
    row.update(kw)
    return row


ROWS = [
    _row(
        "1",
        "Dracula",
        description="A vampire count sails to England.",
        genres=["horror", "classics"],
        authors=["Bram Stoker"],
        year=1897,
        language="eng",
        average_rating=4.0,
        ratings_count=900_000,
        num_pages=418,
    ),
    _row(
        "2",
        "Twilight",
        genres=["vampires", "romance"],
        authors=["Stephenie Meyer"],
        year=2005,
        language="en-US",
        average_rating=3.6,
        ratings_count=4_000_000,
        num_pages=498,
    ),
    _row(
        "3",
        "Jane Eyre",
        description="A governess and a secret in the attic.",
        genres=["classics", "romance"],
        authors=["Charlotte Brontë"],
        year=1847,
        language="en-GB",
        average_rating=4.1,
        ratings_count=1_200_000,
        num_pages=532,
    ),
    _row(
        "4",
        "Short Stories",
        description="Tales about time-travel.",
        genres=["paranormal_romance"],
        authors=["Kim O'Brien"],
        year=None,
        language="fre",
        average_rating=4.3,
        ratings_count=10,
        num_pages=96,
    ),
    _row(
        "5",
        "L'Étranger",
        description="It's a story of the absurd.",
        genres=["fiction", "classics"],
        authors=["Albert Camus"],
        year=1942,
        language=None,
        average_rating=3.9,
        ratings_count=40_000,
        num_pages=123,
    ),
    _row(
        "6",
        "Vampirella Archives",
        description="Comic heroine.",
        genres=["comics"],
        authors=["Various"],
        year=1970,
        language="eng",
        average_rating=3.5,
        ratings_count=300,
    ),
    _row(
        "7",
        "The Historian",
        description="Scholars hunt for the tomb of VAMPIRES' lord.",
        genres=["fantasy"],
        authors=["Elizabeth Kostova"],
        year=2005,
        language="eng",
        average_rating=3.8,
        ratings_count=250_000,
        num_pages=642,
    ),
]


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory):
    db = lancedb.connect(str(tmp_path_factory.mktemp("filters-db")))
    return db.create_table("books", pa.Table.from_pylist(ROWS, schema=CATALOG_SCHEMA))


def ids(table, **filters) -> list[str]:
    """Ids passing the filters, evaluated both ways: LanceDB SQL and the in-memory Arrow mask must agree."""
    parsed = SearchFilters(**filters)
    where = build_where(parsed)
    query = table.search()
    if where:
        query = query.where(where)
    by_sql = sorted(query.select(["id"]).limit(100).to_arrow()["id"].to_pylist())
    catalog = table.to_arrow()
    mask = CatalogFilter(catalog).mask(parsed)
    by_mask = sorted(
        catalog["id"].to_pylist() if mask is None else pc.filter(catalog["id"], mask).to_pylist()
    )
    assert by_sql == by_mask, f"SQL and in-memory filters disagree for {filters}"
    # The third evaluation of the same limit table: one book card at a time (the agent's last check).
    by_card = sorted(row["id"] for row in catalog.to_pylist() if admits(parsed, row))
    assert by_sql == by_card, f"SQL and the card check disagree for {filters}"
    return by_sql


def test_no_filters_means_no_where() -> None:
    assert build_where(None) is None
    assert build_where(SearchFilters()) is None


@pytest.mark.parametrize("term", ["vampire", "vampires", "Vampire", "VAMPIRES"])
def test_negative_intent_removes_every_mention_in_title_description_or_genres(table, term) -> None:
    # 1: description, 2: genre only, 7: capitalised plural + apostrophe; 6 "Vampirella" is no vampire.
    assert ids(table, exclude_terms=[term]) == ["3", "4", "5", "6"]


def test_exclude_terms_reads_snake_case_genres_as_words_and_phrases_loosely(table) -> None:
    assert ids(table, exclude_terms=["romance"]) == ["1", "5", "6", "7"]  # 4 via paranormal_romance
    assert ids(table, exclude_terms=["time travel"]) == ["1", "2", "3", "5", "6", "7"]
    assert ids(table, exclude_terms=["stories"]) == ids(table, exclude_terms=["story"])
    assert "4" not in ids(table, exclude_terms=["story"]) and "5" not in ids(table, exclude_terms=["story"])


def test_term_pattern_handles_plurals_accents_and_rejects_empty_terms() -> None:
    pattern = term_pattern("story")
    assert pattern is not None
    texts = pa.array(["a story", "short stories.", "storytelling", "history", "STORY"])
    assert pc.match_substring_regex(pc.utf8_lower(texts), pattern).to_pylist() == [
        True,
        True,
        False,
        False,
        True,
    ]
    cafe = term_pattern("cafe")
    assert pc.match_substring_regex(pa.array(["un café crème", "cafeteria"]), cafe).to_pylist() == [
        True,
        False,
    ]
    for plural, singular in [("zombies", "The Zombie Survival Guide"), ("movies", "a movie tie-in")]:
        pattern = term_pattern(plural)
        assert pc.match_substring_regex(pa.array([singular.lower(), plural]), pattern).to_pylist() == [
            True,
            True,
        ]
    assert term_pattern("!!!") is None
    assert build_where(SearchFilters(exclude_terms=["?!"])) is None


def test_exclude_authors_is_case_and_accent_insensitive(table) -> None:
    assert ids(table, exclude_authors=["charlotte bronte"]) == ["1", "2", "4", "5", "6", "7"]
    assert ids(table, exclude_authors=["CAMUS", "Bram Stoker"]) == ["2", "3", "4", "6", "7"]
    # An apostrophe in a value is data, not SQL.
    assert ids(table, exclude_authors=["Kim O'Brien"]) == ["1", "2", "3", "5", "6", "7"]


def test_authors_any_keeps_only_books_by_one_of_them_the_three_evaluations_agreeing(table) -> None:
    assert ids(table, authors_any=["charlotte bronte"]) == ["3"]
    assert ids(table, authors_any=["CAMUS", "Bram Stoker"]) == ["1", "5"]
    assert ids(table, authors_any=["Kim O'Brien"]) == ["4"]
    # An author asked for and one ruled out in the same filters: both hold.
    assert ids(table, authors_any=["Camus", "Elizabeth Kostova"], exclude_authors=["camus"]) == ["7"]


def test_genres_include_any_of_and_exclude(table) -> None:
    assert ids(table, genres_include=["Romance", "horror"]) == ["1", "2", "3"]
    assert ids(table, genres_exclude=["classics"]) == ["2", "4", "6", "7"]
    assert ids(table, genres_include=["classics"], genres_exclude=["romance"]) == ["1", "5"]


def test_genres_all_every_one_of(table) -> None:
    # Every listed shelf must be on the book ("a funny fantasy": fantasy AND humor), not any one of them.
    assert ids(table, genres_all=["Classics", "romance"]) == ["3"]
    assert ids(table, genres_all=["romance"]) == ["2", "3"]
    assert ids(table, genres_all=["classics", "no_such_shelf"]) == []
    # With genres_include: (horror OR romance) AND classics; with genres_exclude: classics but not romance.
    assert ids(table, genres_include=["horror", "romance"], genres_all=["classics"]) == ["1", "3"]
    assert ids(table, genres_all=["classics"], genres_exclude=["romance"]) == ["1", "5"]


def test_year_rating_and_popularity_ranges(table) -> None:
    assert ids(table, year_min=1900) == ["2", "5", "6", "7"]  # unknown year never satisfies a range
    assert ids(table, year_min=1800, year_max=1900) == ["1", "3"]
    assert ids(table, min_average_rating=4.1) == ["3", "4"]  # float32 4.1 still counts as 4.1
    assert ids(table, min_ratings_count=100_000, max_ratings_count=1_000_000) == ["1", "7"]
    assert ids(table, max_ratings_count=1000) == ["4", "6"]


def test_page_ranges_and_unknown_page_counts(table) -> None:
    assert ids(table, max_pages=200) == ["4", "5"]
    assert ids(table, max_pages=498) == ["1", "2", "4", "5"]  # inclusive
    assert ids(table, min_pages=500) == ["3", "7"]
    assert ids(table, min_pages=400, max_pages=500) == ["1", "2"]
    # 6 has no page count: it never satisfies a page bound, however wide.
    assert ids(table, min_pages=1) == ["1", "2", "3", "4", "5", "7"]
    assert ids(table, min_pages=1, genres_include=["comics"]) == []
    assert ids(table, max_pages=200, language="fr") == ["4"]


def test_page_bounds_are_dropped_with_a_note_only_where_the_catalog_has_no_page_counts(table) -> None:
    catalog = table.to_arrow()
    assert has_page_counts(catalog) and CatalogFilter(catalog).page_counts
    blank = catalog.set_column(
        catalog.schema.get_field_index("num_pages"),
        "num_pages",
        pa.nulls(catalog.num_rows, pa.int32()),
    )
    assert not has_page_counts(blank) and not CatalogFilter(blank).page_counts
    assert not has_page_counts(catalog.drop_columns(["num_pages"]))

    paged = SearchFilters(max_pages=200, genres_exclude=["horror"])
    assert drop_unknowable_pages(paged, True) == (paged, [])
    kept, notes = drop_unknowable_pages(paged, False)
    assert kept == SearchFilters(genres_exclude=["horror"]) and notes == [NO_PAGE_COUNTS_NOTE]
    assert drop_unknowable_pages(SearchFilters(min_pages=300), False)[0].is_empty()
    # Without a page bound there is nothing to say.
    assert drop_unknowable_pages(SearchFilters(year_min=1900), False) == (SearchFilters(year_min=1900), [])
    assert drop_unknowable_pages(None, False) == (None, [])
    # Applied anyway, a page bound on that catalog would rule out every book: why it is dropped.
    assert CatalogFilter(blank).mask(SearchFilters(max_pages=10_000)).sum() == 0


def test_language_codes_cover_names_iso_codes_and_regions(table) -> None:
    assert {"en", "eng"} <= set(language_codes("English"))
    assert ids(table, language="en") == ["1", "2", "3", "6", "7"]
    assert ids(table, language="eng") == ids(table, language="en")
    assert ids(table, language="fr") == ["4"]


def test_exclude_ids_with_quotes(table) -> None:
    assert ids(table, exclude_ids=["1", "2", "x') OR ('1'='1"]) == ["3", "4", "5", "6", "7"]


def test_filters_combine_with_and(table) -> None:
    got = ids(table, genres_include=["classics", "romance"], exclude_terms=["vampire"], language="en")
    assert got == ["3"]


def test_accented_words_and_nulls_agree_in_sql_and_in_memory(tmp_path) -> None:
    rows = [
        _row(
            "a",
            "Café Stories",
            description="Short fiction from a Paris café.",
            genres=["short_stories"],
            authors=["Émile Zola"],
            year=1880,
            language="fre",
        ),
        _row(
            "b",
            "Cafeteria Blues",
            description="Lunch lady noir.",
            genres=["mystery"],
            authors=["Zola Budd"],
            year=None,
            language=None,
            average_rating=4.5,
            ratings_count=100,
        ),
    ]
    table = lancedb.connect(str(tmp_path)).create_table(
        "t", pa.Table.from_pylist(rows, schema=CATALOG_SCHEMA)
    )
    assert ids(table, exclude_terms=["cafe"]) == ["b"]  # "café" is the word; "cafeteria" is not
    assert ids(table, exclude_authors=["emile zola"]) == ["b"]
    assert ids(table, min_average_rating=1.0) == ["b"]  # an unknown rating fails a rating constraint
    assert ids(table, max_ratings_count=10**9) == ["b"]
    assert ids(table, year_max=2000) == ["a"]
    assert ids(table, language="fr") == ["a"]
    assert ids(table, max_pages=500) == []  # neither has a page count: a page bound fails both
    assert ids(table, genres_all=["mystery"]) == ["b"]
    assert ids(table, genres_all=["mystery", "short_stories"]) == []
