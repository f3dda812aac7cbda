"""Book-Crossing reader: BX-Books, BX-Book-Ratings, BX-Users (plain or gzipped) -> staged tables.

The files are Latin-1, ``;``-separated, ``"``-quoted, CRLF, with quotes inside fields (``\\"``), HTML
entities (``&amp;``), UTF-8 text mis-read as Latin-1 ("StÃ¼ck") and one record broken across lines.
A CSV parser trips over those, so each line is read as one column and split on ``";"`` in SQL.
Ratings 1..10 become explicit 1..5 with ceil(r / 2); rating 0 is an implicit interaction.
"""

from __future__ import annotations

import contextlib
import html
import re
from pathlib import Path

import duckdb
import pyarrow as pa

from vibeshelf.ingest.input_error import InputFileError
from vibeshelf.ingest.rawfile import csv_header, duckdb_error, locate, sql_str
from vibeshelf.ingest.staging import Staged, StagedTable, drop_case, repairs_list

SOURCE = "bookcrossing"
BOOK_COLUMNS = (
    "ISBN", "Book-Title", "Book-Author", "Year-Of-Publication", "Publisher",
    "Image-URL-S", "Image-URL-M", "Image-URL-L",
)  # fmt: skip
RATING_COLUMNS = ("User-ID", "ISBN", "Book-Rating")
USER_COLUMNS = ("User-ID", "Location", "Age")
# A line that starts a record: a quoted first field followed by ';'.
RECORD_START = r'^"[^"]*";'
# A line that ends a record: a closing quote, or the unquoted NULL of BX-Users' Age.
RECORD_END = r'("|NULL)\s*$'
# Catalog ids: ISBN-10, ISBN-13, or an Amazon ASIN (BX-Books lists a few hundred books by ASIN).
VALID_ID = r"[0-9]{9}[0-9X]|97[89][0-9]{10}|B[0-9A-Z]{9}"
OPEN_LIBRARY = "https://openlibrary.org/isbn/"
# A file where most lines do not split into the expected fields is the wrong format, not a messy one.
MAX_MALFORMED_SHARE = 0.5

_MOJIBAKE = re.compile("[\u00c2-\u00f4][\u0080-\u00bf]")
_TAG = re.compile(r"</?[A-Za-z][^<>]*>")


def _unmojibake(text: str) -> str:
    """UTF-8 bytes that were decoded as Latin-1 ("StÃ¼ck" -> "Stück"); unchanged when not that."""
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def _unescape(text: str) -> str:
    """HTML entities and the tags some titles carry ("&lt;i>Hardback&lt;/i>")."""
    return re.sub(r"\s+", " ", _TAG.sub(" ", html.unescape(text))).strip()


def _arrow_udf(fn):  # type: ignore[no-untyped-def]
    def apply(col: pa.Array) -> pa.Array:
        return pa.array([None if v is None else fn(v) for v in col.to_pylist()], pa.string())

    return apply


def _install_udfs(con: duckdb.DuckDBPyConnection) -> None:
    for name, fn in (("bx_unmojibake", _unmojibake), ("bx_unescape", _unescape)):
        with contextlib.suppress(duckdb.Error):  # not registered yet on this connection
            con.remove_function(name)
        con.create_function(name, _arrow_udf(fn), ["VARCHAR"], "VARCHAR", type="arrow")
    con.execute(
        r"""
        CREATE OR REPLACE TEMP MACRO bx_isbn(s) AS regexp_replace(upper(trim(s)), '[\s.\-]', '', 'g');
        CREATE OR REPLACE TEMP MACRO bx_fields(line) AS
            string_split(regexp_replace(regexp_replace(line, '^"', ''), '"$', ''), '";"');
        CREATE OR REPLACE TEMP MACRO bx_text1(s) AS
            CASE WHEN regexp_matches(s, '[\x{C2}-\x{F4}][\x{80}-\x{BF}]') THEN bx_unmojibake(s) ELSE s END;
        CREATE OR REPLACE TEMP MACRO bx_text2(s) AS
            CASE WHEN regexp_matches(s, '&[#0-9A-Za-z]+;|<[A-Za-z/]') THEN bx_unescape(s) ELSE s END;
        """
    )


def _load_lines(con: duckdb.DuckDBPyConnection, path: Path, table: str, expected: str) -> None:
    """One row per record: ``_row`` (line of its first line; header = 1), ``line``, ``nlines``."""
    try:
        # A 4-byte delimiter that never occurs: every line lands whole in one column.
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table}_lines AS SELECT line FROM read_csv({sql_str(path)}, "
            "columns = {'line': 'VARCHAR'}, delim = '\x1e\x1f\x1e\x1f', quote = '', escape = '', "
            "header = false, auto_detect = false, encoding = 'latin-1')"
        )
    except duckdb.Error as err:
        raise duckdb_error(path, err, expected=expected) from None
    ((open_ended,),) = con.execute(
        f"SELECT count(*) FROM {table}_lines WHERE NOT regexp_matches(line, '{RECORD_END}')"
    ).fetchall()
    if not open_ended:  # the common case: skip the window over a million lines
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT rowid + 1 AS _row, line, 1 AS nlines "
            f"FROM {table}_lines"
        )
    else:
        # A line continues the previous record only when that record is open (no closing quote or
        # NULL) and the line does not itself start a record; anything else stays a row of its own.
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE {table} AS
            WITH l AS (
                SELECT rowid + 1 AS lineno, line,
                    regexp_matches(line, '{RECORD_START}') AS starts,
                    coalesce(NOT regexp_matches(lag(line) OVER (ORDER BY rowid), '{RECORD_END}'), false)
                        AS after_open
                FROM {table}_lines
            ), g AS (
                SELECT *, sum(CASE WHEN after_open AND NOT starts THEN 0 ELSE 1 END)
                    OVER (ORDER BY lineno ROWS UNBOUNDED PRECEDING) AS grp
                FROM l
            )
            SELECT min(lineno) AS _row, string_agg(line, ' ' ORDER BY lineno) AS line, count(*) AS nlines
            FROM g GROUP BY grp
            """
        )
    con.execute(f"DROP TABLE {table}_lines")


def _check_malformed(con: duckdb.DuckDBPyConnection, table: str, path: Path, expected: str) -> None:
    ((total, bad, first_bad),) = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE _drop LIKE 'malformed%'), "
        f"min(_row) FILTER (WHERE _drop LIKE 'malformed%') FROM {table}"
    ).fetchall()
    if total and bad / total > MAX_MALFORMED_SHARE:
        raise InputFileError(path, f"{bad:,} of {total:,} rows do not split into fields", row=first_bad,
                             expected=expected)  # fmt: skip


def stage(con: duckdb.DuckDBPyConnection, folder: Path) -> Staged:
    books = locate(folder, "BX-Books.csv")
    ratings = locate(folder, "BX-Book-Ratings.csv")
    users = locate(folder, "BX-Users.csv")
    assert books is not None and ratings is not None and users is not None
    expect = {
        p: f'semicolon-separated, "-quoted columns: {", ".join(cols)}'
        for p, cols in ((books, BOOK_COLUMNS), (ratings, RATING_COLUMNS), (users, USER_COLUMNS))
    }
    for path, cols in ((books, BOOK_COLUMNS), (ratings, RATING_COLUMNS), (users, USER_COLUMNS)):
        csv_header(path, cols, delimiter=";", encoding="latin-1")
    _install_udfs(con)

    _load_lines(con, books, "bx_books_lines", expect[books])
    _stage_books(con, books.name)
    _check_malformed(con, "bx_books", books, expect[books])

    _load_lines(con, ratings, "bx_ratings_lines", expect[ratings])
    _stage_interactions(con, ratings.name)
    _check_malformed(con, "bx_interactions", ratings, expect[ratings])
    con.execute("CREATE OR REPLACE TEMP TABLE bx_ratings AS FROM bx_interactions WHERE NOT implicit")
    con.execute("CREATE OR REPLACE TEMP TABLE bx_implicit AS FROM bx_interactions WHERE implicit")

    _load_lines(con, users, "bx_users_lines", expect[users])
    _stage_users(con, users.name)
    _check_malformed(con, "bx_users", users, expect[users])
    _stage_catalog(con)

    ((n_users, raters, unknown_raters),) = con.execute(
        """
        SELECT (SELECT count(*) FROM bx_users WHERE _drop IS NULL),
            count(DISTINCT r.user_id), count(DISTINCT r.user_id) FILTER (WHERE u.user_id IS NULL)
        FROM (SELECT user_id FROM bx_interactions WHERE _drop IS NULL) r
        LEFT JOIN (SELECT user_id FROM bx_users WHERE _drop IS NULL) u USING (user_id)
        """
    ).fetchall()
    return Staged(
        tables={
            "catalog": StagedTable("bx_catalog", [books.name], "catalog"),
            "ratings": StagedTable("bx_ratings", [ratings.name], "ratings"),
            "implicit": StagedTable("bx_implicit", [ratings.name], "implicit"),
            "users": StagedTable("bx_users", [users.name]),
        },
        notes={
            "users": n_users,
            "users with ratings": raters,
            "users with ratings but not in BX-Users": unknown_raters,
        },
    )


def _stage_books(con: duckdb.DuckDBPyConnection, file: str) -> None:
    drop, drop_value = drop_case(
        [
            ("nf <> 8", "malformed line: not 8 fields", "line"),
            ("isbn IS NULL OR NOT regexp_full_match(isbn, '" + VALID_ID + "')", "invalid ISBN", "raw_isbn"),
            ("title IS NULL", "missing title", "raw_isbn"),
        ]
    )
    repairs = repairs_list(
        [
            ("nlines > 1", "record broken across lines, rejoined", "line"),
            ("isbn <> trim(raw_isbn)", "isbn: normalised (case, separators)", "raw_isbn"),
            ("t1 <> t0 OR a1 <> a0", "text: UTF-8 mis-read as Latin-1, re-decoded", "coalesce(t0, a0)"),
            ("t2 <> t1 OR a2 <> a1", "text: HTML entities or tags unescaped", "coalesce(t1, a1)"),
            (
                "contains(raw_title, '\\\"') OR contains(raw_author, '\\\"')",
                "text: escaped quotes",
                "raw_title",
            ),
            ("year_i = 0", "year: 0, nulled", "raw_year"),
            ("year_i < 0", "year: negative, nulled", "raw_year"),
            ("year_i > year(current_date)", "year: in the future, nulled", "raw_year"),
            ("raw_year IS NOT NULL AND year_i IS NULL", "year: not a number, nulled", "raw_year"),
        ]
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE bx_books AS
        WITH s AS (
            SELECT _row, nlines, line, bx_fields(line) AS f FROM bx_books_lines WHERE _row > 1
        ), p AS (
            SELECT _row, nlines, line, len(f) AS nf,
                f[1] AS raw_isbn, nullif(bx_isbn(f[1]), '') AS isbn,
                f[2] AS raw_title, f[3] AS raw_author,
                clean(replace(f[2], '\\"', '"')) AS t0, clean(replace(f[3], '\\"', '"')) AS a0,
                clean(f[4]) AS raw_year, TRY_CAST(clean(f[4]) AS INTEGER) AS year_i,
                clean(f[8]) AS image_url
            FROM s
        ), t AS (
            SELECT *, bx_text1(t0) AS t1, bx_text1(a0) AS a1 FROM p
        ), u AS (
            SELECT *, clean(bx_text2(t1)) AS title, clean(bx_text2(a1)) AS author FROM t
        ), v AS (
            SELECT *, title AS t2, author AS a2, {drop} AS _first_drop, {drop_value} AS _first_drop_value
            FROM u
        ), dd AS (
            SELECT *, _first_drop IS NULL
                AND row_number() OVER (PARTITION BY isbn, _first_drop IS NULL ORDER BY _row) > 1 AS _dup
            FROM v
        )
        SELECT '{SOURCE}:' || isbn AS id, isbn, title, author, year_i,
            CASE WHEN year_i > 0 AND year_i <= year(current_date) THEN year_i END AS year,
            image_url,
            {sql_str(file)} AS _file, _row,
            CASE WHEN _dup THEN 'duplicate ISBN (the first row is kept)' ELSE _first_drop END AS _drop,
            CASE WHEN _dup THEN raw_isbn ELSE _first_drop_value END AS _drop_value,
            {repairs} AS _repairs
        FROM dd
        """
    )


def _stage_interactions(con: duckdb.DuckDBPyConnection, file: str) -> None:
    drop, drop_value = drop_case(
        [
            ("nf <> 3", "malformed line: not 3 fields", "line"),
            ("uid IS NULL", "invalid User-ID", "raw_user"),
            ("r IS NULL OR r < 0 OR r > 10", "rating is not an integer in 0..10", "raw_rating"),
            ("isbn IS NULL OR NOT regexp_full_match(isbn, '" + VALID_ID + "')", "invalid ISBN", "raw_isbn"),
            ("k.id IS NULL", "unknown ISBN (not in BX-Books)", "raw_isbn"),
        ]
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE bx_interactions AS
        WITH s AS (
            SELECT _row, nlines, line, bx_fields(line) AS f FROM bx_ratings_lines WHERE _row > 1
        ), p AS (
            SELECT _row, nlines, line, len(f) AS nf,
                f[1] AS raw_user, CAST(TRY_CAST(trim(f[1]) AS BIGINT) AS VARCHAR) AS uid,
                f[2] AS raw_isbn, nullif(bx_isbn(f[2]), '') AS isbn,
                f[3] AS raw_rating, TRY_CAST(trim(f[3]) AS INTEGER) AS r
            FROM s
        ), d AS (
            SELECT p.*, k.id AS book_id, coalesce(r = 0, false) AS implicit,
                {drop} AS _first_drop, {drop_value} AS _first_drop_value
            FROM p
            LEFT JOIN (SELECT isbn AS kisbn, id FROM bx_books WHERE _drop IS NULL) k ON k.kisbn = p.isbn
        ), dd AS (
            SELECT *,
                row_number() OVER (pair ORDER BY _row DESC) AS _rank, count(*) OVER pair AS _copies
            FROM d
            WINDOW pair AS (PARTITION BY uid, book_id, implicit, _first_drop IS NULL)
        )
        SELECT uid AS user_id, book_id, implicit,
            -- Out-of-range ratings are dropped rows (above); the cast must not see them either.
            CASE WHEN r > 0 AND r <= 10 THEN CAST(ceil(r / 2) AS TINYINT) END AS rating,
            {sql_str(file)} AS _file, _row,
            CASE WHEN _first_drop IS NULL AND _rank > 1
                THEN 'duplicate (user, book) pair (the last one is kept)' ELSE _first_drop END AS _drop,
            CASE WHEN _first_drop IS NULL AND _rank > 1
                THEN uid || ' / ' || raw_isbn ELSE _first_drop_value END AS _drop_value,
            {
            repairs_list(
                [
                    ("isbn <> trim(raw_isbn)", "isbn: normalised (case, separators)", "raw_isbn"),
                    ("_copies > 1", "duplicate (user, book) pair merged", "uid || ' / ' || raw_isbn"),
                ]
            )
        } AS _repairs
        FROM dd
        """
    )


def _stage_users(con: duckdb.DuckDBPyConnection, file: str) -> None:
    drop, drop_value = drop_case(
        [
            ("m.uid = ''", "malformed line: not 3 fields", "line"),
            ("TRY_CAST(m.uid AS BIGINT) IS NULL", "invalid User-ID", "m.uid"),
        ]
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE bx_users AS
        WITH p AS (
            SELECT _row, nlines, line,
                regexp_extract(line, '^"([^"]*)";"(.*)";(NULL|"[^"]*")$', ['uid', 'location', 'age']) AS m
            FROM bx_users_lines WHERE _row > 1
        ), d AS (
            SELECT *, {drop} AS _first_drop, {drop_value} AS _first_drop_value FROM p
        ), dd AS (
            SELECT *, _first_drop IS NULL
                AND row_number() OVER (PARTITION BY m.uid, _first_drop IS NULL ORDER BY _row) > 1 AS _dup
            FROM d
        )
        SELECT CAST(TRY_CAST(m.uid AS BIGINT) AS VARCHAR) AS user_id, {sql_str(file)} AS _file, _row,
            CASE WHEN _dup THEN 'duplicate User-ID (the first row is kept)' ELSE _first_drop END AS _drop,
            CASE WHEN _dup THEN m.uid ELSE _first_drop_value END AS _drop_value,
            {repairs_list([("nlines > 1", "record broken across lines, rejoined", "line")])} AS _repairs
        FROM dd
        """
    )


def _stage_catalog(con: duckdb.DuckDBPyConnection) -> None:
    """Average rating and count come from the kept explicit ratings (BX-Books has neither)."""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE bx_catalog AS
        WITH agg AS (
            SELECT book_id, avg(rating)::FLOAT AS average_rating, count(*) AS ratings_count
            FROM bx_ratings WHERE _drop IS NULL GROUP BY book_id
        )
        SELECT b.id, '{SOURCE}' AS source, coalesce(b.st.title, b.title) AS title, b.title AS full_title,
            b.st.series AS series, b.st.series_index AS series_index,
            CASE WHEN b.author IS NULL THEN []::VARCHAR[] ELSE [b.author] END AS authors,
            b.year, NULL::VARCHAR AS language, []::VARCHAR[] AS genres, NULL::VARCHAR AS description,
            a.average_rating, coalesce(a.ratings_count, 0) AS ratings_count, NULL::INTEGER AS num_pages,
            CASE WHEN NOT b.isbn LIKE 'B%' THEN b.isbn END AS isbn, NULL::VARCHAR AS work_id,
            b.image_url,
            CASE WHEN NOT b.isbn LIKE 'B%' THEN '{OPEN_LIBRARY}' || b.isbn END AS link,
            b._file, b._row, b._drop, b._drop_value, b._repairs
        FROM (SELECT *, split_series(title) AS st FROM bx_books) b
        LEFT JOIN agg a ON a.book_id = b.id
        """
    )
