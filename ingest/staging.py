"""Staging tables: the convention every source reader follows so nothing is lost without a count.

A source reader builds one DuckDB table per input (catalog, ratings, implicit, descriptions, ...) holding
every row it read. Output tables carry the canonical columns (``vibeshelf.catalog``) and all tables carry
the bookkeeping columns below; ``collect`` turns them into a ``TableReport`` and ``write_parquet`` streams
the kept rows into a Parquet file with the exact canonical schema, atomically.

- ``_file``: input file name; ``_row``: 1-based row in it (the header is row 1)
- ``_drop``: why the row is not written (NULL when written); ``_drop_value``: the offending value, short
- ``_repairs``: LIST(STRUCT(reason, value)) of fixes applied to a written row
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from rich.progress import Progress, TaskID

from vibeshelf import series_title as title
from vibeshelf.ingest import isbn
from vibeshelf.ingest.report import EXAMPLES_PER_REASON, Example, TableReport

Output = Literal["catalog", "ratings", "implicit"]
VALUE_CHARS = 80
EMPTY_REPAIRS = "[]::STRUCT(reason VARCHAR, value VARCHAR)[]"


@dataclass
class StagedTable:
    table: str  # DuckDB table name
    files: list[str]
    output: Output | None = None  # which canonical table its kept rows go to; None for auxiliary inputs


@dataclass
class Staged:
    """What a source reader hands back: its staged tables keyed by report name, plus notes."""

    tables: dict[str, StagedTable] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)


def short(expr: str) -> str:
    """SQL for a short example value."""
    return f"left(CAST({expr} AS VARCHAR), {VALUE_CHARS})"


def drop_case(checks: Sequence[tuple[str, str, str]]) -> tuple[str, str]:
    """SQL for ``_drop`` and ``_drop_value`` from (condition, reason, value expression); first match wins."""
    if not checks:
        return "NULL::VARCHAR", "NULL::VARCHAR"
    reasons = " ".join(f"WHEN {cond} THEN {_lit(reason)}" for cond, reason, _ in checks)
    values = " ".join(f"WHEN {cond} THEN {short(value)}" for cond, _, value in checks)
    return f"CASE {reasons} END", f"CASE {values} END"


def repairs_list(checks: Sequence[tuple[str, str, str]]) -> str:
    """SQL for ``_repairs`` from (condition, reason, value expression): every matching fix is listed."""
    if not checks:
        return EMPTY_REPAIRS
    items = ", ".join(
        f"CASE WHEN {cond} THEN {{'reason': {_lit(reason)}, 'value': {short(value)}}} END"
        for cond, reason, value in checks
    )
    return f"list_filter([{items}], lambda r: r IS NOT NULL)"


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def collect(con: duckdb.DuckDBPyConnection, table: str, report: TableReport) -> None:
    """Add a staged table's read/written/dropped/repaired counts and examples to ``report``."""
    ((read, written),) = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE _drop IS NULL) FROM {table}"
    ).fetchall()
    report.read += read
    report.written += written
    example = "{'file': _file, 'row': _row, 'value': %s}"
    dropped = con.execute(
        f"SELECT _drop, count(*), min_by({example % '_drop_value'}, _row, {EXAMPLES_PER_REASON}) "
        f"FROM {table} WHERE _drop IS NOT NULL GROUP BY 1 ORDER BY 2 DESC"
    ).fetchall()
    repaired = con.execute(
        f"SELECT r.reason, count(*), min_by({example % 'r.value'}, _row, {EXAMPLES_PER_REASON}) "
        f"FROM (SELECT _file, _row, unnest(_repairs) AS r FROM {table} WHERE _drop IS NULL) "
        "GROUP BY 1 ORDER BY 2 DESC"
    ).fetchall()
    for target, rows in ((report.dropped, dropped), (report.repaired, repaired)):
        for reason, n, examples in rows:
            target[reason] = target.get(reason, 0) + n
            report.examples.setdefault(reason, []).extend(Example(**e) for e in examples)
            del report.examples[reason][EXAMPLES_PER_REASON:]


def write_parquet(
    con: duckdb.DuckDBPyConnection,
    select_sql: str,
    schema: pa.Schema,
    dest: Path,
    *,
    progress: Progress | None = None,
    task: TaskID | None = None,
    batch_rows: int = 200_000,
) -> int:
    """Stream ``select_sql`` (columns named and ordered as ``schema``) into ``dest``; returns rows written.

    Written to a temp file beside ``dest`` and renamed, so an interrupted run never leaves half a file.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    rows = 0
    try:
        reader = con.sql(select_sql).to_arrow_reader(batch_rows)
        with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
            for batch in reader:
                table = pa.Table.from_batches([batch]).cast(schema)
                for name in schema.names:
                    if not schema.field(name).nullable and table.column(name).null_count:
                        raise ValueError(f"bug: NULL in non-nullable column {name!r} for {dest.name}")
                writer.write_table(table)
                rows += table.num_rows
                if progress is not None and task is not None:
                    progress.advance(task, table.num_rows)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return rows


def install_macros(con: duckdb.DuckDBPyConnection) -> None:
    """SQL helpers every reader uses: ``clean(text)`` (trimmed, empty -> NULL), title and ISBN parsing."""
    con.execute("CREATE OR REPLACE TEMP MACRO clean(s) AS nullif(trim(s), '')")
    # list_distinct does not keep order; sources list genres and authors most relevant first.
    con.execute(
        "CREATE OR REPLACE TEMP MACRO dedupe(l) AS list_filter(l, lambda x, i: list_position(l, x) = i)"
    )
    # The few entities the dumps carry, in SQL; Book-Crossing's messier text uses html.unescape (a UDF).
    entities = {"&quot;": '"', "&#39;": "'", "&apos;": "'", "&lt;": "<", "&gt;": ">", "&amp;": "&"}
    expr = "s"
    for entity, char in entities.items():  # &amp; last, so "&amp;lt;" becomes "&lt;", not "<"
        expr = f"replace({expr}, {_lit(entity)}, {_lit(char)})"
    con.execute(f"CREATE OR REPLACE TEMP MACRO unescape_entities(s) AS {expr}")
    title.install_sql_macros(con)
    isbn.install_sql_macros(con)
