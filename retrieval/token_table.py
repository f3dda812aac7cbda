"""The encoder's token-embedding table, read row by row from disk instead of held in memory.

The table is the largest tensor of a small sentence encoder (all-MiniLM-L6-v2: 30,522 x 384 float32,
47 MB, half the model), yet a query touches only its own ~10-20 rows. The ONNX export therefore
leaves the lookup out of the graph (``inputs_embeds``), and the server reads the rows a query needs
with ``os.pread`` from the raw float32 file written beside ``model.onnx``. Measured on the 10k index:
the encoder's resident memory drops from ~135 MB to ~64 MB, and a query pays ~20 µs of reads.
The file's pages stay in the OS page cache, shared and reclaimable, not in the process.

A memory map would be simpler but does not work here: the kernel maps neighbouring pages on every
fault ("fault-around"), so 400 real queries made ~44 MB of the 47 MB resident (``madvise(RANDOM)``
does not stop it). Reads keep the process at what it actually uses.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import numpy as np


class TokenTableError(RuntimeError):
    """The table file is missing, truncated, or does not match the declared shape."""


class TokenTable:
    """Rows of a ``(vocab_size, dim)`` little-endian float32 matrix stored as raw bytes in ``path``."""

    def __init__(self, path: Path | str, vocab_size: int, dim: int) -> None:
        self._fd = -1  # so __del__ is safe when the checks below raise
        self.path = Path(path)
        self.vocab_size = vocab_size
        self.dim = dim
        self._row_bytes = dim * 4
        try:
            size = self.path.stat().st_size
        except OSError as exc:
            raise TokenTableError(f"token table {self.path} is missing ({exc.strerror})") from exc
        if size != vocab_size * self._row_bytes:
            raise TokenTableError(
                f"token table {self.path} has {size:,} bytes; {vocab_size:,} x {dim} float32 needs "
                f"{vocab_size * self._row_bytes:,}"
            )
        self._fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        # os.pread is POSIX; elsewhere a read-only memory map gives the same rows.
        self._mapped = (
            None if hasattr(os, "pread") else np.memmap(self.path, np.float32, "r", shape=(vocab_size, dim))
        )

    def lookup(self, ids: np.ndarray) -> np.ndarray:
        """Float32 rows for an integer array of token ids: shape ``ids.shape + (dim,)``."""
        ids = np.asarray(ids)
        if ids.size and (ids.min() < 0 or ids.max() >= self.vocab_size):
            raise IndexError(f"token id out of range 0..{self.vocab_size - 1}")
        if self._mapped is not None:
            return np.array(self._mapped[ids], dtype=np.float32)
        unique, inverse = np.unique(ids, return_inverse=True)
        rows = np.empty((len(unique), self.dim), dtype="<f4")
        for k, token in enumerate(unique.tolist()):
            rows[k] = np.frombuffer(os.pread(self._fd, self._row_bytes, token * self._row_bytes), dtype="<f4")
        return rows[inverse.reshape(ids.shape)].astype(np.float32, copy=False)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __del__(self) -> None:
        with contextlib.suppress(OSError):
            self.close()


def write_token_table(matrix: np.ndarray, path: Path | str) -> None:
    """Save ``matrix`` (vocab_size x dim) as the raw little-endian float32 bytes ``TokenTable`` reads."""
    np.ascontiguousarray(matrix, dtype="<f4").tofile(str(path))
