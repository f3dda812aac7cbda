"""Series suffixes: "The Hunger Games (The Hunger Games, #1)" -> title, series, series index.

Goodreads-style titles end with a parenthesised "Series, #N" group. The same regular expressions run in
Python (``split_series``, used in tests and small jobs) and in DuckDB (``install_sql_macros``, used by
ingest so titles are split inside the streaming SQL); they are written in the syntax both ``re`` and
RE2 accept so the two cannot drift apart.
"""

from __future__ import annotations

import re

import duckdb
from pydantic import BaseModel

# The last parenthesised group that contains a '#'; one level of nested parentheses is allowed
# inside it ("Ranma ½ (US 2nd), #1") and in the title before it.
SUFFIX_RE = r"^(.*?)\s*\(((?:[^()]|\([^()]*\))*#(?:[^()]|\([^()]*\))*)\)\s*$"
# One "Series, #N" entry; several are separated by ';' ("Discworld, #1; Rincewind #1"): the first wins.
ENTRY_RE = r"^\s*(.*?)\s*,?\s*#\s*(.*?)\s*$"
# Only a plain number is an index: "#1-3", "#0.5, 2.5" or "#3: Part 2" give a null index.
INDEX_RE = r"^[0-9]+(\.[0-9]+)?$"

_suffix = re.compile(SUFFIX_RE)
_entry = re.compile(ENTRY_RE)
_index = re.compile(INDEX_RE)


class SeriesTitle(BaseModel):
    title: str
    series: str | None = None
    series_index: float | None = None


def split_series(full_title: str) -> SeriesTitle:
    full_title = full_title.strip()
    m = _suffix.match(full_title)
    if not m or not m.group(1).strip():
        return SeriesTitle(title=full_title)
    entry = next(e for e in m.group(2).split(";") if "#" in e)
    em = _entry.match(entry)
    assert em is not None  # ENTRY_RE matches any string containing '#'
    series = em.group(1).strip() or None
    idx = em.group(2).strip()
    return SeriesTitle(
        title=m.group(1).strip(),
        series=series,
        series_index=float(idx) if _index.match(idx) else None,
    )


def install_sql_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Define ``split_series(full_title)`` in DuckDB, returning STRUCT(title, series, series_index).

    Behaves exactly like the Python ``split_series`` (the tests check both on the same cases).
    """

    def lit(pattern: str) -> str:
        return "'" + pattern.replace("'", "''") + "'"

    con.execute(
        f"""
        CREATE OR REPLACE TEMP MACRO _series_entry(inner_text) AS
            list_filter(string_split(inner_text, ';'), lambda e: contains(e, '#'))[1];
        CREATE OR REPLACE TEMP MACRO _split_series_parts(t, pre, entry) AS
            CASE WHEN pre IS NULL OR pre = '' THEN
                {{'title': t, 'series': NULL::VARCHAR, 'series_index': NULL::FLOAT}}
            ELSE {{
                'title': pre,
                'series': nullif(trim(regexp_extract(entry, {lit(ENTRY_RE)}, 1)), ''),
                'series_index': CASE
                    WHEN regexp_matches(trim(regexp_extract(entry, {lit(ENTRY_RE)}, 2)), {lit(INDEX_RE)})
                    THEN trim(regexp_extract(entry, {lit(ENTRY_RE)}, 2))::FLOAT END
            }} END;
        CREATE OR REPLACE TEMP MACRO split_series(full_title) AS _split_series_parts(
            trim(full_title),
            CASE WHEN regexp_matches(trim(full_title), {lit(SUFFIX_RE)})
                THEN trim(regexp_extract(trim(full_title), {lit(SUFFIX_RE)}, 1)) END,
            _series_entry(regexp_extract(trim(full_title), {lit(SUFFIX_RE)}, 2))
        );
        """
    )
