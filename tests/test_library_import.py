"""A reader's Goodreads / StoryGraph export: parsing (quoted commas, BOMs, empty ratings, bad rows),
matching to the goodbooks-mini catalog, and whole-history picks from it."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from vibeshelf.layout import Layout
from vibeshelf.retrieval.library_import import (
    LibraryFormatError,
    LibraryMatcher,
    import_library,
    isbn13,
    parse_library,
)

GOODREADS_HEADER = (
    "Book Id,Title,Author,Author l-f,Additional Authors,ISBN,ISBN13,My Rating,Average Rating,Publisher,"
    "Binding,Number of Pages,Year Published,Original Publication Year,Date Read,Date Added,Bookshelves,"
    "Bookshelves with positions,Exclusive Shelf,My Review,Spoiler,Private Notes,Read Count,Owned Copies"
)

# As Goodreads writes it: a BOM, Excel-quoted ISBNs, quoted commas, 0 for "not rated", a review spanning
# two lines, an empty ISBN.
GOODREADS = (
    "\ufeff" + GOODREADS_HEADER + "\n"
    '2767052,"The Hunger Games (The Hunger Games, #1)",Suzanne Collins,"Collins, Suzanne",,'
    '"=""0439023483""","=""9780439023481""",5,4.34,Scholastic,Hardcover,374,2008,2008,2019/01/02,'
    '2019/01/01,,,read,"Loved it,\nwould read again",,,1,0\n'
    '100,"The Lion, the Witch and the Wardrobe (Chronicles of Narnia, #1)",C.S. Lewis,"Lewis, C.S.",'
    '"Pauline Baynes",="",="",0,4.19,,,,,,,2020/03/01,to-read,to-read (#3),to-read,,,,0,0\n'
    '5,"Some Unknown Pamphlet, Vol. 2",Nobody Known,"Known, Nobody",,="",="",3,3.0,,,,,,,,,,read,,,,1,0\n'
)

STORYGRAPH_HEADER = (
    "Title,Authors,Contributors,ISBN/UID,Format,Read Status,Date Added,Last Date Read,Dates Read,Read Count,"
    "Moods,Pace,Character- or Plot-Driven?,Strong Character Development?,Loveable Characters?,"
    "Diverse Characters?,Flawed Characters?,Star Rating,Review,Content Warnings,Content Warning Description,"
    "Tags,Owned?"
)

STORYGRAPH = (
    "\ufeff" + STORYGRAPH_HEADER + "\r\n"
    "Catching Fire,Suzanne Collins,,9780439023498,paperback,read,2020/01/01,2020/02/01,,1,"
    '"adventurous, tense",fast,Plot,Yes,Yes,No,Yes,4.5,"Great, really",,,,No\r\n'
    "Twilight,Stephenie Meyer,,b2c9-uid-not-an-isbn,ebook,did-not-finish,2020/01/01,,,0,,,,,,,,,,,,,No\r\n"
    'Pride and Prejudice,"Jane Austen, Anna Quindlen",,,hardcover,to-read,2021/05/05,,,0,,,,,,,,,,,,,Yes\r\n'
)


def test_isbn13_accepts_isbn10_isbn13_and_excel_quoting() -> None:
    assert isbn13("0439023483") == "9780439023481"
    assert isbn13('="0439023483"') == "9780439023481"
    assert isbn13("978-0-439-02348-1") == "9780439023481"
    assert isbn13("080442957X") == "9780804429573"
    assert isbn13("0439023484") is None  # wrong check digit
    assert isbn13("9780439023482") is None
    assert isbn13('=""') is None and isbn13("b2c9-uid") is None


def test_goodreads_export_with_bom_quoted_commas_and_unrated_books() -> None:
    fmt, entries = parse_library(GOODREADS.encode("utf-8"))
    assert fmt == "goodreads"
    assert [e.row for e in entries] == [2, 3, 4]
    hunger, narnia, unknown = entries
    assert hunger.title == "The Hunger Games (The Hunger Games, #1)" and hunger.authors == ["Suzanne Collins"]
    assert hunger.isbns == ["9780439023481"] and hunger.rating == 5 and hunger.status == "read"
    assert narnia.title == "The Lion, the Witch and the Wardrobe (Chronicles of Narnia, #1)"
    assert narnia.authors == ["C.S. Lewis", "Pauline Baynes"]
    assert narnia.isbns == [] and narnia.rating is None and narnia.status == "to-read"
    assert unknown.title == "Some Unknown Pamphlet, Vol. 2" and unknown.rating == 3


def test_storygraph_export_with_quarter_stars_and_empty_ratings() -> None:
    fmt, entries = parse_library(STORYGRAPH.encode("utf-8"))
    assert fmt == "storygraph"
    fire, twilight, pride = entries
    assert fire.rating == 4.5 and fire.status == "read" and fire.isbns == ["9780439023498"]
    assert twilight.rating is None and twilight.status == "did-not-finish" and twilight.isbns == []
    assert pride.authors == ["Jane Austen", "Anna Quindlen"] and pride.status == "to-read"
    # The same text already decoded (a str, BOM kept) reads the same.
    assert parse_library(STORYGRAPH)[1] == entries


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "row 1: the file is empty"),
        (b"Name,Stars\nx,5\n", "row 1: not a Goodreads or StoryGraph export"),
        (b"Title,Author,ISBN,My Rating,Exclusive Shelf\nx,y,,5,read\n", "row 1, column 'ISBN13'"),
        (
            (
                GOODREADS_HEADER + "\n1,Dune,Frank Herbert,,,,,5,,,,,,,,,,,read,,,,1,0\n"
                "2,Emma,Jane Austen,,,,,4.5,,,,,,,,,,,read,,,,1,0\n"
            ).encode(),
            "row 3, column 'My Rating': '4.5': Goodreads ratings are whole stars 0-5",
        ),
        (
            (STORYGRAPH_HEADER + "\nDune,Frank Herbert,,,,read,,,,,,,,,,,,five,,,,,\n").encode(),
            "row 2, column 'Star Rating': 'five' is not a star rating (0-5)",
        ),
        (
            (STORYGRAPH_HEADER + "\nDune,Frank Herbert,,,,read,,,,,,,,,,,,7,,,,,\n").encode(),
            "row 2, column 'Star Rating': '7' is not a star rating",
        ),
        (
            (STORYGRAPH_HEADER + "\n,Frank Herbert,,,,read,,,,,,,,,,,,4,,,,,\n").encode(),
            "row 2, column 'Title': a book needs a title",
        ),
        ((STORYGRAPH_HEADER + "\nDune,Herbert\n").encode() + b"Caf\xe9,X\n", "row 3: the file is not UTF-8"),
        ((STORYGRAPH_HEADER + '\n"Dune,Herbert\n').encode(), "row 2: broken CSV"),
    ],
    ids=[
        "empty",
        "unknown",
        "missing-column",
        "half-star-goodreads",
        "word",
        "range",
        "no-title",
        "latin1",
        "quote",
    ],
)
def test_bad_exports_name_the_row_and_column(data: bytes, message: str) -> None:
    with pytest.raises(LibraryFormatError) as err:
        parse_library(data)
    assert message in str(err.value)


@pytest.fixture(scope="module")
def matcher(goodbooks_mini_catalog) -> LibraryMatcher:
    return LibraryMatcher.from_table(pq.read_table(goodbooks_mini_catalog.catalog))


def test_matching_uses_isbn_then_title_and_author_and_reports_the_rest(matcher: LibraryMatcher) -> None:
    library = import_library(GOODREADS.encode(), matcher)
    by_row = {m.entry.row: m for m in library.matched}
    assert by_row[2].book_id == "goodbooks:1" and by_row[2].how == "isbn"  # The Hunger Games
    assert by_row[3].how == "title_author"  # Narnia has no ISBN in the export
    assert [(u.row, u.title) for u in library.unmatched] == [(4, "Some Unknown Pamphlet, Vol. 2")]
    assert (
        "not in the catalog" in library.unmatched[0].reason or "close enough" in library.unmatched[0].reason
    )
    # Read (or rated) books are excluded from picks; to-read ones are not; liked ones are the history.
    assert library.read_ids() == ["goodbooks:1"] and library.history_ids() == ["goodbooks:1"]

    story = import_library(STORYGRAPH.encode(), matcher)
    titles = {m.entry.title: m for m in story.matched}
    assert titles["Catching Fire"].book_id == "goodbooks:17"
    assert titles["Twilight"].how == "title_author" and titles["Twilight"].book_id == "goodbooks:3"
    assert set(story.read_ids()) == {"goodbooks:17", "goodbooks:3"}  # did-not-finish counts as read
    assert story.history_ids() == ["goodbooks:17"]  # 4.5 stars: liked

    # A typo in the title still matches when the author agrees; a wrong author does not.
    typo = import_library(
        f"{STORYGRAPH_HEADER}\nThe Hunger Gmes,Suzanne Collins,,,,read,,,,,,,,,,,,5,,,,,\n"
        f"The Hunger Gmes,Someone Else Entirely,,,,read,,,,,,,,,,,,5,,,,,\n",
        matcher,
    )
    assert [m.book_id for m in typo.matched] == ["goodbooks:1"]
    assert [u.row for u in typo.unmatched] == [3]


READER = "46139"  # 151 goodbooks-mini ratings, 132 of them 4 or 5 stars


def _goodreads_export(rows: list[dict], *, isbn: bool) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(GOODREADS_HEADER.split(","))
    for i, r in enumerate(rows):
        cells = dict.fromkeys(GOODREADS_HEADER.split(","), "")
        cells.update(
            {
                "Book Id": str(1000 + i),
                "Title": r["full_title"],
                "Author": r["authors"][0],
                "Additional Authors": ", ".join(r["authors"][1:]),
                # Every third book without an ISBN: those must be found by title and author.
                "ISBN": f'="{r["isbn"]}"' if isbn and r["isbn"] and i % 3 else '=""',
                "My Rating": str(r["rating"]),
                "Exclusive Shelf": "read",
            }
        )
        writer.writerow(cells.values())
    return "\ufeff" + out.getvalue()


@pytest.mark.slow
def test_a_50_book_goodreads_library_drives_whole_history_picks(
    goodbooks_mini_catalog, matcher: LibraryMatcher, tmp_path: Path
) -> None:
    """The reader is left out of the ratings the model learns from; 50 of their books are imported, and
    the picks (never one of those 50) find more of their other liked books than popularity does."""
    from vibeshelf.ingest.cf_fit import fit_cf
    from vibeshelf.retrieval.readers_also_liked import ReadersAlsoLiked

    ratings = pq.read_table(goodbooks_mini_catalog.ratings)
    mine = ratings.filter(pc.equal(ratings["user_id"], READER))
    layout = Layout(tmp_path / "home").ensure()
    shutil.copy(goodbooks_mini_catalog.catalog, layout.catalog)
    pq.write_table(ratings.filter(pc.not_equal(ratings["user_id"], READER)), layout.ratings)
    fit_cf(layout, progress=False)
    cf = ReadersAlsoLiked.load(layout)

    order = np.random.default_rng(0).permutation(mine.num_rows)
    exported = mine.take(order[:50])
    rest = mine.take(order[50:])
    catalog = pq.read_table(goodbooks_mini_catalog.catalog).to_pylist()
    by_id = {row["id"]: row for row in catalog}
    rows = [
        {**by_id[b], "rating": r}
        for b, r in zip(exported["book_id"].to_pylist(), exported["rating"].to_pylist(), strict=True)
    ]
    library = import_library(_goodreads_export(rows, isbn=True).encode("utf-8"), matcher)
    assert library.format == "goodreads" and len(library.matched) + len(library.unmatched) == 50
    assert {m.how for m in library.matched} == {"isbn", "title_author"}
    matched = {m.entry.row: m.book_id for m in library.matched}
    wrong = [(row, book) for row, book in matched.items() if book != rows[row - 2]["id"]]
    assert len(matched) >= 48 and len(wrong) <= 1, (wrong, library.unmatched)

    read = set(library.read_ids())
    history = library.history_ids()
    assert len(read) >= 48 and 0 < len(history) < len(read)  # only 4-5 stars are the history
    picks = [h.book_id for h in cf.recommend_history(history, avoid_ids=list(read), k=20).hits]
    assert len(picks) == 20 and not read & set(picks)

    liked_rest = set(rest.filter(pc.greater_equal(rest["rating"], 4))["book_id"].to_pylist())
    popular = [
        b for b in np.asarray(cf._a.item_ids)[np.argsort(-np.asarray(cf._a.popularity))] if b not in read
    ]
    hits, popular_hits = len(liked_rest & set(picks)), len(liked_rest & set(popular[:20]))
    # Measured: 11 of the reader's 89 other liked books in the top 20, against 4 for popularity.
    assert hits >= 8 and hits >= 2 * popular_hits, (hits, popular_hits)


def _cli(args: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vibeshelf.cli", *args],
        env={**os.environ, "VIBESHELF_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=300,
        cwd=home.parent,
    )


@pytest.mark.slow
def test_library_command_matches_reports_and_picks(goodbooks_mini_catalog, tmp_path: Path) -> None:
    from vibeshelf.ingest.cf_fit import fit_cf

    layout = Layout(tmp_path / "home").ensure()
    shutil.copy(goodbooks_mini_catalog.catalog, layout.catalog)
    shutil.copy(goodbooks_mini_catalog.ratings, layout.ratings)
    export = tmp_path / "goodreads_library_export.csv"
    export.write_text(GOODREADS, encoding="utf-8")
    done = _cli(["library", str(export)], layout.home)
    assert done.returncode == 2 and "Traceback" not in done.stderr and "vibeshelf fit-cf" in done.stderr

    fit_cf(layout, progress=False)
    done = _cli(["library", str(export), "--json", "-k", "5"], layout.home)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["format"] == "goodreads" and out["matched"] == 2 and out["history"] == ["goodbooks:1"]
    assert [u["row"] for u in out["unmatched"]] == [4]
    picks = [p["book_id"] for p in out["picks"]]
    assert len(picks) == 5 and "goodbooks:1" not in picks and "goodbooks:17" in picks  # Catching Fire

    done = _cli(["library", str(export)], layout.home)
    assert "2 books matched, 1 not in the catalog" in done.stdout
    assert "unmatched row 4: 'Some Unknown Pamphlet, Vol. 2' by Nobody Known" in done.stdout

    export.write_text(GOODREADS_HEADER + "\n1,Dune,Frank Herbert,,,,,six,,,,,,,,,,,read,,,,1,0\n")
    done = _cli(["library", str(export)], layout.home)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"{export}: row 2, column 'My Rating': 'six' is not a star rating" in done.stderr


def test_services_hold_a_matcher_and_a_history_model(mini_services) -> None:
    """What the upload route will call: the matcher built once from the served catalog, then the
    whole-history model on the result."""
    library = import_library(STORYGRAPH.encode(), mini_services.library_matcher)
    assert mini_services.library_matcher is mini_services.library_matcher  # built once
    assert {m.book_id for m in library.matched} == {"goodbooks:17", "goodbooks:3", "goodbooks:10"}
    picks = mini_services.cf.recommend_history(library.history_ids(), avoid_ids=library.read_ids(), k=10)
    ids = [h.book_id for h in picks.hits]
    assert len(ids) == 10 and not {"goodbooks:17", "goodbooks:3"} & set(ids)
    assert picks.warm_seeds == ["goodbooks:17"] and picks.method == mini_services.cf.current().history_method
