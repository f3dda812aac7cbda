"""CF benchmark: fit time, peak memory and model size on disk (goodbooks, Book-Crossing 1.15M rows),
recommend() latency, and the held-out comparison.

    python bench/cf.py                 # goodbooks + Book-Crossing fits of the shipped models, latency
    python bench/cf.py --eval          # also both protocols on goodbooks, every grid point tried on the
                                       # validation split (tens of minutes on 2 busy cores)
    python bench/cf.py --eval --no-tune   # ... only the configured models (minutes)
    python bench/cf.py --threshold     # validation Recall@20 of the shipped models per min_item_ratings,
                                       # on Book-Crossing (where the threshold matters)

Each fit runs in a fresh child process so its peak RSS is its own. Data is read in place from
../shared/data (override with --data).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from vibeshelf.catalog import IMPLICIT_SCHEMA, RATINGS_SCHEMA
from vibeshelf.layout import Layout

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def bookcrossing_ratings(path: Path) -> tuple[pa.Table, pa.Table]:
    """BX-Book-Ratings as (explicit ratings on 1-5, implicit interactions), as ingest writes them.

    Lines are split on '";"' because some ISBNs carry stray quotes; 1-10 maps to 1-5 with ceil(r / 2);
    0 means implicit.
    """
    import duckdb

    con = duckdb.connect()
    try:
        con.execute(
            "CREATE TEMP TABLE bx AS SELECT p[1] AS user_id, 'bookcrossing:' || upper(trim(p[2])) AS book_id,"
            " CAST(p[3] AS INTEGER) AS r FROM (SELECT string_split(trim(line, '\"'), '\";\"') AS p"
            " FROM read_csv(?, delim = '\x1f', quote = '', escape = '', header = true,"
            " encoding = 'latin-1', columns = {'line': 'VARCHAR'}))",
            [str(path)],
        )
        ratings = con.sql(
            "SELECT user_id, book_id, CAST(ceil(r / 2) AS TINYINT) AS rating FROM bx WHERE r > 0"
        ).to_arrow_table()
        implicit = con.sql("SELECT user_id, book_id FROM bx WHERE r = 0").to_arrow_table()
    finally:
        con.close()
    return ratings.cast(RATINGS_SCHEMA), implicit.cast(IMPLICIT_SCHEMA)


def _memory_mib(field: str) -> float:
    """VmRSS / VmHWM of this process. (ru_maxrss is no good here: Linux carries it over from the parent
    across fork + exec, so a child would report the parent's peak.)"""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _child_fit(home: str, algorithm: str, overrides: dict, queue: mp.Queue) -> None:
    from vibeshelf.ingest.cf_fit import fit_cf
    from vibeshelf.retrieval.cf.config import CFConfig

    base = _memory_mib("VmRSS")
    report = fit_cf(Layout(Path(home)), algorithm=algorithm, config=CFConfig(**overrides), progress=False)
    queue.put((report.model_dump(), base, _memory_mib("VmHWM")))


def fit_in_child(home: Path, algorithm: str = "auto", **overrides: object) -> tuple[dict, float, float]:
    """fit_cf in a fresh process: (report, RSS after imports MiB, peak RSS MiB)."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child_fit, args=(str(home), algorithm, overrides, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def _disk_mib(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 2**20


def _print_fit(label: str, rows_read: int, report: dict, base_mb: float, peak_mb: float) -> None:
    print(
        f"  {label}: {rows_read:,} rows -> {report['items']:,} books in model ({report['cold_books']:,} cold)"
        f" | seeds {report['algorithm']}, histories {report['history_algorithm']}"
        f" | fit {report['fit_seconds']:.1f} s, fit_cf total {report['total_seconds']:.1f} s"
        f" | peak RSS {peak_mb:,.0f} MiB (after imports {base_mb:,.0f} MiB)"
        f" | on disk {_disk_mib(Path(report['path'])):,.1f} MiB"
    )


def bench_threshold(codes, thresholds: tuple[int, ...]) -> None:
    """Validation Recall@20 of the shipped seeds model per min_item_ratings (Book-Crossing).

    On the validation split only (never test). Seeds are drawn among books warm at the strictest
    threshold, so every threshold answers the same requests; a hidden book below the threshold is a miss.
    Whole histories use the seeds model here too (EASE does not fit the memory budget below ~20k books).
    """
    from vibeshelf.retrieval.cf.config import CFConfig
    from vibeshelf.retrieval.cf.eval import _fit_specs, evaluate_query, history_query, seed_query
    from vibeshelf.retrieval.cf.models import select_items
    from vibeshelf.retrieval.cf.split import split_liked

    spec = CFConfig().seeds
    val = split_liked(split_liked(codes, seed=0).train, seed=1)
    strict = np.zeros(val.train.n_items, dtype=bool)
    strict[select_items(val.train, min_ratings=max(thresholds))] = True
    seeds = seed_query(val, 3, eligible=strict, seed=103)
    history = history_query(val, spec.min_rating)
    catalog = None  # Book-Crossing has no shelves or series: the content blend has little to add
    for t in thresholds:
        started = time.perf_counter()
        items = select_items(val.train, min_ratings=t)
        plain = spec.model_copy(update={"content_weight": 0.0})
        for _, model, inter, seconds in _fit_specs(val.train, [plain], items, catalog):
            h = evaluate_query(model, inter, history, val)[0]
            s3 = evaluate_query(model, inter, seeds, val)[0]
            fit_s = seconds
        print(
            f"  min_item_ratings={t}: {len(items):,} books | val Recall@20 history {h:.4f}, 3 seeds {s3:.4f}"
            f" ({spec.algorithm}) | fit {fit_s:.1f} s, all {time.perf_counter() - started:.0f} s",
            flush=True,
        )


def bench_latency(layout: Layout, *, requests: int = 2000, seed: int = 0) -> None:
    from vibeshelf.retrieval.readers_also_liked import ReadersAlsoLiked

    started = time.perf_counter()
    model = ReadersAlsoLiked.load(layout)
    load_ms = (time.perf_counter() - started) * 1e3
    rng = np.random.default_rng(seed)
    ids = np.array(model._a.item_ids)
    popularity = np.asarray(model._a.popularity, dtype=np.float64) + 1.0
    weights = popularity / popularity.sum()  # seeds drawn like real requests: mostly known books
    for _ in range(50):  # warm-up (page in the memory-mapped arrays)
        model.recommend(list(rng.choice(ids, size=2, p=weights)), k=10)
    times = []
    for _ in range(requests):
        n = int(rng.integers(1, 4))
        seeds = list(rng.choice(ids, size=n, replace=False, p=weights))
        avoid = list(rng.choice(ids, size=3, replace=False))
        t = time.perf_counter()
        model.recommend(seeds, avoid_ids=avoid, k=10)
        times.append(time.perf_counter() - t)
    history_times = []
    for _ in range(requests // 4):
        history = list(rng.choice(ids, size=30, replace=False, p=weights))
        t = time.perf_counter()
        model.recommend_history(history[:20], avoid_ids=history, k=10)
        history_times.append(time.perf_counter() - t)
    hist_ms = np.array(history_times) * 1e3
    print(
        f"  recommend_history (20 liked of 30 read, k=10, {len(hist_ms)} requests): p50 "
        f"{np.percentile(hist_ms, 50):.3f} ms, p99 {np.percentile(hist_ms, 99):.3f} ms"
    )
    # An imported library as the server scores it: every rated book, weighed by its stars.
    library_times = []
    for _ in range(requests // 20):
        rated = list(rng.choice(ids, size=200, replace=False, p=weights))
        stars = dict(zip(rated, rng.integers(1, 6, size=len(rated)).astype(float).tolist(), strict=True))
        t = time.perf_counter()
        model.recommend_history(rated, avoid_ids=rated, k=10, ratings=stars)
        library_times.append(time.perf_counter() - t)
    lib_ms = np.array(library_times) * 1e3
    print(
        f"  recommend_history (a library of 200 rated books weighed by stars, k=10, {len(lib_ms)} requests):"
        f" p50 {np.percentile(lib_ms, 50):.3f} ms, p99 {np.percentile(lib_ms, 99):.3f} ms"
    )
    ms = np.array(times) * 1e3
    print(
        f"  recommend (1-3 seeds, 3 avoid, k=10, {requests} requests): p50 {np.percentile(ms, 50):.3f} ms,"
        f" p99 {np.percentile(ms, 99):.3f} ms, max {ms.max():.2f} ms; load {load_ms:.0f} ms"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--eval", action="store_true", help="print the held-out comparison on goodbooks")
    parser.add_argument("--no-tune", action="store_true", help="with --eval: only the configured models")
    parser.add_argument("--threshold", action="store_true", help="score min_item_ratings on Book-Crossing")
    parser.add_argument("--skip-bookcrossing", action="store_true")
    args = parser.parse_args(argv)

    from vibeshelf.retrieval.cf.eval import chosen_config, evaluate_cf, goodbooks_ratings, render_cf_table
    from vibeshelf.retrieval.cf.models import encode_ratings

    with tempfile.TemporaryDirectory(prefix="vibeshelf-cf-bench-") as tmp:
        print("goodbooks")
        gb = Layout(Path(tmp) / "goodbooks").ensure()
        ratings = goodbooks_ratings(args.data / "goodbooks" / "ratings.csv")
        pq.write_table(ratings, gb.ratings)
        report, base, peak = fit_in_child(gb.home)
        _print_fit(f"{report['algorithm']} {report['params']}", ratings.num_rows, report, base, peak)
        bench_latency(gb)
        if args.eval:
            from vibeshelf.ingest.normalize import normalize

            normalize("goodbooks", args.data / "goodbooks", gb)  # the catalog, for the content blend
            catalog = pq.read_table(gb.catalog, columns=["id", "authors", "series", "genres"])
            rows = evaluate_cf(ratings, tune=not args.no_tune, catalog=catalog, progress=sys.stderr.isatty())
            print(render_cf_table(rows))
            print(f"chosen: {chosen_config(rows)!r}")

        if not args.skip_bookcrossing:
            print("Book-Crossing")
            bx = Layout(Path(tmp) / "bookcrossing").ensure()
            started = time.perf_counter()
            ratings, implicit = bookcrossing_ratings(args.data / "bookcrossing" / "BX-Book-Ratings.csv.gz")
            pq.write_table(ratings, bx.ratings)
            pq.write_table(implicit, bx.implicit)
            total = ratings.num_rows + implicit.num_rows
            print(
                f"  read + convert {total:,} rows ({ratings.num_rows:,} explicit, {implicit.num_rows:,}"
                f" implicit): {time.perf_counter() - started:.1f} s"
            )
            if args.threshold:
                bench_threshold(encode_ratings(ratings, implicit=implicit), (1, 2, 3, 5, 10))
            report, base, peak = fit_in_child(bx.home)  # the shipped models: latency runs on them
            _print_fit("auto (min_item_ratings rule, no item cap)", total, report, base, peak)
            bench_latency(bx)


if __name__ == "__main__":
    main()
