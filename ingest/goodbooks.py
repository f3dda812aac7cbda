"""goodbooks-10k reader: books.csv, ratings.csv, descriptions.csv, genres.csv -> staged tables.

Layout and quirks are documented in ``../shared/data/README.md``: float years (negative for BC),
isbn13 in scientific notation, isbn with its leading zeros stripped, series suffixes in titles,
descriptions for about a third of the books.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from vibeshelf.ingest.rawfile import check_utf8, csv_header, duckdb_error, locate, sql_str
from vibeshelf.ingest.staging import Staged, StagedTable, drop_case, repairs_list

SOURCE = "goodbooks"
LINK = "https://www.goodreads.com/book/show/"

BOOK_COLUMNS = (
    "book_id", "goodreads_book_id", "best_book_id", "work_id", "books_count", "isbn", "isbn13", "authors",
    "original_publication_year", "original_title", "title", "language_code", "average_rating",
    "ratings_count", "work_ratings_count", "work_text_reviews_count", "ratings_1", "ratings_2",
    "ratings_3", "ratings_4", "ratings_5", "image_url", "small_image_url",
)  # fmt: skip
# Columns the catalog does not use may be absent.
BOOK_OPTIONAL = (
    "best_book_id", "books_count", "original_title", "work_ratings_count", "work_text_reviews_count",
    "ratings_1", "ratings_2", "ratings_3", "ratings_4", "ratings_5", "small_image_url",
)  # fmt: skip
RATING_COLUMNS = ("user_id", "book_id", "rating")
DESCRIPTION_COLUMNS = ("book_id", "description", "source")
GENRE_COLUMNS = ("book_id", "genres")


def _load(con: duckdb.DuckDBPyConnection, path: Path, table: str, header: list[str]) -> None:
    """Read a CSV as all-VARCHAR into ``table``; ``rowid + 2`` is then the row number (header = 1)."""
    check_utf8(path)
    cols = "{" + ", ".join(f"{sql_str(c)}: 'VARCHAR'" for c in header) + "}"
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM read_csv({sql_str(path)}, "
            f"header = true, auto_detect = false, delim = ',', quote = '\"', escape = '\"', "
            f"columns = {cols}, encoding = 'utf-8')"
        )
    except duckdb.Error as err:
        raise duckdb_error(path, err, expected=f"comma-separated columns: {', '.join(header)}") from None


def stage(con: duckdb.DuckDBPyConnection, folder: Path) -> Staged:
    books = locate(folder, "books.csv")
    ratings = locate(folder, "ratings.csv")
    descriptions = locate(folder, "descriptions.csv", required=False)
    genres = locate(folder, "genres.csv", required=False)
    assert books is not None and ratings is not None

    _load(con, books, "gb_books_raw", csv_header(books, BOOK_COLUMNS, optional=BOOK_OPTIONAL))
    _load(con, ratings, "gb_ratings_raw", csv_header(ratings, RATING_COLUMNS))
    staged = Staged()
    _stage_books(con, books.name)
    if descriptions is not None:
        header = csv_header(descriptions, DESCRIPTION_COLUMNS, optional=("source",))
        _load(con, descriptions, "gb_desc_raw", header)
        _stage_descriptions(con, descriptions.name)
        staged.tables["descriptions"] = StagedTable("gb_desc", [descriptions.name])
    else:
        con.execute("CREATE OR REPLACE TEMP TABLE gb_desc (bid BIGINT, description VARCHAR, _drop VARCHAR)")
        staged.notes["descriptions"] = "descriptions.csv not found: no book has a description"
    if genres is not None:
        _load(con, genres, "gb_genres_raw", csv_header(genres, GENRE_COLUMNS))
        _stage_genres(con, genres.name)
        staged.tables["genres"] = StagedTable("gb_genres", [genres.name])
    else:
        con.execute("CREATE OR REPLACE TEMP TABLE gb_genres (bid BIGINT, genres VARCHAR[], _drop VARCHAR)")
        staged.notes["genres"] = "genres.csv not found: every book has an empty genre list"
    _stage_catalog(con)
    _stage_ratings(con, ratings.name)
    staged.tables = {
        "catalog": StagedTable("gb_catalog", [books.name], "catalog"),
        "ratings": StagedTable("gb_ratings", [ratings.name], "ratings"),
        **staged.tables,
    }
    return staged


def _stage_books(con: duckdb.DuckDBPyConnection, file: str) -> None:
    drop, drop_value = drop_case(
        [
            ("bid IS NULL", "book_id is not an integer", "raw_id"),
            ("full_title IS NULL", "missing title", "raw_id"),
        ]
    )
    repairs = repairs_list(
        [
            (
                "length(raw_isbn) < 10 AND isbn10(raw_isbn) IS NOT NULL",
                "isbn: leading zeros restored",
                "raw_isbn",
            ),
            ("raw_isbn IS NOT NULL AND isbn10(raw_isbn) IS NULL", "isbn: not an ISBN-10, nulled", "raw_isbn"),
            (
                "isbn10(raw_isbn) IS NULL AND raw_isbn13 IS NOT NULL"
                " AND isbn13_from_float(raw_isbn13) IS NOT NULL"
                " AND NOT regexp_full_match(raw_isbn13, '[0-9]{13}')",
                "isbn13: rebuilt from scientific notation",
                "raw_isbn13",
            ),
            (
                "isbn10(raw_isbn) IS NULL AND raw_isbn13 IS NOT NULL"
                " AND isbn13_from_float(raw_isbn13) IS NULL",
                "isbn13: unrecoverable (scientific notation or bad check digit), nulled",
                "raw_isbn13",
            ),
            ("raw_year IS NOT NULL AND year_f IS NULL", "year: not a number, nulled", "raw_year"),
            ("year_f IS NOT NULL AND year_f > year(current_date)", "year: in the future, nulled", "raw_year"),
            (
                "raw_avg IS NOT NULL AND avg_f IS NULL",
                "average_rating: not a number in 0..5, nulled",
                "raw_avg",
            ),
            ("raw_count IS NOT NULL AND count_i IS NULL", "ratings_count: not a count, nulled", "raw_count"),
            ("raw_image LIKE '%nophoto%'", "image_url: placeholder image, nulled", "raw_image"),
            (
                "raw_grid IS NOT NULL AND grid IS NULL",
                "goodreads_book_id: not an integer, no link",
                "raw_grid",
            ),
        ]
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE gb_books AS
        WITH p AS (
            SELECT rowid + 2 AS _row,
                clean(book_id) AS raw_id, TRY_CAST(clean(book_id) AS BIGINT) AS bid,
                clean(title) AS full_title,
                clean(authors) AS raw_authors,
                clean(original_publication_year) AS raw_year,
                TRY_CAST(TRY_CAST(clean(original_publication_year) AS DOUBLE) AS INTEGER) AS year_f,
                clean(language_code) AS language,
                clean(average_rating) AS raw_avg,
                CASE WHEN TRY_CAST(clean(average_rating) AS FLOAT) BETWEEN 0 AND 5
                    THEN TRY_CAST(clean(average_rating) AS FLOAT) END AS avg_f,
                clean(ratings_count) AS raw_count,
                CASE WHEN TRY_CAST(clean(ratings_count) AS BIGINT) >= 0
                    THEN TRY_CAST(clean(ratings_count) AS BIGINT) END AS count_i,
                clean(isbn) AS raw_isbn, clean(isbn13) AS raw_isbn13,
                clean(work_id) AS work_id,
                clean(goodreads_book_id) AS raw_grid, TRY_CAST(clean(goodreads_book_id) AS BIGINT) AS grid,
                clean(image_url) AS raw_image
            FROM gb_books_raw
        ), d AS (
            SELECT *, {drop} AS _first_drop, {drop_value} AS _first_drop_value FROM p
        ), dd AS (
            SELECT *, _first_drop IS NULL
                AND row_number() OVER (PARTITION BY bid, _first_drop IS NULL ORDER BY _row) > 1 AS _dup
            FROM d
        )
        SELECT
            'goodbooks:' || bid AS id, bid,
            full_title,
            split_series(full_title) AS st,
            list_filter(list_transform(string_split(coalesce(raw_authors, ''), ','), lambda a: trim(a)),
                        lambda a: a <> '') AS authors,
            CASE WHEN year_f <= year(current_date) THEN year_f END AS year,
            language,
            avg_f AS average_rating, count_i AS ratings_count,
            coalesce(isbn10(raw_isbn), isbn13_from_float(raw_isbn13)) AS isbn,
            work_id,
            CASE WHEN raw_image NOT LIKE '%nophoto%' THEN raw_image END AS image_url,
            CASE WHEN grid IS NOT NULL THEN '{LINK}' || grid END AS link,
            {sql_str(file)} AS _file, _row,
            CASE WHEN _dup THEN 'duplicate book_id (the first row is kept)' ELSE _first_drop END AS _drop,
            CASE WHEN _dup THEN raw_id ELSE _first_drop_value END AS _drop_value,
            {repairs} AS _repairs
        FROM dd
        """
    )


def _stage_descriptions(con: duckdb.DuckDBPyConnection, file: str) -> None:
    _stage_aux(
        con,
        "gb_desc",
        "gb_desc_raw",
        file,
        value_sql="nullif(trim(regexp_replace(description, '\\s+', ' ', 'g')), '')",
        empty_reason="empty description",
    )


def _stage_genres(con: duckdb.DuckDBPyConnection, file: str) -> None:
    _stage_aux(
        con,
        "gb_genres",
        "gb_genres_raw",
        file,
        value_sql="nullif(dedupe(list_filter(list_transform(string_split(coalesce(genres, ''), '|'), "
        "lambda g: lower(trim(g))), lambda g: g <> '')), [])",
        empty_reason="empty genre list",
        value_name="genres",
    )


def _stage_aux(
    con: duckdb.DuckDBPyConnection,
    table: str,
    raw: str,
    file: str,
    *,
    value_sql: str,
    empty_reason: str,
    value_name: str = "description",
) -> None:
    """A per-book side file: one value per book_id, attached to a kept book or dropped with a reason."""
    drop, drop_value = drop_case(
        [
            ("bid IS NULL", "book_id is not an integer", "raw_id"),
            ("v IS NULL", empty_reason, "raw_id"),
            ("k.id IS NULL", "unknown book_id (not in books.csv)", "raw_id"),
        ]
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {table} AS
        WITH p AS (
            SELECT rowid + 2 AS _row, clean(book_id) AS raw_id, TRY_CAST(clean(book_id) AS BIGINT) AS bid,
                {value_sql} AS v
            FROM {raw}
        ), d AS (
            SELECT p.*, {drop} AS _first_drop, {drop_value} AS _first_drop_value
            FROM p LEFT JOIN (SELECT bid FROM gb_books WHERE _drop IS NULL) k(id) ON k.id = p.bid
        ), dd AS (
            SELECT *, _first_drop IS NULL
                AND row_number() OVER (PARTITION BY bid, _first_drop IS NULL ORDER BY _row) > 1 AS _dup
            FROM d
        )
        SELECT bid, v AS {value_name}, {sql_str(file)} AS _file, _row,
            CASE WHEN _dup THEN 'duplicate book_id (the first row is kept)' ELSE _first_drop END AS _drop,
            CASE WHEN _dup THEN raw_id ELSE _first_drop_value END AS _drop_value,
            {repairs_list([])} AS _repairs
        FROM dd
        """
    )


def _stage_catalog(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE gb_catalog AS
        SELECT b.id, '{SOURCE}' AS source, coalesce(b.st.title, b.full_title) AS title,
            b.full_title, b.st.series AS series, b.st.series_index AS series_index,
            b.authors, b.year, b.language,
            coalesce(g.genres, []::VARCHAR[]) AS genres, d.description,
            b.average_rating, b.ratings_count, NULL::INTEGER AS num_pages,
            b.isbn, b.work_id, b.image_url, b.link,
            b._file, b._row, b._drop, b._drop_value, b._repairs
        FROM gb_books b
        LEFT JOIN (SELECT bid, description FROM gb_desc WHERE _drop IS NULL) d ON d.bid = b.bid
        LEFT JOIN (SELECT bid, genres FROM gb_genres WHERE _drop IS NULL) g ON g.bid = b.bid
        """
    )


def _stage_ratings(con: duckdb.DuckDBPyConnection, file: str) -> None:
    repairs = repairs_list(
        [("_copies > 1", "duplicate (user, book) pair merged", "user_id || ' / ' || raw_book")]
    )
    drop, drop_value = drop_case(
        [
            ("user_id IS NULL", "missing user_id", "raw_book"),
            ("bid IS NULL", "book_id is not an integer", "raw_book"),
            ("rv IS NULL", "rating is not a number", "raw_rating"),
            ("rv <> round(rv) OR rv < 1 OR rv > 5", "rating is not an integer in 1..5", "raw_rating"),
            ("k.id IS NULL", "unknown book_id (not in the catalog)", "raw_book"),
        ]
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE gb_ratings AS
        WITH p AS (
            SELECT rowid + 2 AS _row, clean(user_id) AS user_id,
                clean(book_id) AS raw_book, TRY_CAST(clean(book_id) AS BIGINT) AS bid,
                clean(rating) AS raw_rating, TRY_CAST(clean(rating) AS DOUBLE) AS rv
            FROM gb_ratings_raw
        ), d AS (
            SELECT p.*, k.id AS book_id, {drop} AS _first_drop, {drop_value} AS _first_drop_value
            FROM p LEFT JOIN (SELECT bid AS kbid, id FROM gb_books WHERE _drop IS NULL) k ON k.kbid = p.bid
        ), dd AS (
            SELECT *, row_number() OVER (pair ORDER BY _row DESC) AS _rank, count(*) OVER pair AS _copies
            FROM d
            WINDOW pair AS (PARTITION BY user_id, book_id, _first_drop IS NULL)
        )
        SELECT user_id, book_id, TRY_CAST(rv AS TINYINT) AS rating,
            {sql_str(file)} AS _file, _row,
            CASE WHEN _first_drop IS NULL AND _rank > 1
                THEN 'duplicate (user, book) pair (the last rating is kept)' ELSE _first_drop END AS _drop,
            CASE WHEN _first_drop IS NULL AND _rank > 1
                THEN user_id || ' / ' || raw_book ELSE _first_drop_value END AS _drop_value,
            {repairs} AS _repairs
        FROM dd
        """
    )
