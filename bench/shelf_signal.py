"""What the shelf signal costs per search: the fused search with and without it, interleaved in one run.

    VIBESHELF_HOME=.vibeshelf .venv/bin/python bench/shelf_signal.py

Each query runs both ways back to back (query vectors cached first, so encoding is not timed), which keeps
the ratio meaningful on a machine whose load changes.
"""

from __future__ import annotations

import copy
import statistics
import time

from vibeshelf.layout import Layout
from vibeshelf.retrieval import evaluation as ev
from vibeshelf.retrieval.services import open_services
from vibeshelf.settings import get_settings


def main() -> None:
    services = open_services(Layout(get_settings().home_dir), load_cf=False)
    with_shelf = services.search.searcher
    without = copy.copy(with_shelf)
    without.fusion = with_shelf.fusion.model_copy(update={"shelf_weight": 0.0})
    queries = [q.query for q in ev.load_dev_set(ev.DEFAULT_DEV_SET.parent / "search" / "dev.jsonl")]
    vectors = with_shelf.encoder.encode(queries)
    timings: dict[str, list[float]] = {"with shelf signal": [], "without": []}
    for _ in range(2):
        for query, vector in zip(queries, vectors, strict=True):
            for name, searcher in (("with shelf signal", with_shelf), ("without", without)):
                start = time.perf_counter()
                searcher.search(query, vector=vector)
                timings[name].append((time.perf_counter() - start) * 1000)
    p50 = {name: statistics.median(ms) for name, ms in timings.items()}
    for name, ms in timings.items():
        print(f"{name:18s} p50 {p50[name]:6.2f} ms  p90 {statistics.quantiles(ms, n=10)[-1]:6.2f} ms")
    print(f"ratio p50: {p50['with shelf signal'] / p50['without']:.2f}x over {len(queries) * 2} queries")


if __name__ == "__main__":
    main()
