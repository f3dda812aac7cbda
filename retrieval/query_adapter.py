"""The catalog-tuned query side of the encoder: a residual linear map applied to query vectors.

``vibeshelf tune`` (``ingest.tuning.adapter_fit``) learns ``M = I + A`` by contrastive learning on
request/book pairs mined from the catalog, against the book vectors already in the index. Only queries
move, so the index, the embedding cache and the ONNX export stay as they are: tuning takes about a
minute instead of re-embedding the catalog, and switching between the base and the tuned encoder is one
setting (``VIBESHELF_QUERY_ADAPTER``; off by default: on the held-out queries it traded known-item MRR for
mood NDCG, see README).

Numpy only: this module is on the server's import path.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

ADAPTER_FILE = "query_adapter.npz"


class QueryAdapterError(RuntimeError):
    """The adapter file is unreadable or was tuned for another embedding model."""


class QueryAdapter:
    def __init__(self, matrix: np.ndarray, model: str, info: dict[str, Any] | None = None) -> None:
        if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
            raise QueryAdapterError(f"adapter matrix must be square, got shape {matrix.shape}")
        self.matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        self.model = model  # the embedding model id of the index it was tuned against
        self.info = info or {}

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[0])

    def apply(self, vectors: np.ndarray) -> np.ndarray:
        """``normalise(v @ M)`` row by row."""
        out = np.asarray(vectors, dtype=np.float32) @ self.matrix
        out /= np.clip(np.linalg.norm(out, axis=-1, keepdims=True), 1e-12, None)
        return out.astype(np.float32, copy=False)

    def save(self, path: Path) -> None:
        staging = path.with_name(path.name + ".tmp.npz")
        np.savez(
            staging, matrix=self.matrix, model=np.array(self.model), info=np.array(json.dumps(self.info))
        )
        staging.replace(path)

    @classmethod
    def load(cls, path: Path) -> QueryAdapter:
        try:
            with np.load(path, allow_pickle=False) as data:
                return cls(data["matrix"], str(data["model"]), json.loads(str(data["info"])))
        except (OSError, KeyError, ValueError) as exc:
            raise QueryAdapterError(
                f"{path} is unreadable ({str(exc)[:200]}); rerun `vibeshelf tune`"
            ) from exc


class AdaptedEncoder:
    """A query encoder whose vectors go through a ``QueryAdapter``; everything else is the base encoder's."""

    def __init__(self, base: Any, adapter: QueryAdapter) -> None:
        if adapter.dim != base.dim:
            raise QueryAdapterError(f"adapter is {adapter.dim}-d but the encoder is {base.dim}-d")
        self.base = base
        self.adapter = adapter

    def encode(self, texts: list[str]) -> np.ndarray:
        return self.adapter.apply(self.base.encode(texts))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.base, name)
