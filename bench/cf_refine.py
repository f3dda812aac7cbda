"""Rating weights and two-step neighbours on top of the served CF models, chosen on validation, then
measured once on test (both protocols; the README's "Readers also liked" table).

    python bench/cf_refine.py [--home .vibeshelf]   # ~10 min on 2 busy cores (goodbooks-10k)

Starts from the served pair of ``CFConfig`` with neither refinement (the earlier validation winners of
the full grid, ``vibeshelf eval``), tries ``eval.DEFAULT_RATING_WEIGHTS_GRID`` x
``eval.DEFAULT_TWO_STEP_GRID`` on each protocol's best per algorithm, keeps what wins on validation and
prints validation and test side by side. Reads ``ratings.parquet`` and ``catalog.parquet`` of an ingested
home in place.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq

from vibeshelf.retrieval.cf.config import CFConfig, CFModelSpec
from vibeshelf.retrieval.cf.eval import chosen_config, evaluate_cf, render_cf_table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--home", type=Path, default=Path(".vibeshelf"), help="an ingested VIBESHELF_HOME")
    args = parser.parse_args(argv)
    for name in ("ratings.parquet", "catalog.parquet"):
        if not (args.home / name).is_file():
            sys.exit(f"{args.home / name} not found: run `vibeshelf ingest` first (or pass --home)")
    ratings = pq.read_table(args.home / "ratings.parquet", columns=["user_id", "book_id", "rating"])
    catalog = pq.read_table(args.home / "catalog.parquet", columns=["id", "authors", "series", "genres"])
    config = CFConfig()
    plain = {"rating_weights": None, "two_step": 0.0}
    start = [
        CFModelSpec(algorithm="popularity", min_rating=4),
        config.seeds.model_copy(update=plain),
        config.history.model_copy(update=plain),
    ]
    started = time.perf_counter()
    rows = evaluate_cf(
        ratings, candidates=start, catalog=catalog, content_grid=(), progress=sys.stderr.isatty()
    )
    print(render_cf_table(rows))
    print(f"chosen: {chosen_config(rows)!r}")
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
