"""The planner's answer text: evidence-based reasons, varied but deterministic wording, list order."""

from __future__ import annotations

import re
from typing import Any

from vibeshelf.agent.answer_writer import AnswerContext, mentioned_order, write_answer
from vibeshelf.tools.models import BookCard, MatchEvidence


def book(i: int, **why: Any) -> dict[str, Any]:
    """A schema-valid card, as a tool would return it."""
    return BookCard(
        id=f"goodbooks:{i}",
        title=f"Book Number {i}",
        authors=[f"Author {i}"],
        year=1990 + i,
        genres=["fiction", "mystery", "thriller"],
        average_rating=3.5 + (i % 10) / 10,
        ratings_count=12_345 * i,
        why=MatchEvidence(**why),
    ).model_dump()


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if re.match(r"\d+\. ", line)]


def test_each_pick_is_explained_from_its_evidence() -> None:
    seed = book(99)
    ctx = AnswerContext(
        kind="like",
        seeds=[seed],
        picks=[
            book(1, co_readers=57, method="collaborative"),
            book(2, method="hybrid", matched_terms=["fog"]),
        ],
    )
    first, second = lines(write_answer(ctx))
    assert first.startswith("1. **Book Number 1** by Author 1 (1991) — ")
    assert "57" in first and "Book Number 99" in first  # co-readers of the seed, with their number
    assert "12,345" in first and "3.60" in first  # rating with its count
    assert "Book Number 99" in second and "fog" not in second  # a blurb match is not the reader's words
    assert "**Book Number 99**" in write_answer(ctx).split("\n")[0]


def test_search_picks_cite_matched_words_and_the_genre_asked_for() -> None:
    ctx = AnswerContext(
        kind="search",
        query="a foggy mystery",
        genres=["mystery"],
        picks=[book(3, matched_terms=["foggy", "the", "mystery"])],
    )
    text = write_answer(ctx)
    (line,) = lines(text)
    assert "foggy" in line.lower() and " the " not in line.split("—")[1].split(";")[0]
    assert "mystery" in line  # "a mystery pick" / "shelved as mystery, as asked"
    assert "“foggy mystery”" in text  # the request quoted back, without its article


def test_wording_varies_by_book_but_never_between_runs() -> None:
    picks = [book(i, matched_terms=["rain"]) for i in range(1, 9)]
    ctx = AnswerContext(kind="search", query="rain", picks=picks)
    text = write_answer(ctx)
    assert text == write_answer(AnswerContext(kind="search", query="rain", picks=picks))
    reasons = {line.split(" — ")[1].split(";")[0] for line in lines(text)}
    ratings = {re.sub(r"[\d.,]+", "#", line.rsplit(". ", 1)[-1]) for line in lines(text)}
    assert len(reasons) >= 2 and len(ratings) >= 2


def test_no_picks_and_errors_name_no_books() -> None:
    empty = write_answer(AnswerContext(kind="search", query="x", constraints=["published up to 1850"]))
    assert "couldn't find anything" in empty and "published up to 1850" in empty and "**" not in empty
    failed = write_answer(AnswerContext(kind="search", query="x", errors=["search_books failed; try again."]))
    assert "search failed just now (search_books failed; try again)" in failed and "**" not in failed
    assert "**" not in write_answer(AnswerContext(kind="greeting"))
    assert "tools" in write_answer(AnswerContext(kind="no_tools"))


def test_not_found_titles_offer_the_tools_suggestions() -> None:
    ctx = AnswerContext(
        kind="search", query="gone grl", not_found=[("Gone Grl", [book(5), book(6)])], picks=[book(7)]
    )
    text = write_answer(ctx)
    assert (
        "I couldn't find “Gone Grl” in the catalog; did you mean **Book Number 5** and **Book Number 6**?"
        in text
    )


def test_mentioned_order_reads_the_numbered_list() -> None:
    cards = [
        {"id": "a", "title": "It"},
        {"id": "b", "title": "Rebecca"},
        {"id": "c", "title": "The Stand"},
        {"id": "d", "title": "Dune"},
    ]
    text = (
        "Since you liked **Dune**, here goes. It is a fine list:\n"
        "1. **The Stand** by Stephen King — long.\n"
        "2. *Rebecca* by Daphne du Maurier — eerie.\n"
        "3. **It** by Stephen King — scary."
    )
    assert [c["id"] for c in mentioned_order(text, cards)] == ["c", "b", "a"]
    prose = "Try The Stand, then Rebecca. It is long."
    assert [c["id"] for c in mentioned_order(prose, cards)] == ["c", "b"]  # "It" is too short to find loose


def test_genre_phrases_take_the_right_article() -> None:
    """ "fantasy with an epic fantasy streak", "an urban fantasy read": never "a epic" or "a urban"."""
    genres = [
        "epic_fantasy",
        "urban_fantasy",
        "adventure",
        "action",
        "erotica",
        "historical_fiction",
        "horror",
    ]
    picks = []
    for i in range(60):  # wording is chosen per book, so enough books to meet every phrasing
        card = book(i, method="hybrid")
        card["genres"] = [genres[i % len(genres)], genres[(i * 3 + 1) % len(genres)]]
        picks.append(card)
    text = write_answer(AnswerContext(kind="search", picks=picks))
    assert re.search(r"\b(?:an (?:epic|urban|adventure|action|erotica)|a (?:historical|horror))\b", text)
    assert not re.search(r"\ba (?:[aeio]|u(?!ni|s|t|ro|ku))", text), re.findall(r"\ba [aeiou]\w+", text)
