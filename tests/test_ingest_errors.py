"""Bad input files stop ingest with one clear line naming the file, the row when known, what was expected."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from vibeshelf.ingest.input_error import InputFileError
from vibeshelf.ingest.normalize import normalize
from vibeshelf.layout import Layout

FIXTURES = Path(__file__).parent / "fixtures" / "ingest"


def _copy(name: str, tmp_path: Path) -> Path:
    dest = tmp_path / name
    shutil.copytree(FIXTURES / name, dest)
    return dest


def _error(source: str, folder: Path, tmp_path: Path) -> InputFileError:
    with pytest.raises(InputFileError) as info:
        normalize(source, folder, Layout(tmp_path / "home"))  # type: ignore[arg-type]
    message = str(info.value)
    assert "\n" not in message and "Traceback" not in message
    return info.value


def test_message_format() -> None:
    err = InputFileError("/x/books.csv", "missing column 'title'", expected="columns: book_id, title")
    assert str(err) == "books.csv: missing column 'title' (expected columns: book_id, title)"
    assert str(InputFileError("BX-Books.csv.gz", "3 fields", row=17)) == "BX-Books.csv.gz row 17: 3 fields"


def test_missing_file(tmp_path: Path) -> None:
    folder = _copy("goodbooks", tmp_path)
    (folder / "ratings.csv").unlink()
    err = _error("goodbooks", folder, tmp_path)
    assert str(err).startswith("ratings.csv: missing file in ")
    assert "(expected ratings.csv or ratings.csv.gz)" in str(err)


def test_missing_folder(tmp_path: Path) -> None:
    err = _error("goodbooks", tmp_path / "nowhere", tmp_path)
    assert str(err) == "nowhere: input folder not found (expected a folder with the raw data files)"


def test_missing_column(tmp_path: Path) -> None:
    folder = _copy("goodbooks", tmp_path)
    books = folder / "books.csv"
    lines = books.read_text(encoding="utf-8").splitlines()
    lines[0] = lines[0].replace(",title,", ",name,")
    books.write_text("\n".join(lines) + "\n", encoding="utf-8")
    err = _error("goodbooks", folder, tmp_path)
    assert str(err).startswith(
        "books.csv: missing column 'title' (expected columns: book_id, goodreads_book_id, "
    )


def test_comma_separated_bookcrossing_file(tmp_path: Path) -> None:
    folder = _copy("bookcrossing", tmp_path)
    books = folder / "BX-Books.csv"
    books.write_bytes(books.read_bytes().replace(b'";"', b'","'))
    err = _error("bookcrossing", folder, tmp_path)
    assert str(err).startswith(
        "BX-Books.csv row 1: wrong delimiter: header is comma-separated (expected semicolon"
    )
    assert err.row == 1


def test_bookcrossing_rows_that_do_not_split(tmp_path: Path) -> None:
    folder = _copy("bookcrossing", tmp_path)
    ratings = folder / "BX-Book-Ratings.csv"
    head, *rows = ratings.read_bytes().split(b"\r\n")
    ratings.write_bytes(b"\r\n".join([head, *(r.replace(b'";"', b'","') for r in rows)]))
    err = _error("bookcrossing", folder, tmp_path)
    assert str(err).startswith("BX-Book-Ratings.csv row 2: ")
    assert "do not split into fields" in str(err)


@pytest.mark.parametrize("content", [b"", b"\n\n"])
def test_empty_file(tmp_path: Path, content: bytes) -> None:
    folder = _copy("goodbooks", tmp_path)
    (folder / "ratings.csv").write_bytes(content)
    err = _error("goodbooks", folder, tmp_path)
    assert str(err) == "ratings.csv: empty file (expected a header line and data rows)"


def test_header_only(tmp_path: Path) -> None:
    folder = _copy("goodbooks", tmp_path)
    (folder / "genres.csv").write_text("book_id,genres\n", encoding="utf-8")
    err = _error("goodbooks", folder, tmp_path)
    assert str(err) == "genres.csv: no data rows after the header (expected at least one data row)"


def test_goodbooks_not_utf8(tmp_path: Path) -> None:
    folder = _copy("goodbooks", tmp_path)
    books = folder / "books.csv"
    books.write_bytes(books.read_bytes().replace("Marché".encode(), "Marché".encode("latin-1")))
    err = _error("goodbooks", folder, tmp_path)
    assert str(err) == "books.csv row 3: not valid UTF-8 (byte 0xe9) (expected UTF-8 text)"


def test_ucsd_not_utf8(tmp_path: Path) -> None:
    folder = _copy("ucsd", tmp_path)
    books = folder / "goodreads_books.json"
    books.write_bytes(books.read_bytes().replace("Edición".encode(), "Edición".encode("latin-1")))
    err = _error("ucsd", folder, tmp_path)
    assert str(err) == "goodreads_books.json row 8: not valid UTF-8 (expected UTF-8 JSON lines)"


def test_ucsd_missing_field(tmp_path: Path) -> None:
    folder = _copy("ucsd", tmp_path)
    authors = folder / "goodreads_book_authors.json"
    authors.write_text(authors.read_text(encoding="utf-8").replace('"name"', '"label"'), encoding="utf-8")
    err = _error("ucsd", folder, tmp_path)
    assert str(err).startswith("goodreads_book_authors.json row 1: missing field 'name'")


def test_ucsd_without_ratings(tmp_path: Path) -> None:
    folder = _copy("ucsd", tmp_path)
    (folder / "goodreads_interactions.csv").unlink()
    err = _error("ucsd", folder, tmp_path)
    assert "goodreads_interactions.csv[.gz] or goodreads_reviews_*.json[.gz]" in str(err)


def test_unknown_source(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown source 'openlibrary'"):
        normalize("openlibrary", FIXTURES, Layout(tmp_path))  # type: ignore[arg-type]
