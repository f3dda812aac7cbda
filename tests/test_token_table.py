"""The encoder's token-embedding table read row by row from disk (retrieval/token_table.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vibeshelf.retrieval.token_table import TokenTable, TokenTableError, write_token_table


@pytest.fixture
def matrix() -> np.ndarray:
    return np.random.default_rng(3).standard_normal((50, 8)).astype(np.float32)


def test_lookup_returns_the_rows_of_the_matrix_in_the_shape_of_the_ids(
    matrix: np.ndarray, tmp_path: Path
) -> None:
    write_token_table(matrix, tmp_path / "t.f32")
    table = TokenTable(tmp_path / "t.f32", vocab_size=50, dim=8)
    ids = np.array([[0, 7, 7, 49], [3, 0, 0, 0]], dtype=np.int64)  # repeats and padding ids, as a batch has
    rows = table.lookup(ids)
    assert rows.shape == (2, 4, 8) and rows.dtype == np.float32
    np.testing.assert_array_equal(rows, matrix[ids])
    np.testing.assert_array_equal(table.lookup(np.array([], dtype=np.int64)), np.zeros((0, 8), np.float32))


def test_out_of_range_ids_are_refused(matrix: np.ndarray, tmp_path: Path) -> None:
    write_token_table(matrix, tmp_path / "t.f32")
    table = TokenTable(tmp_path / "t.f32", vocab_size=50, dim=8)
    for bad in ([50], [-1]):
        with pytest.raises(IndexError, match=r"0\.\.49"):
            table.lookup(np.array(bad))


def test_a_table_of_the_wrong_size_or_a_missing_one_is_a_clear_error(
    matrix: np.ndarray, tmp_path: Path
) -> None:
    write_token_table(matrix[:-1], tmp_path / "short.f32")
    with pytest.raises(TokenTableError, match=r"short\.f32 has 1,568 bytes; 50 x 8 float32 needs 1,600"):
        TokenTable(tmp_path / "short.f32", vocab_size=50, dim=8)
    with pytest.raises(TokenTableError, match="missing"):
        TokenTable(tmp_path / "nowhere.f32", vocab_size=50, dim=8)


def test_rows_are_read_on_demand_not_held_in_memory(matrix: np.ndarray, tmp_path: Path) -> None:
    """Changing the file changes what the next lookup returns: nothing was copied into the process."""
    path = tmp_path / "t.f32"
    write_token_table(matrix, path)
    table = TokenTable(path, vocab_size=50, dim=8)
    before = table.lookup(np.array([5]))
    changed = matrix.copy()
    changed[5] = 1.0
    with path.open("r+b") as f:  # in place: the open descriptor keeps pointing at the same file
        f.write(np.ascontiguousarray(changed, dtype="<f4").tobytes())
    np.testing.assert_array_equal(before[0], matrix[5])
    np.testing.assert_array_equal(table.lookup(np.array([5]))[0], np.ones(8, np.float32))
