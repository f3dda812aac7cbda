"""Fit the "readers also liked" model from ``Layout.ratings`` and save it under ``Layout.cf``.

Run after ingest (``vibeshelf fit-cf``). Safe to interrupt and rerun: the model is written to a
temporary folder and swapped in by rename, so the previous model stays until the new one is complete.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import scipy.sparse as sp
from pydantic import BaseModel
from tqdm import tqdm

from vibeshelf.ingest.spark_als import ALSParams
from vibeshelf.layout import Layout
from vibeshelf.retrieval.cf.config import ALGORITHMS, LIKED_RATING, CFConfig, CFModelSpec, StarWeights
from vibeshelf.retrieval.cf.models import (
    CFDataError,
    CodedRatings,
    Interactions,
    encode_ratings,
    select_items,
)
from vibeshelf.retrieval.cf.store import CFArtifacts, CFMeta, write_cf
from vibeshelf.retrieval.cf.table import content_for, interactions, neighbour_table

Algorithm = Literal["auto", "popularity", "item_knn", "rp3beta", "ease"]
Engine = Literal["local", "spark"]


class CFFitReport(BaseModel):
    algorithm: str  # the seeds model
    params: dict[str, float | int]
    history_algorithm: str  # the whole-history model
    history_params: dict[str, float | int]
    ratings: int  # explicit ratings read
    implicit: int  # implicit interactions read (used when the algorithm's min_rating is 0)
    users: int
    books_rated: int
    items: int  # books the model knows
    cold_books: int  # rated books left out (fewer than min_item_ratings interactions)
    neighbours_kept: int
    fit_seconds: float  # the model fits alone
    total_seconds: float  # read + fit + save
    path: str


def _read_parquet(path: Path, columns: list[str]) -> pa.Table:
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: run `vibeshelf ingest` first")
    try:
        return pq.read_table(path, columns=columns)
    except (pa.ArrowInvalid, OSError, KeyError) as exc:
        raise CFDataError(f"{path}: cannot read columns {columns} ({exc})") from exc


def _size(n_bytes: float) -> str:
    return f"{n_bytes / 2**30:.1f} GiB" if n_bytes >= 2**30 else f"{n_bytes / 2**20:.1f} MiB"


def resolve_specs(
    algorithm: str, config: CFConfig, n_items: int
) -> tuple[CFModelSpec, CFModelSpec, str | None]:
    """(seeds spec, history spec, note). ``auto`` serves the configured pair; a named algorithm serves
    both protocols. EASE past the memory budget is replaced by the seeds model, with a note saying so."""
    if algorithm == "auto":
        seeds, history = config.seeds, config.history
    else:
        seeds = history = config.spec_for(algorithm)
    note = None
    over = (
        f"EASE over {n_items:,} books needs {_size(8 * n_items * n_items)}, over the "
        f"{_size(config.ease_max_bytes)} budget (CFConfig.ease_max_bytes)"
    )
    if seeds.algorithm == "ease" and not config.ease_fits(n_items):
        raise CFDataError(f"{over}; fit rp3beta or item_knn instead")
    if history.algorithm == "ease" and not config.ease_fits(n_items):
        note = f"{over}; whole histories use the seeds model ({seeds.algorithm}) instead"
        history = seeds
    return seeds, history, note


def _artifacts(
    codes: CodedRatings,
    items: np.ndarray,
    liked: sp.csr_matrix,
    *,
    config: CFConfig,
    source: str,
    fit_seconds: float,
    seeds: tuple[str, dict[str, Any], sp.csr_matrix],
    history: tuple[str, dict[str, Any], sp.csr_matrix | None],
    history_weights: StarWeights | None = None,
) -> CFArtifacts:
    """What is saved for fitted neighbour tables, whichever engine fitted them: the tables, the books they
    cover, popularity and the metadata describing the fit. ``history``'s table None: the seeds table serves it."""
    (algorithm, params, seeds_table), (history_algorithm, history_params, history_table) = seeds, history
    meta = CFMeta(
        algorithm=algorithm,
        params=params,
        history_algorithm=history_algorithm,
        history_params=history_params,
        history_weights=history_weights,
        config=config,
        liked_rating=LIKED_RATING,
        users=codes.n_users,
        ratings=int((codes.ratings > 0).sum()),
        implicit=int((codes.ratings == 0).sum()),
        books_rated=codes.n_items,
        items=len(items),
        neighbours_kept=int(np.diff(seeds_table.indptr).max(initial=0)),
        fit_seconds=fit_seconds,
        fitted_at=datetime.now(UTC),
        source=source,
    )
    return CFArtifacts.from_matrices(
        meta=meta,
        item_ids=codes.item_ids[items],
        neighbours=seeds_table,
        history=history_table,
        popularity=np.asarray(liked.sum(axis=0)).reshape(-1),
        liked=liked,
    )


def build_artifacts(
    codes: CodedRatings,
    *,
    algorithm: str,
    config: CFConfig,
    source: str,
    catalog: pa.Table | None = None,
    on_step: Callable[[str], None] | None = None,
) -> tuple[CFArtifacts, float]:
    """Fit the seeds and history models on coded ratings; return what is saved and the fit seconds.

    ``catalog`` (id, authors, series, genres) feeds the content blend of specs with a content_weight;
    without it they are fitted without the blend."""
    step = on_step or (lambda _msg: None)
    items = select_items(codes, min_ratings=config.min_item_ratings)
    if len(items) == 0:
        raise CFDataError(f"{source}: no book has {config.min_item_ratings}+ ratings; nothing to fit")
    seeds_spec, history_spec, note = resolve_specs(algorithm, config, len(items))
    if note:
        step(note)
    liked = Interactions.build(codes, items=items, min_rating=LIKED_RATING).matrix
    started = time.perf_counter()
    step(f"fitting {seeds_spec.algorithm} (seeds) on {len(items):,} books x {codes.n_users:,} readers")
    content = content_for([seeds_spec, history_spec], codes.item_ids[items], catalog)
    seeds_table = neighbour_table(interactions(codes, items, seeds_spec), seeds_spec, content=content)
    if history_spec == seeds_spec:
        history_table = None
        step("history model = seeds model")
    else:
        step(f"fitting {history_spec.algorithm} (whole histories) on {len(items):,} books")
        history_table = neighbour_table(
            interactions(codes, items, history_spec), history_spec, content=content
        )
    del content
    fit_seconds = time.perf_counter() - started
    artifacts = _artifacts(
        codes,
        items,
        liked,
        config=config,
        source=source,
        fit_seconds=fit_seconds,
        seeds=(seeds_spec.algorithm, seeds_spec.full_params(), seeds_table),
        history=(history_spec.algorithm, history_spec.full_params(), history_table),
        # The stars weigh a history only for the model they were chosen with (over the EASE budget the
        # seeds model serves histories, unweighted).
        history_weights=history_spec.history_weights,
    )
    return artifacts, fit_seconds


def build_als_artifacts(
    codes: CodedRatings,
    *,
    spark: Any,
    params: ALSParams,
    config: CFConfig,
    source: str,
    on_step: Callable[[str], None] | None = None,
) -> tuple[CFArtifacts, np.ndarray, float]:
    """Fit implicit ALS on Spark (``ingest.spark_als``) over the books with enough interactions; return
    what is saved (one neighbour table serving both protocols), the item factors and the fit seconds."""
    from vibeshelf.ingest.spark_als import fit_als_neighbours

    items = select_items(codes, min_ratings=config.min_item_ratings)
    if len(items) == 0:
        raise CFDataError(f"{source}: no book has {config.min_item_ratings}+ ratings; nothing to fit")
    started = time.perf_counter()
    table, factors = fit_als_neighbours(spark, codes, items, params, on_step=on_step)
    fit_seconds = time.perf_counter() - started
    liked = Interactions.build(codes, items=items, min_rating=LIKED_RATING).matrix
    als_params = params.as_dict()
    # One neighbour table serves both protocols.
    artifacts = _artifacts(
        codes,
        items,
        liked,
        config=config,
        source=source,
        fit_seconds=fit_seconds,
        seeds=("als", als_params, table),
        history=("als", als_params, None),
    )
    return artifacts, factors, fit_seconds


def fit_cf(
    layout: Layout,
    *,
    algorithm: Algorithm = "auto",
    config: CFConfig | None = None,
    progress: bool = True,
    engine: Engine = "local",
    spark_master: str = "local[*]",
    als: ALSParams | None = None,
) -> CFFitReport:
    """Fit the CF models on ``layout.ratings`` (plus ``layout.implicit`` when a model trains on implicit
    interactions and the file exists) and save them atomically under ``layout.cf``.

    ``algorithm="auto"`` serves the validation winners (``config.seeds`` for a few named books,
    ``config.history`` for whole histories); a named algorithm serves both. ``engine="spark"`` fits
    implicit ALS on Spark at ``spark_master`` instead (``als`` parameters; ``algorithm`` is ignored)
    and serves it for both. Raises FileNotFoundError when ratings are
    missing and CFDataError when they are malformed (the message names the file, row and field).
    """
    if algorithm != "auto" and algorithm not in ALGORITHMS:
        raise ValueError(
            f"unknown CF algorithm {algorithm!r}; expected auto or one of {', '.join(ALGORITHMS)}"
        )
    config = config or CFConfig()
    als = als or ALSParams()
    if engine == "spark":
        specs: tuple[CFModelSpec, ...] = (CFModelSpec(algorithm="als", min_rating=als.min_rating),)
    else:
        specs = (config.seeds, config.history) if algorithm == "auto" else (config.spec_for(algorithm),)
    started = time.perf_counter()
    with tqdm(total=6, desc="cf", unit="step", disable=not progress, leave=True) as bar:

        def step(message: str) -> None:
            bar.set_description_str(f"cf: {message}")
            bar.update()

        bar.set_description_str(f"cf: reading {layout.ratings.name}")
        ratings = _read_parquet(layout.ratings, ["user_id", "book_id", "rating"])
        implicit = None
        if any(spec.min_rating == 0 for spec in specs) and layout.implicit.is_file():
            implicit = _read_parquet(layout.implicit, ["user_id", "book_id"])
        step(
            f"coding {ratings.num_rows:,} ratings"
            + (f" + {implicit.num_rows:,} implicit" if implicit else "")
        )
        codes = encode_ratings(
            ratings, implicit=implicit, source=str(layout.ratings), implicit_source=str(layout.implicit)
        )
        extra: dict[str, np.ndarray] = {}
        if engine == "spark":
            from vibeshelf.ingest.spark_als import spark_session

            step(f"starting Spark ({spark_master})")
            spark = spark_session(spark_master)
            try:
                artifacts, factors, fit_seconds = build_als_artifacts(
                    codes, spark=spark, params=als, config=config, source=str(layout.ratings), on_step=step
                )
            finally:
                spark.stop()
            extra["item_factors"] = factors
        else:
            catalog = None
            if any(spec.content_weight > 0 for spec in specs) and layout.catalog.is_file():
                catalog = _read_parquet(layout.catalog, ["id", "authors", "series", "genres"])
            artifacts, fit_seconds = build_artifacts(
                codes,
                algorithm=algorithm,
                config=config,
                source=str(layout.ratings),
                catalog=catalog,
                on_step=step,
            )
        step(f"saving to {layout.cf}")
        write_cf(layout.cf, artifacts, extra=extra)
        bar.update()
        bar.set_description_str("cf: done")
    meta = artifacts.meta
    return CFFitReport(
        algorithm=meta.algorithm,
        params=meta.params,
        history_algorithm=meta.history_algorithm,
        history_params=meta.history_params,
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
