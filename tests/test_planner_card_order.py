"""What the reader sees agrees with what the planner says: the cards streamed are the books the answer
numbers, in the same order, and "the second one" next turn is the second card.

Real conversations through the real agent loop (the offline planner client -> the six real tools
over the goodbooks-mini index, with the loop's ConstraintGuard), plus one scripted-model check that the
loop streams books in call order even when an earlier tool is the slower one.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import pytest
from agent_fakes import BOOKS, ScriptedLLM, collect, same_as, text_reply, tool_reply

from vibeshelf.agent.cards import shown_cards
from vibeshelf.agent.constraints import HardConstraints
from vibeshelf.agent.events import AgentEvent, BookPick, BooksEvent, DoneEvent, TextEvent, ToolCallEvent
from vibeshelf.agent.llm import PLANNER_MODEL
from vibeshelf.agent.loop import Agent
from vibeshelf.agent.planner import PlannerConfig, read_turns, turn_cards
from vibeshelf.agent.planner_client import PlannerClient
from vibeshelf.agent.prompt import unfence_data
from vibeshelf.agent.session_state import SessionState
from vibeshelf.settings import Settings
from vibeshelf.tools.default_registry import default_registry
from vibeshelf.tools.models import PopularBooksArgs, PopularBooksResult, SearchBooksArgs, SearchResult
from vibeshelf.tools.registry import ToolRegistry
from vibeshelf.tools.tool import ToolContext, tool

MAX_CARDS = 8
_NUMBERED = re.compile(r"^(\d+)\. \*\*(.+?)\*\*", re.MULTILINE)


class Conversation:
    """A session as the chat surfaces keep it: history with tool messages replayed, SessionState kept."""

    def __init__(self, agent: Agent) -> None:
        self.agent = agent
        self.history: list[dict[str, Any]] = []
        self.state = SessionState()

    async def say(self, text: str) -> list[AgentEvent]:
        user = {"role": "user", "content": text}
        run = self.agent.run([*self.history, user], session_state=self.state)
        events = await collect(run)
        assert isinstance(events[-1], DoneEvent), events[-1]
        assert events[-1].model == PLANNER_MODEL and not events[-1].fell_back
        self.history += [user, *run.new_messages]
        return events


def cards(events: list[AgentEvent]) -> list[BookPick]:
    return [b for e in events if isinstance(e, BooksEvent) for b in e.books]


def calls(events: list[AgentEvent], name: str) -> list[dict[str, Any]]:
    return [e.arguments for e in events if isinstance(e, ToolCallEvent) and e.name == name]


def numbered_ids(events: list[AgentEvent]) -> list[str]:
    """The ids of the books the answer's numbered list names, in order (numbers must run 1..N)."""
    text = "".join(e.delta for e in events if isinstance(e, TextEvent))
    lines = _NUMBERED.findall(text)
    assert [int(n) for n, _ in lines] == list(range(1, len(lines) + 1)), text
    by_title = {c.title: c.id for c in cards(events)}
    assert len(by_title) == len(cards(events)), "two cards share a title; the check below would be ambiguous"
    missing = [t for _, t in lines if t not in by_title]
    assert not missing, f"the answer numbers books that were not shown as cards: {missing}"
    return [by_title[t] for _, t in lines]


def assert_consistent(events: list[AgentEvent]) -> list[BookPick]:
    shown = cards(events)
    kinds = [e.type for e in events]
    assert shown and kinds.index("books") < kinds.index("text")  # cards still come before the answer
    assert len(shown) <= MAX_CARDS, [c.title for c in shown]
    assert len({c.id for c in shown}) == len(shown)
    assert numbered_ids(events) == [c.id for c in shown]  # card n is item n of the text
    return shown


@pytest.fixture()
def planner_agent(mini_services) -> Agent:
    # The planner with default settings: the guard parses the reader's words with the same defaults.
    settings = Settings(model=PLANNER_MODEL, fallback_models=[], max_turns=6)
    return Agent(
        default_registry(), ToolContext(deps=mini_services), settings, llm=PlannerClient(PlannerConfig())
    )


@pytest.mark.slow
async def test_cards_are_the_numbered_books_and_references_resolve_against_them(planner_agent: Agent) -> None:
    chat = Conversation(planner_agent)

    first = await chat.say("a gripping mystery")
    (search,) = calls(first, "search_books")
    assert search["limit"] <= MAX_CARDS
    shown1 = assert_consistent(first)
    assert len(shown1) >= 3
    # The session recorded the cards in the order they were shown.
    assert [b.id for b in chat.state.last_shown()] == [c.id for c in shown1]

    second = await chat.say("more like the second one")
    related = calls(second, "readers_also_liked")
    assert related and related[0]["book_ids"] == [shown1[1].id]  # the second card, not another order
    shown2 = assert_consistent(second)
    assert not {c.id for c in shown1} & {c.id for c in shown2}  # "more": nothing shown before
    intro = "".join(e.delta for e in second if isinstance(e, TextEvent)).split("\n")[0]
    assert f"**{shown1[1].title}**" in intro

    third = await chat.say("more like the last one")
    related = calls(third, "readers_also_liked")
    assert related and related[0]["book_ids"] == [shown2[-1].id]
    assert_consistent(third)

    fourth = await chat.say("more like the first one")
    assert calls(fourth, "readers_also_liked")[0]["book_ids"] == [cards(third)[0].id]
    assert_consistent(fourth)


@pytest.mark.slow
async def test_the_planners_figures_stand_the_grounders_check_of_them(planner_agent: Agent) -> None:
    # Its "like" answers cite co-reader counts ("240 readers who enjoyed The Hobbit rated it highly") and
    # restate the reader's limits after the seed's title ("If you liked **The Hobbit**, try these
    # (published in 2005)"): neither is a figure of the book it follows, and no line may go for them.
    chat = Conversation(planner_agent)
    events = await chat.say("like The Hobbit, from 2005")
    shown = assert_consistent(events)
    text = "".join(e.delta for e in events if isinstance(e, TextEvent))
    assert "**The Hobbit**" in text.split("\n")[0] and "2005" in text.split("\n")[0]
    assert len(shown) >= 3 and any(c.year == 2005 for c in shown)
    assert re.search(r"\d+ readers who (?:enjoyed|rated) The Hobbit", text)
    done = events[-1]
    assert isinstance(done, DoneEvent) and done.removed_titles == []


@pytest.mark.slow
async def test_the_guard_drops_violating_books_before_they_are_shown(
    planner_agent: Agent, mini_services
) -> None:
    chat = Conversation(planner_agent)
    events = await chat.say("Something like The Hunger Games, nothing young adult")
    shown = assert_consistent(events)
    assert all("young_adult" not in c.genres for c in shown)

    # Without filters (as a model may call it) the same call does return young adult books: the
    # planner's filters, and the loop's guard for any model, keep them off the cards.
    (args,) = calls(events, "readers_also_liked")
    assert "young_adult" in args["filters"]["genres_exclude"]
    unfiltered = {k: v for k, v in args.items() if k != "filters"}
    raw = await default_registry().call("readers_also_liked", unfiltered, ToolContext(deps=mini_services))
    dropped = [b.id for b in raw.output.books if "young_adult" in b.genres]
    assert dropped
    assert not set(dropped) & {c.id for c in shown}
    turns, _ = read_turns(chat.history)
    seen_by_planner = [c["id"] for c in turn_cards(turns[-1])]
    assert seen_by_planner == [c.id for c in shown]


@pytest.mark.slow
async def test_a_page_limit_the_catalog_cannot_check_keeps_the_cards_and_is_said(
    planner_agent: Agent,
) -> None:
    # goodbooks-mini has no page counts: the real tools ignore the bound and note it, the guard (which
    # holds max_pages 200 too) keeps the cards, and the answer says so in one sentence.
    chat = Conversation(planner_agent)
    events = await chat.say("short books under 200 pages")
    (search,) = calls(events, "search_books")
    assert search["query"] == "short books" and search["filters"] == {"max_pages": 200}
    shown = assert_consistent(events)
    assert len(shown) == search["limit"]
    text = "".join(e.delta for e in events if isinstance(e, TextEvent))
    assert text.count("This catalog has no page counts, so I couldn't apply “under 200 pages”.") == 1


# --- the loop's side of the rule -----------------------------------------------------------------------


def _slow_first_registry() -> ToolRegistry:
    second_answered = asyncio.Event()

    @tool(**same_as("search_books"))
    async def search_books(ctx: ToolContext[Any], args: SearchBooksArgs) -> SearchResult:
        """Slow: answers after the second call has."""
        await asyncio.wait_for(second_answered.wait(), 10)
        return SearchResult(books=[BOOKS[2], BOOKS[0]], query=args.query, total_candidates=2)

    @tool(**same_as("popular_books"))
    async def popular_books(ctx: ToolContext[Any], args: PopularBooksArgs) -> PopularBooksResult:
        """Fast; shares one book with the search."""
        second_answered.set()
        return PopularBooksResult(books=[BOOKS[4], BOOKS[0], BOOKS[1]])

    return ToolRegistry([search_books, popular_books])


async def test_books_stream_in_call_order_even_when_a_later_tool_returns_first() -> None:
    llm = ScriptedLLM(
        openai__x=[
            tool_reply(("search_books", {"query": "any"}), ("popular_books", {"limit": 3})),
            text_reply("Done.\n"),
        ]
    )
    agent = Agent(
        _slow_first_registry(),
        ToolContext(None),
        Settings(model="openai/x", llm_timeout_s=2.0, stream_deadline_s=4.0, max_turns=3),
        llm=llm,
        constraints_from=lambda messages, state: HardConstraints(),
    )
    state = SessionState()
    run = agent.run([{"role": "user", "content": "anything"}], session_state=state)
    events = await collect(run)
    shown = [c.id for c in cards(events)]
    assert shown == ["t:3", "t:1", "t:5", "t:2"]  # call order, then result order, each book once
    assert [b.id for b in state.last_shown()] == shown
    # The same rule over the tool messages (what a planner reads) gives the same cards in the same order.
    tool_messages = [m for m in run.new_messages if m["role"] == "tool"]
    again = shown_cards((m["name"], json.loads(unfence_data(m["content"]))) for m in tool_messages)
    assert [c["id"] for c in again] == shown


def test_lookups_and_errors_show_no_cards() -> None:
    card = BOOKS[0].model_dump(mode="json")
    results = [
        ("find_book", {"match": card, "suggestions": [], "exact": True}),
        ("get_book", {"book": card}),
        ("search_books", {"error": {"type": "tool_failed", "message": "x", "fields": []}}),
        ("search_books", "not json"),
        ("feeling_lucky", {"book": card, "mood": None}),
        ("popular_books", {"books": [card, BOOKS[1].model_dump(mode="json")]}),
    ]
    assert [c["id"] for c in shown_cards(results)] == ["t:1", "t:2"]
    assert [c["id"] for c in shown_cards(results, seen={"t:2"})] == ["t:1"]
