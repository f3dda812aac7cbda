"""A Goodreads "Export Library" file of 50 books, all in goodbooks-mini, written by hand for the acceptance
tests of issue 12 (the API route and the widget): ``fixtures/library/goodreads_library_export.csv``.

Written as Goodreads writes it: a UTF-8 byte order mark, its full header, Excel-quoted ISBNs
(``="0439023483"``), author names "last, first" in quotes, titles with commas in quotes, ``0`` for an
unrated book and, as some spreadsheet round-trips leave it, an empty rating cell. Some rows carry both
ISBNs, some one, some none (matched by title + author). A fantasy and YA reader: 48 books read or being
read (never recommend them again), 2 on the to-read shelf (they may be).
"""

from __future__ import annotations

import csv
from pathlib import Path

EXPORT_PATH = Path(__file__).resolve().parent / "fixtures" / "library" / "goodreads_library_export.csv"

# The catalog ids of the rows above, by shelf (goodbooks-mini's ids are goodbooks:<book_id>).
_IDS = [2, 23, 18, 24, 21, 27, 25, 7, 19, 155, 161, 37, 542, 602, 41, 151, 214, 159, 175, 163, 294, 428]
_IDS += [1, 17, 20, 3, 153, 134, 183, 62, 368, 480, 53, 345, 39, 110, 135, 188, 192, 307, 389]
_IDS += [282, 312, 377, 322, 223, 314, 355, 252, 330]
TO_READ = ["goodbooks:188", "goodbooks:330"]  # A Dance with Dragons, The Eye of the World
ALL_IDS = [f"goodbooks:{n}" for n in _IDS]
READ = [book for book in ALL_IDS if book not in TO_READ]  # read, currently reading or rated
# Rated 4 or 5 stars: the history the reader's next pick is computed from.
LIKED = [
    f"goodbooks:{n}"
    for n in (
        *(2, 23, 18, 24, 21, 27, 25, 7, 19, 155, 161, 37, 41, 151, 214, 175, 163, 294, 1, 17, 183),
        *(62, 368, 480, 53, 39, 110, 135, 192, 307, 389, 282, 312, 322, 314, 252),
    )
]


def _stars() -> dict[str, float]:
    """The export's "My Rating" per catalog id, rated rows only (0 and empty mean unrated)."""
    with EXPORT_PATH.open(encoding="utf-8-sig", newline="") as f:
        cells = [row["My Rating"].strip() for row in csv.DictReader(f)]
    return {book: float(c) for book, c in zip(ALL_IDS, cells, strict=True) if c not in ("", "0")}


# Every rated book with its stars: the history the server scores, each book weighted by its stars.
RATINGS = _stars()
