"""The reader's limits hold for the whole stored conversation, not only while the message that said them is
among the turns replayed to the model (``VIBESHELF_CHAT_HISTORY_TURNS``), and a later message lifts them.

Real turns as the chat surfaces run them (``agent.conversation.run_turn``: load the session with its
recent turns, run the real agent loop with its ConstraintGuard, save to a real DuckDB file in tmp_path),
first with a scripted model over the five test books, then with the offline planner over goodbooks-mini.
"""

from __future__ import annotations

import copy
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from agent_fakes import BOOKS, ToolLog, books_of, make_registry, system_text, text_reply, tool_reply

from vibeshelf.agent.conversation import Turn, run_turn
from vibeshelf.agent.events import AgentEvent, BooksEvent, DoneEvent, TextEvent
from vibeshelf.agent.llm import PLANNER_MODEL, LLMDelta
from vibeshelf.agent.loop import Agent
from vibeshelf.agent.planner import PlannerConfig, read_conversation, read_turns
from vibeshelf.agent.planner_client import PlannerClient
from vibeshelf.agent.session_store import SessionStore
from vibeshelf.settings import Settings
from vibeshelf.tools.default_registry import default_registry
from vibeshelf.tools.tool import ToolContext
from vibeshelf.web.chat_routes import SessionView

YOUNG_ADULT = {b.id for b in BOOKS if "young_adult" in b.genres}  # t:2, t:5: the two most popular
BY_ADA_VALE = {b.id for b in BOOKS if "Ada Vale" in b.authors}
FILLERS = ["something cozy", "more please", "a gripping mystery", "anything rainy", "more of those"]


class ShelfModel:
    """Answers every message by asking popular_books (which takes no filters: only the guard can keep a
    limit there) and search_books for anything, then says so. Records what it was sent."""

    def __init__(self) -> None:
        self.calls: list[list[dict[str, Any]]] = []

    async def stream(
        self,
        model: str,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        force: str | None = None,
    ) -> AsyncIterator[LLMDelta]:
        self.calls.append(copy.deepcopy(messages))
        if messages[-1]["role"] == "user":
            reply = tool_reply(
                ("popular_books", {"limit": 5}), ("search_books", {"query": "any", "limit": 5})
            )
        else:
            reply = text_reply("Here are a few from the shelf.\n")
        for delta in reply:
            yield delta

    def first_call_of_last_turn(self) -> list[dict[str, Any]]:
        return self.calls[-2]  # each turn: the tool round, then the answer


class StoredChat:
    """One conversation the way /v1/chat runs it: the session and its last turns loaded each message."""

    def __init__(self, store: SessionStore, agent: Agent, session_id: str | None = None) -> None:
        self.store = store
        self.agent = agent
        self.session_id = session_id

    async def say(self, text: str) -> list[AgentEvent]:
        if self.session_id is None:
            session = await self.store.create()
            self.session_id = session.id
        else:
            session = await self.store.require(
                self.session_id, history_turns=self.agent.settings.chat_history_turns
            )
        turn = Turn(
            session=session,
            message=text,
            history=session.history_messages(),
            surface="chat",
            client="test",
            started=time.perf_counter(),
        )
        events = [event async for event in run_turn(self.store, self.agent, turn)]
        assert isinstance(events[-1], DoneEvent), events[-1]
        return events

    async def view(self) -> SessionView:
        assert self.session_id is not None
        return SessionView.of(await self.store.require(self.session_id), idle_expiry_s=3600)


def shelf_agent(log: ToolLog, model: ShelfModel, history_turns: int) -> Agent:
    settings = Settings(
        model="openai/x",
        fallback_models=[],
        max_turns=3,
        llm_timeout_s=5.0,
        stream_deadline_s=10.0,
        chat_history_turns=history_turns,
    )
    return Agent(make_registry(log), ToolContext(None), settings, llm=model)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SessionStore]:
    s = SessionStore.open(tmp_path / "state.duckdb", idle_expiry_s=3600, cache_turns=2)
    yield s
    s.close()


def user_texts(messages: list[dict[str, Any]]) -> list[str]:
    return [m["content"] for m in messages if m["role"] == "user"]


async def test_nothing_young_adult_holds_long_after_it_left_the_history(store: SessionStore) -> None:
    log, model = ToolLog(), ShelfModel()
    chat = StoredChat(store, shelf_agent(log, model, history_turns=2))
    first = await chat.say("nothing young adult please")
    assert books_of(first) and not set(books_of(first)) & YOUNG_ADULT
    for n in range(10):
        events = await chat.say(FILLERS[n % len(FILLERS)])
        shown = books_of(events)
        assert shown, f"turn {n + 2} showed nothing"
        assert not set(shown) & YOUNG_ADULT, f"turn {n + 2} showed a young adult book: {shown}"

    sent = model.first_call_of_last_turn()
    # The model saw only the last two turns and the new message: "nothing young adult" left long ago...
    assert len(user_texts(sent)) == 3 and not any("young adult" in t for t in user_texts(sent))
    # ...yet it is still stated to the model, merged into its searches, and kept in the session.
    assert "leaving out young adult" in system_text(sent)
    name, args = log.calls[-1]
    assert name == "search_books" and args["filters"]["genres_exclude"] == ["young_adult"]
    view = await chat.view()
    assert view.turn_count == 11 and view.constraints == ["leaving out young adult"]


async def test_a_later_lift_removes_the_kept_limit_and_stays_lifted(store: SessionStore) -> None:
    log, model = ToolLog(), ShelfModel()
    chat = StoredChat(store, shelf_agent(log, model, history_turns=1))
    said = ["nothing young adult, and nothing by Ada Vale", *FILLERS[:3]]
    for text in said:
        shown = set(books_of(await chat.say(text)))
        assert shown and not shown & (YOUNG_ADULT | BY_ADA_VALE)
    lifted = set(books_of(await chat.say("actually young adult is fine")))
    assert lifted >= YOUNG_ADULT and not lifted & BY_ADA_VALE  # only the limit lifted goes
    for text in FILLERS[:3]:  # the lift leaves the window too, and still holds; Ada Vale stays out
        shown = set(books_of(await chat.say(text)))
        assert shown >= YOUNG_ADULT and not shown & BY_ADA_VALE
    view = await chat.view()
    assert view.constraints == ["nothing by Ada Vale"]
    assert "leaving out young adult" not in system_text(model.first_call_of_last_turn())


async def test_kept_limits_survive_reopening_the_state_file(tmp_path: Path) -> None:
    path = tmp_path / "state.duckdb"
    log, model = ToolLog(), ShelfModel()
    agent = shelf_agent(log, model, history_turns=1)
    store = SessionStore.open(path, idle_expiry_s=3600, cache_turns=1)
    try:
        chat = StoredChat(store, agent)
        await chat.say("nothing young adult")
        await chat.say("published before 2000 please")
        session_id = chat.session_id
    finally:
        store.close()

    store = SessionStore.open(path, idle_expiry_s=3600, cache_turns=1)  # as after a restart
    try:
        chat = StoredChat(store, agent, session_id)
        for text in FILLERS[:3]:
            shown = books_of(await chat.say(text))
            # Not young adult and before 2000: of the five books only these two qualify.
            assert shown and set(shown) <= {"t:1", "t:3"}
        assert not any("young adult" in t or "2000" in t for t in user_texts(model.first_call_of_last_turn()))
        view = await chat.view()
        assert view.constraints == ["leaving out young adult", "published up to 1999"]
    finally:
        store.close()


async def test_the_planner_reads_the_kept_limits_from_the_real_system_prompt(store: SessionStore) -> None:
    # The prompt names the <book_data> tag in its prose too; the session block must still be found.
    log, model = ToolLog(), ShelfModel()
    chat = StoredChat(store, shelf_agent(log, model, history_turns=1))
    for text in ["nothing young adult", "before 2000", "more please", "more please"]:
        await chat.say(text)
    sent = model.first_call_of_last_turn()
    assert sent[0]["role"] == "system" and user_texts(sent) == ["more please", "more please"]
    _, session = read_turns(sent)
    assert session["constraints"] == {"genres_exclude": ["young_adult"], "year_max": 1999}
    assert [b["position"] for b in session["last_shown"]] == [1, 2]  # t:1 and t:3, the two that qualify
    rules = read_conversation(sent).constraints
    assert rules.genres_exclude == ["young_adult"] and rules.year_max == 1999


# --- the offline planner over real data -----------------------------------------------------------------


@pytest.mark.slow
async def test_the_planner_keeps_not_young_adult_past_the_history_window(
    mini_services, tmp_path: Path
) -> None:
    settings = Settings(model=PLANNER_MODEL, fallback_models=[], max_turns=6, chat_history_turns=2)
    agent = Agent(
        default_registry(), ToolContext(deps=mini_services), settings, llm=PlannerClient(PlannerConfig())
    )
    store = SessionStore.open(tmp_path / "state.duckdb", idle_expiry_s=3600, cache_turns=2)
    try:
        chat = StoredChat(store, agent)
        said = [
            "an epic fantasy adventure, nothing young adult",
            "more please",
            "something with dragons",
            "a magical school",
            "more please",
            "a dystopian rebellion",
            "something with vampires",
            "more please",
            "a teen romance",
            "a coming of age story",
            "more please",
        ]
        for text in said:
            events = await chat.say(text)
            cards = [b for e in events if isinstance(e, BooksEvent) for b in e.books]
            young = [b.title for b in cards if "young_adult" in b.genres]
            assert not young, f"{text!r} showed young adult books: {young}"
        assert cards  # the last turn still found books
        answer = "".join(e.delta for e in events if isinstance(e, TextEvent))
        assert "young adult" in answer  # the planner still says what it left out
        view = await chat.view()
        assert view.constraints == ["leaving out young adult"]
    finally:
        store.close()
