"""ISBN-13s that were stored as floats: recovered when only one ISBN rounds to the printed value."""

from __future__ import annotations

import duckdb
import pytest

from vibeshelf.ingest.isbn import install_sql_macros, isbn13_check_digit, isbn13_from_float

CASES = [
    ("9.78043902348e+12", "9780439023481"),  # The Hunger Games: check digit 1 rounded away
    ("9.78067172365e+12", "9780671723651"),  # How to Win Friends (goodbooks row 261)
    ("9.78014026887e+12", None),  # two ISBNs round to this value: unrecoverable
    ("9780439023481", "9780439023481"),  # already whole, valid check digit
    ("9780439023482", None),  # whole but wrong check digit
    ("not a number", None),
    ("9.78e+5", None),  # too small to be an ISBN-13
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_isbn13_from_float(text: str, expected: str | None) -> None:
    assert isbn13_from_float(text) == expected


def test_check_digit_of_known_isbns() -> None:
    assert isbn13_check_digit("978043902348") == 1
    assert isbn13_check_digit("978030640615") == 7  # the textbook example, 978-0-306-40615-7


def test_sql_macros_match_python() -> None:
    con = duckdb.connect()
    install_sql_macros(con)
    texts = [t for t, _ in CASES]
    rows = con.execute("SELECT t, isbn13_from_float(t) FROM unnest(?::VARCHAR[]) AS u(t)", [texts]).fetchall()
    assert {t: v for t, v in rows} == {t: isbn13_from_float(t) for t in texts}
    padded = con.execute("SELECT isbn10('61120081'), isbn10('043965548x'), isbn10('12345678901')").fetchall()
    assert padded == [("0061120081", "043965548X", None)]
