"""UCSD Book Graph reader (the Goodreads JSON-lines dump Viberary used) -> staged tables.

Files, plain or gzipped, in one folder:
- ``goodreads_books.json``: one JSON object per line; every value is a string, "" means missing;
  ``authors`` is ``[{author_id, role}]`` and ``popular_shelves`` is ``[{count, name}]``.
- ``goodreads_book_authors.json``: ``{author_id, name, ...}`` per line.
- ratings, either ``goodreads_interactions.csv`` (user_id, book_id, is_read, rating, is_reviewed; ids
  remapped through ``book_id_map.csv`` / ``user_id_map.csv`` when those are present) or
  ``goodreads_reviews_*.json`` (user_id, book_id, review_id, rating, ...).
Rating 1..5 is explicit; rating 0 with is_read = 1 (or a review without a rating) is implicit.
Genres are the most-used popular shelves that name a genre, not a reading status or a possession.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from vibeshelf.ingest.input_error import InputFileError
from vibeshelf.ingest.rawfile import csv_header, duckdb_error, locate, read_head, sql_str
from vibeshelf.ingest.staging import Staged, StagedTable, drop_case, repairs_list

SOURCE = "ucsd"
TOP_GENRES = 8
# Shelves that record what a reader did or owns, not what the book is (Goodreads defaults plus the
# usual personal ones); BOOKKEEPING_PATTERN catches their many spellings ("to-read-2016", "my-kindle").
BOOKKEEPING_SHELVES = (
    "to-read", "currently-reading", "read", "owned", "default", "favorites", "favourites",
    "books-i-own", "owned-books", "kindle", "wish-list", "wishlist", "to-buy", "library", "ebook",
    "ebooks", "audiobook", "audiobooks", "audible", "tbr", "dnf", "did-not-finish", "re-read",
    "abandoned", "on-hold", "borrowed", "unfinished", "my-books", "my-library", "books", "book-club",
    "series", "owned-tbr", "all-time-favorites", "favorite-books", "default-shelf",
)  # fmt: skip
BOOKKEEPING_PATTERN = (
    r"^(to-?read|currently|want-to|wish|my-|i-own|own|favou?rite|fav-|kindle|nook|e-?books?|audio|"
    r"library|tbr|dnf|did-not|re-?read|read-|finished|unfinished|abandon|on-hold|borrowed|bought|"
    r"gave-up|have|shelfari|calibre|pdf|epub|hardcover|paperback|book-club|default|not-|next|"
    r"maybe|someday|\d{4}|read$)"
)
BOOK_FIELDS = (
    "book_id", "title", "title_without_series", "description", "authors", "popular_shelves",
    "average_rating", "ratings_count", "publication_year", "num_pages", "language_code", "image_url",
    "link", "url", "isbn", "isbn13", "work_id",
)  # fmt: skip
REQUIRED_BOOK_FIELDS = ("book_id", "title", "authors")
INTERACTION_COLUMNS = ("user_id", "book_id", "is_read", "rating", "is_reviewed")
_JSON_BOOK = (
    '{"book_id": "VARCHAR", "title": "VARCHAR", "title_without_series": "VARCHAR", '
    '"description": "VARCHAR", "authors": [{"author_id": "VARCHAR", "role": "VARCHAR"}], '
    '"popular_shelves": [{"count": "VARCHAR", "name": "VARCHAR"}], "average_rating": "VARCHAR", '
    '"ratings_count": "VARCHAR", "publication_year": "VARCHAR", "num_pages": "VARCHAR", '
    '"language_code": "VARCHAR", "image_url": "VARCHAR", "link": "VARCHAR", "url": "VARCHAR", '
    '"isbn": "VARCHAR", "isbn13": "VARCHAR", "work_id": "VARCHAR"}'
)
_JSON_AUTHOR = '{"author_id": "VARCHAR", "name": "VARCHAR"}'
_JSON_REVIEW = '{"user_id": "VARCHAR", "book_id": "VARCHAR", "rating": "VARCHAR", "is_read": "VARCHAR"}'


def _load_json_lines(con: duckdb.DuckDBPyConnection, paths: list[Path], table: str) -> None:
    """One row per line: ``_file``, ``_row`` (1-based line), ``line``; blank lines are skipped."""
    parts = []
    for path in paths:
        read_head(path, 1, "utf-8")  # empty file / not UTF-8 at the top: one clear line
        parts.append(
            f"SELECT {sql_str(path.name)} AS _file, line FROM read_csv({sql_str(path)}, "
            "columns = {'line': 'VARCHAR'}, delim = '\x1e\x1f\x1e\x1f', quote = '', escape = '', "
            "header = false, auto_detect = false, encoding = 'utf-8')"
        )
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} (_file VARCHAR, line VARCHAR)")
    for path, part in zip(paths, parts, strict=True):
        try:
            con.execute(f"INSERT INTO {table} {part}")
        except duckdb.Error as err:
            raise duckdb_error(path, err, expected="UTF-8 JSON lines") from None
    # rowid follows insertion order, so the line number is its offset from the file's first rowid.
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT _file, "
        f"rowid - min(rowid) OVER (PARTITION BY _file) + 1 AS _row, line FROM {table}"
    )
    con.execute(f"DELETE FROM {table} WHERE trim(coalesce(line, '')) = ''")


def _check_fields(con: duckdb.DuckDBPyConnection, table: str, path: Path, required: tuple[str, ...]) -> None:
    """The first JSON object must carry the required fields; otherwise this is not the expected file."""
    rows = con.execute(
        f"SELECT _row, line FROM {table} WHERE json_valid(line) ORDER BY _file, _row LIMIT 1"
    ).fetchall()
    if not rows:
        raise InputFileError(path, "no valid JSON line", expected="one JSON object per line")
    row, line = rows[0]
    keys = set(con.execute("SELECT json_keys(?)", [line]).fetchall()[0][0] or [])
    missing = [f for f in required if f not in keys]
    if missing:
        raise InputFileError(
            path,
            f"missing field{'s' if len(missing) > 1 else ''} {', '.join(repr(m) for m in missing)}",
            row=row,
            expected=f"JSON objects with fields: {', '.join(required)}, ...",
        )


def stage(con: duckdb.DuckDBPyConnection, folder: Path) -> Staged:
    books = locate(folder, "goodreads_books.json")
    authors = locate(folder, "goodreads_book_authors.json")
    assert books is not None and authors is not None
    interactions = locate(folder, "goodreads_interactions.csv", required=False)
    reviews = sorted(
        p for p in folder.glob("goodreads_reviews_*.json*") if re.search(r"\.json(\.gz)?$", p.name)
    )
    if interactions is None and not reviews:
        raise InputFileError(
            folder / "goodreads_interactions.csv",
            f"missing ratings file in {folder}",
            expected="goodreads_interactions.csv[.gz] or goodreads_reviews_*.json[.gz]",
        )
    _install_macros(con)
    _load_json_lines(con, [authors], "uc_authors_lines")
    _check_fields(con, "uc_authors_lines", authors, ("author_id", "name"))
    _stage_authors(con)
    _load_json_lines(con, [books], "uc_books_lines")
    _check_fields(con, "uc_books_lines", books, REQUIRED_BOOK_FIELDS)
    _stage_books(con)
    staged = Staged(
        tables={
            "catalog": StagedTable("uc_catalog", [books.name], "catalog"),
            "authors": StagedTable("uc_authors", [authors.name]),
        }
    )
    if interactions is not None:
        files = _stage_interactions_csv(con, folder, interactions)
        staged.notes["ratings from"] = interactions.name
    else:
        _load_json_lines(con, reviews, "uc_reviews_lines")
        _check_fields(con, "uc_reviews_lines", reviews[0], ("user_id", "book_id", "rating"))
        _stage_reviews(con)
        files = [p.name for p in reviews]
        staged.notes["ratings from"] = ", ".join(files)
        if len(reviews) > 1:
            staged.notes["reviews"] = "several review files: a review present in two counts as a duplicate"
    con.execute("CREATE OR REPLACE TEMP TABLE uc_ratings AS FROM uc_interactions WHERE NOT implicit")
    con.execute("CREATE OR REPLACE TEMP TABLE uc_implicit AS FROM uc_interactions WHERE implicit")
    staged.tables["ratings"] = StagedTable("uc_ratings", files, "ratings")
    staged.tables["implicit"] = StagedTable("uc_implicit", files, "implicit")
    return staged


def _install_macros(con: duckdb.DuckDBPyConnection) -> None:
    shelves = "[" + ", ".join(sql_str(s) for s in BOOKKEEPING_SHELVES) + "]"
    con.execute(
        f"""
        -- json_transform fails the whole query on one bad line, even inside CASE: give it '{{}}' instead
        CREATE OR REPLACE TEMP MACRO uc_json(line) AS
            CASE WHEN json_valid(line) AND starts_with(ltrim(line), '{{') THEN line ELSE '{{}}' END;
        CREATE OR REPLACE TEMP MACRO uc_is_genre(name) AS
            NOT list_contains({shelves}, name) AND NOT regexp_matches(name, {sql_str(BOOKKEEPING_PATTERN)});
        CREATE OR REPLACE TEMP MACRO uc_genres(shelves) AS list_transform(
            list_sort(
                list_filter(
                    -- count first: list_sort orders structs field by field
                    list_transform(shelves, lambda s: {{'n': coalesce(TRY_CAST(s.count AS BIGINT), 0),
                                                        'name': lower(trim(s.name))}}),
                    lambda s: s.name <> '' AND uc_is_genre(s.name)),
                'DESC'),
            lambda s: s.name);
        """
    )


def _stage_authors(con: duckdb.DuckDBPyConnection) -> None:
    drop, drop_value = drop_case(
        [
            ("NOT (json_valid(line) AND starts_with(ltrim(line), '{'))", "malformed JSON line", "line"),
            ("clean(j.author_id) IS NULL", "missing author_id", "line"),
            ("clean(j.name) IS NULL", "missing name", "j.author_id"),
        ]
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE uc_authors AS
        WITH p AS (
            SELECT _file, _row, line,
                json_transform(uc_json(line), {sql_str(_JSON_AUTHOR)}) AS j
            FROM uc_authors_lines
        ), d AS (SELECT *, {drop} AS _first_drop, {drop_value} AS _first_drop_value FROM p),
        dd AS (
            SELECT *, _first_drop IS NULL AND row_number() OVER (
                PARTITION BY clean(j.author_id), _first_drop IS NULL ORDER BY _row) > 1 AS _dup
            FROM d
        )
        SELECT clean(j.author_id) AS author_id, clean(j.name) AS name, _file, _row,
            CASE WHEN _dup THEN 'duplicate author_id (the first row is kept)' ELSE _first_drop END AS _drop,
            CASE WHEN _dup THEN j.author_id ELSE _first_drop_value END AS _drop_value,
            {repairs_list([])} AS _repairs
        FROM dd
        """
    )


def _stage_books(con: duckdb.DuckDBPyConnection) -> None:
    drop, drop_value = drop_case(
        [
            ("NOT (json_valid(line) AND starts_with(ltrim(line), '{'))", "malformed JSON line", "line"),
            ("clean(j.book_id) IS NULL", "missing book_id", "line"),
            ("clean(j.title) IS NULL", "missing title", "j.book_id"),
        ]
    )
    repairs = repairs_list(
        [
            ("n_unknown_authors > 0", "authors: author_id not in the authors file, left out", "unknown_ids"),
            ("raw_year IS NOT NULL AND year_i IS NULL", "year: not a number, nulled", "raw_year"),
            ("year_i > year(current_date)", "year: in the future, nulled", "raw_year"),
            (
                "raw_pages IS NOT NULL AND pages_i IS NULL",
                "num_pages: not a positive count, nulled",
                "raw_pages",
            ),
            (
                "raw_avg IS NOT NULL AND avg_f IS NULL",
                "average_rating: not a number in 0..5, nulled",
                "raw_avg",
            ),
            ("raw_count IS NOT NULL AND count_i IS NULL", "ratings_count: not a count, nulled", "raw_count"),
            ("raw_image LIKE '%nophoto%'", "image_url: placeholder image, nulled", "raw_image"),
            (
                "unescape_entities(clean(j.description)) <> clean(j.description)",
                "description: HTML entities unescaped",
                "j.description",
            ),
        ]
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE uc_books AS
        WITH p AS (
            SELECT _file, _row, line,
                json_transform(uc_json(line), {sql_str(_JSON_BOOK)}) AS j
            FROM uc_books_lines
        ), q AS (
            SELECT *,
                clean(j.book_id) AS book_id,
                clean(j.publication_year) AS raw_year,
                TRY_CAST(clean(j.publication_year) AS INTEGER) AS year_i,
                clean(j.num_pages) AS raw_pages,
                CASE WHEN TRY_CAST(clean(j.num_pages) AS INTEGER) > 0
                    THEN TRY_CAST(clean(j.num_pages) AS INTEGER) END AS pages_i,
                clean(j.average_rating) AS raw_avg,
                CASE WHEN TRY_CAST(clean(j.average_rating) AS FLOAT) BETWEEN 0 AND 5
                    THEN TRY_CAST(clean(j.average_rating) AS FLOAT) END AS avg_f,
                clean(j.ratings_count) AS raw_count,
                CASE WHEN TRY_CAST(clean(j.ratings_count) AS BIGINT) >= 0
                    THEN TRY_CAST(clean(j.ratings_count) AS BIGINT) END AS count_i,
                clean(j.image_url) AS raw_image,
                list_filter(list_transform(coalesce(j.authors, []), lambda a: clean(a.author_id)),
                            lambda a: a IS NOT NULL) AS author_ids
            FROM p
        ), a AS (
            -- author names in the book's order; ids missing from the authors file are left out
            SELECT q._row, q._file,
                list(an.name ORDER BY u.pos) FILTER (WHERE an.name IS NOT NULL) AS names,
                list(u.aid ORDER BY u.pos) FILTER (WHERE an.name IS NULL) AS unknown
            FROM q, unnest(q.author_ids) WITH ORDINALITY AS u(aid, pos)
            LEFT JOIN (SELECT author_id, name FROM uc_authors WHERE _drop IS NULL) an ON an.author_id = u.aid
            GROUP BY q._row, q._file
        ), d AS (
            SELECT q.*, coalesce(a.names, []) AS authors, len(coalesce(a.unknown, [])) AS n_unknown_authors,
                array_to_string(a.unknown, ', ') AS unknown_ids,
                {drop} AS _first_drop, {drop_value} AS _first_drop_value
            FROM q LEFT JOIN a USING (_file, _row)
        ), dd AS (
            SELECT *, _first_drop IS NULL
                AND row_number() OVER (PARTITION BY book_id, _first_drop IS NULL ORDER BY _row) > 1 AS _dup
            FROM d
        )
        SELECT 'ucsd:' || book_id AS id, book_id, clean(j.title) AS full_title,
            split_series(clean(j.title)) AS st, clean(j.title_without_series) AS title_without_series,
            dedupe(authors) AS authors,
            CASE WHEN year_i <= year(current_date) THEN year_i END AS year,
            clean(j.language_code) AS language,
            uc_genres(j.popular_shelves)[1:{TOP_GENRES}] AS genres,
            unescape_entities(clean(j.description)) AS description,
            avg_f AS average_rating, count_i AS ratings_count, pages_i AS num_pages,
            coalesce(isbn10(j.isbn), CASE WHEN regexp_full_match(trim(j.isbn13), '[0-9]{{13}}')
                THEN trim(j.isbn13) END) AS isbn,
            clean(j.work_id) AS work_id,
            CASE WHEN raw_image NOT LIKE '%nophoto%' THEN raw_image END AS image_url,
            coalesce(clean(j.link), clean(j.url), 'https://www.goodreads.com/book/show/' || book_id) AS link,
            _file, _row,
            CASE WHEN _dup THEN 'duplicate book_id (the first row is kept)' ELSE _first_drop END AS _drop,
            CASE WHEN _dup THEN book_id ELSE _first_drop_value END AS _drop_value,
            {repairs} AS _repairs
        FROM dd
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE uc_catalog AS
        SELECT id, 'ucsd' AS source,
            coalesce(title_without_series, st.title, full_title) AS title, full_title,
            st.series AS series, st.series_index AS series_index, authors, year, language,
            coalesce(genres, []::VARCHAR[]) AS genres, description, average_rating, ratings_count,
            num_pages, isbn, work_id, image_url, link, _file, _row, _drop, _drop_value, _repairs
        FROM uc_books
        """
    )


def _stage_interactions_csv(con: duckdb.DuckDBPyConnection, folder: Path, path: Path) -> list[str]:
    header = csv_header(path, INTERACTION_COLUMNS, optional=("is_reviewed",))
    cols = "{" + ", ".join(f"{sql_str(c)}: 'VARCHAR'" for c in header) + "}"
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE uc_inter_raw AS SELECT * FROM read_csv({sql_str(path)}, "
            f"header = true, auto_detect = false, delim = ',', quote = '\"', columns = {cols}, "
            "encoding = 'utf-8')"
        )
    except duckdb.Error as err:
        raise duckdb_error(path, err, expected=f"comma-separated columns: {', '.join(header)}") from None
    files = [path.name]
    maps = []
    for name, key in (("book_id_map.csv", "book_id"), ("user_id_map.csv", "user_id")):
        map_path = locate(folder, name, required=False)
        if map_path is None:
            con.execute(f"CREATE OR REPLACE TEMP TABLE uc_{key}_map (csv_id VARCHAR, real_id VARCHAR)")
            continue
        csv_header(map_path, (f"{key}_csv", key))
        try:
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE uc_{key}_map AS SELECT trim({key}_csv) AS csv_id, "
                f"trim({key}) AS real_id FROM read_csv({sql_str(map_path)}, header = true, "
                f"auto_detect = false, delim = ',', columns = {{'{key}_csv': 'VARCHAR', '{key}': 'VARCHAR'}})"
            )
        except duckdb.Error as err:
            raise duckdb_error(map_path, err, expected=f"columns: {key}_csv, {key}") from None
        maps.append(key)
        files.append(map_path.name)
    book_expr = "bm.real_id" if "book_id" in maps else "raw_book"
    user_expr = "um.real_id" if "user_id" in maps else "raw_user"
    checks = [
        ("raw_user IS NULL", "missing user_id", "raw_book"),
        ("raw_book IS NULL", "missing book_id", "raw_user"),
    ]
    if "user_id" in maps:
        checks.append(("mapped_user IS NULL", "user_id not in user_id_map.csv", "raw_user"))
    if "book_id" in maps:
        checks.append(("mapped_book IS NULL", "book_id not in book_id_map.csv", "raw_book"))
    checks += [
        ("r IS NULL OR r < 0 OR r > 5", "rating is not an integer in 0..5", "raw_rating"),
        ("r = 0 AND NOT coalesce(is_read, false)", "shelved but not read and not rated", "raw_book"),
    ]
    _stage_interactions(
        con,
        f"""
        SELECT {sql_str(path.name)} AS _file, i.rowid + 2 AS _row,
            clean(i.user_id) AS raw_user, clean(i.book_id) AS raw_book, clean(i.rating) AS raw_rating,
            TRY_CAST(clean(i.rating) AS INTEGER) AS r,
            TRY_CAST(clean(i.is_read) AS BOOLEAN) AS is_read,
            {user_expr} AS user_id, {book_expr} AS book_key,
            um.real_id AS mapped_user, bm.real_id AS mapped_book
        FROM uc_inter_raw i
        LEFT JOIN uc_user_id_map um ON um.csv_id = clean(i.user_id)
        LEFT JOIN uc_book_id_map bm ON bm.csv_id = clean(i.book_id)
        """,
        checks,
    )
    return files


def _stage_reviews(con: duckdb.DuckDBPyConnection) -> None:
    checks = [
        ("NOT (json_valid(line) AND starts_with(ltrim(line), '{'))", "malformed JSON line", "line"),
        ("raw_user IS NULL", "missing user_id", "line"),
        ("raw_book IS NULL", "missing book_id", "line"),
        ("r IS NULL OR r < 0 OR r > 5", "rating is not an integer in 0..5", "raw_rating"),
    ]
    _stage_interactions(
        con,
        f"""
        SELECT _file, _row, line, clean(j.user_id) AS raw_user, clean(j.book_id) AS raw_book,
            clean(j.rating) AS raw_rating, TRY_CAST(clean(j.rating) AS INTEGER) AS r,
            -- a review is a read, whether or not it carries a rating
            true AS is_read, clean(j.user_id) AS user_id, clean(j.book_id) AS book_key
        FROM (
            SELECT _file, _row, line,
                json_transform(uc_json(line), {sql_str(_JSON_REVIEW)}) AS j
            FROM uc_reviews_lines
        )
        """,
        checks,
    )


def _stage_interactions(
    con: duckdb.DuckDBPyConnection, source_sql: str, checks: list[tuple[str, str, str]]
) -> None:
    """Shared tail: unknown books, explicit/implicit split, duplicate (user, book) pairs."""
    drop, drop_value = drop_case(
        [*checks, ("k.id IS NULL", "unknown book_id (not in the catalog)", "book_key")]
    )
    repairs = repairs_list(
        [("_copies > 1", "duplicate (user, book) pair merged", "user_id || ' / ' || book_key")]
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE uc_interactions AS
        WITH p AS ({source_sql}),
        d AS (
            SELECT p.*, k.id AS book_id, coalesce(r = 0, false) AS implicit,
                {drop} AS _first_drop, {drop_value} AS _first_drop_value
            FROM p
            LEFT JOIN (SELECT book_id AS kb, id FROM uc_books WHERE _drop IS NULL) k ON k.kb = p.book_key
        ), dd AS (
            SELECT *, row_number() OVER (pair ORDER BY _file DESC, _row DESC) AS _rank,
                count(*) OVER pair AS _copies
            FROM d
            WINDOW pair AS (PARTITION BY user_id, book_id, implicit, _first_drop IS NULL)
        )
        SELECT user_id, book_id, implicit, CASE WHEN r > 0 THEN CAST(r AS TINYINT) END AS rating,
            _file, _row,
            CASE WHEN _first_drop IS NULL AND _rank > 1
                THEN 'duplicate (user, book) pair (the last one is kept)' ELSE _first_drop END AS _drop,
            CASE WHEN _first_drop IS NULL AND _rank > 1
                THEN user_id || ' / ' || book_key ELSE _first_drop_value END AS _drop_value,
            {repairs} AS _repairs
        FROM dd
        """
    )
