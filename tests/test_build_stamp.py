"""`vibeshelf ingest --if-needed` (what `make run` calls) rebuilds only when the stamp differs."""

from __future__ import annotations

import json
from pathlib import Path

from vibeshelf.ingest.build_stamp import BuildStamp
from vibeshelf.layout import Layout
from vibeshelf.retrieval.encoder import EXPORT_FORMAT


def _built(tmp_path: Path) -> tuple[Layout, BuildStamp]:
    data = tmp_path / "data"
    data.mkdir()
    (data / "books.csv").write_text("book_id,title\n1,A Made-Up Book\n")
    layout = Layout(tmp_path / "home")
    layout.home.mkdir()
    layout.index_manifest.write_text("{}")
    stamp = BuildStamp.for_source("goodbooks", data, embed=True, cf=True, model="m")
    stamp.save(layout)
    return layout, stamp


def test_an_unchanged_source_matches_and_a_changed_one_does_not(tmp_path: Path) -> None:
    layout, _ = _built(tmp_path)
    assert BuildStamp.for_source("goodbooks", tmp_path / "data", embed=True, cf=True, model="m").matches(
        layout
    )
    (tmp_path / "data" / "books.csv").write_text("book_id,title\n1,A Made-Up Book\n2,Another\n")
    assert not BuildStamp.for_source("goodbooks", tmp_path / "data", embed=True, cf=True, model="m").matches(
        layout
    )


def test_an_index_with_an_older_query_encoder_is_rebuilt(tmp_path: Path) -> None:
    """Encoder export changes (format 2: the token table outside the graph) reach `make run` users."""
    layout, stamp = _built(tmp_path)
    assert stamp.encoder_format == EXPORT_FORMAT
    saved = json.loads(BuildStamp.path(layout).read_text())
    BuildStamp.path(layout).write_text(json.dumps({**saved, "encoder_format": EXPORT_FORMAT - 1}))
    assert not stamp.matches(layout)
    del saved["encoder_format"]  # a stamp written before the field existed
    BuildStamp.path(layout).write_text(json.dumps(saved))
    assert not stamp.matches(layout)
