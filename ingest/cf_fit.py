"""Fit the "readers also liked" model from ``Layout.ratings`` and save it under ``Layout.cf``.

Run after ingest (``vibeshelf fit-cf``). Safe to interrupt and rerun: the model is written to a
temporary folder and swapped in by rename, so the previous model stays until the new one is complete.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import scipy.sparse as sp
from pydantic import BaseModel
from tqdm import tqdm

from vibeshelf.layout import Layout
from vibeshelf.retrieval.cf_config import ALGORITHMS, LIKED_RATING, CFConfig
from vibeshelf.retrieval.cf_models import (
    EASE,
    CFDataError,
    CodedRatings,
    Interactions,
    ItemKNN,
    encode_ratings,
    make_model,
    select_items,
)
from vibeshelf.retrieval.cf_store import CFArtifacts, CFMeta, write_cf

# EASE won the goodbooks held-out comparison (Recall@20 0.29 vs item-kNN 0.22, popularity 0.06; see
# retrieval/cf_eval.py). Its item cap (CFConfig.ease_max_items) keeps the fit bounded on big catalogs.
AUTO_ALGORITHM = "ease"

Algorithm = Literal["auto", "popularity", "item_knn", "ease"]


class CFFitReport(BaseModel):
    algorithm: str
    params: dict[str, float | int]
    ratings: int  # explicit ratings read
    implicit: int  # implicit interactions read (used when the algorithm's min_rating is 0)
    users: int
    books_rated: int
    items: int  # books the model knows
    cold_books: int  # rated books left out (too few interactions or over the item cap)
    neighbours_kept: int
    fit_seconds: float  # the model fit alone
    total_seconds: float  # read + fit + save
    path: str


def _read_parquet(path: Path, columns: list[str]) -> pa.Table:
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: run `vibeshelf ingest` first")
    try:
        return pq.read_table(path, columns=columns)
    except (pa.ArrowInvalid, OSError, KeyError) as exc:
        raise CFDataError(f"{path}: cannot read columns {columns} ({exc})") from exc


def build_artifacts(
    codes: CodedRatings,
    *,
    algorithm: str,
    config: CFConfig,
    source: str,
    on_step: Callable[[str], None] | None = None,
) -> tuple[CFArtifacts, float]:
    """Fit ``algorithm`` on coded ratings and return what is saved, plus the fit time in seconds."""
    step = on_step or (lambda _msg: None)
    items = select_items(codes, min_ratings=config.min_item_ratings, max_items=config.max_items(algorithm))
    if len(items) == 0:
        raise CFDataError(f"{source}: no book has {config.min_item_ratings}+ ratings; nothing to fit")
    inter = Interactions.build(codes, items=items, min_rating=config.min_rating(algorithm))
    liked = Interactions.build(codes, items=items, min_rating=LIKED_RATING).matrix
    step(f"fitting {algorithm} on {len(items):,} books x {codes.n_users:,} readers")
    model = make_model(algorithm, **config.model_params(algorithm))
    started = time.perf_counter()
    model.fit(inter)
    fit_seconds = time.perf_counter() - started
    step("exporting neighbours")
    if isinstance(model, EASE):
        neighbours = model.neighbours_table(config.served_neighbours)
        model.weights = None  # free the dense matrix before saving
    elif isinstance(model, ItemKNN):
        neighbours = model.neighbours_table()
    else:
        neighbours = sp.csr_matrix((len(items), len(items)), dtype=np.float32)
    kept = int(np.diff(neighbours.indptr).max(initial=0))
    meta = CFMeta(
        algorithm=algorithm,  # type: ignore[arg-type]
        params=model.params(),
        config=config,
        liked_rating=LIKED_RATING,
        users=codes.n_users,
        ratings=int((codes.ratings > 0).sum()),
        implicit=int((codes.ratings == 0).sum()),
        books_rated=codes.n_items,
        items=len(items),
        neighbours_kept=kept,
        fit_seconds=fit_seconds,
        fitted_at=datetime.now(UTC),
        source=source,
    )
    artifacts = CFArtifacts.from_matrices(
        meta=meta,
        item_ids=inter.item_ids,
        neighbours=neighbours,
        popularity=np.asarray(liked.sum(axis=0)).reshape(-1),
        liked=liked,
    )
    return artifacts, fit_seconds


def fit_cf(
    layout: Layout,
    *,
    algorithm: Algorithm = "auto",
    config: CFConfig | None = None,
    progress: bool = True,
) -> CFFitReport:
    """Fit the CF model on ``layout.ratings`` (plus ``layout.implicit`` when the algorithm uses implicit
    interactions and the file exists) and save it atomically under ``layout.cf``.

    ``algorithm="auto"`` picks the comparison winner (EASE). Raises FileNotFoundError when ratings are
    missing and CFDataError when they are malformed (the message names the file, row and field).
    """
    if algorithm != "auto" and algorithm not in ALGORITHMS:
        raise ValueError(
            f"unknown CF algorithm {algorithm!r}; expected auto or one of {', '.join(ALGORITHMS)}"
        )
    chosen = AUTO_ALGORITHM if algorithm == "auto" else algorithm
    config = config or CFConfig()
    started = time.perf_counter()
    with tqdm(total=5, desc="cf", unit="step", disable=not progress, leave=True) as bar:

        def step(message: str) -> None:
            bar.set_description_str(f"cf: {message}")
            bar.update()

        bar.set_description_str(f"cf: reading {layout.ratings.name}")
        ratings = _read_parquet(layout.ratings, ["user_id", "book_id", "rating"])
        implicit = None
        if config.min_rating(chosen) == 0 and layout.implicit.is_file():
            implicit = _read_parquet(layout.implicit, ["user_id", "book_id"])
        step(
            f"coding {ratings.num_rows:,} ratings"
            + (f" + {implicit.num_rows:,} implicit" if implicit else "")
        )
        codes = encode_ratings(
            ratings, implicit=implicit, source=str(layout.ratings), implicit_source=str(layout.implicit)
        )
        artifacts, fit_seconds = build_artifacts(
            codes, algorithm=chosen, config=config, source=str(layout.ratings), on_step=step
        )
        step(f"saving to {layout.cf}")
        write_cf(layout.cf, artifacts)
        bar.update()
        bar.set_description_str("cf: done")
    meta = artifacts.meta
    return CFFitReport(
        algorithm=meta.algorithm,
        params=meta.params,
        ratings=meta.ratings,
        implicit=meta.implicit,
        users=meta.users,
        books_rated=meta.books_rated,
        items=meta.items,
        cold_books=meta.books_rated - meta.items,
        neighbours_kept=meta.neighbours_kept,
        fit_seconds=fit_seconds,
        total_seconds=time.perf_counter() - started,
        path=str(layout.cf),
    )
