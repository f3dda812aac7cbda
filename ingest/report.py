"""The ingest report: every row read is either written or counted as dropped, with a reason.

One ``TableReport`` per input table (catalog, ratings, implicit, plus the auxiliary inputs such as
descriptions or users), so ``read == written + sum(dropped)`` holds table by table. Rows kept after a
fix (a field nulled, an entity unescaped, duplicates merged) are counted under ``repaired``; fields that
are simply absent in the source (no description, no year) are counted under ``missing``.
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field
from rich.console import Group
from rich.table import Table
from rich.text import Text

EXAMPLES_PER_REASON = 3


class Example(BaseModel):
    """Where to find one affected row: the file, its row (1-based line, header is row 1), a short value."""

    file: str
    row: int | None = None
    value: str | None = None


class TableReport(BaseModel):
    files: list[str] = Field(default_factory=list)
    read: int = 0
    written: int = 0
    dropped: dict[str, int] = Field(default_factory=dict)
    repaired: dict[str, int] = Field(default_factory=dict)
    missing: dict[str, int] = Field(default_factory=dict)
    examples: dict[str, list[Example]] = Field(default_factory=dict)

    @property
    def dropped_total(self) -> int:
        return sum(self.dropped.values())

    @property
    def balanced(self) -> bool:
        """The invariant this report exists for: nothing disappears silently."""
        return self.read == self.written + self.dropped_total


class IngestReport(BaseModel):
    source: str
    input_path: str
    output_dir: str | None = None
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    seconds: float = 0.0
    books: int = 0
    ratings: int = 0
    implicit: int = 0
    tables: dict[str, TableReport] = Field(default_factory=dict)
    notes: dict[str, Any] = Field(default_factory=dict)

    def table(self, name: str) -> TableReport:
        return self.tables.setdefault(name, TableReport())

    @property
    def balanced(self) -> bool:
        return all(t.balanced for t in self.tables.values())

    def write(self, path: Path) -> Path:
        """Write the JSON atomically (temp file in the same folder, then rename)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(self.model_dump_json(indent=2))
            os.chmod(tmp, 0o644)  # mkstemp creates 0600; the report is meant to be read by anyone
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    @classmethod
    def read(cls, path: Path) -> IngestReport:
        return cls.model_validate_json(Path(path).read_text(encoding="utf-8"))

    def summary(self) -> Group:
        """A terminal summary: one line of totals, then per table what was dropped, repaired or missing."""
        head = Text.assemble(
            (f"{self.source}", "bold"),
            f" from {self.input_path}: {self.books:,} books, {self.ratings:,} ratings, "
            f"{self.implicit:,} implicit interactions in {self.seconds:.1f} s",
        )
        grid = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
        for col in ("table", "kind", "reason", "rows", "first example"):
            grid.add_column(col, justify="right" if col == "rows" else "left", overflow="fold")
        for name, t in self.tables.items():
            grid.add_row(name, "read", f"{', '.join(t.files)}", f"{t.read:,}", f"written {t.written:,}")
            for kind, counts in (("dropped", t.dropped), ("repaired", t.repaired), ("missing", t.missing)):
                for reason, n in sorted(counts.items(), key=lambda kv: -kv[1]):
                    grid.add_row("", kind, reason, f"{n:,}", _example_text(t.examples.get(reason)))
        parts: list[Any] = [head, grid]
        for key, value in self.notes.items():
            parts.append(Text(f"{key}: {value}"))
        return Group(*parts)


def _example_text(examples: list[Example] | None) -> str:
    if not examples:
        return ""
    ex = examples[0]
    where = ex.file if ex.row is None else f"{ex.file} row {ex.row}"
    return f"{where}: {ex.value}" if ex.value else where
