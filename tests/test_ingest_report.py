"""The ingest report: JSON round trip, atomic write, the balance invariant, the terminal summary."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from vibeshelf.ingest.report import Example, IngestReport, TableReport


def _report() -> IngestReport:
    table = TableReport(
        files=["books.csv"],
        read=5,
        written=3,
        dropped={"missing title": 2},
        repaired={"year: not a number, nulled": 1},
        examples={"missing title": [Example(file="books.csv", row=4, value="17")]},
    )
    return IngestReport(source="goodbooks", input_path="/data", books=3, tables={"catalog": table})


def test_round_trip_and_no_temp_files(tmp_path: Path) -> None:
    report = _report()
    path = report.write(tmp_path / "out" / "ingest_report.json")
    assert IngestReport.read(path) == report
    assert [p.name for p in path.parent.iterdir()] == ["ingest_report.json"]


def test_balance_invariant() -> None:
    report = _report()
    assert report.balanced
    report.tables["catalog"].written = 4
    assert not report.balanced


def test_summary_names_reasons_and_examples() -> None:
    console = Console(record=True, width=160)
    console.print(_report().summary())
    text = console.export_text()
    assert "missing title" in text
    assert "books.csv row 4: 17" in text
    assert "year: not a number, nulled" in text
