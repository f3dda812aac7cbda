"""Ingest benchmark: full goodbooks end to end, Book-Crossing normalisation, query encoding.

    python bench/ingest.py [--data ../shared/data] [--home DIR] [--skip-goodbooks]
                           [--skip-bookcrossing] [--skip-cf] [--queries 300] [--json OUT]

Goals (issue 2, 2-core machine): goodbooks 10k ingest <= 180 s end to end; Book-Crossing
catalog + ratings normalisation (no embeddings) <= 60 s; ONNX query encode p50 for a 10-word
query about 7 ms. The goodbooks run starts cold (empty home: ONNX export and every embedding
included), then times a warm rebuild (embedding cache and encoder reused). Timings depend on what
else the machine runs; the load average is printed with them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
TEN_WORD_QUERY = "a cozy mystery set in a small english village with cats"


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f}/{five:.1f}/{fifteen:.1f}"


def bench_goodbooks(data: Path, home: Path, *, cf: bool) -> dict[str, Any]:
    from vibeshelf.ingest.index import build_index
    from vibeshelf.ingest.normalize import normalize
    from vibeshelf.layout import Layout

    layout = Layout(home).ensure()
    stages: dict[str, float] = {}
    start = time.perf_counter()
    normalize("goodbooks", data / "goodbooks", layout)
    stages["normalize"] = time.perf_counter() - start
    manifest = build_index(layout)
    for name, seconds in manifest.timings_s.items():
        if name != "total":
            stages[f"index.{name}"] = seconds
    if cf:
        from vibeshelf.ingest.cf_fit import fit_cf

        clock = time.perf_counter()
        fit_cf(layout, progress=False)
        stages["cf_fit"] = time.perf_counter() - clock
    total = time.perf_counter() - start
    embed_s = manifest.timings_s.get("embed", 0.0)

    clock = time.perf_counter()
    warm = build_index(layout, progress=False)
    warm_total = time.perf_counter() - clock
    return {
        "books": manifest.counts.books,
        "with_description": manifest.counts.with_description,
        "embedded": manifest.counts.embedded,
        "total_s": round(total, 1),
        "stages_s": {k: round(v, 2) for k, v in stages.items()},
        "embed_books_per_s": round(manifest.counts.embedded / embed_s, 1) if embed_s else None,
        "books_per_s_end_to_end": round(manifest.counts.books / total, 1),
        "warm_rebuild_s": round(warm_total, 1),
        "warm_rebuild_embedded": warm.counts.embedded,
        "vector_index": warm.vector_index.type,
        "load_avg_after": _load(),
    }


def bench_bookcrossing(data: Path, home: Path) -> dict[str, Any]:
    from vibeshelf.ingest.normalize import normalize
    from vibeshelf.layout import Layout

    layout = Layout(home).ensure()
    start = time.perf_counter()
    report = normalize("bookcrossing", data / "bookcrossing", layout)
    seconds = time.perf_counter() - start
    return {
        "normalize_s": round(seconds, 1),
        "books": report.books,
        "ratings": report.ratings,
        "implicit": report.implicit,
        "load_avg_after": _load(),
    }


def bench_query_encoder(encoder_dir: Path, queries: int) -> dict[str, Any]:
    import numpy as np

    from vibeshelf.retrieval.encoder import QueryEncoder

    start = time.perf_counter()
    encoder = QueryEncoder.load(encoder_dir)
    load_s = time.perf_counter() - start
    for _ in range(20):  # warm-up: first runs allocate
        encoder.encode_uncached([TEN_WORD_QUERY])
    raw = []
    for _ in range(queries):
        clock = time.perf_counter()
        encoder.encode_uncached([TEN_WORD_QUERY])
        raw.append(time.perf_counter() - clock)
    cached = []
    encoder.encode([TEN_WORD_QUERY])
    for _ in range(queries):
        clock = time.perf_counter()
        encoder.encode([TEN_WORD_QUERY])
        cached.append(time.perf_counter() - clock)
    ms = np.array(raw) * 1000
    return {
        "query": TEN_WORD_QUERY,
        "load_s": round(load_s, 2),
        "p50_ms": round(float(np.median(ms)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
        "min_ms": round(float(ms.min()), 2),
        "lru_hit_p50_ms": round(float(np.median(cached)) * 1000, 3),
        "load_avg_after": _load(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--home", type=Path, help="work folder (default: a temp folder, removed after)")
    parser.add_argument("--skip-goodbooks", action="store_true")
    parser.add_argument("--skip-bookcrossing", action="store_true")
    parser.add_argument("--skip-cf", action="store_true", help="leave the CF fit out of the goodbooks run")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    if not args.data.is_dir():
        print(f"data folder {args.data} not found (pass --data)", file=sys.stderr)
        return 2

    work = args.home or Path(tempfile.mkdtemp(prefix="vibeshelf-bench-"))
    if args.home and any(args.home.iterdir() if args.home.exists() else ()):
        print(f"--home {args.home} is not empty: the goodbooks run must start cold", file=sys.stderr)
        return 2
    figures: dict[str, Any] = {"cpus": os.cpu_count(), "load_avg_before": _load()}
    try:
        if not args.skip_goodbooks:
            print("goodbooks: normalise + export + embed + index (cold) ...", file=sys.stderr)
            figures["goodbooks"] = bench_goodbooks(args.data, work / "goodbooks", cf=not args.skip_cf)
            figures["query_encoder"] = bench_query_encoder(work / "goodbooks" / "encoder", args.queries)
        if not args.skip_bookcrossing:
            print("bookcrossing: normalise (no embeddings) ...", file=sys.stderr)
            figures["bookcrossing"] = bench_bookcrossing(args.data, work / "bookcrossing")
    finally:
        if not args.home:
            shutil.rmtree(work, ignore_errors=True)

    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
