"""The ``readers_also_liked`` tool: collaborative filtering, with content similarity for cold seeds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vibeshelf.retrieval.cf.config import LIKED_RATING
from vibeshelf.retrieval.genre_shelves import specific_genres
from vibeshelf.retrieval.readers_also_liked import MAX_K
from vibeshelf.retrieval.reranker import DEFAULT_WEIGHTS, diversify
from vibeshelf.retrieval.services import Services
from vibeshelf.tools.models import (
    BookCard,
    FieldError,
    MatchEvidence,
    ReadersAlsoLikedArgs,
    ReadersAlsoLikedResult,
    SearchFilters,
)
from vibeshelf.tools.search_books import genre_notes
from vibeshelf.tools.tool import ToolContext, ToolFailure, tool

# Co-read books are ranked by co-readers, so the most read books of all crowd in ("like Gone Girl" ->
# The Fault in Our Stars, The Help). Among this many times the requested number of co-read books, those
# sharing a specific shelf with the seeds ("thriller", "dystopian"; not "fiction") go first, in their
# collaborative order; the rest follow in theirs.
GENRE_POOL_FACTOR = 4
# Most books of a session's history scored (best rated first): a reader's library, not a store's catalogue.
MAX_SESSION_HISTORY = 2000
# Books of a history that seed the content-similarity top-up (the best rated).
CONTENT_SEEDS_FROM_HISTORY = 20


def _collaborative(
    services: Services,
    seeds: list[dict[str, Any]],
    avoid: list[str],
    want: int,
    filters: SearchFilters | None,
    history: bool = False,
    ratings: Mapping[str, float] | None = None,
) -> tuple[list[Any], list[str]]:
    """(CF hits passing ``filters``, shared shelves first, cold seeds). Without a CF model every seed is cold.

    With filters the model is asked for its widest pool and the hits are filtered before the cut to
    ``want``, so "like X but not YA" still gets X's best non-YA neighbours rather than the few that
    happen to survive among the top ``want``."""
    seed_ids = [s["id"] for s in seeds]
    if services.cf is None:
        return [], seed_ids
    # A whole reading history is answered by the history model (each book weighted by the reader's stars),
    # a few named favourites by the seeds model.
    cf = services.cf

    def recommend(ids: list[str], avoid_ids: list[str], k: int) -> Any:
        if history:
            return cf.recommend_history(ids, avoid_ids, k, ratings)
        return cf.recommend(ids, avoid_ids, k)

    if services.search.constrains(filters):
        result = recommend(seed_ids, avoid, MAX_K)
        kept = set(services.search.admitted([h.book_id for h in result.hits], filters))
        hits = [h for h in result.hits if h.book_id in kept]
    else:
        result = recommend(seed_ids, avoid, min(MAX_K, want * GENRE_POOL_FACTOR))
        hits = list(result.hits)
    if history:
        return hits[: want * 2], list(result.cold_seeds)  # a history's many shelves are no one kind
    # Twice what is wanted: the author and series caps (diversify) need others to choose from.
    return _shared_genres_first(services, seeds, hits, filters)[: want * 2], list(result.cold_seeds)


def _shared_genres_first(
    services: Services, seeds: list[dict[str, Any]], hits: list[Any], filters: SearchFilters | None
) -> list[Any]:
    ruled_out = set(filters.genres_exclude or []) if filters else set()
    wanted = {g for seed in seeds for g in specific_genres(seed.get("genres"))} - ruled_out
    if not wanted:
        return hits
    # The catalog's cached genre mask answers "shares a shelf" for every candidate at once.
    sharing = set(
        services.search.admitted([h.book_id for h in hits], SearchFilters(genres_include=sorted(wanted)))
    )
    return [h for h in hits if h.book_id in sharing] + [h for h in hits if h.book_id not in sharing]


@tool(status=lambda args: "finding what readers of those books also liked")
def readers_also_liked(ctx: ToolContext[Services], args: ReadersAlsoLikedArgs) -> ReadersAlsoLikedResult:
    """Books that readers who liked the given seed books also rated highly ("readers also liked").
    Seeds with too few ratings are answered by content similarity; the result says which method answered.
    Every book returned passes filters ("like X but not YA" -> genres_exclude: ['young_adult'])."""
    services = ctx.deps
    named = list(dict.fromkeys(args.book_ids))
    # In a session, a history is the reader's own (their library's ratings and thumbs-up), whatever part
    # of it the model passed: every rated book, weighted by its stars, as the history model was chosen.
    session = dict(list((ctx.reader_history or {}).items())[:MAX_SESSION_HISTORY]) if args.history else {}
    ratings = {b: stars for b, stars in session.items() if stars is not None}
    known = services.search.rows(list(dict.fromkeys([*session, *named])))
    unknown = [s for s in named if s not in known]
    seeds = [
        s for s in dict.fromkeys([*session, *named]) if s in known
    ]  # a reindex may drop a session's book
    if not seeds:
        raise ToolFailure(
            "None of book_ids is in the catalog. "
            "Pass ids exactly as search_books or find_book returned them.",
            error_type="not_found",
            fields=[
                FieldError(field=f"book_ids[{args.book_ids.index(u)}]", message="unknown book id")
                for u in unknown
            ],
        )
    filters, unusable = services.search.usable_filters(args.filters)
    avoid = list(dict.fromkeys([*args.avoid_ids, *seeds]))
    # Fetch extra candidates: diversification may defer or drop some.
    want = args.limit * 3

    cf_hits, cold = _collaborative(
        services, [known[s] for s in seeds], avoid, want, filters, args.history, ratings
    )
    cold = [c for c in cold if c in seeds]
    items: list[tuple[str, MatchEvidence]] = []
    for rank, hit in enumerate(cf_hits, start=1):
        # The seeds model blends content similarity into its co-read neighbours: a book no seed reader
        # liked is there for its author, series or shelves, and says so.
        co_read = hit.co_readers > 0
        items.append(
            (
                hit.book_id,
                MatchEvidence(
                    co_readers=int(hit.co_readers),
                    fused_rank=rank,
                    score=round(float(hit.score), 4),
                    method="collaborative" if co_read else "content",
                    reason=f"{hit.co_readers} readers who liked the seed books rated it highly"
                    if co_read
                    else "same author, series or shelves as the seed books",
                ),
            )
        )
    # Content similarity answers for cold seeds, and tops up a thin collaborative list (few co-read books,
    # or few passing the filters) from all the seeds.
    content_seeds = cold if cf_hits and cold else (seeds if len(cf_hits) < args.limit else [])
    if args.history and ratings:
        # The best rated of a long history stand for it (sorted is stable: ties keep the history's order).
        by_stars = sorted(content_seeds, key=lambda b: -ratings.get(b, float(LIKED_RATING)))
        content_seeds = by_stars[:CONTENT_SEEDS_FROM_HISTORY]
    elif args.history:
        content_seeds = content_seeds[-CONTENT_SEEDS_FROM_HISTORY:]  # the most recent stand for it
    if content_seeds:
        taken = {i for i, _ in items}
        for hit in services.search.similar_to(content_seeds, [*avoid, *taken], want, filters):
            why = MatchEvidence(
                vector_rank=hit.vector_rank,
                score=round(hit.fused_score, 4),
                method="content",
                reason="similar description and genres to the seed books",
            )
            items.append((hit.book["id"], why))
    methods = {why.method for _, why in items}
    method = "mixed" if len(methods) > 1 else ("collaborative" if methods == {"collaborative"} else "content")
    if cold and cf_hits:
        method = "mixed"

    # Interleave so cold seeds' content picks are not all pushed below the collaborative ones. A top-up
    # for warm seeds only fills the places the collaborative books leave, so it stays below them.
    if method == "mixed" and cold:
        cf_items = [it for it in items if it[1].method == "collaborative"]
        ct_items = [it for it in items if it[1].method == "content"]
        items = [x for pair in zip(cf_items, ct_items, strict=False) for x in pair]
        longer = cf_items if len(cf_items) > len(ct_items) else ct_items
        items += longer[min(len(cf_items), len(ct_items)) :]

    rows = services.search.rows([i for i, _ in items])
    present = [(rows[i], why) for i, why in items if i in rows]
    ordered = diversify(present, lambda p: p[0], DEFAULT_WEIGHTS)[: args.limit]
    notes = [*unusable, *genre_notes(filters, services.genres)]
    if not ordered and services.search.constrains(filters):
        notes.append("No book like the seeds passed the filters; relax a filter and retry.")
    return ReadersAlsoLikedResult(
        books=[BookCard.from_row(row, why) for row, why in ordered],
        method=method,
        cold_seeds=cold,
        unknown_ids=unknown,
        applied_filters=filters,
        notes=notes,
    )
