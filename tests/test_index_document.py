"""compose_document: what a book is embedded as."""

from __future__ import annotations

from vibeshelf.ingest.document import authors_text, compose_document, genres_text


def test_full_document_reads_as_one_passage() -> None:
    doc = compose_document(
        "Catching Fire",
        series="The Hunger Games",
        series_index=2.0,
        authors=["Suzanne Collins"],
        genres=["young_adult", "dystopian", "young_adult"],
        description="  Sparks are igniting.\n\nFlames are spreading. ",
    )
    assert doc == (
        "Catching Fire (The Hunger Games #2) by Suzanne Collins. Genres: young adult, dystopian. "
        "Sparks are igniting. Flames are spreading."
    )


def test_book_without_description_or_authors_still_gets_text() -> None:
    assert compose_document("Beowulf", genres=["poetry"]) == "Beowulf. Genres: poetry."
    assert compose_document("  ", authors=[" ", "Anonymous"]) == "Untitled by Anonymous."


def test_series_details() -> None:
    # A fractional index is kept; a series named like the title is only repeated for its number.
    assert compose_document("Novella", series="Saga", series_index=2.5).startswith("Novella (Saga #2.5).")
    assert compose_document("Dune", series="Dune", series_index=1.0) == "Dune (Dune #1)."
    assert compose_document("Dune", series="dune") == "Dune."
    assert compose_document("Emma", series="Classics") == "Emma (Classics)."


def test_many_genres_are_capped() -> None:
    doc = compose_document("X", genres=[f"g{i}" for i in range(20)])
    assert doc == "X. Genres: g0, g1, g2, g3, g4, g5, g6, g7."


def test_fts_helper_columns() -> None:
    assert authors_text(["J.K. Rowling", " Mary GrandPré ", ""]) == "J.K. Rowling, Mary GrandPré"
    assert genres_text(["science_fiction", "space-opera"]) == "science fiction space opera"
    assert authors_text(None) == "" and genres_text([]) == ""
