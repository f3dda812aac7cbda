"""goodbooks: the hand-written fixture (broken rows included) and the real data beside the checkout."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from vibeshelf.catalog import CATALOG_SCHEMA, IMPLICIT_SCHEMA, RATINGS_SCHEMA
from vibeshelf.ingest.input_error import InputFileError
from vibeshelf.ingest.normalize import normalize
from vibeshelf.layout import Layout

FIXTURE = Path(__file__).parent / "fixtures" / "ingest" / "goodbooks"


@pytest.fixture(scope="module")
def fixture_out(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    layout = Layout(tmp_path_factory.mktemp("gb"))
    return layout, normalize("goodbooks", FIXTURE, layout)


def test_schemas_and_invariant(fixture_out) -> None:  # type: ignore[no-untyped-def]
    layout, report = fixture_out
    assert pq.read_schema(layout.catalog).equals(CATALOG_SCHEMA)
    assert pq.read_schema(layout.ratings).equals(RATINGS_SCHEMA)
    assert pq.read_schema(layout.implicit).equals(IMPLICIT_SCHEMA)
    assert pq.read_table(layout.implicit).num_rows == report.implicit == 0
    for name, table in report.tables.items():
        assert table.read == table.written + table.dropped_total, name
    # every row of every input file is accounted for (header excluded)
    for name, file in [("catalog", "books.csv"), ("ratings", "ratings.csv"), ("genres", "genres.csv")]:
        with (FIXTURE / file).open(encoding="utf-8") as fh:
            assert report.tables[name].read == sum(1 for _ in csv.reader(fh)) - 1


def test_catalog_rows(fixture_out) -> None:  # type: ignore[no-untyped-def]
    layout, report = fixture_out
    books = {b["id"]: b for b in pq.read_table(layout.catalog).to_pylist()}
    assert list(books) == ["goodbooks:1", "goodbooks:2", "goodbooks:3", "goodbooks:6", "goodbooks:8"]
    saltglass = books["goodbooks:1"]
    assert (saltglass["title"], saltglass["series"], saltglass["series_index"]) == (
        "The Saltglass Trials",
        "The Saltglass Trials",
        1.0,
    )
    assert saltglass["isbn"] == "0619388277"  # leading zero restored
    assert saltglass["year"] == 2011
    assert saltglass["genres"] == ["young_adult", "mystery", "steampunk"]
    assert (
        saltglass["description"]
        == "Every lantern lit is a promise kept. Every lantern lost is a door left open."
    )
    assert saltglass["link"] == "https://www.goodreads.com/book/show/8100001"
    assert saltglass["work_id"] == "9200001" and saltglass["num_pages"] is None
    assert books["goodbooks:2"]["authors"] == ["Imogen Vale", "Lucien Marché"]
    assert books["goodbooks:2"]["genres"] == ["fantasy", "fiction"]  # trimmed, lower-cased, deduplicated
    psalter = books["goodbooks:3"]
    assert psalter["year"] == -450 and psalter["language"] is None and psalter["isbn"] is None
    assert psalter["description"] is None and psalter["genres"] == []
    lighthouse = books["goodbooks:6"]
    assert (
        lighthouse["isbn"] == "9780728143500"
        and lighthouse["year"] is None
        and lighthouse["image_url"] is None
    )
    boxed = books["goodbooks:8"]
    assert boxed["series"] == "Pip Ashgrove" and boxed["series_index"] is None

    cat = report.tables["catalog"]
    assert cat.dropped == {
        "missing title": 1,
        "book_id is not an integer": 1,
        "duplicate book_id (the first row is kept)": 1,
    }
    assert cat.repaired["isbn13: rebuilt from scientific notation"] == 1
    assert cat.repaired["isbn13: unrecoverable (scientific notation or bad check digit), nulled"] == 1
    assert cat.repaired["year: not a number, nulled"] == 1
    assert cat.missing["no description"] == 3
    assert cat.examples["book_id is not an integer"][0].model_dump() == {
        "file": "books.csv",
        "row": 6,
        "value": "x5",
    }
    assert report.tables["descriptions"].dropped == {
        "unknown book_id (not in books.csv)": 1,
        "empty description": 1,
        "duplicate book_id (the first row is kept)": 1,
    }


def test_ratings_rows(fixture_out) -> None:  # type: ignore[no-untyped-def]
    layout, report = fixture_out
    rows = [(r["user_id"], r["book_id"], r["rating"]) for r in pq.read_table(layout.ratings).to_pylist()]
    assert rows == [
        ("13", "goodbooks:1", 5),
        ("13", "goodbooks:2", 4),
        ("13", "goodbooks:8", 3),
        ("14", "goodbooks:1", 4),  # duplicate pair: the last rating wins
        ("16", "goodbooks:6", 1),
    ]
    ratings = report.tables["ratings"]
    assert ratings.dropped == {
        "rating is not an integer in 1..5": 3,  # 0, 6 and 4.5
        "unknown book_id (not in the catalog)": 2,  # 99, and 4 whose book row was dropped
        "duplicate (user, book) pair (the last rating is kept)": 1,
        "missing user_id": 1,
        "book_id is not an integer": 1,
    }
    assert ratings.repaired == {"duplicate (user, book) pair merged": 1}
    assert report.ratings == 5


def test_rerun_is_idempotent_and_failed_run_keeps_outputs(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "home")
    normalize("goodbooks", FIXTURE, layout)
    # leftovers of a run killed outright (SIGKILL: no cleanup ran) are removed by the next run
    (layout.home / f".catalog.parquet.{12345}.new").write_bytes(b"half a file")
    (layout.home / ".ingest-killed").mkdir()
    before = {p.name: p.read_bytes() for p in (layout.catalog, layout.ratings, layout.implicit)}
    normalize("goodbooks", FIXTURE, layout)
    after = {p.name: p.read_bytes() for p in (layout.catalog, layout.ratings, layout.implicit)}
    assert after == before  # same input, byte-identical outputs

    broken = tmp_path / "broken"
    shutil.copytree(FIXTURE, broken)
    (broken / "ratings.csv").write_bytes(b"user_id,book_id,rating\n1,1,5\n2,\xff,4\n")
    with pytest.raises(InputFileError):
        normalize("goodbooks", broken, layout)
    assert {p.name: p.read_bytes() for p in (layout.catalog, layout.ratings, layout.implicit)} == after
    assert sorted(p.name for p in layout.home.iterdir()) == [
        "catalog.parquet",
        "implicit.parquet",
        "ingest_report.json",
        "ratings.parquet",
    ]


def _expected_counts(folder: Path) -> tuple[set[str], int, int]:
    """Counts straight from the CSVs with the csv module, independent of the DuckDB pipeline."""
    with (folder / "books.csv").open(encoding="utf-8", newline="") as fh:
        books = {r["book_id"] for r in csv.DictReader(fh) if r["title"].strip()}
    with (folder / "descriptions.csv").open(encoding="utf-8", newline="") as fh:
        described = {r["book_id"] for r in csv.DictReader(fh) if r["description"].strip()} & books
    with (folder / "ratings.csv").open(encoding="utf-8", newline="") as fh:
        pairs = {
            (r["user_id"], r["book_id"])
            for r in csv.DictReader(fh)
            if r["book_id"] in books and r["rating"] in {"1", "2", "3", "4", "5"}
        }
    return {f"goodbooks:{b}" for b in books}, len(described), len(pairs)


@pytest.mark.slow
@pytest.mark.parametrize("folder", ["goodbooks-mini", "goodbooks"])
def test_real_goodbooks(shared_data: Path, tmp_path: Path, folder: str) -> None:
    source = shared_data / folder
    if not source.is_dir():
        pytest.skip(f"{source} not found")
    layout = Layout(tmp_path)
    report = normalize("goodbooks", source, layout)
    ids, described, ratings = _expected_counts(source)
    catalog = pq.read_table(layout.catalog)
    assert set(catalog.column("id").to_pylist()) == ids
    assert catalog.num_rows == report.books == len(ids)
    assert catalog.column("description").drop_null().__len__() == described
    assert pq.read_table(layout.ratings).num_rows == report.ratings == ratings
    assert report.balanced
    rated = set(pq.read_table(layout.ratings).column("book_id").to_pylist())
    assert rated <= ids
