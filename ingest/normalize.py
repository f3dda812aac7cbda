"""Entry point of ingest: raw source folder -> canonical catalog, ratings, implicit tables + report.

``normalize(source, path, layout)`` runs the source's reader (DuckDB SQL over the raw files), counts
every dropped and repaired row, writes the three Parquet files with the canonical schemas and the
JSON report. All outputs are written to temp files first and renamed together at the end, so an
interrupted run leaves the previous outputs untouched and can simply be rerun.
"""

from __future__ import annotations

import importlib
import os
import shutil
import tempfile
from pathlib import Path
from time import perf_counter
from typing import Literal, Protocol

import duckdb
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from vibeshelf.catalog import CATALOG_SCHEMA, IMPLICIT_SCHEMA, RATINGS_SCHEMA
from vibeshelf.ingest.report import IngestReport
from vibeshelf.ingest.staging import Staged, collect, install_macros, write_parquet
from vibeshelf.layout import Layout

Source = Literal["goodbooks", "bookcrossing", "ucsd"]
SOURCES: tuple[Source, ...] = ("goodbooks", "bookcrossing", "ucsd")
_SCHEMAS = {"catalog": CATALOG_SCHEMA, "ratings": RATINGS_SCHEMA, "implicit": IMPLICIT_SCHEMA}

# Catalog fields the source simply lacks for some books: counted so the report says how many.
_MISSING = {
    "no description": "description IS NULL",
    "no genres": "len(genres) = 0",
    "no authors": "len(authors) = 0",
    "no year": "year IS NULL",
    "no language": "language IS NULL",
    "no image": "image_url IS NULL",
    "no isbn": "isbn IS NULL",
    "no average_rating": "average_rating IS NULL",
    "no num_pages": "num_pages IS NULL",
}


class _Reader(Protocol):
    def stage(self, con: duckdb.DuckDBPyConnection, folder: Path) -> Staged: ...


def _reader(source: Source) -> _Reader:
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r} (expected one of {', '.join(SOURCES)})")
    return importlib.import_module(f"vibeshelf.ingest.{source}")  # type: ignore[return-value]


def normalize(source: Source, path: Path, layout: Layout, *, console: Console | None = None) -> IngestReport:
    """Normalise the raw ``source`` data in ``path`` into ``layout``'s catalog/ratings/implicit files.

    Raises ``InputFileError`` (one clear line) when an input file is missing or malformed.
    """
    reader = _reader(source)
    path = Path(path)
    layout.ensure()
    console = console or Console(stderr=True)
    started = perf_counter()
    report = IngestReport(source=source, input_path=str(path), output_dir=str(layout.home))
    _remove_leftovers(layout)
    spill = Path(tempfile.mkdtemp(prefix=".ingest-", dir=layout.home))
    pending: dict[Path, Path] = {}
    con = duckdb.connect()
    try:
        # Big sources (UCSD) may not fit in memory: DuckDB spills to a folder beside the outputs.
        con.execute(f"SET temp_directory = '{spill.as_posix()}'")
        install_macros(con)
        with console.status(f"[bold]{source}[/]: reading and normalising {path} ..."):
            staged = reader.stage(con, path)
            for name, st in staged.tables.items():
                table = report.table(name)
                table.files = st.files
                collect(con, st.table, table)
            report.notes.update(staged.notes)
            catalog = next((s for s in staged.tables.values() if s.output == "catalog"), None)
            if catalog is not None:
                report.table("catalog").missing = _missing(con, catalog.table)
        outputs = {"catalog": layout.catalog, "ratings": layout.ratings, "implicit": layout.implicit}
        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as progress:
            by_output = {st.output: (name, st) for name, st in staged.tables.items() if st.output}
            for output, dest in outputs.items():
                schema = _SCHEMAS[output]
                columns = ", ".join(schema.names)
                if output in by_output:
                    name, st = by_output[output]
                    expected = report.tables[name].written
                    sql = f"SELECT {columns} FROM {st.table} WHERE _drop IS NULL ORDER BY _file, _row"
                else:  # e.g. goodbooks has no implicit interactions: an empty file with the schema
                    expected = 0
                    sql = f"SELECT {columns} FROM (SELECT {', '.join(f'NULL AS {n}' for n in schema.names)}) "
                    sql += "WHERE false"
                task = progress.add_task(f"writing {dest.name}", total=expected)
                tmp = dest.with_name(f".{dest.name}.{os.getpid()}.new")
                pending[tmp] = dest
                written = write_parquet(con, sql, schema, tmp, progress=progress, task=task)
                if written != expected:
                    raise RuntimeError(f"bug: {dest.name} got {written} rows, the report counted {expected}")
                setattr(report, {"catalog": "books"}.get(output, output), written)
        for tmp, dest in pending.items():
            os.replace(tmp, dest)
        pending.clear()
        report.seconds = round(perf_counter() - started, 2)
        report.write(layout.ingest_report)
        return report
    finally:
        con.close()
        for tmp in pending:
            tmp.unlink(missing_ok=True)
        shutil.rmtree(spill, ignore_errors=True)


def _missing(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, int]:
    exprs = ", ".join(f"count(*) FILTER (WHERE {cond})" for cond in _MISSING.values())
    (row,) = con.execute(f"SELECT {exprs} FROM {table} WHERE _drop IS NULL").fetchall()
    return {name: int(n) for name, n in zip(_MISSING, row, strict=True) if n}


def _remove_leftovers(layout: Layout) -> None:
    """Temp files of a run that was killed outright (no ``finally``); a rerun starts clean."""
    for dest in (layout.catalog, layout.ratings, layout.implicit):
        for stale in layout.home.glob(f".{dest.name}.*.new"):
            stale.unlink(missing_ok=True)
    for spill in layout.home.glob(".ingest-*"):
        if spill.is_dir():
            shutil.rmtree(spill, ignore_errors=True)
