"""Readers-also-liked at scale: implicit ALS on Spark MLlib (``vibeshelf fit-cf --engine spark``).

The in-process models (``retrieval.cf.models``) hold an item x item matrix in one process, which grows
with the square of the books. Here Spark fits implicit ALS (Hu, Koren & Volinsky 2008) over the
interactions, so memory grows with (readers + books) x rank, spread over the cluster's executors; then
the same job ranks every book's nearest books by cosine similarity of the item factors, block by block
on the executors (the factors broadcast once), and keeps the top ``neighbours``. What is saved is the
usual served model (``retrieval.cf.store``: a sparse neighbour table, popularity, liked-by lists) plus
the item factors, so serving stays a lookup and ``readers_also_liked`` does not know which engine fitted it.

PySpark is an optional extra (``pip install -e '.[spark]'``) and needs Java 17+. ``master`` is
``local[N]`` on one machine or a cluster URL (``spark://host:7077``, ``yarn``, ``k8s://...``); with a
cluster, ``work_dir`` (where the coded interactions are handed to Spark) must be a path every executor
can read. Nothing is kept from an interrupted run: the previous model stays until the new one is
written (atomic swap in ``write_cf``).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import scipy.sparse as sp

from vibeshelf.retrieval.cf.models import CFDataError, CodedRatings, Interactions


@dataclass(frozen=True)
class ALSParams:
    """Implicit ALS and the neighbour table taken from its item factors."""

    rank: int = 64
    reg: float = 0.05  # L2 on the factors (MLlib's regParam)
    alpha: float = 20.0  # confidence = 1 + alpha * interaction
    iterations: int = 10
    neighbours: int = 200  # nearest books kept per book (the served table's row length)
    min_rating: int = 0  # interactions: ratings >= this (0 also counts implicit ones), as CFModelSpec
    seed: int = 0

    def as_dict(self) -> dict[str, float | int]:
        return {
            "rank": self.rank,
            "reg": self.reg,
            "alpha": self.alpha,
            "iterations": self.iterations,
            "neighbours": self.neighbours,
        }


def spark_session(master: str, *, app_name: str = "vibeshelf-cf", driver_memory: str | None = None) -> Any:
    """A Spark session on ``master`` whose Python workers run this interpreter (numpy for the top-k)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as err:
        raise CFDataError(
            "the Spark engine needs PySpark: pip install -e '.[spark]' (and Java 17+ on the PATH)"
        ) from err
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.ui.showConsoleProgress", "false")
    )
    if master.startswith("local"):
        # Bind and advertise loopback: the host name may resolve to an address nothing listens on, and
        # block transfers (the broadcast factors) would then fail to connect.
        builder = builder.config("spark.driver.bindAddress", "127.0.0.1").config(
            "spark.driver.host", "127.0.0.1"
        )
    if driver_memory:
        builder = builder.config("spark.driver.memory", driver_memory)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _block_top_k(
    factors: Any, k: int, block: int
) -> Callable[[Iterator[int]], Iterator[tuple[int, Any, Any]]]:
    """A partition function: for each block start, each book's ``k`` most similar books (cosine)."""

    def run(starts: Iterator[int]) -> Iterator[tuple[int, Any, Any]]:
        unit = factors.value
        n = unit.shape[0]
        kk = min(k, n - 1)
        for start in starts:
            sims = unit[start : start + block] @ unit.T
            rows = np.arange(sims.shape[0])
            sims[rows, start + rows] = -np.inf  # a book is not its own neighbour
            if kk <= 0:
                continue
            top = np.argpartition(-sims, kk - 1, axis=1)[:, :kk]
            weights = np.take_along_axis(sims, top, axis=1)
            for r in range(sims.shape[0]):
                keep = weights[r] > 0  # only books closer than unrelated ones
                yield start + r, top[r][keep].astype(np.int32), weights[r][keep].astype(np.float32)

    return run


def fit_als_neighbours(
    spark: Any,
    codes: CodedRatings,
    items: np.ndarray,
    params: ALSParams,
    *,
    work_dir: Path | None = None,
    on_step: Callable[[str], None] | None = None,
) -> tuple[sp.csr_matrix, np.ndarray]:
    """Fit implicit ALS on Spark over ``items`` (codes into ``codes.item_ids``); returns the items x items
    neighbour table (cosine of the item factors, top ``params.neighbours`` per row) and the item factors
    (items x rank, float32; a book no one in training read has zeros and no neighbours)."""
    from pyspark.ml.recommendation import ALS

    step = on_step or (lambda _msg: None)
    inter = Interactions.build(codes, items=items, min_rating=params.min_rating).matrix.tocoo()
    if inter.nnz == 0:
        raise CFDataError("no interactions to fit ALS on")
    own_dir = work_dir is None
    work = Path(tempfile.mkdtemp(prefix="vibeshelf-als-")) if own_dir else Path(work_dir)  # type: ignore[arg-type]
    work.mkdir(parents=True, exist_ok=True)
    try:
        path = work / "interactions.parquet"
        table = pa.table(
            {
                "user": pa.array(inter.row, pa.int32()),
                "item": pa.array(inter.col, pa.int32()),
                "value": pa.array(inter.data, pa.float32()),
            }
        )
        pq.write_table(table, path)
        step(
            f"ALS rank {params.rank} on {len(items):,} books x {codes.n_users:,} readers ({inter.nnz:,} rows)"
        )
        frame = spark.read.parquet(str(path))
        als = ALS(
            rank=params.rank,
            maxIter=params.iterations,
            regParam=params.reg,
            alpha=params.alpha,
            implicitPrefs=True,
            userCol="user",
            itemCol="item",
            ratingCol="value",
            nonnegative=False,
            seed=params.seed,
            coldStartStrategy="drop",
            # MLlib's default of 10 blocks is for clusters; one block per core is enough here and less
            # scheduling on a small machine.
            numUserBlocks=max(2, spark.sparkContext.defaultParallelism),
            numItemBlocks=max(2, spark.sparkContext.defaultParallelism),
        )
        model = als.fit(frame)
        rows = model.itemFactors.collect()
    finally:
        if own_dir:
            shutil.rmtree(work, ignore_errors=True)
    factors = np.zeros((len(items), params.rank), dtype=np.float32)
    for row in rows:
        factors[row["id"]] = np.asarray(row["features"], dtype=np.float32)
    norms = np.linalg.norm(factors, axis=1, keepdims=True)
    unit = np.divide(factors, norms, out=np.zeros_like(factors), where=norms > 0)

    step(f"top {params.neighbours} neighbours per book on the executors")
    block = max(1, min(2048, (64 << 20) // max(4 * len(items), 1)))  # ~64 MB of similarities per block
    starts = list(range(0, len(items), block))
    broadcast = spark.sparkContext.broadcast(unit)
    try:
        parts = max(1, min(len(starts), spark.sparkContext.defaultParallelism * 4))
        found = (
            spark.sparkContext.parallelize(starts, parts)
            .mapPartitions(_block_top_k(broadcast, params.neighbours, block))
            .collect()
        )
    finally:
        broadcast.unpersist()
    found.sort(key=lambda t: t[0])
    indptr = np.zeros(len(items) + 1, dtype=np.int64)
    for row, idx, _ in found:
        indptr[row + 1] = len(idx)
    np.cumsum(indptr, out=indptr)
    indices = np.concatenate([f[1] for f in found]) if found else np.zeros(0, np.int32)
    weights = np.concatenate([f[2] for f in found]) if found else np.zeros(0, np.float32)
    table = sp.csr_matrix((weights, indices, indptr), shape=(len(items), len(items)), dtype=np.float32)
    table.sort_indices()
    return table, factors
