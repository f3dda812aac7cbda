"""UCSD Book Graph JSON lines: plain files with interactions CSV + id maps, gzipped files with reviews."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from vibeshelf.catalog import CATALOG_SCHEMA, IMPLICIT_SCHEMA, RATINGS_SCHEMA
from vibeshelf.ingest.normalize import normalize
from vibeshelf.layout import Layout

FIXTURES = Path(__file__).parent / "fixtures" / "ingest"
BOOK_IDS = ["ucsd:7300001", "ucsd:7300002", "ucsd:5000001", "ucsd:7300004", "ucsd:9000001"]


@pytest.fixture(scope="module", params=["ucsd", "ucsd_gz"])
def out(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    layout = Layout(tmp_path_factory.mktemp(request.param))
    return request.param, layout, normalize("ucsd", FIXTURES / request.param, layout)


def test_catalog_same_for_plain_and_gzip(out) -> None:  # type: ignore[no-untyped-def]
    _, layout, report = out
    assert pq.read_schema(layout.catalog).equals(CATALOG_SCHEMA)
    assert pq.read_schema(layout.ratings).equals(RATINGS_SCHEMA)
    assert pq.read_schema(layout.implicit).equals(IMPLICIT_SCHEMA)
    assert report.balanced
    books = {b["id"]: b for b in pq.read_table(layout.catalog).to_pylist()}
    assert list(books) == BOOK_IDS
    saltglass = books["ucsd:7300001"]
    assert (saltglass["title"], saltglass["series"], saltglass["series_index"]) == (
        "The Saltglass Trials",
        "The Saltglass Trials",
        1.0,
    )
    assert saltglass["authors"] == ["Ottoline Vasquez-Reed"]
    # bookkeeping shelves (to-read, favorites, owned, kindle, to-read-2016, series ...) are not genres
    assert saltglass["genres"] == [
        "young-adult",
        "dystopia",
        "fiction",
        "sci-fi",
        "fantasy",
        "romance",
        "action",
        "adventure",
    ]
    assert (saltglass["year"], saltglass["num_pages"], saltglass["language"]) == (2011, 412, "eng")
    assert saltglass["average_rating"] == pytest.approx(4.21) and saltglass["ratings_count"] == 318204
    assert saltglass["link"] == "https://books.example.org/show/7300001-the-saltglass-trials"
    # author 999999 is not in the authors file: left out, the others keep their order
    assert books["ucsd:7300002"]["authors"] == ["Imogen Vale", "Lucien Marché"]
    assert (
        books["ucsd:7300002"]["description"]
        == "Pip's summers are dull & dusty, until the orchard starts ticking."
    )
    assert books["ucsd:7300002"]["genres"] == ["fantasy", "fiction", "magic"]
    empty = books["ucsd:5000001"]  # every field empty
    assert empty["authors"] == [] and empty["genres"] == [] and empty["description"] is None
    assert empty["year"] is None and empty["image_url"] is None and empty["isbn"] is None
    assert empty["link"] == "https://www.goodreads.com/book/show/5000001"
    assert (
        books["ucsd:7300004"]["year"] is None and books["ucsd:7300004"]["num_pages"] is None
    )  # "19x9", "three hundred"
    cantos = books["ucsd:9000001"]
    assert (cantos["title"], cantos["series"], cantos["series_index"]) == (
        "Cantos de la marea",
        "Obras reunidas (Edición 2)",
        2.5,
    )
    assert cantos["year"] is None  # 2999

    cat = report.tables["catalog"]
    assert cat.dropped == {
        "missing title": 1,
        "malformed JSON line": 1,
        "duplicate book_id (the first row is kept)": 1,
    }
    assert cat.repaired["authors: author_id not in the authors file, left out"] == 1
    assert cat.examples["authors: author_id not in the authors file, left out"][0].value == "999999"
    assert cat.examples["malformed JSON line"][0].row == 7


def test_ratings(out) -> None:  # type: ignore[no-untyped-def]
    variant, layout, report = out
    ratings = {(r["user_id"], r["book_id"]): r["rating"] for r in pq.read_table(layout.ratings).to_pylist()}
    implicit = {(r["user_id"], r["book_id"]) for r in pq.read_table(layout.implicit).to_pylist()}
    a, b, c = (
        "5f1c0e7a9b2d4c6e8a0b1c2d3e4f5a6b",
        "c0ffee00d15ea5e0b0a7f00dba5eba11",
        "a1b2c3d4e5f60718293a4b5c6d7e8f90",
    )
    if variant == "ucsd":  # interactions CSV, ids mapped through book_id_map.csv / user_id_map.csv
        assert ratings == {
            (a, "ucsd:7300001"): 5,
            (a, "ucsd:7300002"): 4,
            (b, "ucsd:7300001"): 4,  # 3 then 4: the last one is kept
            (c, "ucsd:7300002"): 5,
            (c, "ucsd:7300004"): 1,
        }
        assert implicit == {(a, "ucsd:5000001")}  # rating 0, is_read 1
        assert report.tables["ratings"].dropped == {
            "book_id not in book_id_map.csv": 1,
            "unknown book_id (not in the catalog)": 1,
            "user_id not in user_id_map.csv": 1,
            "rating is not an integer in 0..5": 1,
            "duplicate (user, book) pair (the last one is kept)": 1,
        }
        assert report.tables["implicit"].dropped == {"shelved but not read and not rated": 1}
    else:  # reviews JSON
        assert ratings == {(a, "ucsd:7300001"): 5, (b, "ucsd:7300004"): 4}
        assert implicit == {(a, "ucsd:7300002")}  # a review without a rating
        assert report.tables["ratings"].dropped == {
            "unknown book_id (not in the catalog)": 1,
            "rating is not an integer in 0..5": 1,
        }
