"""What is in the built index and catalog, for `vibeshelf stats`.

Counts come from the live LanceDB table (books, descriptions) and DuckDB over the Parquet files
(ratings, users, genres), so they describe what was actually built, not what a report claims.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from vibeshelf.layout import Layout
from vibeshelf.retrieval.book_index import BookIndex, IndexNotBuiltError, read_manifest


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def _parquet_counts(layout: Layout) -> dict[str, Any]:
    import duckdb

    con = duckdb.connect()
    out: dict[str, Any] = {}
    users = []
    if layout.ratings.is_file():
        ratings = _sql_path(layout.ratings)
        out["ratings"] = con.execute(f"select count(*) from read_parquet('{ratings}')").fetchone()[0]
        users.append(f"select user_id from read_parquet('{ratings}')")
    if layout.implicit.is_file():
        implicit = _sql_path(layout.implicit)
        out["implicit_interactions"] = con.execute(
            f"select count(*) from read_parquet('{implicit}')"
        ).fetchone()[0]
        users.append(f"select user_id from read_parquet('{implicit}')")
    if users:
        union = " union ".join(users)  # union (not union all) = distinct users across both
        out["users"] = con.execute(f"select count(*) from ({union})").fetchone()[0]
    if layout.catalog.is_file():
        catalog = _sql_path(layout.catalog)
        out["genres"] = con.execute(
            f"select count(distinct g) from (select unnest(genres) as g from read_parquet('{catalog}'))"
        ).fetchone()[0]
    return out


def _catalog_counts(layout: Layout) -> dict[str, Any]:
    import duckdb

    catalog = _sql_path(layout.catalog)
    books, described = (
        duckdb.connect()
        .execute(
            f"select count(*), count(*) filter (where coalesce(description, '') <> '') "
            f"from read_parquet('{catalog}')"
        )
        .fetchone()
    )
    return {"books": books, "books_with_description": described}


def collect_stats(layout: Layout) -> dict[str, Any]:
    """Flat figures about the home folder; raises ``IndexNotBuiltError`` when nothing is built.

    With a catalog but no index (``ingest --no-embed``) the catalog figures are reported and the
    index fields say it is not built.
    """
    manifest = read_manifest(layout)
    if manifest is None and not layout.catalog.is_file():
        raise IndexNotBuiltError(f"nothing built under {layout.home} yet; run `vibeshelf ingest` first")

    stats: dict[str, Any] = {"home": str(layout.home)}
    if manifest is not None:
        table = BookIndex.open(layout).table
        stats["books"] = table.count_rows()
        stats["books_with_description"] = table.count_rows("description IS NOT NULL AND description != ''")
    else:
        stats.update(_catalog_counts(layout))
    stats.update(_parquet_counts(layout))

    if manifest is None:
        stats["index"] = "not built (run `vibeshelf ingest` without --no-embed)"
        return stats
    vector_index = manifest.vector_index
    stats.update(
        {
            "index_version": manifest.build_id,
            "index_table": manifest.table,
            "model": manifest.model,
            "dim": manifest.dim,
            "built_at": manifest.built_at,
            "build_seconds": round(manifest.timings_s.get("total", float("nan")), 1),
            "build_embedded": f"{manifest.counts.embedded:,} embedded, "
            f"{manifest.counts.embed_cached:,} from cache",
            "max_seq_len": manifest.max_seq_len,
            "vector_index": vector_index.type or "none (brute force)",
            "fts_columns": ", ".join(manifest.fts_columns),
            "encoder": f"{manifest.encoder.get('exporter', '?')}, parity cos >= "
            f"{manifest.encoder.get('parity_min_cosine', float('nan')):.7f}",
        }
    )
    catalog_sha = manifest.source.get("catalog_sha256")
    if catalog_sha and layout.catalog.is_file():
        current = hashlib.sha256(layout.catalog.read_bytes()).hexdigest()
        stats["catalog_matches_index"] = (
            "yes" if current == catalog_sha else "no: the catalog changed since; rerun `vibeshelf ingest`"
        )
    return stats
