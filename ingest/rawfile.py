"""A raw input file: find it (plain or gzipped), check it before DuckDB reads it, and turn read errors
into ``InputFileError`` lines that name the file, the row and what was expected."""

from __future__ import annotations

import codecs
import csv
import gzip
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO

import duckdb

from vibeshelf.ingest.input_error import InputFileError

_DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_ENCODINGS = {"utf-8": "UTF-8", "latin-1": "Latin-1"}


def sql_str(value: str | Path) -> str:
    """A SQL string literal (file paths go into read_csv(...) calls, which take no parameters)."""
    return "'" + str(value).replace("'", "''") + "'"


def locate(folder: Path, name: str, *, gz: bool = True, required: bool = True) -> Path | None:
    """``folder/name``, or ``folder/name.gz`` when only the gzipped copy exists."""
    candidates = [folder / name, folder / f"{name}.gz"] if gz else [folder / name]
    for path in candidates:
        if path.is_file():
            return path
    if not required:
        return None
    if not folder.is_dir():
        raise InputFileError(folder, "input folder not found", expected="a folder with the raw data files")
    expected = " or ".join(p.name for p in candidates)
    raise InputFileError(folder / name, f"missing file in {folder}", expected=expected)


def open_binary(path: Path) -> IO[bytes]:
    return gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")


def read_head(path: Path, n_lines: int, encoding: str) -> list[str]:
    """The first ``n_lines`` lines of a (possibly gzipped) file, without line ends.

    Raises ``InputFileError`` for an empty file, or a line among them that is not valid in ``encoding``.
    """
    lines: list[str] = []
    try:
        with open_binary(path) as raw:
            for row in range(1, n_lines + 1):
                data = raw.readline()
                if not data:
                    break
                try:
                    lines.append(data.decode(encoding).rstrip("\r\n"))
                except UnicodeDecodeError as err:
                    name = _ENCODINGS.get(encoding, encoding)
                    raise InputFileError(
                        path,
                        f"not valid {name} (byte 0x{data[err.start]:02x})",
                        row=row,
                        expected=f"{name} text",
                    ) from None
    except (OSError, EOFError) as err:  # a truncated or corrupt .gz
        raise InputFileError(path, f"cannot read file: {err}") from None
    if not any(line.strip() for line in lines):
        raise InputFileError(path, "empty file", expected="a header line and data rows")
    return lines


def check_utf8(path: Path) -> None:
    """Decode the whole file as UTF-8 (streamed), naming the first line that is not.

    Only for the small CSVs (goodbooks): big inputs rely on DuckDB's own check (``duckdb_error``).
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    with open_binary(path) as raw:
        while chunk := raw.read(1 << 20):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as err:
                line += chunk.count(b"\n", 0, err.start)
                bad = chunk[err.start]
                raise InputFileError(
                    path, f"not valid UTF-8 (byte 0x{bad:02x})", row=line, expected="UTF-8 text"
                ) from None
            line += chunk.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise InputFileError(
                path, "not valid UTF-8 (truncated at end of file)", expected="UTF-8 text"
            ) from None


def csv_header(
    path: Path,
    expected: Sequence[str],
    *,
    delimiter: str = ",",
    encoding: str = "utf-8",
    optional: Iterable[str] = (),
) -> list[str]:
    """Check the header of a delimited file and return its column names.

    Raises for an empty file, a header without data rows, the wrong delimiter, or missing columns
    (``optional`` columns may be absent).
    """
    head = read_head(path, 2, encoding)
    try:
        fields = next(csv.reader([head[0]], delimiter=delimiter))
    except csv.Error as err:  # e.g. a stray carriage return inside an unquoted header field
        raise InputFileError(
            path, f"header line is not valid CSV ({err})", row=1, expected="a header line"
        ) from None
    names = [c.strip().strip('"').strip() for c in fields]
    listing = ", ".join(expected)
    sep = _DELIMITERS.get(delimiter, repr(delimiter))
    if len(names) == 1 and len(expected) > 1:
        found = [d for d in _DELIMITERS if d != delimiter and d in head[0]]
        if found:
            raise InputFileError(
                path,
                f"wrong delimiter: header is {_DELIMITERS[found[0]]}-separated",
                row=1,
                expected=f"{sep}-separated columns: {listing}",
            )
    optional_set = set(optional)
    missing = [c for c in expected if c not in names and c not in optional_set]
    if missing:
        quoted = ", ".join(f"'{c}'" for c in missing)
        plural = "s" if len(missing) > 1 else ""
        raise InputFileError(path, f"missing column{plural} {quoted}", expected=f"columns: {listing}")
    if len(head) < 2 or not head[1].strip():
        raise InputFileError(path, "no data rows after the header", expected="at least one data row")
    return names


_LINE_RE = re.compile(r"Line: (\d+)")


def duckdb_error(path: Path, err: duckdb.Error, expected: str | None = None) -> InputFileError:
    """Turn a DuckDB read error into one line naming the file and, when DuckDB says it, the line."""
    text = str(err)
    m = _LINE_RE.search(text)
    detail = next(
        (
            ln.strip()
            for ln in text.splitlines()
            if ln.strip() and not ln.startswith(("Invalid Input Error", "Original Line", "Conversion Error"))
        ),
        text.strip(),
    )
    if "unicode" in text.lower() or "utf-8" in text.lower():
        detail, expected = "not valid UTF-8", expected or "UTF-8 text"
    return InputFileError(path, detail[:200], row=int(m.group(1)) if m else None, expected=expected)
