"""Spark ALS (`vibeshelf fit-cf --engine spark`) against the in-process models, in one run.

    python bench/cf_spark.py                      # goodbooks quality + Book-Crossing time and memory
    python bench/cf_spark.py --skip-bookcrossing  # goodbooks only
    python bench/cf_spark.py --master 'local[2]'

Goodbooks: the split of ``retrieval/cf/eval.py`` (per user 20% of the liked books hidden, seed 0; the
validation split carved out of training with seed 1). ALS settings are chosen on validation (seeds
protocol, the one "readers also liked" serves), then refitted on the full training part and measured
once on test, beside the shipped in-process models (RP3beta + content for seeds, EASE + content for
histories) fitted and measured the same way in the same run. Recall@20, both protocols.

Book-Crossing (1.15M interactions, every book with 2+): the fit through ``fit_cf`` in each engine, wall
time and the peak RSS of the whole process tree (the Python driver, Spark's JVM and its Python workers),
sampled every 0.1 s.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))

import contextlib

from cf import DEFAULT_DATA, bookcrossing_ratings

from vibeshelf.layout import Layout


class PeakTreeRSS:
    """Peak resident memory of this process and all its descendants (psutil), sampled in a thread."""

    def __init__(self, interval_s: float = 0.1) -> None:
        import psutil

        self._me = psutil.Process()
        self._interval = interval_s
        self._stop = threading.Event()
        self.peak = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> int:
        import psutil

        total = 0
        for proc in [self._me, *self._me.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                total += proc.memory_info().rss
        return total

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.peak = max(self.peak, self._sample())

    def __enter__(self) -> PeakTreeRSS:
        self.peak = self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _score(model, inter, split, seed_queries, history_query) -> tuple[float, float, dict[int, float]]:
    from vibeshelf.retrieval.cf.eval import evaluate_query

    history = evaluate_query(model, inter, history_query, split)[0]
    by_n = {n: evaluate_query(model, inter, q, split)[0] for n, q in seed_queries.items()}
    return history, float(np.mean(list(by_n.values()))), by_n


def goodbooks(data: Path, master: str) -> None:
    from vibeshelf.ingest.normalize import normalize
    from vibeshelf.ingest.spark_als import ALSParams, fit_als_neighbours, spark_session
    from vibeshelf.retrieval.cf.config import CFConfig
    from vibeshelf.retrieval.cf.eval import _fit_specs, goodbooks_ratings, history_query, seed_query
    from vibeshelf.retrieval.cf.models import Interactions, NeighbourTable, encode_ratings, select_items
    from vibeshelf.retrieval.cf.split import split_liked

    config = CFConfig()
    codes = encode_ratings(goodbooks_ratings(data / "goodbooks" / "ratings.csv"))
    test = split_liked(codes, seed=0)
    val = split_liked(test.train, seed=1)
    with tempfile.TemporaryDirectory(prefix="vibeshelf-als-bench-") as tmp:
        layout = Layout(Path(tmp)).ensure()
        normalize("goodbooks", data / "goodbooks", layout)
        catalog = pq.read_table(layout.catalog, columns=["id", "authors", "series", "genres"])

    def queries(split, items, offset):
        eligible = np.zeros(split.train.n_items, dtype=bool)
        eligible[items] = True
        seeds = {n: seed_query(split, n, eligible=eligible, seed=offset + n) for n in (1, 3, 5)}
        return seeds, history_query(split, 0)

    grid = [
        ALSParams(rank=64, reg=0.05, alpha=20.0),
        ALSParams(rank=128, reg=0.05, alpha=20.0),
        ALSParams(rank=64, reg=0.05, alpha=5.0),
    ]
    spark = spark_session(master)
    try:
        val_items = select_items(val.train, min_ratings=config.min_item_ratings)
        val_seeds, val_history = queries(val, val_items, 100)
        scores = {}
        for params in grid:
            started = time.perf_counter()
            table, _ = fit_als_neighbours(spark, val.train, val_items, params)
            inter = Interactions.build(val.train, items=val_items, min_rating=0)
            scores[params] = _score(NeighbourTable(table, source="als"), inter, val, val_seeds, val_history)
            h, s, _ = scores[params]
            print(
                f"  validation ALS {params.as_dict()}: history {h:.4f}, seeds {s:.4f}"
                f" ({time.perf_counter() - started:.0f} s)",
                flush=True,
            )
        best = max(grid, key=lambda p: scores[p][1])
        test_items = select_items(test.train, min_ratings=config.min_item_ratings)
        test_seeds, test_history = queries(test, test_items, 200)
        started = time.perf_counter()
        table, _ = fit_als_neighbours(spark, test.train, test_items, best)
        als_fit_s = time.perf_counter() - started
        inter = Interactions.build(test.train, items=test_items, min_rating=0)
        als_val = scores[best]
        als_test = _score(NeighbourTable(table, source="als"), inter, test, test_seeds, test_history)
    finally:
        spark.stop()

    shipped = {}
    for name, spec in (("seeds", config.seeds), ("history", config.history)):
        for split, items, (seeds, history) in (
            ("val", val_items, (val_seeds, val_history)),
            ("test", test_items, (test_seeds, test_history)),
        ):
            train = val if split == "val" else test
            for _, model, inter, fit_s in _fit_specs(train.train, [spec], items, catalog):
                shipped[(name, split)] = (*_score(model, inter, train, seeds, history), fit_s)
    print(f"goodbooks Recall@20 (ALS chosen on validation: {best.as_dict()}; ALS test fit {als_fit_s:.0f} s)")
    print("| model | history val | history test | seeds val (1/3/5 mean) | seeds test (1/3/5 mean) |")
    print("|---|---|---|---|---|")
    print(
        f"| Spark implicit ALS (one table) | {als_val[0]:.4f} | {als_test[0]:.4f} | {als_val[1]:.4f} | "
        f"{als_test[1]:.4f} |"
    )
    print(
        f"| in-process seeds model ({config.seeds.algorithm} + content) | {shipped[('seeds', 'val')][0]:.4f} | "
        f"{shipped[('seeds', 'test')][0]:.4f} | {shipped[('seeds', 'val')][1]:.4f} | "
        f"{shipped[('seeds', 'test')][1]:.4f} |"
    )
    print(
        f"| in-process history model ({config.history.algorithm} + content) | "
        f"{shipped[('history', 'val')][0]:.4f} | {shipped[('history', 'test')][0]:.4f} | "
        f"{shipped[('history', 'val')][1]:.4f} | {shipped[('history', 'test')][1]:.4f} |"
    )


def bookcrossing(data: Path, master: str) -> None:
    from vibeshelf.ingest.cf_fit import fit_cf

    with tempfile.TemporaryDirectory(prefix="vibeshelf-als-bx-") as tmp:
        layout = Layout(Path(tmp)).ensure()
        ratings, implicit = bookcrossing_ratings(data / "bookcrossing" / "BX-Book-Ratings.csv.gz")
        pq.write_table(ratings, layout.ratings)
        pq.write_table(implicit, layout.implicit)
        print(f"Book-Crossing: {ratings.num_rows + implicit.num_rows:,} interactions")
        # The in-process fit first: PySpark keeps its JVM alive after spark.stop(), which would count
        # towards a later measurement in this process.
        for engine in ("local", "spark"):
            with PeakTreeRSS() as mem:
                started = time.perf_counter()
                report = fit_cf(layout, engine=engine, spark_master=master, progress=False)  # type: ignore[arg-type]
                wall = time.perf_counter() - started
            size = sum(f.stat().st_size for f in layout.cf.rglob("*") if f.is_file()) / 2**20
            print(
                f"  {engine:5} {report.algorithm:8} {report.items:,} books: fit_cf {wall:.0f} s (model fit "
                f"{report.fit_seconds:.0f} s), peak RSS of the process tree {mem.peak / 2**30:.2f} GiB, "
                f"on disk {size:.0f} MiB",
                flush=True,
            )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--skip-goodbooks", action="store_true")
    parser.add_argument("--skip-bookcrossing", action="store_true")
    args = parser.parse_args(argv)
    if not args.skip_goodbooks:
        goodbooks(args.data, args.master)
    if not args.skip_bookcrossing:
        bookcrossing(args.data, args.master)


if __name__ == "__main__":
    main()
