"""The ``feeling_lucky`` tool: one good pick for a mood, not always the same one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vibeshelf.retrieval.popular import LUCKY_POOL, lucky_pick
from vibeshelf.retrieval.popular import popular_books as most_popular
from vibeshelf.retrieval.reranker import Scored
from vibeshelf.retrieval.services import Services
from vibeshelf.tools.models import BookCard, FeelingLuckyArgs, FeelingLuckyResult, MatchEvidence
from vibeshelf.tools.search_books import genre_notes, hit_card
from vibeshelf.tools.tool import ToolContext, tool


def _status(args: Mapping[str, Any]) -> str:
    return f"picking something {'for ' + args['mood'] if args.get('mood') else 'at random'}"


@tool(status=_status)
def feeling_lucky(ctx: ToolContext[Services], args: FeelingLuckyArgs) -> FeelingLuckyResult:
    """Pick ONE good book for the reader's mood (or any mood), drawn at random among the best matches so
    asking again gives a different pick. Use it for "surprise me" or "I'm feeling lucky"."""
    services = ctx.deps
    filters, unusable = services.search.usable_filters(args.filters)
    notes = [*unusable, *genre_notes(filters, services.genres)]
    if args.mood:
        ranked = services.search.search(args.mood, filters, limit=LUCKY_POOL).ranked
        pick = lucky_pick(ranked, services.rng)
        card = hit_card(pick, method="lucky") if pick else None
    else:
        # No mood: well-loved books, weighted by smoothed rating rather than sheer popularity.
        pool = most_popular(services.search.searcher, services.prior, filters, LUCKY_POOL * 3)
        by_quality = sorted(
            (Scored(s.item, 0.0, s.quality, s.popularity, s.quality) for s in pool), key=lambda s: -s.score
        )
        pick = lucky_pick(by_quality, services.rng)
        card = None
        if pick is not None:
            why = MatchEvidence(
                method="lucky", score=round(pick.score, 4), reason="a well-loved popular pick"
            )
            card = BookCard.from_row(pick.item, why)
    if card is None:
        notes.append("Nothing passed the filters; relax them and try again.")
    elif card.why.reason:
        card.why.reason = f"lucky pick among the top {LUCKY_POOL}: {card.why.reason}"
    return FeelingLuckyResult(book=card, mood=args.mood, applied_filters=filters, notes=notes)
