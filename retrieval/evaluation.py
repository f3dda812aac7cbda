"""Offline retrieval evaluation on the public dev set (``eval/dev_queries.jsonl``).

Two kinds of query, judged differently:

* ``known_item``: a "tip of the tongue" paraphrase of one book's plot, written without its title words;
  the one relevant book is ``book_id``.
* ``mood``: a vibe ("cosy village mystery"); a book is relevant when it has every genre in
  ``genres_all``, at least one in ``genres_any`` (when given) and none in ``genres_none``. Optional
  ``filters`` (SearchFilters) are applied, as the assistant would.

Metrics at k = 10, averaged over queries:

* MRR@10: 1 / rank of the first relevant book (0 when none in the top 10).
* Recall@10: relevant books in the top 10 / min(10, relevant books in the catalog). For a known item that
  is "found in the top 10 or not"; for a mood it is the share of the top 10 that fits.
* NDCG@10: binary gains, discounted by log2(rank + 1), divided by the best achievable value.

Systems compared: BM25 only, vector only, hybrid (RRF-fused, no rerank) and hybrid + rerank (the
production ``search_books`` pipeline).
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from rich.table import Table

from vibeshelf.retrieval.book_search import BookSearch
from vibeshelf.retrieval.hybrid_search import FusionConfig, HybridSearcher, Mode, SearchHit
from vibeshelf.retrieval.reranker import DEFAULT_WEIGHTS, RerankWeights, rerank
from vibeshelf.retrieval.search_filters import SearchFilters

K = 10
DEFAULT_DEV_SET = Path(__file__).resolve().parents[1] / "eval" / "dev_queries.jsonl"
# Written after the weights were tuned on the dev set and never used for tuning: the honest figure.
DEFAULT_TEST_SET = DEFAULT_DEV_SET.with_name("test_queries.jsonl")


class DevSetError(ValueError):
    """A dev-set line that cannot be used; the message names the file and line."""


class _Query(BaseModel):
    model_config = ConfigDict(extra="forbid")

    qid: str
    query: str = Field(min_length=1)
    filters: SearchFilters | None = None
    lang: str | None = None  # a translated query's language (eval/search/*.<lang>.jsonl); None: English


class KnownItemQuery(_Query):
    kind: Literal["known_item"]
    book_id: str


class MoodQuery(_Query):
    kind: Literal["mood"]
    genres_all: list[str] = Field(default_factory=list)
    genres_any: list[str] = Field(default_factory=list)
    genres_none: list[str] = Field(default_factory=list)

    def relevant(self, genres: Iterable[str]) -> bool:
        have = set(genres)
        if not set(self.genres_all) <= have:
            return False
        if self.genres_any and not have & set(self.genres_any):
            return False
        return not have & set(self.genres_none)


DevQuery = Annotated[KnownItemQuery | MoodQuery, Field(discriminator="kind")]
_DEV_QUERY: TypeAdapter[KnownItemQuery | MoodQuery] = TypeAdapter(DevQuery)


def load_dev_set(path: Path = DEFAULT_DEV_SET) -> list[KnownItemQuery | MoodQuery]:
    """Parse the JSONL dev set; a bad line raises DevSetError naming the file, line and field."""
    queries: list[KnownItemQuery | MoodQuery] = []
    seen: set[str] = set()
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                query = _DEV_QUERY.validate_python(json.loads(line))
            except json.JSONDecodeError as err:
                raise DevSetError(f"{path.name} line {lineno}: not JSON ({err.msg})") from None
            except ValidationError as err:
                first = err.errors()[0]
                where = ".".join(str(p) for p in first["loc"])
                raise DevSetError(f"{path.name} line {lineno}: {where}: {first['msg']}") from None
            if query.qid in seen:
                raise DevSetError(f"{path.name} line {lineno}: duplicate qid {query.qid!r}")
            seen.add(query.qid)
            queries.append(query)
    return queries


# --- metrics -------------------------------------------------------------------------------------


def reciprocal_rank(flags: Sequence[bool], k: int = K) -> float:
    for rank, hit in enumerate(flags[:k], start=1):
        if hit:
            return 1.0 / rank
    return 0.0


def recall(flags: Sequence[bool], n_relevant: int, k: int = K) -> float:
    if n_relevant <= 0:
        return 0.0
    return min(1.0, sum(flags[:k]) / min(k, n_relevant))


def ndcg(flags: Sequence[bool], n_relevant: int, k: int = K) -> float:
    if n_relevant <= 0:
        return 0.0
    dcg = sum(1.0 / math.log2(r + 1) for r, hit in enumerate(flags[:k], start=1) if hit)
    ideal = sum(1.0 / math.log2(r + 1) for r in range(1, min(k, n_relevant) + 1))
    return dcg / ideal


class MetricRow(BaseModel):
    system: str
    subset: str  # "known_item", "mood" or "all"
    queries: int
    mrr: float
    recall: float
    ndcg: float


@dataclass
class _Judged:
    qid: str
    kind: str
    flags: list[bool]
    n_relevant: int


def _summarise(system: str, judged: list[_Judged]) -> list[MetricRow]:
    rows = []
    for subset in ("known_item", "mood", "all"):
        part = [j for j in judged if subset in ("all", j.kind)]
        if not part:
            continue
        rows.append(
            MetricRow(
                system=system,
                subset=subset,
                queries=len(part),
                mrr=float(np.mean([reciprocal_rank(j.flags) for j in part])),
                recall=float(np.mean([recall(j.flags, j.n_relevant) for j in part])),
                ndcg=float(np.mean([ndcg(j.flags, j.n_relevant) for j in part])),
            )
        )
    return rows


# --- running the systems -------------------------------------------------------------------------

SYSTEMS: dict[str, tuple[Mode, bool]] = {
    "bm25": ("text", False),
    "vector": ("vector", False),
    "hybrid": ("hybrid", False),
    "hybrid+rerank": ("hybrid", True),
}


class Evaluator:
    """Runs dev-set queries against one index; caches query vectors and catalog genre counts."""

    def __init__(self, search: BookSearch, queries: Sequence[KnownItemQuery | MoodQuery]) -> None:
        self.search = search
        self.queries = list(queries)
        catalog = search.searcher.catalog
        self._genres: dict[str, list[str]] = dict(
            zip(catalog["id"].to_pylist(), (g or [] for g in catalog["genres"].to_pylist()), strict=True)
        )
        missing = [
            q.book_id for q in self.queries if isinstance(q, KnownItemQuery) and q.book_id not in self._genres
        ]
        if missing:
            raise DevSetError(f"dev set names books not in the index: {', '.join(missing[:10])}")
        texts = [q.query for q in self.queries]
        self._vectors = np.asarray(search.searcher.encoder.encode(texts), dtype=np.float32)
        self._n_relevant: dict[str, int] = {}
        for q in self.queries:
            self._n_relevant[q.qid] = 1 if isinstance(q, KnownItemQuery) else self._count_relevant(q)

    def _count_relevant(self, q: MoodQuery) -> int:
        mask = self.search.searcher.mask(q.filters)
        ids = self.search.searcher.catalog["id"].to_pylist()
        return sum(q.relevant(self._genres[i]) for n, i in enumerate(ids) if mask is None or mask[n])

    def _flags(self, q: KnownItemQuery | MoodQuery, ids: Sequence[str]) -> list[bool]:
        if isinstance(q, KnownItemQuery):
            return [i == q.book_id for i in ids]
        return [q.relevant(self._genres.get(i, [])) for i in ids]

    def retrieve(self, searcher: HybridSearcher, mode: Mode) -> list[list[SearchHit]]:
        """Fused candidate lists per query (the expensive part; rerank variants reuse them)."""
        return [
            searcher.search(q.query, q.filters, mode=mode, vector=self._vectors[i])
            for i, q in enumerate(self.queries)
        ]

    def judge(self, hits: list[list[SearchHit]], weights: RerankWeights | None) -> list[_Judged]:
        judged = []
        for q, cand in zip(self.queries, hits, strict=True):
            if weights is None:
                ids = [h.book["id"] for h in cand]
            else:
                ranked = rerank(cand, lambda h: h.fused_score, lambda h: h.book, self.search.prior, weights)
                ids = [s.item.book["id"] for s in ranked]
            judged.append(_Judged(q.qid, q.kind, self._flags(q, ids[:K]), self._n_relevant[q.qid]))
        return judged

    def compare(self, weights: RerankWeights = DEFAULT_WEIGHTS) -> list[MetricRow]:
        """The four systems on the whole dev set, per subset."""
        rows: list[MetricRow] = []
        cache: dict[Mode, list[list[SearchHit]]] = {}
        for system, (mode, reranked) in SYSTEMS.items():
            if mode not in cache:
                cache[mode] = self.retrieve(self.search.searcher, mode)
            rows += _summarise(system, self.judge(cache[mode], weights if reranked else None))
        return rows

    def grid(
        self,
        fusions: Sequence[FusionConfig],
        weight_grid: Sequence[RerankWeights],
        progress: Callable[[str], None] | None = None,
    ) -> list[dict[str, Any]]:
        """Every fusion x weights combination, scored on the whole dev set (NDCG@10, MRR@10, Recall@10)."""
        out = []
        base = self.search.searcher
        for fusion in fusions:
            searcher = HybridSearcher(base.table, base.encoder, fusion, base.shelves)
            hits = self.retrieve(searcher, "hybrid")
            for weights in [None, *weight_grid]:
                overall = {r.subset: r for r in _summarise("grid", self.judge(hits, weights))}
                row = {
                    "method": fusion.method,
                    "rrf_k": fusion.rrf_k if fusion.method == "rrf" else None,
                    "vector_weight": fusion.vector_weight,
                    "text_weight": fusion.text_weight,
                    "text_full_terms": fusion.text_full_terms,
                    "relevance": None if weights is None else weights.relevance,
                    "quality": None if weights is None else weights.quality,
                    "popularity": None if weights is None else weights.popularity,
                    "ndcg": overall["all"].ndcg,
                    "mrr": overall["all"].mrr,
                    "recall": overall["all"].recall,
                    "ndcg_known": overall["known_item"].ndcg if "known_item" in overall else None,
                    "ndcg_mood": overall["mood"].ndcg if "mood" in overall else None,
                }
                out.append(row)
            if progress:
                progress(f"{fusion.method} k={fusion.rrf_k} wv={fusion.vector_weight} done")
        return out


def default_grid() -> tuple[list[FusionConfig], list[RerankWeights]]:
    """The grid `vibeshelf eval --grid` searches; its result is in the reranker's WEIGHT_GRID_NOTE."""
    fusions = [
        FusionConfig(rrf_k=k, vector_weight=wv, text_full_terms=terms)
        for k, wv, terms in itertools.product((10.0, 30.0, 60.0), (1.0, 1.5, 2.0), (0, 10))
    ]
    fusions += [FusionConfig(method="convex", vector_weight=wv, text_full_terms=10) for wv in (1.0, 1.5, 2.0)]
    weights = [
        RerankWeights(relevance=1.0, quality=q, popularity=p)
        for q, p in itertools.product((0.0, 0.1, 0.2, 0.4), (0.0, 0.1, 0.2))
    ]
    return fusions, weights


# --- tables for `vibeshelf eval` -----------------------------------------------------------------


def retrieval_table(rows: Sequence[MetricRow], title: str) -> Table:
    """One section per query kind; the best NDCG@10 of each section in bold green."""
    table = Table(title=title, caption=f"k = {K}; known item: the one book; mood: judged by genres")
    for col in ("system", "queries", f"MRR@{K}", f"Recall@{K}", f"NDCG@{K}"):
        table.add_column(col, justify="left" if col == "system" else "right")
    for subset, label in (("known_item", "known item"), ("mood", "mood"), ("all", "all")):
        part = [r for r in rows if r.subset == subset]
        if not part:
            continue
        table.add_section()
        best = max(r.ndcg for r in part)
        for r in part:
            table.add_row(
                f"{r.system} [dim]({label})[/]",
                str(r.queries),
                f"{r.mrr:.3f}",
                f"{r.recall:.3f}",
                f"{r.ndcg:.3f}",
                style="bold green" if r.ndcg == best else None,
            )
    return table


def grid_table(results: Sequence[dict[str, Any]], top: int = 15) -> Table:
    ranked = sorted(results, key=lambda r: (r["ndcg"], r["mrr"]), reverse=True)
    table = Table(title=f"Fusion x rerank grid: best {top} of {len(ranked)} by NDCG@{K} (all queries)")
    columns = ("fusion", "rrf_k", "w_vec", "w_text", "terms", "quality", "popular", "NDCG", "MRR", "R@10")
    for col in (*columns, "known", "mood"):
        table.add_column(col, justify="right")

    def num(value: float | None, fmt: str = "g") -> str:
        return "-" if value is None else format(value, fmt)

    for r in ranked[:top]:
        table.add_row(
            r["method"],
            num(r["rrf_k"]),
            num(r["vector_weight"]),
            num(r["text_weight"]),
            num(r["text_full_terms"]),
            num(r["quality"]),
            num(r["popularity"]),
            num(r["ndcg"], ".3f"),
            num(r["mrr"], ".3f"),
            num(r["recall"], ".3f"),
            num(r["ndcg_known"], ".3f"),
            num(r["ndcg_mood"], ".3f"),
        )
    return table


def cf_table(rows: Sequence[Any], n_ratings: int) -> Table:
    """The CF comparison (``cf.eval.CFEvalRow`` rows), both protocols; the served winners in bold green."""
    k = rows[0].k if rows else 20
    table = Table(
        title=f"Readers also liked: held-out split of {n_ratings:,} ratings",
        caption=f"k = {k}; per user, 20% of the books rated >= 4 are hidden. history: the user's whole "
        "training history; seeds: 1/3/5 five-star books, only the seeds excluded (mean shown). Settings "
        "chosen on a validation split; * = served.",
    )
    for col in ("protocol", "model", "params", f"val R@{k}", f"test R@{k}", f"NDCG@{k}", "1/3/5 seeds"):
        table.add_column(col, justify="left" if col in ("protocol", "model", "params") else "right")
    table.add_column("fit s", justify="right")
    table.add_column("books", justify="right")
    table.add_column("users", justify="right")
    for r in rows:
        table.add_row(
            r.protocol,
            r.model + (" *" if r.chosen else ""),
            ", ".join(
                f"{name}={value}" if isinstance(value, str) else f"{name}={value:g}"
                for name, value in r.params.items()
            ),
            f"{r.val_recall:.4f}",
            f"{r.recall:.4f}",
            f"{r.ndcg:.4f}",
            "/".join(f"{v:.3f}" for v in r.by_seeds.values()),
            f"{r.fit_seconds:.1f}",
            f"{r.items:,}",
            f"{r.users:,}",
            style="bold green" if r.chosen else None,
        )
    return table
