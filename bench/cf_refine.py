"""Rating weights, two-step neighbours and history weights on top of the served CF models, chosen on
validation, then measured once on test (both protocols; the README's "Readers also liked" table).

    python bench/cf_refine.py [--home .vibeshelf]   # ~10 min on 2 busy cores (goodbooks-10k)
    python bench/cf_refine.py --history-weights    # ~3 min: the served history model, per star mapping

Starts from the served pair of ``CFConfig`` with neither refinement (the earlier validation winners of
the full grid, ``vibeshelf eval``), tries ``eval.DEFAULT_RATING_WEIGHTS_GRID`` x
``eval.DEFAULT_TWO_STEP_GRID`` on each protocol's best per algorithm, then ``eval.DEFAULT_HISTORY_WEIGHTS_GRID``
(the reader's own books weighted by their stars when a history is scored) on each history best, keeps
what wins on validation and prints validation and test side by side. Reads ``ratings.parquet`` and
``catalog.parquet`` of an ingested home in place.

``--history-weights`` prints, for the served history model, the validation score of every mapping in
``eval.DEFAULT_HISTORY_WEIGHTS_GRID`` (one fit, scored once per mapping) and the test score of the
unweighted history and of the served mapping only (the choice is made on validation).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from vibeshelf.retrieval.cf.config import CFConfig, CFModelSpec
from vibeshelf.retrieval.cf.eval import chosen_config, evaluate_cf, render_cf_table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--home", type=Path, default=Path(".vibeshelf"), help="an ingested VIBESHELF_HOME")
    parser.add_argument(
        "--history-weights",
        action="store_true",
        help="score the served history model under each star mapping (validation), and test for two",
    )
    args = parser.parse_args(argv)
    for name in ("ratings.parquet", "catalog.parquet"):
        if not (args.home / name).is_file():
            sys.exit(f"{args.home / name} not found: run `vibeshelf ingest` first (or pass --home)")
    ratings = pq.read_table(args.home / "ratings.parquet", columns=["user_id", "book_id", "rating"])
    catalog = pq.read_table(args.home / "catalog.parquet", columns=["id", "authors", "series", "genres"])
    config = CFConfig()
    if args.history_weights:
        history_weights(ratings, catalog, config)
        return
    plain = {"rating_weights": None, "two_step": 0.0, "history_weights": None}
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


def history_weights(ratings: pa.Table, catalog: pa.Table, config: CFConfig) -> None:
    """Validation Recall@20 of the served history table under each star mapping; test for two only."""
    from vibeshelf.retrieval.cf.eval import (
        DEFAULT_HISTORY_WEIGHTS_GRID,
        _fit_specs,
        evaluate_query,
        history_query,
    )
    from vibeshelf.retrieval.cf.models import encode_ratings, select_items
    from vibeshelf.retrieval.cf.split import split_liked

    started = time.perf_counter()
    served = config.history
    test = split_liked(encode_ratings(ratings), seed=0)  # the splits evaluate_cf uses (seed 0, then 1)
    val = split_liked(test.train, seed=1)
    measured = {
        "validation": (val, DEFAULT_HISTORY_WEIGHTS_GRID),
        "test": (test, (None, served.history_weights)),
    }
    for name, (split, grid) in measured.items():
        items = select_items(split.train, min_ratings=config.min_item_ratings)
        for _, model, inter, _ in _fit_specs(split.train, [served], items, catalog):
            for weights in grid:
                spec = served.model_copy(update={"history_weights": weights})
                recall, ndcg, users = evaluate_query(
                    model, inter, history_query(split, spec.min_rating, spec), split
                )
                label = "unweighted" if weights is None else "/".join(f"{w:g}" for w in weights)
                mark = "*" if weights == served.history_weights else " "
                print(
                    f"{name:<10} {label:<22}{mark} Recall@20 {recall:.4f}  NDCG@20 {ndcg:.4f}  ({users} readers)"
                )
    print(f"* served (CFConfig().history). ({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
