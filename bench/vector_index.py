"""Where does a LanceDB vector index start to pay? Brute force vs IVF_HNSW_SQ vs IVF_PQ.

With ``--home`` (a built vibeshelf home) the rows are the index's real book vectors, grown to each
size by jittered copies, and the queries are jittered books; otherwise synthetic clustered vectors
(a harder case: isotropic noise makes a cluster's members near-ties). k=10, cosine distance.
Reports per size: index build seconds, median/p99 query latency, and recall@10 against the exact
brute-force answer. ``vibeshelf.ingest.index.VECTOR_INDEX_MIN_ROWS`` comes from this.

    python bench/vector_index.py [--home .vibeshelf] [--sizes 10000 50000 200000] [--queries 100]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa


def clustered(n: int, dim: int, rng: np.random.Generator, clusters: int = 256) -> np.ndarray:
    centres = rng.normal(size=(clusters, dim)).astype(np.float32)
    labels = rng.integers(0, clusters, size=n)
    # Noise comparable to the centre spread: neighbours are clearly nearer than the rest of their
    # cluster, as for sentence embeddings (uniform noise makes every neighbour a near-tie).
    vectors = centres[labels] + rng.normal(scale=0.3, size=(n, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def jittered(base: np.ndarray, n: int, rng: np.random.Generator, scale: float = 0.02) -> np.ndarray:
    """``n`` vectors near random rows of ``base`` (cos ~0.93 to their source): real structure, any size."""
    rows = base[rng.integers(0, len(base), size=n)]
    vectors = rows + rng.normal(scale=scale, size=rows.shape).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def real_vectors(home) -> np.ndarray:
    from vibeshelf.layout import Layout
    from vibeshelf.retrieval.book_index import BookIndex

    column = BookIndex.open(Layout(Path(home))).table.to_arrow().column("vector").combine_chunks()
    return column.flatten().to_numpy().reshape(len(column), -1).astype(np.float32)


def timed_search(table, queries: np.ndarray, k: int, **opts) -> tuple[list[list[int]], np.ndarray]:
    ids, seconds = [], []
    for q in queries:
        builder = table.search(q).distance_type("cosine").limit(k).select(["id"])
        if opts.get("nprobes"):
            builder = builder.nprobes(opts["nprobes"])
        if opts.get("ef"):
            builder = builder.ef(opts["ef"])
        if opts.get("refine"):
            builder = builder.refine_factor(opts["refine"])
        if opts.get("bypass"):
            builder = builder.bypass_vector_index()
        start = time.perf_counter()
        rows = builder.to_arrow()
        seconds.append(time.perf_counter() - start)
        ids.append(rows.column("id").to_pylist())
    return ids, np.array(seconds) * 1000


def recall(found: list[list[int]], truth: list[list[int]]) -> float:
    return float(np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth, strict=True)]))


def main() -> None:
    import lancedb
    from lancedb.index import HnswSq, IvfPq

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000, 200_000])
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--home", help="a built vibeshelf home: use its book vectors")
    parser.add_argument("--no-pq", action="store_true", help="skip IVF_PQ (slow to build, lower recall)")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    base = real_vectors(args.home) if args.home else None
    if base is not None:
        args.dim = base.shape[1]
        print(f"real vectors: {len(base)} books from {args.home}")
    k = 10
    db = lancedb.connect(tempfile.mkdtemp(prefix="vecbench-"))
    print(f"{'rows':>8} {'method':<14} {'build s':>8} {'p50 ms':>8} {'p99 ms':>8} {'recall@10':>9}")
    for n in args.sizes:
        if base is None:
            vectors, queries = clustered(n, args.dim, rng), clustered(args.queries, args.dim, rng)
        else:  # the books themselves first, then jittered copies up to n
            extra = jittered(base, max(0, n - len(base)), rng)
            vectors = np.concatenate([base[:n], extra])
            queries = jittered(base, args.queries, rng, scale=0.03)
        data = pa.table(
            {
                "id": pa.array(np.arange(n), pa.int64()),
                "vector": pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1)), args.dim),
            }
        )
        table = db.create_table(f"t{n}", data, mode="overwrite")
        truth, ms = timed_search(table, queries, k)
        p50, p99 = np.median(ms), np.percentile(ms, 99)
        print(f"{n:>8} {'brute force':<14} {0:>8.1f} {p50:>8.2f} {p99:>8.2f} {1:>9.3f}")
        # HNSW needs few IVF partitions (the graph does the narrowing); IVF_PQ needs many.
        hnsw_parts, pq_parts = max(1, n // 50_000), max(1, n // 4096)
        configs = [
            ("IVF_HNSW_SQ", HnswSq(distance_type="cosine", num_partitions=hnsw_parts),
             {"nprobes": hnsw_parts, "ef": 100, "refine": 2}),
            ("IVF_PQ", IvfPq(distance_type="cosine", num_partitions=pq_parts, num_sub_vectors=48),
             {"nprobes": max(1, pq_parts // 2), "refine": 10}),
        ]  # fmt: skip
        for name, config, opts in configs[:1] if args.no_pq else configs:
            start = time.perf_counter()
            table.create_index("vector", config=config, replace=True)
            build = time.perf_counter() - start
            found, ms = timed_search(table, queries, k, **opts)
            print(
                f"{n:>8} {name:<14} {build:>8.1f} {np.median(ms):>8.2f} {np.percentile(ms, 99):>8.2f} "
                f"{recall(found, truth):>9.3f}"
            )
        db.drop_table(f"t{n}")


if __name__ == "__main__":
    main()
