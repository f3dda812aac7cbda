"""Hard constraints: what the reader ruled out, enforced on every tool call whatever the model sends.

The planner's intent parser (``agent.intent``) reads every user turn ("nothing young adult", "before
2000", "not by Stephen King", "I've read Dune"), and the session adds books read or thumbed down. The
session also keeps the folded limits (``SessionState.constraints``), so a limit outlives the few turns
replayed as history and holds until the reader lifts it. A real provider may forget all of that, so
:class:`ConstraintGuard` wraps each tool call: it merges the constraints into the call's ``filters``
(or ``avoid_ids``) before the tool runs, and drops any returned recommendation that still breaks one.
Where the model's filter and the reader's disagree, the reader's wins.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from pydantic import BaseModel, Field

from vibeshelf.agent.intent import Constraints
from vibeshelf.agent.reading.reader import MessageReader, asks_for_books, catalog_reader
from vibeshelf.agent.reading.request import RequestTracker
from vibeshelf.agent.session_state import ReaderConstraints, SessionState, StandingRequest
from vibeshelf.retrieval.title_lookup import work_key
from vibeshelf.text import fold, message_text
from vibeshelf.tools.models import BookCard, FeelingLuckyResult, SearchFilters
from vibeshelf.tools.registry import ToolRegistry
from vibeshelf.tools.tool import ToolContext, ToolResult

log = logging.getLogger(__name__)

_LOWER_BOUNDS = ("year_min", "min_average_rating", "min_ratings_count", "min_pages")
_UPPER_BOUNDS = ("year_max", "max_ratings_count", "max_pages")
_RANGES = (("year_min", "year_max"), ("min_ratings_count", "max_ratings_count"), ("min_pages", "max_pages"))
# Lists unioned with the model's. genres_all may join them (more shelves required only narrows, as the
# reader's rule does); genres_include may not: a union of any-of lists widens the search, so the reader's
# include is held by ``violation`` on the results instead.
# Most excluded ids written into the prompt (describe); all of them are enforced on results.
_PROMPT_IDS = 50
RELAX_BELOW = 1  # no book at all from a model's own filters: try with the reader's limits alone
_LISTS = ("genres_all", "genres_exclude", "exclude_terms", "exclude_authors", "exclude_ids")


class HardConstraints(ReaderConstraints):
    """The reader's limits for this conversation: the parser's :class:`Constraints` plus named titles."""

    # The latest message names something a search can use (a kind, a name, a limit): an answer to it that
    # looked nothing up and names no book is not an answer (see the agent loop's nudge).
    asks_for_books: bool = Field(default=False, exclude=True)

    @classmethod
    def from_conversation(
        cls,
        messages: Iterable[dict[str, Any]],
        state: SessionState | None = None,
        reader: MessageReader | None = None,
    ) -> HardConstraints:
        """Fold every user turn's intent, oldest first (later turns may lift or replace earlier limits).

        With a ``state``, the fold starts from the limits the session kept (``state.constraints``:
        every earlier turn, including those no longer in ``messages``) and the result is recorded
        there for the next turn. Folding the turns still in ``messages`` onto it again changes
        nothing, since every limit is decided by the latest turn that speaks to it ("nothing YA"
        then "YA is fine"; a new year range; "start over"): a lift in the recent turns overrides an
        older limit, and a limit said before the history window holds until lifted. Without a
        ``state`` (a stateless request carrying its whole transcript), the messages alone are folded.

        ``reader`` reads each message against the catalog (the planner's reading; without one, general
        rules only). References to shown books in the latest turn ("I've read the first one", "not the second")
        are resolved against ``state`` and recorded there as read / disliked ids.
        """
        reader = reader or catalog_reader(None)
        rules = Constraints()
        titles: list[str] = []
        request = StandingRequest()
        if state is not None:
            kept = state.constraints
            rules = kept.rules.model_copy(update={"exclude_ids": []}, deep=True)
            titles = list(kept.exclude_titles)
            request = kept.request
        kinds = RequestTracker(
            reader.vocab.title_authors,
            title_shelves=reader.vocab.title_shelves,
            kinds=request.kinds,
            liked=request.liked_titles,
            topic=request.topic,
        )
        last = None
        for message in messages:
            if message.get("role") != "user":
                continue
            last = kinds.observe(reader.read(message_text(message.get("content")), rules.authors_any))
            rules = rules.apply(last)
            if last.reset:
                titles = []
            titles += [ref.title for ref in [*last.read_titles, *last.avoid_titles]]
        titles = list(dict.fromkeys(titles))
        if state is not None:
            state.constraints = ReaderConstraints(
                rules=rules.model_copy(deep=True),
                exclude_titles=titles,
                request=StandingRequest(
                    topic=kinds.topic, kinds=sorted(kinds.kinds), liked_titles=kinds.liked
                ),
            )
            shown = state.last_shown()

            def pick(refs: list[int]) -> list[str]:
                return [shown[r].id for r in refs if -len(shown) <= r < len(shown)]

            if last is not None:
                state.read_ids = list(dict.fromkeys([*state.read_ids, *pick(last.read_refs)]))
                state.disliked_ids = list(dict.fromkeys([*state.disliked_ids, *pick(last.reject_refs)]))
            rules = rules.with_ids(state.excluded_ids)
        asks = last is not None and last.small_talk is None and asks_for_books(last)
        standing = StandingRequest(topic=kinds.topic, kinds=sorted(kinds.kinds), liked_titles=kinds.liked)
        return cls(rules=rules, exclude_titles=titles, asks_for_books=asks, request=standing)

    @classmethod
    def from_filters(cls, filters: SearchFilters) -> HardConstraints:
        """A request's hard filters as constraints (``language`` has no counterpart; the guard sets it)."""
        wanted = filters.model_dump(exclude_none=True)
        return cls(rules=Constraints(**{k: v for k, v in wanted.items() if k in Constraints.model_fields}))

    def is_empty(self) -> bool:
        return self.rules.is_empty() and not self.exclude_titles

    def rules_out(self, book_id: str, authors: Iterable[str]) -> bool:
        """Whether the reader has ruled this book out by its id or one of its authors."""
        refused = {fold(a) for a in self.rules.exclude_authors}
        return book_id in self.rules.exclude_ids or any(fold(a) in refused for a in authors)

    def describe(self) -> str:
        """One line per constraint, for the system prompt ("none" when empty)."""
        lines = [f"- {phrase}" for phrase in self.rules.describe()]
        ids = self.rules.exclude_ids
        if ids:
            # An imported library can hold thousands of ids: the prompt names the newest (the ones the
            # conversation may refer to) and counts the rest, which the results check removes anyway.
            listed = ", ".join(ids[-_PROMPT_IDS:])
            more = (
                f" and {len(ids) - _PROMPT_IDS} more, removed from tool results"
                if len(ids) > _PROMPT_IDS
                else ""
            )
            lines.append(f"- never recommend these ids (read or rejected): {listed}{more}")
        if self.exclude_titles:
            lines.append(f"- the reader has read or ruled out: {'; '.join(self.exclude_titles)}")
        return "\n".join(lines) or "none"

    # --- enforcing ------------------------------------------------------------------------------

    def violation(self, book: BookCard) -> str | None:
        """Why ``book`` breaks a constraint, or None when it passes."""
        if not self.rules.admits(book.model_dump()):
            return "reader constraint"
        # Another edition of a book read, ruled out or liked ("more like The Firm") is that book again.
        key = work_key(book.title)
        if key and any(work_key(t) == key for t in self.exclude_titles):
            return "a title the reader ruled out"
        if key and any(work_key(t) == key for t in self.request.liked_titles):
            return "a book the reader named as liked"
        return None

    def merge_filters(self, filters: dict[str, Any] | None) -> dict[str, Any]:
        """The model's ``filters`` object with the reader's constraints merged in (unset keys left out)."""
        out = {k: v for k, v in (filters or {}).items() if v is not None}
        mine = self.rules.filters()
        for key in _LISTS:
            if mine.get(key):
                out[key] = list(dict.fromkeys([*(out.get(key) or []), *mine[key]]))
        if mine.get("authors_any"):
            # The authors the reader asked for are theirs to name: the model's choice gives way.
            out["authors_any"] = mine["authors_any"]
        for key in (*_LOWER_BOUNDS, *_UPPER_BOUNDS):
            if mine.get(key) is None:
                continue
            theirs = out.get(key)
            if theirs is None:
                out[key] = mine[key]
            else:  # both bounds must hold: keep the tighter one
                out[key] = max(theirs, mine[key]) if key in _LOWER_BOUNDS else min(theirs, mine[key])
        # A model bound that contradicts the reader's (year_min 2010 vs "before 2000") is dropped.
        for low, high in _RANGES:
            if out.get(low) is not None and out.get(high) is not None and out[low] > out[high]:
                del out[high if mine.get(low) is not None and mine.get(high) is None else low]
        allowed = SearchFilters.model_fields
        if "exclude_ids" in out:
            out["exclude_ids"] = out["exclude_ids"][-200:]
        return {k: v for k, v in out.items() if k in allowed}

    def merge_arguments(self, fields: Iterable[str], arguments: dict[str, Any]) -> dict[str, Any]:
        """Tool arguments with the constraints merged into whichever slot the tool offers."""
        fields = set(fields)
        out = dict(arguments)
        if "filters" in fields:
            given = out.get("filters")
            out["filters"] = self.merge_filters(given if isinstance(given, dict) else None) or None
        if "avoid_ids" in fields and self.rules.exclude_ids:
            avoid = out.get("avoid_ids")
            given_ids: list[Any] = avoid if isinstance(avoid, list) else []
            out["avoid_ids"] = list(dict.fromkeys([*given_ids, *self.rules.exclude_ids]))[-200:]
        return out

    def filter_output(self, output: BaseModel) -> tuple[BaseModel, list[tuple[BookCard, str]]]:
        """The result with violating recommendations removed, and what was removed (and why).

        Only recommendation lists are filtered (``books``, and feeling_lucky's ``book``); a lookup
        (find_book, get_book) answers the question asked and is left alone.
        """
        dropped: list[tuple[BookCard, str]] = []
        books = getattr(output, "books", None)
        if isinstance(books, list) and all(isinstance(b, BookCard) for b in books):
            kept = []
            for book in books:
                why = self.violation(book)
                if why is None:
                    kept.append(book)
                else:
                    dropped.append((book, why))
            if dropped:
                output = output.model_copy(update={"books": kept})
        elif isinstance(output, FeelingLuckyResult) and output.book is not None:
            why = self.violation(output.book)
            if why is not None:
                dropped.append((output.book, why))
                notes = [*output.notes, "The pick broke one of the reader's constraints; try again."]
                output = output.model_copy(update={"book": None, "notes": notes})
        return output, dropped


class ConstraintGuard:
    """Wraps ``registry.call``: constraints merged into the arguments, violating books dropped.

    ``constraints`` are the reader's; ``request`` a request's own hard filters (the chat API's
    ``filters``), enforced the same way after the reader's, with its ``language`` set on every
    ``filters`` argument (the reader's limits have no language).
    """

    def __init__(
        self, registry: ToolRegistry, constraints: HardConstraints, request: SearchFilters | None = None
    ) -> None:
        self.registry = registry
        self.constraints = constraints
        from_request = HardConstraints.from_filters(request) if request is not None else None
        # Applied in order (the reader's first); an empty layer is skipped, leaving the arguments as sent.
        self._layers = [c for c in (constraints, from_request) if c is not None and not c.is_empty()]
        self._language = request.language if request is not None else None

    async def call(self, name: str, arguments: str, context: ToolContext[Any] | None) -> ToolResult:
        try:
            data = json.loads(arguments) if arguments.strip() else {}
        except json.JSONDecodeError:
            data = None  # the tool reports bad JSON in its own words
        if not isinstance(data, dict) or name not in self.registry.names():
            return await self.registry.call(name, arguments, context)
        fields = self.registry.get(name).args_model.model_fields
        merged = self._merge(fields, data)
        if merged != data:
            log.info("constraints: %s arguments tightened to %s", name, merged)
        result = await self.registry.call(name, merged, context)
        if not result.ok:
            return result
        result = await self._relaxed(name, data, merged, result, context)
        output, dropped = result.output, []
        for layer in reversed(self._layers):  # the request's first, as it sat nearer the tool
            output, removed = layer.filter_output(output)
            dropped += removed
        for book, why in dropped:
            log.info("constraints: dropped %s (%s) from %s: %s", book.id, book.title, name, why)
        return replace(result, output=output) if dropped else result

    def _merge(self, fields: Iterable[str], data: dict[str, Any]) -> dict[str, Any]:
        """``data`` with every layer's limits merged in, and the request's language."""
        fields = set(fields)
        merged = data
        for layer in self._layers:
            merged = layer.merge_arguments(fields, merged)
        if self._language and "filters" in fields:
            merged = {**merged, "filters": {**(merged.get("filters") or {}), "language": self._language}}
        return merged

    async def _relaxed(
        self,
        name: str,
        data: dict[str, Any],
        merged: dict[str, Any],
        result: ToolResult,
        context: ToolContext[Any] | None,
    ) -> ToolResult:
        """When the model's own filters (none of them the reader's) leave almost nothing, the same call with
        only the reader's limits and the request's hard filters; the notes say what was dropped. A reader's
        "no" and a request's filter are never relaxed."""
        books = getattr(result.output, "books", None)
        if (
            not isinstance(data.get("filters"), dict)
            or not isinstance(books, list)
            or len(books) >= RELAX_BELOW
        ):
            return result
        readers_only = self._merge(self.registry.get(name).args_model.model_fields, {**data, "filters": None})
        if readers_only == merged:
            return result
        retry = await self.registry.call(name, readers_only, context)
        more = getattr(retry.output, "books", None) if retry.ok else None
        if not isinstance(more, list) or len(more) <= len(books):
            return result
        dropped = sorted(k for k, v in data["filters"].items() if v not in (None, [], ""))
        log.info(
            "constraints: %s found %d with the model's filters %s; %d without",
            name,
            len(books),
            dropped,
            len(more),
        )
        note = (
            f"Nothing fit the extra filters ({', '.join(dropped)}), which the reader did not ask for, so they "
            "were dropped; the reader's own limits still hold."
        )
        notes = getattr(retry.output, "notes", None)
        if isinstance(notes, list):
            return replace(retry, output=retry.output.model_copy(update={"notes": [*notes, note]}))
        return retry
