"""On-disk form of the fitted CF model (``Layout.cf``): a folder of .npy arrays plus ``meta.json``.

Written by ``ingest.cf_fit`` into a temporary sibling folder and swapped in by rename, so a reader never
sees a half-written model and an interrupted fit leaves the previous model in place. Read by
``retrieval.readers_also_liked`` with the large arrays memory-mapped.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from pydantic import BaseModel, ValidationError

from vibeshelf.retrieval.cf.config import Algorithm, CFConfig, StarWeights

if TYPE_CHECKING:
    import scipy.sparse as sp

FORMAT_VERSION = 2  # 2: a second neighbour table for whole histories
META = "meta.json"
_TMP_PREFIX = ".cf-tmp-"
_OLD_PREFIX = ".cf-old-"


class CFModelMissing(FileNotFoundError):
    """No usable CF model at the expected path; the message says how to build one."""


class CFMeta(BaseModel):
    format_version: int = FORMAT_VERSION
    algorithm: Algorithm  # the seeds model ("readers also liked" for a few named books)
    params: dict[str, float | int]
    history_algorithm: Algorithm  # the whole-history model (an imported library)
    history_params: dict[str, float | int]
    # What a history book weighs by its stars when the history model scores it (``cf.config.star_weight``):
    # the served history spec's ``history_weights``; None (a model saved before them, a history served by
    # another model than the one they were chosen for): every book alike.
    history_weights: StarWeights | None = None
    config: CFConfig
    liked_rating: int
    users: int
    ratings: int  # explicit ratings read
    implicit: int  # implicit interactions read
    books_rated: int  # distinct books in the input
    items: int  # books in the model (the rest are cold)
    neighbours_kept: int  # largest neighbour row
    fit_seconds: float
    fitted_at: datetime
    source: str


@dataclass(frozen=True)
class CFArtifacts:
    """Everything serving needs, as plain arrays (memory-mappable, no scipy copies at load).

    Neighbours, CSR by seed item: row i's books are ``neighbours_indices[indptr[i]:indptr[i+1]]`` with
    ``neighbours_weights`` (empty rows for popularity); ``history_*`` is the same for the whole-history
    model (saved empty, and read as the seeds arrays, when one model serves both). Liked-by, CSC by
    item: the user codes who rated item i >= ``meta.liked_rating``, sorted.
    """

    meta: CFMeta
    item_ids: np.ndarray  # str
    neighbours_indptr: np.ndarray  # int64, items + 1
    neighbours_indices: np.ndarray  # int32
    neighbours_weights: np.ndarray  # float32
    history_indptr: np.ndarray  # int64, items + 1
    history_indices: np.ndarray  # int32
    history_weights: np.ndarray  # float32
    popularity: np.ndarray  # float32, liked count per item
    liked_by_indptr: np.ndarray  # int64, items + 1
    liked_by_users: np.ndarray  # int32

    @classmethod
    def from_matrices(
        cls,
        *,
        meta: CFMeta,
        item_ids: np.ndarray,
        neighbours: sp.spmatrix | sp.sparray,
        history: sp.spmatrix | sp.sparray | None = None,
        popularity: np.ndarray,
        liked: sp.spmatrix | sp.sparray,
    ) -> CFArtifacts:
        """From items x items neighbour matrices (seeds, history) and a users x items liked matrix."""
        import scipy.sparse as sp  # ingest only: the server reads the saved arrays without scipy

        nb = sp.csr_matrix(neighbours, dtype=np.float32)
        nb.sort_indices()
        # One model for both protocols: the history arrays are left empty and read as the seeds ones.
        hi = (
            sp.csr_matrix((0, 0), dtype=np.float32)
            if history is None
            else sp.csr_matrix(history, dtype=np.float32)
        )
        hi.sort_indices()
        lb = sp.csc_matrix(liked, dtype=np.float32)
        lb.sum_duplicates()
        lb.sort_indices()
        return cls(
            meta=meta,
            item_ids=np.asarray(item_ids, dtype=str),
            neighbours_indptr=nb.indptr.astype(np.int64),
            neighbours_indices=nb.indices.astype(np.int32),
            neighbours_weights=nb.data.astype(np.float32),
            history_indptr=hi.indptr[: 0 if history is None else None].astype(np.int64),
            history_indices=hi.indices.astype(np.int32),
            history_weights=hi.data.astype(np.float32),
            popularity=np.asarray(popularity, dtype=np.float32),
            liked_by_indptr=lb.indptr.astype(np.int64),
            liked_by_users=lb.indices.astype(np.int32),
        )


_ARRAYS = (
    "item_ids",
    "neighbours_indptr",
    "neighbours_indices",
    "neighbours_weights",
    "history_indptr",
    "history_indices",
    "history_weights",
    "popularity",
    "liked_by_indptr",
    "liked_by_users",
)


def write_cf(path: Path, artifacts: CFArtifacts, *, extra: dict[str, np.ndarray] | None = None) -> None:
    """Write ``artifacts`` to ``path`` atomically (temp folder + rename); replaces an existing model.

    ``extra`` arrays are saved beside the served ones as ``<name>.npy`` (the ALS item factors) and are
    not read by serving."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in [*path.parent.glob(f"{_TMP_PREFIX}*"), *path.parent.glob(f"{_OLD_PREFIX}*")]:
        shutil.rmtree(stale, ignore_errors=True)  # left by an interrupted earlier run
    tmp = path.parent / f"{_TMP_PREFIX}{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    old = None
    try:
        for name in _ARRAYS:
            np.save(tmp / f"{name}.npy", np.asarray(getattr(artifacts, name)), allow_pickle=False)
        for name, array in (extra or {}).items():
            np.save(tmp / f"{name}.npy", np.asarray(array), allow_pickle=False)
        # meta.json last: its presence marks a complete folder.
        (tmp / META).write_text(artifacts.meta.model_dump_json(indent=2))
        if path.exists():
            old = path.parent / f"{_OLD_PREFIX}{uuid.uuid4().hex[:8]}"
            os.rename(path, old)
        os.rename(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and not path.exists():
            os.rename(old, path)  # put the previous model back
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def model_version(path: Path) -> tuple[int, int] | None:
    """A cheap fingerprint of the model at ``path`` (one stat): changes whenever ``write_cf`` swaps in a
    new folder, since its meta.json is a new file. None when there is no model."""
    try:
        st = os.stat(path / META)
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns)


def read_cf(path: Path, *, mmap: bool = True) -> CFArtifacts:
    """Load a model written by ``write_cf``; large arrays are memory-mapped unless ``mmap`` is False."""
    meta_path = path / META
    if not meta_path.is_file():
        raise CFModelMissing(f"no CF model at {path}: run `vibeshelf fit-cf` (or `vibeshelf ingest`) first")
    try:
        raw = json.loads(meta_path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise CFModelMissing(f"{meta_path}: unreadable ({exc}); refit with `vibeshelf fit-cf`") from exc
    if raw.get("format_version") != FORMAT_VERSION:
        raise CFModelMissing(
            f"{meta_path}: format {raw.get('format_version')} but this version reads {FORMAT_VERSION}; "
            "refit with `vibeshelf fit-cf`"
        )
    try:
        meta = CFMeta.model_validate(raw)
    except ValidationError as exc:
        raise CFModelMissing(f"{meta_path}: invalid ({exc.errors()[0]['msg']}); refit") from exc
    mode = "r" if mmap else None
    try:
        arrays = {name: np.load(path / f"{name}.npy", mmap_mode=mode, allow_pickle=False) for name in _ARRAYS}
    except (OSError, ValueError) as exc:
        raise CFModelMissing(f"{path}: damaged model ({exc}); refit with `vibeshelf fit-cf`") from exc
    if len(arrays["history_indptr"]) == 0:  # written once, for both protocols
        for part in ("indptr", "indices", "weights"):
            arrays[f"history_{part}"] = arrays[f"neighbours_{part}"]
    n = len(arrays["item_ids"])
    if any(len(arrays[a]) != n + 1 for a in ("neighbours_indptr", "history_indptr", "liked_by_indptr")):
        raise CFModelMissing(f"{path}: arrays disagree on the number of books; refit with `vibeshelf fit-cf`")
    return CFArtifacts(meta=meta, **arrays)
