"""A reader's own library: a Goodreads or StoryGraph CSV export, matched to the catalog.

``parse_library`` reads the export (format detected from its header) into ``LibraryEntry`` rows;
``LibraryMatcher.match`` finds each in the catalog, ISBN first, then title + author (fuzzy), and reports
every row it could not match with the reason. The result says which books the reader has read (never
recommend them again) and which they liked (the history for whole-history recommendations:
``ReadersAlsoLiked.recommend_history``).

Formats (the columns used; others are ignored):

* Goodreads "Export Library": ``Book Id, Title, Author, Additional Authors, ISBN, ISBN13, My Rating,
  Exclusive Shelf, ...``. ISBNs come Excel-quoted (``="0439023483"``), ``My Rating`` 0 means unrated,
  ``Exclusive Shelf`` is read / currently-reading / to-read (or a custom shelf).
* StoryGraph export: ``Title, Authors, Contributors, ISBN/UID, Format, Read Status, ..., Star Rating,
  ...``. ``Star Rating`` is empty or 0.25-5.0 in quarter stars; ``Read Status`` is read /
  currently-reading / to-read / did-not-finish; ``ISBN/UID`` is an ISBN or StoryGraph's own id.

A bad file raises ``LibraryFormatError`` naming the row (the header is row 1, as in a spreadsheet) and
the column. Nothing here touches the network or the index: the matcher needs only the catalog table.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import Literal

import pyarrow as pa
from pydantic import BaseModel, Field

from vibeshelf.retrieval.cf.config import LIKED_RATING
from vibeshelf.retrieval.title_lookup import TitleLookup

Format = Literal["goodreads", "storygraph"]
Status = Literal["read", "currently-reading", "to-read", "did-not-finish", "other"]

MAX_ROWS = 20_000  # a library export larger than this is not a reader's library
# A title + author match below this (0-100, title and author weighted equally) is reported unmatched.
FUZZY_CUTOFF = 85.0

_REQUIRED: dict[Format, tuple[str, ...]] = {
    "goodreads": ("Title", "Author", "ISBN", "ISBN13", "My Rating", "Exclusive Shelf"),
    "storygraph": ("Title", "Authors", "ISBN/UID", "Read Status", "Star Rating"),
}
_STATUSES = {"read", "currently-reading", "to-read", "did-not-finish"}
_NOT_DIGITS = re.compile(r"[^0-9Xx]")


class LibraryFormatError(ValueError):
    """The export cannot be read; ``row`` (1 = header) and ``column`` say where."""

    def __init__(self, message: str, *, row: int | None = None, column: str | None = None) -> None:
        self.row = row
        self.column = column
        where = ", ".join(
            part for part in (f"row {row}" if row else "", f"column {column!r}" if column else "") if part
        )
        super().__init__(f"{where}: {message}" if where else message)


class LibraryEntry(BaseModel):
    row: int = Field(description="Row in the export (the header is row 1).")
    title: str
    authors: list[str]
    isbns: list[str] = Field(description="ISBN-13s (ISBN-10s converted), best first.")
    rating: float | None = Field(description="1-5 stars; None when the reader gave none.")
    status: Status


class MatchedBook(BaseModel):
    entry: LibraryEntry
    book_id: str
    how: Literal["isbn", "title_author"]
    score: float = Field(description="100 for ISBN and exact title + author; the fuzzy score otherwise.")


class UnmatchedRow(BaseModel):
    row: int
    title: str
    authors: list[str]
    reason: str


class ImportedLibrary(BaseModel):
    format: Format
    matched: list[MatchedBook]
    unmatched: list[UnmatchedRow]

    def read_ids(self) -> list[str]:
        """Catalog ids of every book the reader has read, is reading, abandoned or rated: never pick them."""
        return list(
            dict.fromkeys(
                m.book_id
                for m in self.matched
                if m.entry.status in ("read", "currently-reading", "did-not-finish")
                or m.entry.rating is not None
            )
        )

    def ratings(self) -> dict[str, float]:
        """Star ratings (1-5) of every rated catalog book, best rated first (a book rated in two rows
        keeps its higher rating): the whole history the history model scores, each book weighted by its
        stars (``ReadersAlsoLiked.recommend_history``)."""
        best: dict[str, float] = {}
        for m in self.matched:
            if m.entry.rating is not None:
                best[m.book_id] = max(m.entry.rating, best.get(m.book_id, 0.0))
        return dict(sorted(best.items(), key=lambda item: -item[1]))

    def history_ids(self, liked_rating: float = LIKED_RATING) -> list[str]:
        """The reader's history for whole-history recommendations: books rated ``liked_rating`` or more,
        best rated first. A reader who rated nothing that high (or nothing at all) gets their read books."""
        rated = sorted(
            (m for m in self.matched if m.entry.rating is not None and m.entry.rating >= liked_rating),
            key=lambda m: (-(m.entry.rating or 0.0), m.entry.row),
        )
        if rated:
            return list(dict.fromkeys(m.book_id for m in rated))
        return [
            m.book_id
            for m in self.matched
            if m.entry.status == "read" and (m.entry.rating is None or m.entry.rating >= 3)
        ]


def isbn13(text: str) -> str | None:
    """An ISBN-10 or ISBN-13 (hyphens, spaces, Excel's ="..." allowed) as a checked ISBN-13, else None."""
    digits = _NOT_DIGITS.sub("", text).upper()
    if len(digits) == 10 and digits[:9].isdigit():
        total = sum((10 - i) * int(d) for i, d in enumerate(digits[:9]))
        check = (11 - total % 11) % 11
        if digits[9] != ("X" if check == 10 else str(check)):
            return None
        digits = "978" + digits[:9]
        return digits + str(_isbn13_check(digits))
    if len(digits) == 13 and digits.isdigit() and _isbn13_check(digits[:12]) == int(digits[12]):
        return digits
    return None


def _isbn13_check(first12: str) -> int:
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(first12))
    return (10 - total % 10) % 10


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise LibraryFormatError("the file is not UTF-8 text (export it again as CSV)", row=line) from err


def _detect(header: Sequence[str]) -> Format:
    names = set(header)
    fmt: Format
    if names & {"Exclusive Shelf", "My Rating"}:
        fmt = "goodreads"
    elif names & {"Read Status", "Star Rating", "ISBN/UID"}:
        fmt = "storygraph"
    else:
        raise LibraryFormatError(
            "not a Goodreads or StoryGraph export: expected a Goodreads header (Title, Author, ISBN, "
            "ISBN13, My Rating, Exclusive Shelf, ...) or a StoryGraph one (Title, Authors, ISBN/UID, "
            "Read Status, Star Rating, ...)",
            row=1,
        )
    missing = [c for c in _REQUIRED[fmt] if c not in names]
    if missing:
        raise LibraryFormatError(f"a {fmt} export needs this column; it is missing", row=1, column=missing[0])
    return fmt


def _rating(fmt: Format, text: str, row: int, column: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise LibraryFormatError(f"{text!r} is not a star rating (0-5)", row=row, column=column) from None
    if not 0 <= value <= 5 or value != value:
        raise LibraryFormatError(f"{text!r} is not a star rating (0-5)", row=row, column=column)
    if fmt == "goodreads" and value != int(value):
        raise LibraryFormatError(f"{text!r}: Goodreads ratings are whole stars 0-5", row=row, column=column)
    return (
        None if value == 0 else value
    )  # 0: not rated (Goodreads writes 0; a zero-star rating does not exist)


def _authors(*cells: str) -> list[str]:
    names: list[str] = []
    for cell in cells:
        names += [a.strip() for a in cell.split(",") if a.strip()]
    return list(dict.fromkeys(names))


def parse_library(data: bytes | str) -> tuple[Format, list[LibraryEntry]]:
    """Read a Goodreads or StoryGraph CSV export. Raises ``LibraryFormatError`` naming row and column."""
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise LibraryFormatError("the file is empty", row=1) from None
    except csv.Error as err:
        raise LibraryFormatError(f"not CSV ({err})", row=1) from None
    fmt = _detect(header)
    col = {name: i for i, name in reversed(list(enumerate(header)))}  # first of duplicated names wins
    entries: list[LibraryEntry] = []
    row = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as err:
            raise LibraryFormatError(f"broken CSV ({err})", row=row + 1) from None
        row += 1
        if not any(c.strip() for c in cells):
            continue  # blank line
        if row - 1 > MAX_ROWS:
            raise LibraryFormatError(f"more than {MAX_ROWS:,} books; is this one reader's library?", row=row)
        if len(cells) < len(header):
            cells = cells + [""] * (len(header) - len(cells))

        def cell(name: str, cells: list[str] = cells) -> str:
            return cells[col[name]].strip() if name in col else ""

        title = cell("Title")
        if not title:
            raise LibraryFormatError("a book needs a title; this cell is empty", row=row, column="Title")
        if fmt == "goodreads":
            authors = _authors(cell("Author"), cell("Additional Authors"))
            raw_isbns = [cell("ISBN13"), cell("ISBN")]
            rating = _rating(fmt, cell("My Rating"), row, "My Rating")
            shelf = cell("Exclusive Shelf").lower()
        else:
            authors = _authors(cell("Authors"))
            raw_isbns = [cell("ISBN/UID")]
            rating = _rating(fmt, cell("Star Rating"), row, "Star Rating")
            shelf = cell("Read Status").lower()
        isbns = list(dict.fromkeys(i for i in (isbn13(r) for r in raw_isbns if r) if i))
        status: Status = shelf if shelf in _STATUSES else "other"  # type: ignore[assignment]
        entries.append(
            LibraryEntry(row=row, title=title, authors=authors, isbns=isbns, rating=rating, status=status)
        )
    return fmt, entries


class LibraryMatcher:
    """The catalog's ISBN-13s and titles, built once (``from_table``); ``match`` is read-only."""

    def __init__(self, isbn_to_id: dict[str, str], titles: TitleLookup) -> None:
        self._isbn = isbn_to_id
        self._titles = titles

    @classmethod
    def from_table(cls, catalog: pa.Table, titles: TitleLookup | None = None) -> LibraryMatcher:
        """From a catalog table (``CATALOG_SCHEMA``: id, isbn, title, full_title, authors, ...)."""
        ids = catalog.column("id").to_pylist()
        isbn_to_id: dict[str, str] = {}
        for book_id, raw in zip(ids, catalog.column("isbn").to_pylist(), strict=True):
            key = isbn13(raw) if raw else None
            if key:
                isbn_to_id.setdefault(key, book_id)
        return cls(isbn_to_id, titles or TitleLookup.from_table(catalog))

    def match(self, fmt: Format, entries: Iterable[LibraryEntry]) -> ImportedLibrary:
        matched: list[MatchedBook] = []
        unmatched: list[UnmatchedRow] = []
        for entry in entries:
            found = self._match_one(entry)
            if isinstance(found, MatchedBook):
                matched.append(found)
            else:
                unmatched.append(
                    UnmatchedRow(row=entry.row, title=entry.title, authors=entry.authors, reason=found)
                )
        return ImportedLibrary(format=fmt, matched=matched, unmatched=unmatched)

    def _match_one(self, entry: LibraryEntry) -> MatchedBook | str:
        for key in entry.isbns:
            if key in self._isbn:
                return MatchedBook(entry=entry, book_id=self._isbn[key], how="isbn", score=100.0)
        author = entry.authors[0] if entry.authors else None
        result = self._titles.find(entry.title, author, limit=1)
        if result.matches:
            best = result.matches[0]
            if result.exact or (author and best.score >= FUZZY_CUTOFF):
                return MatchedBook(entry=entry, book_id=best.book_id, how="title_author", score=best.score)
            return f"no catalog book close enough (nearest: {best.title!r}, score {best.score:.0f})"
        return "not in the catalog (no ISBN or title match)"


def import_library(data: bytes | str, matcher: LibraryMatcher) -> ImportedLibrary:
    """Parse an export and match it: the one call a route or the CLI needs."""
    fmt, entries = parse_library(data)
    return matcher.match(fmt, entries)
