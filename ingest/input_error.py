"""The one error a bad raw input file raises: it names the file, the row when known, and what was expected."""

from __future__ import annotations

from pathlib import Path


class InputFileError(Exception):
    """A raw data file that cannot be ingested as it is.

    ``str(err)`` is one line meant for the terminal, e.g.
    ``books.csv: missing column 'title' (expected columns: book_id, title, ...)`` or
    ``BX-Books.csv.gz row 17: 3 fields (expected 8 fields separated by ";")``.
    The CLI prints it and exits with status 2; no stack trace reaches the user.
    """

    def __init__(
        self, file: Path | str, problem: str, *, row: int | None = None, expected: str | None = None
    ) -> None:
        self.file = Path(file)
        self.problem = problem
        self.row = row
        self.expected = expected
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.file.name if self.row is None else f"{self.file.name} row {self.row}"
        tail = f" (expected {self.expected})" if self.expected else ""
        return f"{where}: {self.problem}{tail}"
