"""Planner test harness (no tests here): the six tools over goodbooks-mini, and a driver that runs a chat.

The tools answer with the real argument and result models (so a planner call with a wrong field fails
validation exactly as in production), the real title lookup (``retrieval.title_lookup``) and the real
filter SQL (``retrieval.filters.build_where``) on a real LanceDB table in a temp folder, with page bounds
left out and noted as the real tools do (``retrieval.filters.drop_unknowable_pages``). Only the ranking
is simpler than production: search ranks by query words found in the book (no vector index needed),
readers_also_liked counts co-readers in goodbooks-mini's ratings, feeling_lucky draws with a fixed seed.
"""

from __future__ import annotations

import json
import random
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pyarrow.parquet as pq
import pytest
from pydantic import BaseModel

from vibeshelf.agent.planner import AnswerStep, PlannerConfig, ToolCallsStep, plan
from vibeshelf.agent.prompt import fence_data
from vibeshelf.agent.reading.reader import MessageReader
from vibeshelf.layout import Layout
from vibeshelf.retrieval.filters import build_where, drop_unknowable_pages, has_page_counts
from vibeshelf.retrieval.title_lookup import TitleLookup
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
    SearchResult,
    ToolError,
)

_WORD = re.compile(r"[a-z]{3,}")
_STOP = frozenset(
    [
        "the",
        "and",
        "for",
        "with",
        "that",
        "this",
        "from",
        "book",
        "books",
        "novel",
        "about",
        "something",
        "like",
        "read",
    ]
)


class MiniTools:
    """The six vibeshelf tools over a normalised goodbooks-mini catalog."""

    def __init__(self, layout: Layout, work: Path) -> None:
        import lancedb

        self.catalog_path = layout.catalog
        catalog = pq.read_table(layout.catalog)
        self.rows: dict[str, dict[str, Any]] = {r["id"]: r for r in catalog.to_pylist()}
        self.titles = TitleLookup.from_table(catalog)
        self.table = lancedb.connect(str(work / "lancedb")).create_table("books", catalog, mode="overwrite")
        self.page_counts = has_page_counts(catalog)
        self.genres = {g for r in self.rows.values() for g in r["genres"]}
        liked: dict[str, set[str]] = defaultdict(set)
        for r in pq.read_table(layout.ratings).to_pylist():
            if r["rating"] >= 4:
                liked[r["user_id"]].add(r["book_id"])
        self.fans: dict[str, set[str]] = defaultdict(set)
        for user, books in liked.items():
            for b in books:
                self.fans[b].add(user)
        self.calls: list[tuple[str, dict[str, Any]]] = []

    # --- helpers ---
    def _allowed(self, filters: Any) -> list[dict[str, Any]]:
        where = build_where(filters)
        query = self.table.search()
        if where:
            query = query.where(where)
        return query.limit(len(self.rows)).to_arrow().to_pylist()

    def _card(self, row: dict[str, Any], **why: Any) -> BookCard:
        return BookCard.from_row(row, MatchEvidence(**why))

    # --- tools ---
    def search_books(self, args: SearchBooksArgs) -> SearchResult:
        filters, notes = drop_unknowable_pages(args.filters, self.page_counts)
        words = [w for w in _WORD.findall(args.query.lower()) if w not in _STOP]
        scored = []
        for row in self._allowed(filters):
            text = " ".join([row["title"], row["description"] or "", " ".join(row["genres"])]).lower()
            hits = [w for w in dict.fromkeys(words) if re.search(rf"\b{w}", text)]
            scored.append((len(hits), row["ratings_count"] or 0, row, hits))
        scored.sort(key=lambda x: (-x[0], -x[1]))
        books = [
            self._card(row, matched_terms=hits, fused_rank=i + 1, method="hybrid")
            for i, (_, _, row, hits) in enumerate(scored[: args.limit])
        ]
        return SearchResult(
            books=books, query=args.query, applied_filters=filters, total_candidates=len(scored), notes=notes
        )

    def find_book(self, args: FindBookArgs) -> FindBookResult:
        result = self.titles.find(args.title, args.author)
        cards = [
            self._card(
                self.rows[m.book_id],
                method="lookup",
                score=m.score,
                reason="exact title match" if result.exact else f"title {m.score:.0f}% similar",
            )
            for m in result.matches
        ]
        if result.exact and cards:
            return FindBookResult(match=cards[0], suggestions=cards[1:], exact=True)
        return FindBookResult(match=None, suggestions=cards, exact=False)

    def readers_also_liked(self, args: ReadersAlsoLikedArgs) -> ReadersAlsoLikedResult:
        seeds = [b for b in args.book_ids if b in self.rows]
        fans = set().union(*(self.fans[b] for b in seeds)) if seeds else set()
        skip = set(args.avoid_ids) | set(args.book_ids)
        counts = [(len(self.fans[b] & fans), b) for b in self.rows if b not in skip and self.fans[b] & fans]
        counts.sort(key=lambda x: (-x[0], x[1]))
        books = [
            self._card(self.rows[b], co_readers=n, method="collaborative") for n, b in counts[: args.limit]
        ]
        unknown = [b for b in args.book_ids if b not in self.rows]
        return ReadersAlsoLikedResult(books=books, method="collaborative", unknown_ids=unknown)

    def popular_books(self, args: PopularBooksArgs) -> PopularBooksResult | ToolError:
        if args.genre and args.genre not in self.genres:
            return ToolError.of("invalid_arguments", f"Unknown genre {args.genre!r}.")
        filters, notes = drop_unknowable_pages(args.filters, self.page_counts)
        rows = [r for r in self._allowed(filters) if not args.genre or args.genre in r["genres"]]
        rows.sort(key=lambda r: -(r["ratings_count"] or 0))
        books = [
            self._card(
                r, method="popular", reason=f"#{i} most rated" + (f" in {args.genre}" if args.genre else "")
            )
            for i, r in enumerate(rows[: args.limit], start=1)
        ]
        return PopularBooksResult(books=books, genre=args.genre, notes=notes)

    def feeling_lucky(self, args: FeelingLuckyArgs) -> FeelingLuckyResult:
        filters, notes = drop_unknowable_pages(args.filters, self.page_counts)
        rows = self._allowed(filters)
        if args.mood:
            ranked = self.search_books(SearchBooksArgs(query=args.mood, filters=filters, limit=25)).books
            pool = [self.rows[b.id] for b in ranked]
        else:
            pool = sorted(rows, key=lambda r: -(r["average_rating"] or 0))[:25]
        pick = random.Random(7).choice(pool) if pool else None
        card = self._card(pick, method="lucky", reason="a lucky pick") if pick else None
        return FeelingLuckyResult(book=card, mood=args.mood, applied_filters=filters, notes=notes)

    def get_book(self, args: GetBookArgs) -> GetBookResult:
        return GetBookResult(book=BookDetails.from_row(self.rows[args.book_id]))

    _ARGS: ClassVar[dict[str, type[BaseModel]]] = {
        "search_books": SearchBooksArgs,
        "find_book": FindBookArgs,
        "readers_also_liked": ReadersAlsoLikedArgs,
        "popular_books": PopularBooksArgs,
        "feeling_lucky": FeelingLuckyArgs,
        "get_book": GetBookArgs,
    }

    def schemas(self) -> list[dict[str, Any]]:
        return [
            {"type": "function", "function": {"name": n, "parameters": m.model_json_schema()}}
            for n, m in self._ARGS.items()
        ]

    def call(self, name: str, arguments: str) -> str:
        """One call as the agent loop makes it: validated arguments in, fenced JSON out."""
        args = self._ARGS[name].model_validate_json(arguments)  # a bad argument fails the test here
        self.calls.append((name, json.loads(arguments)))
        result = getattr(self, name)(args)
        return fence_data(result.model_dump_json())


@dataclass
class Chat:
    """A conversation driven like the agent loop drives it: plan, run tools, repeat until an answer."""

    tools: MiniTools
    config: PlannerConfig = field(default_factory=PlannerConfig)
    reader: MessageReader | None = None  # None: general rules only, no catalog names
    messages: list[dict[str, Any]] = field(default_factory=list)
    steps: list[ToolCallsStep | AnswerStep] = field(default_factory=list)

    def say(self, text: str, *, max_steps: int = 6) -> AnswerStep:
        self.messages.append({"role": "user", "content": text})
        self.steps = []
        self.tools.calls = []
        for _ in range(max_steps):
            step = plan(self.messages, self.tools.schemas(), self.config, self.reader)
            self.steps.append(step)
            if isinstance(step, AnswerStep):
                self.messages.append({"role": "assistant", "content": step.text})
                return step
            self.messages.append(
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": c.id,
                            "type": "function",
                            "function": {"name": c.name, "arguments": c.arguments_json()},
                        }
                        for c in step.calls
                    ],
                }
            )
            for c in step.calls:
                self.messages.append(
                    {
                        "role": "tool",
                        "tool_call_id": c.id,
                        "name": c.name,
                        "content": self.tools.call(c.name, c.arguments_json()),
                    }
                )
        raise AssertionError(f"no answer after {max_steps} planner steps: {self.steps}")

    def called(self, name: str) -> list[dict[str, Any]]:
        """Arguments of this turn's calls to ``name``."""
        return [a for n, a in self.tools.calls if n == name]

    def returned_ids(self) -> set[str]:
        """Every book id any tool returned in the whole conversation."""
        ids: set[str] = set()
        for m in self.messages:
            if m["role"] == "tool":
                for card in _cards(json.loads(m["content"].split("\n", 1)[1].rsplit("\n", 1)[0])):
                    ids.add(card["id"])
        return ids


def _cards(data: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if isinstance(data, dict):
        if isinstance(data.get("id"), str) and isinstance(data.get("title"), str):
            out.append(data)
        for v in data.values():
            out += _cards(v)
    elif isinstance(data, list):
        for v in data:
            out += _cards(v)
    return out


_BUILT: dict[Path, MiniTools] = {}


def build_mini_tools(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> MiniTools:
    """The tools over goodbooks-mini, built once per test session (ingest + LanceDB take ~2 s)."""
    from rich.console import Console

    from vibeshelf.ingest.normalize import normalize

    source = shared_data / "goodbooks-mini"
    if source not in _BUILT:
        home = tmp_path_factory.mktemp("planner-home")
        layout = Layout(home)
        normalize("goodbooks", source, layout, console=Console(quiet=True))
        _BUILT[source] = MiniTools(layout, home)
    return _BUILT[source]
