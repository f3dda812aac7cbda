"""Test doubles at our own boundaries for the agent tests: a scripted model and five hand-written books.

``ScriptedLLM`` implements the same ``stream(model, messages, tools)`` interface as
``agent.llm.LiteLLMClient``; the tools are real ``Tool`` objects registered in a real ``ToolRegistry``,
with the real argument and result models, over an in-memory list instead of the search index.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from vibeshelf.agent.events import AgentEvent, BooksEvent, DoneEvent, StatusEvent, TextEvent
from vibeshelf.agent.llm import LLMDelta, ProviderError, ToolCallDelta
from vibeshelf.tools.default_registry import default_registry
from vibeshelf.tools.models import (
    BookCard,
    FindBookArgs,
    FindBookResult,
    MatchEvidence,
    PopularBooksArgs,
    PopularBooksResult,
    SearchBooksArgs,
    SearchResult,
)
from vibeshelf.tools.registry import ToolRegistry
from vibeshelf.tools.tool import ToolContext, tool


def same_as(name: str) -> dict[str, Any]:
    """The loop-facing metadata (status line, recommends) of the real tool ``name``, for a fake of it."""
    real = default_registry().get(name)
    return {"status": real.status, "recommends": real.recommends}


BOOKS = [
    BookCard(
        id="t:1",
        title="The Quiet Lighthouse",
        authors=["Ada Vale"],
        year=1994,
        genres=["mystery", "cozy_mystery"],
        average_rating=4.12,
        ratings_count=18_000,
        why=MatchEvidence(matched_terms=["cozy", "rainy"]),
    ),
    BookCard(
        id="t:2",
        title="Rain on Juniper Street",
        authors=["Mina Okafor"],
        year=2012,
        genres=["young_adult", "contemporary"],
        average_rating=3.95,
        ratings_count=52_000,
        why=MatchEvidence(matched_terms=["rainy"]),
    ),
    BookCard(
        id="t:3",
        title="A Winter of Small Griefs",
        authors=["Tomas Lind"],
        year=1988,
        genres=["fiction", "literary_fiction"],
        average_rating=4.31,
        ratings_count=9_500,
        why=MatchEvidence(matched_terms=["melancholic"]),
    ),
    BookCard(
        id="t:4",
        title="The Tea Shop at Harrow End",
        authors=["Ada Vale"],
        year=2016,
        genres=["cozy_mystery", "romance"],
        average_rating=3.88,
        ratings_count=4_100,
    ),
    BookCard(
        id="t:5",
        title="Salt and Static",
        authors=["Rosalind Park"],
        year=2003,
        genres=["science_fiction", "young_adult"],
        average_rating=4.05,
        ratings_count=120_000,
    ),
]


@dataclass
class ToolLog:
    """What the fake tools were asked, and how many ran at once (to prove concurrent dispatch)."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    running: int = 0
    max_running: int = 0
    # Hold each call until this many run at once: concurrent dispatch proven without timing. A call stops
    # waiting after 10 s, so a loop that runs tools one by one fails the test instead of hanging it.
    together: int = 0
    hold: bool = False  # hold every call until it is cancelled
    started: asyncio.Event = field(default_factory=asyncio.Event)  # set when a call begins
    _all_in: asyncio.Event = field(default_factory=asyncio.Event)


def make_registry(log: ToolLog) -> ToolRegistry:
    async def _enter(name: str, args: Any) -> None:
        log.calls.append((name, args.model_dump(exclude_none=True)))
        log.running += 1
        log.max_running = max(log.max_running, log.running)
        log.started.set()
        try:
            if log.hold:
                await asyncio.Event().wait()  # only cancellation ends it
            elif log.together:
                if log.running >= log.together:
                    log._all_in.set()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(log._all_in.wait(), 10)
        finally:
            log.running -= 1

    @tool(**same_as("search_books"))
    async def search_books(ctx: ToolContext[Any], args: SearchBooksArgs) -> SearchResult:
        """Search the five test books by words in their title and genres, honouring the filters."""
        await _enter("search_books", args)
        f = args.filters
        words = set(args.query.lower().split())
        hits = []
        for book in BOOKS:
            text = " ".join([book.title.lower(), *book.genres, *book.why.matched_terms])
            if f and f.genres_exclude and set(book.genres) & set(f.genres_exclude):
                continue
            if f and f.year_max is not None and (book.year or 0) > f.year_max:
                continue
            if f and f.exclude_ids and book.id in f.exclude_ids:
                continue
            if any(w in text for w in words) or "any" in words:
                hits.append(book)
        return SearchResult(
            books=hits[: args.limit], query=args.query, applied_filters=f, total_candidates=len(hits)
        )

    @tool(**same_as("find_book"))
    async def find_book(ctx: ToolContext[Any], args: FindBookArgs) -> FindBookResult:
        """Look a book up by title."""
        await _enter("find_book", args)
        match = next((b for b in BOOKS if b.title.lower() == args.title.lower()), None)
        return FindBookResult(match=match, exact=match is not None)

    @tool(**same_as("popular_books"))
    async def popular_books(ctx: ToolContext[Any], args: PopularBooksArgs) -> PopularBooksResult:
        """The most rated test books. No filters: only the agent's post-filter can apply constraints."""
        await _enter("popular_books", args)
        ranked = sorted(BOOKS, key=lambda b: -(b.ratings_count or 0))
        return PopularBooksResult(books=ranked[: args.limit], genre=args.genre)

    return ToolRegistry([search_books, find_book, popular_books])


# --- a scripted model -----------------------------------------------------------------------------


def text_reply(*chunks: str) -> list[LLMDelta]:
    return [LLMDelta(text=c) for c in chunks] + [LLMDelta(finish_reason="stop", usage=None)]


def tool_reply(*calls: tuple[str, dict[str, Any] | str], fragment: int = 5) -> list[LLMDelta]:
    """Tool calls as a provider streams them: header first, then argument fragments interleaved."""
    out = []
    pieces = []
    for i, (name, args) in enumerate(calls):
        text = args if isinstance(args, str) else json.dumps(args)
        pieces.append([text[j : j + fragment] for j in range(0, len(text), fragment)])
        out.append(LLMDelta(tool_calls=[ToolCallDelta(index=i, id=f"c{i}", name=name)]))
    for step in range(max(len(p) for p in pieces)):
        for i, p in enumerate(pieces):
            if step < len(p):
                out.append(LLMDelta(tool_calls=[ToolCallDelta(index=i, arguments=p[step])]))
    out.append(LLMDelta(finish_reason="tool_calls"))
    return out


@dataclass
class Hang:
    seconds: float = 30.0
    after: list[LLMDelta] = field(default_factory=list)  # deltas sent before stalling


Script = list[LLMDelta] | ProviderError | Hang


class ScriptedLLM:
    """Replies in order per model; records (model, messages, tools) of every call."""

    def __init__(self, **scripts: list[Script]) -> None:
        # Keyword names cannot hold "/": "openai__x" means "openai/x".
        self.scripts = {k.replace("__", "/"): list(v) for k, v in scripts.items()}
        self.calls: list[tuple[str, list[dict[str, Any]], list[dict[str, Any]]]] = []
        self.closed = 0

    async def stream(
        self,
        model: str,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        force: str | None = None,
    ) -> AsyncIterator[LLMDelta]:
        self.calls.append((model, copy.deepcopy(messages), tools))
        script = self.scripts.get(model) or []
        if not script:
            raise AssertionError(f"unexpected call to {model}")
        reply = script.pop(0)
        try:
            if isinstance(reply, ProviderError):
                raise reply
            if isinstance(reply, Hang):
                for delta in reply.after:
                    yield delta
                await asyncio.sleep(reply.seconds)
                return
            for delta in reply:
                await asyncio.sleep(0)
                yield delta
        finally:
            self.closed += 1


# --- reading a run ----------------------------------------------------------------------------------


async def collect(run: AsyncIterator[AgentEvent]) -> list[AgentEvent]:
    return [event async for event in run]


def text_of(events: list[AgentEvent]) -> str:
    return "".join(e.delta for e in events if isinstance(e, TextEvent))


def books_of(events: list[AgentEvent]) -> list[str]:
    return [b.id for e in events if isinstance(e, BooksEvent) for b in e.books]


def system_text(messages: list[dict[str, Any]]) -> str:
    """Every system message the model was sent (instructions, then the reader's context), joined."""
    return "\n".join(str(m.get("content") or "") for m in messages if m.get("role") == "system")


def statuses(events: list[AgentEvent]) -> list[str]:
    return [e.message for e in events if isinstance(e, StatusEvent)]


def done_of(events: list[AgentEvent]) -> DoneEvent:
    assert isinstance(events[-1], DoneEvent), events[-1]
    return events[-1]
