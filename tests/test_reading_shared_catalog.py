"""The reading vocabulary is built from catalog rows already in memory only when they are the file's rows."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from vibeshelf.agent.reading.vocabulary import Vocabulary, catalog_vocabulary, share_catalog


def _copy(goodbooks_mini_catalog, tmp_path: Path, name: str) -> tuple[Path, pa.Table, str]:
    path = tmp_path / name
    shutil.copy(goodbooks_mini_catalog.catalog, path)
    return path, pq.read_table(path), hashlib.sha256(path.read_bytes()).hexdigest()


def _from_file(path: Path, tmp_path: Path) -> Vocabulary:
    fresh = tmp_path / ("fresh-" + path.name)  # a path never shared: read from the file
    shutil.copy(path, fresh)
    return catalog_vocabulary(fresh)


def test_the_rows_in_memory_give_the_vocabulary_of_the_file(goodbooks_mini_catalog, tmp_path: Path) -> None:
    path, table, digest = _copy(goodbooks_mini_catalog, tmp_path, "same.parquet")
    share_catalog(path, table, digest)
    shared = catalog_vocabulary(path)
    assert shared == _from_file(path, tmp_path)
    # Every field, those filled from several columns at once included (compared above; here not vacuous).
    assert shared.author_titles and shared.title_reads and shared.shelf_pairs and shared.series_first


def test_the_rows_in_memory_are_what_is_read(goodbooks_mini_catalog, tmp_path: Path) -> None:
    path, table, digest = _copy(goodbooks_mini_catalog, tmp_path, "renamed.parquet")
    titles = pc.binary_join_element_wise(table["title"], pa.scalar(" Zyxwv"), "")
    renamed = table.set_column(table.column_names.index("title"), "title", titles)
    share_catalog(path, renamed, digest)
    assert any(title.endswith(" Zyxwv") for title in catalog_vocabulary(path).titles.values())


def test_other_rows_are_not_used(goodbooks_mini_catalog, tmp_path: Path) -> None:
    path, table, _ = _copy(goodbooks_mini_catalog, tmp_path, "stale.parquet")
    titles = pc.binary_join_element_wise(table["title"], pa.scalar(" Zyxwv"), "")
    renamed = table.set_column(table.column_names.index("title"), "title", titles)
    share_catalog(path, renamed, "0" * 64)  # another file's digest: the file changed since
    expected = _from_file(path, tmp_path)
    assert catalog_vocabulary(path) == expected

    reordered_path, _, reordered_digest = _copy(goodbooks_mini_catalog, tmp_path, "reordered.parquet")
    share_catalog(reordered_path, renamed.take(list(range(renamed.num_rows))[::-1]), reordered_digest)
    assert catalog_vocabulary(reordered_path) == expected  # books in another order: the file is read
