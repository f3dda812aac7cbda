"""ISBNs: normalise ISBN-10s and rebuild ISBN-13s that a spreadsheet turned into floats.

goodbooks' isbn13 column holds values like ``9.78043902348e+12``: the 13-digit number rounded
(half to even) to 12 significant digits, so the check digit is lost and the 12th digit may be off
by one. The true ISBN-13 is one whose first 12 digits and recomputed check digit round back to the
printed value; when exactly one candidate does, it is recovered, otherwise the value is unrecoverable.
The SQL macros mirror the Python functions (tests check both).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import duckdb


def isbn13_check_digit(first12: str) -> int:
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(first12))
    return (10 - total % 10) % 10


def isbn13_from_float(text: str) -> str | None:
    """The ISBN-13 a float rendering such as ``9.78043902348e+12`` stands for, or None if ambiguous."""
    text = text.strip()
    if len(text) == 13 and text.isdigit():
        return text if isbn13_check_digit(text[:12]) == int(text[12]) else None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    if not (Decimal(10**12) <= value < Decimal(10**13)) or value != value.to_integral_value():
        return None
    p0 = int(value) // 10
    found = []
    c = isbn13_check_digit(str(p0))
    if c < 5 or (c == 5 and p0 % 2 == 0):  # the 13th digit rounded down onto p0
        found.append(f"{p0}{c}")
    q = p0 - 1
    c = isbn13_check_digit(str(q))
    if c > 5 or (c == 5 and q % 2 == 1):  # the 13th digit rounded p0 - 1 up
        found.append(f"{q}{c}")
    return found[0] if len(found) == 1 else None


def install_sql_macros(con: duckdb.DuckDBPyConnection) -> None:
    """``isbn10(text)``: padded, upper-case ISBN-10 or NULL; ``isbn13_from_float(text)``: as in Python."""
    con.execute(
        """
        CREATE OR REPLACE TEMP MACRO isbn10(s) AS
            CASE WHEN regexp_full_match(upper(trim(s)), '[0-9]{1,9}[0-9X]')
                THEN lpad(upper(trim(s)), 10, '0') END;
        CREATE OR REPLACE TEMP MACRO isbn13_check_digit(p) AS
            (10 - list_sum(list_transform(range(12), lambda i:
                TRY_CAST(substr(p, i + 1, 1) AS INTEGER) * CASE WHEN i % 2 = 0 THEN 1 ELSE 3 END)) % 10) % 10;
        CREATE OR REPLACE TEMP MACRO _isbn13_down(p0) AS
            CASE WHEN isbn13_check_digit(p0::VARCHAR) < 5
                   OR (isbn13_check_digit(p0::VARCHAR) = 5 AND p0 % 2 = 0)
                THEN p0::VARCHAR || isbn13_check_digit(p0::VARCHAR) END;
        CREATE OR REPLACE TEMP MACRO _isbn13_up(q) AS
            CASE WHEN isbn13_check_digit(q::VARCHAR) > 5
                   OR (isbn13_check_digit(q::VARCHAR) = 5 AND q % 2 = 1)
                THEN q::VARCHAR || isbn13_check_digit(q::VARCHAR) END;
        CREATE OR REPLACE TEMP MACRO _isbn13_pick(a, b) AS
            CASE WHEN a IS NOT NULL AND b IS NULL THEN a WHEN a IS NULL AND b IS NOT NULL THEN b END;
        CREATE OR REPLACE TEMP MACRO _isbn13_p0(v) AS CAST(floor(v / 10) AS BIGINT);
        CREATE OR REPLACE TEMP MACRO isbn13_from_float(s) AS CASE
            WHEN regexp_full_match(trim(s), '[0-9]{13}') THEN
                CASE WHEN isbn13_check_digit(trim(s)) = TRY_CAST(right(trim(s), 1) AS INTEGER)
                    THEN trim(s) END
            WHEN TRY_CAST(trim(s) AS DECIMAL(18, 3)) >= 1e12 AND TRY_CAST(trim(s) AS DECIMAL(18, 3)) < 1e13
                 AND TRY_CAST(trim(s) AS DECIMAL(18, 3)) = floor(TRY_CAST(trim(s) AS DECIMAL(18, 3))) THEN
                _isbn13_pick(
                    _isbn13_down(_isbn13_p0(TRY_CAST(trim(s) AS DECIMAL(18, 3)))),
                    _isbn13_up(_isbn13_p0(TRY_CAST(trim(s) AS DECIMAL(18, 3))) - 1))
            END;
        """
    )
