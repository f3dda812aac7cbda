"""Which book cards a turn shows, in which order: the one rule the agent loop and the offline planner share.

A tool's result holds book cards (``BookCard`` models, or dicts in the JSON a tool message carries). The
cards of a tool that recommends (``Tool.recommends``) are picks shown to the reader, in tool-call order,
each book once; a lookup's cards ("which book is X") and errors are not.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from functools import cache
from typing import Any

from pydantic import BaseModel

from vibeshelf.tools.default_registry import default_registry
from vibeshelf.tools.models import BookCard, ToolError
from vibeshelf.tools.registry import ToolRegistry

Card = BookCard | dict[str, Any]


def lookup_tools(registry: ToolRegistry) -> frozenset[str]:
    """The names of ``registry``'s tools whose cards are not recommendations."""
    return frozenset(t.name for t in registry if not t.recommends)


@cache
def default_lookup_tools() -> frozenset[str]:
    """The lookups among the default tools (what the offline planner reads tool messages of)."""
    return lookup_tools(default_registry())


def cards_in(value: Any) -> Iterable[BookCard]:
    """Every BookCard inside a tool result model, however nested."""
    if isinstance(value, BookCard):
        yield value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from cards_in(getattr(value, name))
    elif isinstance(value, list):
        for item in value:
            yield from cards_in(item)


def _card_dicts(value: Any) -> Iterable[dict[str, Any]]:
    """Every book card (a dict with a string id and title) in a tool result's JSON, however nested."""
    if isinstance(value, dict):
        if isinstance(value.get("id"), str) and isinstance(value.get("title"), str):
            yield value
        else:
            for v in value.values():
                yield from _card_dicts(v)
    elif isinstance(value, list):
        for v in value:
            yield from _card_dicts(v)


def recommended_cards(output: Any, recommends: bool = True) -> list[Card]:
    """The books a tool result recommends: none from a lookup (``recommends`` False) or an error.

    ``output`` is the tool's result model (cards come back as ``BookCard``) or its JSON as a tool
    message carries it (cards come back as dicts).
    """
    if not recommends or isinstance(output, ToolError):
        return []
    if isinstance(output, dict):
        return [] if isinstance(output.get("error"), dict) else list(_card_dicts(output))
    return list(cards_in(output))


def shown_cards(
    results: Iterable[tuple[str, Any]], seen: Iterable[str] = (), lookups: Collection[str] | None = None
) -> list[Card]:
    """Which book cards the loop shows for tool results, in the order it shows them.

    ``results``: ``(tool name, output)`` in tool-call order (rounds oldest first), each output a result
    model or its JSON. Every recommended card counts, in result order; a book comes once, and not at all
    when its id is in ``seen`` (the loop passes the ids it already showed for this message). ``lookups``:
    the tools whose cards are not recommendations (default: the default tools'). The offline planner
    calls this on the tool messages to discuss exactly these books, in this order.
    """
    skip = default_lookup_tools() if lookups is None else lookups
    done = set(seen)
    out: list[Card] = []
    for tool, output in results:
        for card in recommended_cards(output, tool not in skip):
            card_id = card.id if isinstance(card, BookCard) else card["id"]
            if card_id not in done:
                done.add(card_id)
                out.append(card)
    return out


def one_line_reason(book: BookCard) -> str:
    """A short, reader-facing reason from the tool's evidence, for the book card."""
    why = book.why
    parts = []
    if why.co_readers:
        parts.append(f"{why.co_readers:,} readers who loved your pick rated it highly")
    if why.matched_terms:
        parts.append("matches " + ", ".join(why.matched_terms[:4]))
    if not parts and book.genres:
        parts.append(", ".join(g.replace("_", " ") for g in book.genres[:2]))
    if book.average_rating is not None:
        count = f" by {book.ratings_count:,} readers" if book.ratings_count else ""
        parts.append(f"rated {book.average_rating:.2f}{count}")
    return "; ".join(parts) or (why.reason or "")
