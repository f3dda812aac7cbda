"""A test-only vibeshelf app for the chat HTTP tests: the real chat routes, session store, limits and
agent loop, over a dozen hand-made books and (by default) a scripted model.

Run by the tests as a real uvicorn process::

    python -m uvicorn chat_test_app:create_app --factory --app-dir tests --port PORT

Environment (besides the usual ``VIBESHELF_*`` settings):

* ``CHAT_TEST_MODEL=scripted`` (default): a scripted model that searches for the user's words, then
  names the books found. ``CHAT_TEST_MODEL=settings``: the model from settings through litellm (the
  offline planner by default).
* A message containing ``two-searches`` makes the scripted model call search_books twice at once
  ("cozy" and "space"), so one answer has two ``books`` events.
* ``CHAT_TEST_MARKERS=DIR``: where the slow paths leave marker files, so a test in another process can
  see that work started and was cancelled. A search whose query contains ``glacial`` blocks for 30 s
  (``search-started`` / ``search-cancelled``); a message containing ``stall-model`` makes the scripted
  model block (``model-started`` / ``model-cancelled``); ``slow-text`` streams the answer slowly.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from agent_fakes import same_as
from fastapi import FastAPI

from vibeshelf.agent.events import Usage
from vibeshelf.agent.llm import LLMDelta, ToolCallDelta
from vibeshelf.agent.loop import Agent
from vibeshelf.agent.prompt import unfence_data
from vibeshelf.layout import Layout
from vibeshelf.settings import Settings
from vibeshelf.tools.models import (
    BookCard,
    BookDetails,
    FeelingLuckyArgs,
    FeelingLuckyResult,
    FindBookArgs,
    FindBookResult,
    GetBookArgs,
    GetBookResult,
    MatchEvidence,
    PopularBooksArgs,
    PopularBooksResult,
    ReadersAlsoLikedArgs,
    ReadersAlsoLikedResult,
    SearchBooksArgs,
    SearchFilters,
    SearchResult,
)
from vibeshelf.tools.registry import ToolRegistry
from vibeshelf.tools.tool import ToolContext, ToolFailure, tool
from vibeshelf.web.access import AccessMiddleware, AccessPolicy
from vibeshelf.web.chat_routes import install_chat, open_chat
from vibeshelf.web.errors import install_error_handlers

_BOOKS = [
    ("t:1", "The Rain Cottage", ["Ada Moss"], 2015, ["fiction", "romance"], 4.1, 12000, "cozy rainy weekend"),
    (
        "t:2",
        "Lanterns in the Fog",
        ["Ben Hale"],
        1988,
        ["mystery", "fiction"],
        4.3,
        56000,
        "cozy village mystery",
    ),
    (
        "t:3",
        "Vampire Summer",
        ["Cleo Dark"],
        2009,
        ["paranormal", "young_adult"],
        3.7,
        230000,
        "vampire teen",
    ),
    (
        "t:4",
        "The Quiet Orchard",
        ["Ada Moss"],
        1999,
        ["fiction", "historical_fiction"],
        4.0,
        8000,
        "melancholic",
    ),
    ("t:5", "Stars Over Kepler", ["Dev Rao"], 2019, ["science_fiction"], 4.4, 90000, "space exploration"),
    (
        "t:6",
        "A Teacup of Thunder",
        ["Eve Lin"],
        1975,
        ["fantasy", "classics"],
        4.2,
        300000,
        "whimsical storm",
    ),
    (
        "t:7",
        "Midnight at the Bookshop",
        ["Fay Orr"],
        2021,
        ["mystery", "romance"],
        3.9,
        4000,
        "cozy bookshop",
    ),
    ("t:8", "The Salt Road", ["Gus Pym"], 1962, ["classics", "adventure"], 4.05, 150000, "sea voyage"),
    ("t:9", "Ghosts of the Glacier", ["Hal Ives"], 2012, ["horror", "thriller"], 3.8, 22000, "icy dread"),
    (
        "t:10",
        "Letters to Nobody",
        ["Ida Wu"],
        2005,
        ["fiction", "young_adult"],
        4.15,
        61000,
        "melancholic teen",
    ),
    ("t:11", "The Clockmaker's Garden", ["Jon Vale"], 1994, ["fantasy"], 4.25, 33000, "cozy magic garden"),
    ("t:12", "Winter Reading Room", ["Kit Ash"], 2017, ["fiction"], 4.0, 15000, "cozy rainy library"),
]


def _card(row: tuple[Any, ...], **why: Any) -> BookCard:
    book_id, title, authors, year, genres, rating, count, blurb = row
    return BookCard(
        id=book_id,
        title=title,
        authors=authors,
        year=year,
        genres=genres,
        average_rating=rating,
        ratings_count=count,
        link=f"https://example.org/book/{book_id}",
        excerpt=f"A {blurb} novel.",
        why=MatchEvidence(**why),
    )


def _admits(row: tuple[Any, ...], f: SearchFilters | None) -> bool:
    if f is None:
        return True
    book_id, title, authors, year, genres, rating, count, blurb = row
    text = f"{title} {blurb}".lower()
    return not (
        (f.year_min is not None and year < f.year_min)
        or (f.year_max is not None and year > f.year_max)
        or (f.genres_include and not set(f.genres_include) & set(genres))
        or (f.genres_exclude and set(f.genres_exclude) & set(genres))
        or (f.min_average_rating is not None and rating < f.min_average_rating)
        or (f.min_ratings_count is not None and count < f.min_ratings_count)
        or (f.max_ratings_count is not None and count > f.max_ratings_count)
        or (f.exclude_authors and set(f.exclude_authors) & set(authors))
        or (f.exclude_ids and book_id in f.exclude_ids)
        or (f.exclude_terms and any(term.lower() in text for term in f.exclude_terms))
    )


def _marker(name: str) -> None:
    folder = os.environ.get("CHAT_TEST_MARKERS")
    if folder:
        Path(folder, name).touch()


async def _block(what: str) -> None:
    _marker(f"{what}-started")
    try:
        await asyncio.sleep(30)
    except asyncio.CancelledError:
        _marker(f"{what}-cancelled")
        raise


@tool(**same_as("search_books"))
async def search_books(ctx: ToolContext[Any], args: SearchBooksArgs) -> SearchResult:
    """Search the test shelf by words in the title and blurb."""
    if "glacial" in args.query.lower():
        await _block("search")
    words = {w.strip(".,!?").lower() for w in args.query.split() if len(w) > 2}
    scored = []
    for row in _BOOKS:
        if not _admits(row, args.filters):
            continue
        text = f"{row[1]} {row[7]} {' '.join(row[4])}".lower()
        matched = sorted(w for w in words if w in text)
        scored.append((len(matched), row[6], row, matched))
    scored.sort(key=lambda s: (-s[0], -s[1]))
    books = [
        _card(row, matched_terms=matched, fused_rank=i + 1, method="test")
        for i, (_, _, row, matched) in enumerate(scored[: args.limit])
    ]
    return SearchResult(
        books=books, query=args.query, applied_filters=args.filters, total_candidates=len(scored)
    )


@tool(**same_as("find_book"))
def find_book(ctx: ToolContext[Any], args: FindBookArgs) -> FindBookResult:
    """Find a book on the test shelf by title."""
    for row in _BOOKS:
        if row[1].lower() == args.title.lower():
            return FindBookResult(match=_card(row), exact=True)
    close = [_card(r) for r in _BOOKS if args.title.lower() in r[1].lower()][:7]
    return FindBookResult(match=None, suggestions=close, exact=False)


@tool(**same_as("readers_also_liked"))
def readers_also_liked(ctx: ToolContext[Any], args: ReadersAlsoLikedArgs) -> ReadersAlsoLikedResult:
    """Books sharing a genre with the seeds."""
    seeds = [r for r in _BOOKS if r[0] in args.book_ids]
    genres = {g for r in seeds for g in r[4]}
    picks = [
        _card(r, co_readers=100 + i, method="collaborative")
        for i, r in enumerate(_BOOKS)
        if r[0] not in args.book_ids and r[0] not in args.avoid_ids and genres & set(r[4])
    ]
    return ReadersAlsoLikedResult(books=picks[: args.limit], method="collaborative")


@tool(**same_as("get_book"))
def get_book(ctx: ToolContext[Any], args: GetBookArgs) -> GetBookResult:
    """One book's details."""
    for row in _BOOKS:
        if row[0] == args.book_id:
            return GetBookResult(book=BookDetails(**_card(row).model_dump(), description=row[7]))
    raise ToolFailure(f"no book {args.book_id}", error_type="not_found")


@tool(**same_as("feeling_lucky"))
def feeling_lucky(ctx: ToolContext[Any], args: FeelingLuckyArgs) -> FeelingLuckyResult:
    """One pick."""
    rows = [r for r in _BOOKS if _admits(r, args.filters)]
    return FeelingLuckyResult(book=_card(rows[0]) if rows else None, mood=args.mood)


@tool(**same_as("popular_books"))
def popular_books(ctx: ToolContext[Any], args: PopularBooksArgs) -> PopularBooksResult:
    """Most-rated first."""
    rows = sorted((r for r in _BOOKS if args.genre is None or args.genre in r[4]), key=lambda r: -r[6])
    return PopularBooksResult(books=[_card(r) for r in rows[: args.limit]], genre=args.genre)


def shelf_registry() -> ToolRegistry:
    return ToolRegistry([search_books, find_book, readers_also_liked, get_book, feeling_lucky, popular_books])


class ScriptedModel:
    """Searches for the user's words, then names what came back (bold titles), as a model would."""

    async def stream(
        self,
        model: str,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        force: str | None = None,
    ) -> AsyncIterator[LLMDelta]:
        last = messages[-1]
        user = next(m for m in reversed(messages) if m["role"] == "user")
        text = str(user.get("content") or "")
        if last["role"] == "user":
            if "stall-model" in text:
                await _block("model")
            if "two-searches" in text:  # two tool calls in one round: two books events for one answer
                for index, query in enumerate(("cozy", "space")):
                    arguments = json.dumps({"query": query, "filters": None, "limit": 2})
                    call = ToolCallDelta(
                        index=index, id=f"call_{index}", name="search_books", arguments=arguments
                    )
                    yield LLMDelta(tool_calls=[call])
                yield LLMDelta(
                    finish_reason="tool_calls",
                    usage=Usage(prompt_tokens=5, completion_tokens=6, total_tokens=11),
                )
                return
            arguments = json.dumps({"query": text, "filters": None, "limit": 4})
            # The call arrives in two fragments, as real providers stream it.
            yield LLMDelta(
                tool_calls=[ToolCallDelta(index=0, id="call_1", name="search_books", arguments=arguments[:9])]
            )
            yield LLMDelta(tool_calls=[ToolCallDelta(index=0, arguments=arguments[9:])])
            yield LLMDelta(
                finish_reason="tool_calls", usage=Usage(prompt_tokens=5, completion_tokens=3, total_tokens=8)
            )
            return
        titles = []
        since_user = messages[max(i for i, m in enumerate(messages) if m["role"] == "user") :]
        for m in since_user:
            if m["role"] == "tool":
                try:
                    titles += [b["title"] for b in json.loads(unfence_data(m["content"])).get("books", [])]
                except (ValueError, AttributeError, TypeError):
                    continue
        parts = ["Here is what I found. "] + [f"**{t}** fits the mood. " for t in titles[:3]]
        if not titles:
            parts = ["Nothing on the shelf fits that."]
        for part in parts:
            if "slow-text" in text:
                await asyncio.sleep(0.5)
            yield LLMDelta(text=part)
        yield LLMDelta(
            finish_reason="stop", usage=Usage(prompt_tokens=20, completion_tokens=12, total_tokens=32)
        )


def create_app() -> FastAPI:
    settings = Settings()
    layout = Layout(settings.home_dir).ensure()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        llm = ScriptedModel() if os.environ.get("CHAT_TEST_MODEL", "scripted") == "scripted" else None
        agent = Agent(shelf_registry(), ToolContext(deps=None), settings, llm=llm)
        app.state.settings = settings
        app.state.chat = open_chat(settings, layout, agent)
        try:
            yield
        finally:
            app.state.chat.close()

    app = FastAPI(lifespan=lifespan)
    install_error_handlers(app)
    install_chat(app, settings)
    # The real access check, so sessions belong to credentials here as in the real app.
    app.add_middleware(AccessMiddleware, policy=AccessPolicy(settings))

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "pid": str(os.getpid())}

    return app
