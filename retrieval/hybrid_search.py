"""Hybrid search: vector search (ONNX-encoded query) + full-text search (BM25) over the LanceDB table, fused.

Both retrievers run with the same SQL prefilter (``retrieval.filters.build_where``), so filters hold
before ranking, not after. Two fusions are implemented and were measured on the dev set
(``vibeshelf eval --grid``; grid and figures in ``reranker.WEIGHT_GRID_NOTE``)::

    rrf:     fused(book) = w_vec / (k + rank_vec) + w_text / (k + rank_text)
    convex:  fused(book) = w_vec * minmax(-distance) + w_text * minmax(bm25)   (scaled within each list)

A book missing from one list gets nothing from it. Convex fusion won (NDCG@10 0.876 vs 0.855 for the
best RRF before reranking) and is the default. In both, the text weight is scaled by
min(1, content words / 10): BM25 is excellent on a detailed plot paraphrase and noisy on a three-word
mood, where it pulled mood NDCG from 0.81 (vector alone) down to 0.72.

Every query selects its score column (``_distance`` / ``_score``) explicitly: LanceDB otherwise logs
a deprecation warning to stderr on every query.
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np
import pyarrow as pa
from lancedb.query import MatchQuery, MultiMatchQuery
from pydantic import BaseModel, ConfigDict, Field

from vibeshelf.retrieval.filters import CatalogFilter, build_where
from vibeshelf.retrieval.search_filters import SearchFilters
from vibeshelf.retrieval.shelf_predictor import ShelfPredictor

# Catalog columns a hit carries (the table also holds doc, doc_hash, *_text and the vector).
BOOK_COLUMNS: tuple[str, ...] = (
    "id",
    "source",
    "title",
    "full_title",
    "series",
    "series_index",
    "authors",
    "year",
    "language",
    "genres",
    "description",
    "average_rating",
    "ratings_count",
    "num_pages",
    "isbn",
    "work_id",
    "image_url",
    "link",
)

Mode = Literal["hybrid", "vector", "text"]


class FusionConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    method: Literal["rrf", "convex"] = Field(
        default="rrf",
        description="rrf: weighted reciprocal rank fusion; convex: weighted sum of per-list min-max scores.",
    )
    rrf_k: float = Field(default=30.0, gt=0, description="RRF constant: larger flattens rank differences.")
    vector_weight: float = Field(default=1.0, ge=0)
    text_weight: float = Field(default=1.0, ge=0)
    text_full_terms: int = Field(
        default=10,
        ge=0,
        description="When > 0, the text weight is scaled by min(1, content words / this): a vague mood "
        "('something funny') trusts keyword matches less than a detailed plot description does.",
    )
    candidates: int = Field(default=50, ge=1, le=1000, description="Books fetched from each retriever.")
    shelf_weight: float = Field(
        default=0.0,
        ge=0,
        description="Weight of the shelf signal (retrieval.shelf_predictor): each candidate gains this times "
        "the predicted probability mass of its shelves, and the books matching the predicted shelves best "
        "join the candidates. 0 turns it off (or a searcher built without a predictor).",
    )
    shelf_full_terms: int = Field(
        default=0,
        ge=0,
        description="When > 0, the shelf weight is scaled by min(1, this / content words): a detailed plot "
        "description names one book, where a short mood names shelves.",
    )
    # Per-column BM25 boosts for the multi-column full-text query (columns without an index are skipped).
    text_boosts: dict[str, float] = Field(
        default_factory=lambda: {"title": 1.0, "authors_text": 1.0, "description": 1.0, "genres_text": 1.0}
    )


# The one place the fusion constants are set (chosen on the dev set; see the module docstring).
# The shelf signal (weight 1.5, scaled down past 5 content words) was chosen on eval/search/dev.jsonl:
# mood NDCG@10 0.347 -> 0.542 for known-item MRR@10 0.325 -> 0.317 (README, "Mood search").
DEFAULT_FUSION = FusionConfig(
    method="convex",
    vector_weight=1.0,
    text_weight=1.0,
    text_full_terms=10,
    shelf_weight=1.5,
    shelf_full_terms=5,
)


class Encoder(Protocol):
    def encode(self, texts: list[str]) -> np.ndarray: ...


@dataclass
class SearchHit:
    """One retrieved book and the evidence of how it was found."""

    book: dict[str, Any]  # the catalog row (empty on a candidate of ``HybridSearcher.candidates``)
    fused_score: float
    fused_rank: int = 0  # 1-based, set after fusion
    vector_rank: int | None = None
    text_rank: int | None = None
    vector_distance: float | None = None
    text_score: float | None = None
    shelf_score: float | None = None  # predicted shelf mass the book is on (shelf signal on only)
    matched_terms: list[str] = field(default_factory=list)
    position: int = -1  # its row in the searcher's catalog (set by HybridSearcher)


# --- matched terms -------------------------------------------------------------------------------

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_STOPWORDS_TEXT = """
    a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has
    have having he her here hers herself him himself his how i if in into is it its itself just like
    me more most my myself no nor not now of off on once only or other our ours out over own please
    same she should so some something such than that the their theirs them then there these they
    this those through to too under until up very want was we were what when where which while who
    whom why will with would you your yours book books novel novels read story stories something
    anything looking recommend recommendation
"""
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())


def _fold(text: str) -> str:
    # Accent folding via an ASCII round-trip: C speed, unlike a per-character combining() filter.
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return text.lower()


def _stem(word: str) -> str:
    # Enough to match "vampires" with "vampire" and "stories" with "story"; not a linguistic stemmer.
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def query_terms(query: str) -> list[str]:
    """Content words of a query, folded, stop words removed, in order, without repeats."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(_fold(query)):
        if len(word) > 1 and word not in STOPWORDS:
            seen.setdefault(word, None)
    return list(seen)


@functools.lru_cache(maxsize=4096)
def _term_regex(term: str) -> re.Pattern[str]:
    stem = _stem(term)
    forms = {term, stem, stem + "s", stem[:-1] + "ies" if stem.endswith("y") else stem + "es"}
    return re.compile(r"\b(?:" + "|".join(sorted(map(re.escape, forms))) + r")\b")


def matched_terms(terms: Sequence[str], book: dict[str, Any]) -> list[str]:
    """Query terms found as words (singular/plural alike) in the title, authors, genres or description."""
    if not terms:
        return []
    parts = [book.get("full_title") or book.get("title") or "", book.get("description") or ""]
    parts += list(book.get("authors") or [])
    parts += [g.replace("_", " ") for g in (book.get("genres") or [])]
    text = _fold(" ".join(parts))
    return [t for t in terms if _term_regex(t).search(text)]


# --- the searcher --------------------------------------------------------------------------------


def _not_in(ids: Sequence[str]) -> str | None:
    if not ids:
        return None
    return "id NOT IN (" + ", ".join("'" + i.replace("'", "''") + "'" for i in ids) + ")"


@functools.cache
def _executor() -> ThreadPoolExecutor:
    # Created on first use, not at import; shared by every searcher in the process.
    return ThreadPoolExecutor(max_workers=4, thread_name_prefix="vibeshelf-fts")


# Up to this many rows the vectors are searched exactly in memory (an ANN index, if any, is not used):
# 10k x 384 float32 is 15 MB and a matrix-vector product takes ~0.3 ms, where LanceDB's brute-force
# scan measured ~15 ms per query on the 2-core box. Larger tables get an ANN index at ingest and are
# searched through LanceDB.
IN_MEMORY_MAX_ROWS = 200_000
# Filter masks (one bool per book) kept per distinct filter set: a conversation repeats its filters.
MASK_CACHE_SIZE = 128
# Catalog rows kept as Python dicts (~2.6 KB each on goodbooks): turning Arrow rows into dicts was a third
# of the in-memory search time, and searches keep returning the same well-matched books. Bounded well
# below the catalog size: all 10k goodbooks rows as dicts would hold 26 MB for the server's lifetime.
ROW_CACHE_SIZE = 2_048
# Books the shelf signal adds to the candidates (best shelf matches, the query's cosine breaking ties).
SHELF_CANDIDATES = 20
SHELF_POOL = 400  # best shelf matches among which the query's cosine picks SHELF_CANDIDATES
# Full-text hit lists kept per distinct query: a conversation's refinements ("nothing YA", "before 2000")
# search the same words again under new filters, and BM25 hits do not depend on the filter. Each full-text
# query costs ~5-8 ms of LanceDB CPU; an entry is a few hundred (position, score) pairs.
FTS_CACHE_SIZE = 512


class HybridSearcher:
    """Runs vector, full-text and fused searches over one LanceDB table.

    The catalog columns are held in memory (Arrow), so hits are materialised without another query;
    filters become row masks (``filters.CatalogFilter``, cached per distinct filter set); vectors of a
    table up to ``IN_MEMORY_MAX_ROWS`` are searched exactly in memory. LanceDB's ANN index with its SQL
    prefilter (``filters.build_where``) serves larger tables and the rare full-text fallback.
    """

    def __init__(
        self,
        table: Any,
        encoder: Encoder,
        fusion: FusionConfig = DEFAULT_FUSION,
        shelves: ShelfPredictor | None = None,
    ) -> None:
        self.table = table
        self.encoder = encoder
        self.fusion = fusion
        self.shelves = shelves
        indexes = table.list_indices()
        indexed = self._fts_columns(indexes)
        self.text_columns = [c for c in fusion.text_boosts if c in indexed] or sorted(indexed)
        self.columns = [c for c in BOOK_COLUMNS if c in table.schema.names]
        n_rows = table.count_rows()
        scanned = (
            table.search().select(self.columns).limit(max(1, n_rows)).with_row_id(True).to_arrow()
        ).combine_chunks()  # one chunk: take() by position stays cheap
        # Full-text hits come back as LanceDB row ids (reading their `id` column costs a take from the data
        # files, ~3 ms a query): sorted row ids and the catalog position of each map them back.
        row_ids = scanned["_rowid"].to_numpy()
        self._row_order = np.argsort(row_ids, kind="stable")
        self._sorted_row_ids = row_ids[self._row_order]
        self.catalog: pa.Table = scanned.drop_columns(["_rowid"])
        ids = self.catalog["id"].to_pylist()
        self.ids: list[str] = ids  # catalog row order
        self.position = {book_id: i for i, book_id in enumerate(ids)}
        self.matrix: np.ndarray | None = None
        # Exact in-memory search wins even where ingest built an ANN index (10k rows: ~0.3 ms vs ~3 ms for
        # HNSW through LanceDB plus its SQL prefilter); the index serves tables past IN_MEMORY_MAX_ROWS.
        if n_rows <= IN_MEMORY_MAX_ROWS and "vector" in table.schema.names:
            self.matrix = self._load_matrix(ids)
        self._filter = CatalogFilter(self.catalog)
        self._masks: OrderedDict[str, np.ndarray] = OrderedDict()
        self._rows: OrderedDict[int, dict[str, Any]] = OrderedDict()
        self._fts: OrderedDict[tuple[str, str | None, int], list[tuple[int, float]]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _fts_columns(indexes: Sequence[Any]) -> set[str]:
        columns: set[str] = set()
        for index in indexes:
            if str(getattr(index, "index_type", "")).upper() in {"FTS", "INVERTED"}:
                columns.update(index.columns)
        return columns

    def _load_matrix(self, ids: list[str]) -> np.ndarray:
        data = self.table.search().select(["id", "vector"]).limit(max(1, len(ids))).to_arrow()
        flat = data["vector"].combine_chunks().flatten().to_numpy(zero_copy_only=False)
        vectors = np.asarray(flat, dtype=np.float32).reshape(data.num_rows, -1)
        order = np.fromiter(
            (self.position[i] for i in data["id"].to_pylist()), dtype=np.int64, count=data.num_rows
        )
        matrix = np.empty_like(vectors)
        matrix[order] = vectors  # same row order as self.catalog
        return matrix

    # --- rows, vectors and filters ----------------------------------------------------------------

    def rows_at(self, positions: Sequence[int]) -> list[dict[str, Any]]:
        """Catalog rows as dicts (fresh copies: callers may modify them)."""
        with self._lock:
            cached = {p: self._rows[p] for p in positions if p in self._rows}
        missing = [p for p in dict.fromkeys(positions) if p not in cached]
        if missing:
            # Arrow's take costs ~12 us per column whatever the row count: batch the misses.
            fresh = self.catalog.take(pa.array(missing, type=pa.int64())).to_pylist()
            cached.update(zip(missing, fresh, strict=True))
            with self._lock:
                self._rows.update(zip(missing, fresh, strict=True))
                while len(self._rows) > ROW_CACHE_SIZE:
                    self._rows.popitem(last=False)
        return [dict(cached[p]) for p in positions]

    def rows_by_id(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Catalog rows of the ids that exist, keyed by id."""
        found = [self.position[i] for i in dict.fromkeys(ids) if i in self.position]
        return {row["id"]: row for row in self.rows_at(found)}

    def vectors_by_id(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        present = [i for i in dict.fromkeys(ids) if i in self.position]
        if self.matrix is not None:
            return {i: self.matrix[self.position[i]] for i in present}
        if not present:
            return {}
        listed = ", ".join("'" + i.replace("'", "''") + "'" for i in present)
        rows = (
            self.table.search()
            .where(f"id IN ({listed})")
            .select(["id", "vector"])
            .limit(len(present))
            .to_list()
        )
        return {r["id"]: np.asarray(r["vector"], dtype=np.float32) for r in rows}

    @property
    def page_counts(self) -> bool:
        """Whether any book in the catalog has a page count (computed once, when the catalog was loaded)."""
        return self._filter.page_counts

    def mask(self, filters: SearchFilters | None) -> np.ndarray | None:
        """One bool per catalog row: does it pass ``filters``? None when nothing is constrained."""
        if filters is None:
            return None
        key = filters.model_dump_json()
        with self._lock:
            cached = self._masks.get(key)
            if cached is not None:
                self._masks.move_to_end(key)
                return cached
        mask = self._filter.mask(filters)
        if mask is None:
            return None
        with self._lock:
            self._masks[key] = mask
            while len(self._masks) > MASK_CACHE_SIZE:
                self._masks.popitem(last=False)
        return mask

    # --- the two retrievers ---------------------------------------------------------------------

    def encode(self, query: str) -> np.ndarray:
        return np.asarray(self.encoder.encode([query])[0], dtype=np.float32)

    def vector_search(
        self,
        vector: np.ndarray,
        filters: SearchFilters | None,
        limit: int,
        *,
        exclude: Sequence[str] = (),
    ) -> list[tuple[dict[str, Any], float]]:
        """(book row, cosine distance) best first, among books passing ``filters`` and not in ``exclude``."""
        if self.matrix is None:
            return self._lance_vector_search(vector, filters, limit, exclude)
        found = self._vector_positions(vector, filters, limit, exclude)
        rows = self.rows_at([p for p, _ in found])
        return [(row, distance) for row, (_, distance) in zip(rows, found, strict=True)]

    def _lance_vector_search(
        self, vector: np.ndarray, filters: SearchFilters | None, limit: int, exclude: Sequence[str] = ()
    ) -> list[tuple[dict[str, Any], float]]:
        clauses = [c for c in (build_where(filters), _not_in(exclude)) if c]
        q = self.table.search(vector, vector_column_name="vector").distance_type("cosine")
        if clauses:
            q = q.where(" AND ".join(clauses), prefilter=True)
        rows = q.select([*self.columns, "_distance"]).limit(limit).to_list()
        return [(row, float(row.pop("_distance"))) for row in rows]

    def _vector_positions(
        self, vector: np.ndarray, filters: SearchFilters | None, limit: int, exclude: Sequence[str] = ()
    ) -> list[tuple[int, float]]:
        """(catalog position, cosine distance) best first: ``vector_search`` without making rows."""
        if self.matrix is None:
            found = self._lance_vector_search(vector, filters, limit, exclude)
            return [(self.position[row["id"]], distance) for row, distance in found]
        # einsum, not `@`: OpenBLAS's threaded gemv spins for a core the server shares; measured here,
        # p90 8 ms with `@` vs 0.6 ms single-threaded, at the same 0.3-0.5 ms median.
        scores = np.einsum("ij,j->i", self.matrix, np.asarray(vector, dtype=np.float32))
        mask = self.mask(filters)
        if mask is not None:
            scores = np.where(mask, scores, -np.inf)
        for book_id in exclude:
            if book_id in self.position:
                scores[self.position[book_id]] = -np.inf
        n = min(limit, int(np.isfinite(scores).sum()))
        if n <= 0:
            return []
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top], kind="stable")]
        # Vectors are L2-normalised: cosine distance = 1 - dot product, as LanceDB reports it.
        return [(int(i), float(1.0 - scores[i])) for i in top]

    def text_search(
        self, query: str, filters: SearchFilters | None, limit: int
    ) -> list[tuple[dict[str, Any], float]]:
        """(book row, BM25 score) best first; empty when the query has no searchable words.

        BM25 scores do not depend on the filter, so the filtered top ``limit`` is the unfiltered ranking
        with failing books skipped: a longer unfiltered list is fetched and masked in memory, and only
        when too few books survive is the query rerun with the filter pushed into LanceDB.
        """
        pairs = self._text_positions(query, filters, limit)
        rows = self.rows_at([p for p, _ in pairs])
        return [(row, float(score)) for row, (_, score) in zip(rows, pairs, strict=True)]

    def _text_positions(
        self, query: str, filters: SearchFilters | None, limit: int
    ) -> list[tuple[int, float]]:
        """(catalog position, BM25 score) best first: ``text_search`` without making rows."""
        terms = query_terms(query)
        if not terms or not self.text_columns:
            return []
        text = " ".join(terms)
        if len(self.text_columns) == 1:
            fts: Any = MatchQuery(text, self.text_columns[0])
        else:
            boosts = [float(self.fusion.text_boosts.get(c, 1.0)) for c in self.text_columns]
            fts = MultiMatchQuery(text, self.text_columns, boosts=boosts)
        mask = self.mask(filters)
        fetch = limit if mask is None else limit * 4
        pairs = self._cached_fts(text, fts, None, fetch)
        if mask is not None:
            kept = [(p, s) for p, s in pairs if mask[p]]
            if len(kept) < limit and len(pairs) == fetch:
                kept = self._cached_fts(text, fts, build_where(filters), limit)
            pairs = kept
        return pairs[:limit]

    def _cached_fts(self, text: str, fts: Any, where: str | None, limit: int) -> list[tuple[int, float]]:
        """``_fts_hits`` of ``fts`` (the query built from ``text``) under the SQL prefilter ``where``, kept
        per (text, where, limit) for this table (a rebuilt index gets a new searcher, so a new cache)."""
        key = (text, where, limit)
        with self._lock:
            cached = self._fts.get(key)
            if cached is not None:
                self._fts.move_to_end(key)
                return cached
        query = self.table.search(fts, query_type="fts")
        if where is not None:
            query = query.where(where, prefilter=True)
        pairs = self._fts_hits(query, limit)
        with self._lock:
            self._fts[key] = pairs
            while len(self._fts) > FTS_CACHE_SIZE:
                self._fts.popitem(last=False)
        return pairs

    def _fts_hits(self, query: Any, limit: int) -> list[tuple[int, float]]:
        """(catalog position, BM25 score) of a full-text query's hits, best first (row ids, not the
        ``id`` column, are read back: no take from the data files)."""
        found = query.select(["_score"]).with_row_id(True).limit(limit).to_arrow()
        if not found.num_rows or not len(self._sorted_row_ids):
            return []
        row_ids = found["_rowid"].to_numpy()
        at = np.minimum(np.searchsorted(self._sorted_row_ids, row_ids), len(self._sorted_row_ids) - 1)
        known = self._sorted_row_ids[at] == row_ids  # a row the catalog lacks is skipped, as before
        positions = self._row_order[at].tolist()
        scores = found["_score"].to_pylist()
        return [(positions[k], scores[k]) for k in range(found.num_rows) if known[k]]

    def search(
        self,
        query: str,
        filters: SearchFilters | None = None,
        *,
        mode: Mode = "hybrid",
        limit: int | None = None,
        vector: np.ndarray | None = None,
    ) -> list[SearchHit]:
        """Books for ``query`` passing ``filters``, best first, with their ranks (``annotate`` adds terms)."""
        ranked = self.candidates(query, filters, mode=mode, limit=limit, vector=vector)
        self.fill_books(ranked)
        return ranked

    def fill_books(self, hits: Sequence[SearchHit]) -> None:
        """Give ``hits`` (from :meth:`candidates`) their catalog rows, in one batched read."""
        for hit, row in zip(hits, self.rows_at([h.position for h in hits]), strict=True):
            hit.book = row

    def candidates(
        self,
        query: str,
        filters: SearchFilters | None = None,
        *,
        mode: Mode = "hybrid",
        limit: int | None = None,
        vector: np.ndarray | None = None,
    ) -> list[SearchHit]:
        """:meth:`search` without the catalog rows (``book`` empty, ``position`` set): ranking ~100
        candidates needs only their scores, and rows are made for the few shown (:meth:`fill_books`)."""
        limit = limit or self.fusion.candidates
        hits: dict[str, SearchHit] = {}
        ids = self.ids
        text_future: Future[list[tuple[int, float]]] | None = None
        if mode == "hybrid":
            # Full-text search needs no embedding: it runs while the query is encoded and the vector
            # search runs (both ONNX Runtime and LanceDB release the GIL).
            text_future = _executor().submit(self._text_positions, query, filters, limit)
        vec: np.ndarray | None = None
        if mode in ("hybrid", "vector"):
            vec = self.encode(query) if vector is None else vector
            found = self._vector_positions(vec, filters, limit)
            # Cosine distance: smaller is better, so the scaled score is flipped.
            for hit_score, (rank, (position, distance)) in zip(
                self._scaled([-d for _, d in found]), enumerate(found, start=1), strict=True
            ):
                hit = hits.setdefault(ids[position], SearchHit(book={}, fused_score=0.0, position=position))
                hit.vector_rank, hit.vector_distance = rank, distance
                hit.fused_score += self.fusion.vector_weight * self._fused(rank, hit_score)
        if mode in ("hybrid", "text"):
            found = text_future.result() if text_future else self._text_positions(query, filters, limit)
            text_weight = self.fusion.text_weight
            if mode == "hybrid" and self.fusion.text_full_terms:
                text_weight *= min(1.0, len(query_terms(query)) / self.fusion.text_full_terms)
            for hit_score, (rank, (position, score)) in zip(
                self._scaled([s for _, s in found]), enumerate(found, start=1), strict=True
            ):
                hit = hits.setdefault(ids[position], SearchHit(book={}, fused_score=0.0, position=position))
                hit.text_rank, hit.text_score = rank, float(score)
                hit.fused_score += text_weight * self._fused(rank, hit_score)
        if mode == "hybrid" and vec is not None:
            self._add_shelf_signal(query, vec, filters, limit, hits)
        ranked = sorted(hits.values(), key=lambda h: h.fused_score, reverse=True)
        for rank, hit in enumerate(ranked, start=1):
            hit.fused_rank = rank
        return ranked

    def shelf_weight(self, query: str) -> float:
        """The shelf signal's weight for ``query`` (0 when the searcher has no predictor)."""
        if self.shelves is None or not self.fusion.shelf_weight:
            return 0.0
        weight = self.fusion.shelf_weight
        if self.fusion.shelf_full_terms:
            weight *= min(1.0, self.fusion.shelf_full_terms / max(1, len(query_terms(query))))
        return weight

    def _add_shelf_signal(
        self,
        query: str,
        vector: np.ndarray,
        filters: SearchFilters | None,
        limit: int,
        hits: dict[str, SearchHit],
    ) -> None:
        """Every candidate gains weight x its shelf score; the best shelf matches join the candidates.

        Among books with the same shelves, the query's cosine breaks the tie (a whole shelf scores alike)."""
        weight = self.shelf_weight(query)
        if not weight or self.matrix is None or self.shelves is None:
            return
        scores = self.shelves.book_scores(self.shelves.probabilities(vector))
        mask = self.mask(filters)
        eligible = scores if mask is None else np.where(mask, scores, -np.inf)
        # The cosine only breaks ties among the best shelf matches: computed for a short list, not all books.
        pool = min(SHELF_POOL, int(np.isfinite(eligible).sum()))
        n = min(SHELF_CANDIDATES, limit, pool)
        if n > 0:
            best = np.argpartition(-eligible, pool - 1)[:pool]
            cosine = np.einsum("ij,j->i", self.matrix[best], np.asarray(vector, dtype=np.float32))
            order_key = eligible[best] + 0.5 * cosine
            top = best[np.argpartition(-order_key, n - 1)[:n]]
            for p in top.tolist():
                if self.ids[p] not in hits:
                    hits[self.ids[p]] = SearchHit(book={}, fused_score=0.0, position=p)
        for hit in hits.values():
            score = float(scores[hit.position])
            hit.shelf_score = score
            hit.fused_score += weight * score

    def _fused(self, rank: int, scaled: float) -> float:
        if self.fusion.method == "convex":
            return scaled
        return 1.0 / (self.fusion.rrf_k + rank)

    @staticmethod
    def _scaled(scores: list[float]) -> list[float]:
        """Min-max scaling to [0, 1] within one result list (1.0 for all when they tie)."""
        if not scores:
            return []
        low, high = min(scores), max(scores)
        if high - low <= 1e-12:
            return [1.0] * len(scores)
        return [(x - low) / (high - low) for x in scores]

    @staticmethod
    def annotate(query: str, hits: Sequence[SearchHit]) -> None:
        """Fill ``matched_terms`` (done only for the hits shown: it reads whole descriptions)."""
        terms = query_terms(query)
        for hit in hits:
            hit.matched_terms = matched_terms(terms, hit.book)
