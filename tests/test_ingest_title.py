"""Series suffix parsing: the Python function and the DuckDB macro must agree on every case."""

from __future__ import annotations

import duckdb
import pytest

from vibeshelf.series_title import install_sql_macros, split_series

CASES = [
    ("The Hunger Games (The Hunger Games, #1)", "The Hunger Games", "The Hunger Games", 1.0),
    ("Ender's Shadow (The Shadow Series, #2.5)", "Ender's Shadow", "The Shadow Series", 2.5),
    ("HP Boxed Set, Books 1-3 (Harry Potter, #1-3)", "HP Boxed Set, Books 1-3", "Harry Potter", None),
    ("Ranma ½, Vol. 1 (Ranma ½ (US 2nd), #1)", "Ranma ½, Vol. 1", "Ranma ½ (US 2nd)", 1.0),
    ("The Color of Magic (Discworld, #1; Rincewind #1)", "The Color of Magic", "Discworld", 1.0),
    ("Angels & Demons  (Robert Langdon, #1)", "Angels & Demons", "Robert Langdon", 1.0),
    ("Foo (a note) (Some Series, #3)", "Foo (a note)", "Some Series", 3.0),
    ("The Firm (Penguin Readers, Level 5)", "The Firm (Penguin Readers, Level 5)", None, None),
    ("Dune", "Dune", None, None),
    ("(Series Only, #1)", "(Series Only, #1)", None, None),
    ("Mort (Death, #1; Discworld, #4)", "Mort", "Death", 1.0),
    ("Fall (Saga #3: Part 2 of 2)", "Fall", "Saga", None),
]  # fmt: skip


@pytest.mark.parametrize(("full", "title", "series", "index"), CASES)
def test_split_series_python(full: str, title: str, series: str | None, index: float | None) -> None:
    parts = split_series(full)
    assert (parts.title, parts.series, parts.series_index) == (title, series, index)


def test_sql_macro_matches_python() -> None:
    con = duckdb.connect()
    install_sql_macros(con)
    titles = [full for full, *_ in CASES]
    rows = con.execute("SELECT t, split_series(t) FROM unnest(?::VARCHAR[]) AS u(t)", [titles]).fetchall()
    assert len(rows) == len(CASES)
    for full, sql in rows:
        py = split_series(full)
        assert (sql["title"], sql["series"], sql["series_index"]) == (py.title, py.series, py.series_index), (
            full
        )
