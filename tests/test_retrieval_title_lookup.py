"""Title lookup on the real goodbooks-mini catalog: exact hits, near misses, authors, autocomplete."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from vibeshelf.retrieval.title_lookup import MAX_SUGGESTIONS, TitleLookup, fold, title_key


@pytest.fixture(scope="module")
def lookup(goodbooks_mini_catalog) -> TitleLookup:
    return TitleLookup.from_table(pq.read_table(goodbooks_mini_catalog.catalog))


def test_keys_fold_case_accents_punctuation_articles_and_series() -> None:
    assert fold("Les Misérables") == "les miserables"
    assert fold("Harry Potter & the Sorcerer’s Stone!") == "harry potter and the sorcerers stone"
    assert title_key("The Hunger Games (The Hunger Games, #1)") == "hunger games"
    assert title_key("Hunger Games #1") == "hunger games"
    assert title_key("A Game of Thrones") == title_key("game of thrones")


@pytest.mark.parametrize(
    ("query", "expected_title"),
    [
        ("The Hunger Games", "The Hunger Games"),
        ("the HUNGER games", "The Hunger Games"),
        ("The Hunger Games (The Hunger Games, #1)", "The Hunger Games"),
        ("Mockingjay #3", "Mockingjay"),
        ("harry potter and the sorcerers stone", "Harry Potter and the Sorcerer's Stone"),
        ("les miserables", "Les Misérables"),
        ("Game of Thrones", "A Game of Thrones"),
    ],
)
def test_exact_titles_find_the_book(lookup: TitleLookup, query: str, expected_title: str) -> None:
    result = lookup.find(query)
    assert result.exact
    assert result.matches[0].title == expected_title
    assert result.matches[0].score == 100.0


@pytest.mark.parametrize(
    ("query", "expected_title"),
    [
        ("the hunger game", "The Hunger Games"),
        ("Harry Poter and the Philosopher Stone", "Harry Potter and the Sorcerer's Stone"),
        ("To kill a mocking bird", "To Kill a Mockingbird"),
        ("Pride and Predjudice", "Pride and Prejudice"),
        ("wuthering hights", "Wuthering Heights"),
        ("kite runer", "The Kite Runner"),
    ],
)
def test_near_misses_get_did_you_mean_suggestions(
    lookup: TitleLookup, query: str, expected_title: str
) -> None:
    result = lookup.find(query)
    assert not result.exact
    assert 1 <= len(result.matches) <= MAX_SUGGESTIONS
    assert result.matches[0].title == expected_title
    scores = [m.score for m in result.matches]
    assert scores == sorted(scores, reverse=True)


def test_a_vague_title_lists_at_most_seven_books(lookup: TitleLookup) -> None:
    result = lookup.find("Harry Potter")
    assert not result.exact
    assert len(result.matches) == MAX_SUGGESTIONS
    assert all("Harry Potter" in m.title for m in result.matches)


def test_author_narrows_exact_matches_and_rescues_vague_titles(lookup: TitleLookup) -> None:
    shining = lookup.find("the shining", author="stephen king")
    assert shining.exact and shining.matches[0].authors == ["Stephen King"]
    wrong_author = lookup.find("the shining", author="jane austen")
    assert not wrong_author.exact
    by_king = lookup.find("that clown book", author="Stephen King")
    assert by_king.matches and all("Stephen King" in m.authors for m in by_king.matches)


def test_nonsense_and_empty_titles_find_nothing(lookup: TitleLookup) -> None:
    assert lookup.find("xyzzy plugh qwv").matches == []
    empty = lookup.find("!!!")
    assert not empty.exact and empty.matches == []


def test_autocomplete_prefers_title_starts_then_popularity(lookup: TitleLookup) -> None:
    got = lookup.autocomplete("harry pot", limit=5)
    assert len(got) == 5 and all(m.title.startswith("Harry Potter") for m in got)
    counts = [m.ratings_count for m in got]
    assert counts == sorted(counts, reverse=True)
    tolkien = lookup.autocomplete("tolk", limit=3)
    assert tolkien and all("J.R.R. Tolkien" in m.authors for m in tolkien)
    inner = lookup.autocomplete("mockingbird")  # a later word of the title
    assert any(m.title == "To Kill a Mockingbird" for m in inner)
    assert lookup.autocomplete("   ") == []
