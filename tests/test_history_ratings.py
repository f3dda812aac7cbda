"""A reader's stars reach the whole-history scorer: "what should I read next?" after a library import weighs
each rated book by its stars (``CFModelSpec.history_weights``, chosen on validation), whatever ids the model
passed.

Two Goodreads exports hold the same books, all rated 4 or 5 (so both libraries like the same books and an
unweighted history is the same for both); only which half got 5 stars differs. Real goodbooks-mini index
(LanceDB) and CF model, sessions in a temp DuckDB file: once through the app with the offline planner
(upload, then chat), once through ``run_turn`` with a scripted model that passes a single history id.
"""

from __future__ import annotations

import csv
import io
import re
import time
from pathlib import Path

import pytest
from agent_fakes import ScriptedLLM, books_of, text_reply, tool_reply
from fastapi.testclient import TestClient
from goodreads_library import EXPORT_PATH

from vibeshelf.agent.conversation import Turn, run_turn
from vibeshelf.agent.events import DoneEvent
from vibeshelf.agent.loop import Agent
from vibeshelf.agent.session_state import ReaderLibrary, SessionState
from vibeshelf.agent.session_store import SessionStore
from vibeshelf.layout import Layout
from vibeshelf.retrieval.library_import import import_library
from vibeshelf.retrieval.readers_also_liked import ReadersAlsoLiked
from vibeshelf.settings import Settings
from vibeshelf.tools.default_registry import default_registry
from vibeshelf.tools.tool import ToolContext
from vibeshelf.web.app import create_app

pytestmark = pytest.mark.slow

# Harry Potter's seven, and adult epic fantasy (A Song of Ice and Fire, the Kingkiller Chronicle, Mistborn).
WIZARDS = ("Harry Potter",)
EPIC = ("A Song of Ice and Fire", "Kingkiller Chronicle", "Mistborn")
ASK = "what should I read next?"


def export(five_stars: tuple[str, ...]) -> str:
    """The fixture export cut to the two groups, rated 5 stars where the series is in ``five_stars`` and
    4 elsewhere; every row read (the fixture's to-read A Dance with Dragons included)."""
    rows = list(csv.reader(io.StringIO(EXPORT_PATH.read_text(encoding="utf-8-sig"))))
    header, body = rows[0], rows[1:]
    title, rating, shelf = header.index("Title"), header.index("My Rating"), header.index("Exclusive Shelf")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in body:
        if not any(series in row[title] for series in WIZARDS + EPIC):
            continue
        row[rating] = "5" if any(series in row[title] for series in five_stars) else "4"
        row[shelf] = "read"
        writer.writerow(row)
    return out.getvalue()


LOVES_WIZARDS, LOVES_EPIC = export(WIZARDS), export(EPIC)


def test_the_exports_like_the_same_books_with_different_stars(mini_services) -> None:
    wizards = ReaderLibrary.of(import_library(LOVES_WIZARDS, mini_services.library_matcher))
    epic = ReaderLibrary.of(import_library(LOVES_EPIC, mini_services.library_matcher))
    assert wizards.matched == epic.matched == 14 and wizards.unmatched == 0
    assert set(wizards.liked_ids) == set(epic.liked_ids) == set(wizards.ratings)  # same liked history
    assert wizards.ratings != epic.ratings and set(wizards.ratings.values()) == {4.0, 5.0}
    history = SessionState(
        library=wizards, liked_ids=["goodbooks:1"], disliked_ids=[next(iter(epic.ratings))]
    )
    rated = history.rated_history()
    assert list(rated.values()) == sorted(rated.values(), reverse=True)  # best rated first
    assert rated["goodbooks:1"] == 4.0  # a thumbs-up counts as liked
    assert next(iter(epic.ratings)) not in rated  # thumbed down since: out of the history


def weighted_order(layout: Layout, library: ReaderLibrary, k: int = 40) -> list[str]:
    """The history model's own order for this library, its stars applied (what eval scores)."""
    model = ReadersAlsoLiked.load(layout)
    return [
        h.book_id
        for h in model.recommend_history(list(library.ratings), library.read_ids, k, library.ratings).hits
    ]


@pytest.fixture(scope="module")
def client(goodbooks_mini_index: Layout, tmp_path_factory: pytest.TempPathFactory):
    settings = Settings(
        home=goodbooks_mini_index.home,
        state_db=tmp_path_factory.mktemp("state") / "state.duckdb",
        chat_rate_limit_per_minute=0,
    )
    with TestClient(create_app(settings)) as c:
        yield c


def _picks_after_import(client: TestClient, data: str) -> list[str]:
    sid = client.post("/v1/sessions").json()["id"]
    response = client.post(f"/v1/sessions/{sid}/library", files={"file": ("goodreads.csv", data, "text/csv")})
    assert response.status_code == 200, response.text
    text = client.post("/v1/chat", json={"message": ASK, "session_id": sid}).text
    assert "event: done" in text, text[-500:]
    return re.findall(r'"id": ?"(goodbooks:\d+)"', text.split("event: books", 1)[-1])


def test_the_stars_change_the_next_answer_through_the_app(
    client: TestClient, goodbooks_mini_index: Layout, mini_services
) -> None:
    model = ReadersAlsoLiked.load(goodbooks_mini_index)
    assert model.meta.config.history.history_weights is not None  # the served model weighs by stars
    libraries = {
        name: ReaderLibrary.of(import_library(data, mini_services.library_matcher))
        for name, data in (("wizards", LOVES_WIZARDS), ("epic", LOVES_EPIC))
    }
    orders = {name: weighted_order(goodbooks_mini_index, lib) for name, lib in libraries.items()}
    assert orders["wizards"][:6] != orders["epic"][:6]  # else the stars could not show
    picks = {
        name: _picks_after_import(client, data)
        for name, data in (("wizards", LOVES_WIZARDS), ("epic", LOVES_EPIC))
    }
    assert picks["wizards"] and picks["epic"] and picks["wizards"] != picks["epic"]
    for name, got in picks.items():
        assert not set(got) & set(libraries[name].read_ids)
        assert set(got) <= set(orders[name]), (name, got, orders[name][:10])  # the weighted scorer's picks
        assert got[0] == orders[name][0]


async def _answer(store: SessionStore, agent: Agent, session_id: str) -> list[str]:
    session = await store.require(session_id)
    turn = Turn(
        session=session, message=ASK, history=[], surface="chat", client="test", started=time.perf_counter()
    )
    events = [event async for event in run_turn(store, agent, turn)]
    assert isinstance(events[-1], DoneEvent), events[-1]
    return books_of(events)


async def test_a_models_history_call_is_scored_from_the_sessions_stars(
    goodbooks_mini_index: Layout, mini_services, tmp_path: Path
) -> None:
    """The model names one book of the history (as a model may): the tool scores the session's whole rated
    library with its stars, so the same call answers differently for the two readers."""
    store = SessionStore.open(tmp_path / "state.duckdb", idle_expiry_s=3600)
    try:
        answers = {}
        for name, data in (("wizards", LOVES_WIZARDS), ("epic", LOVES_EPIC)):
            library = ReaderLibrary.of(import_library(data, mini_services.library_matcher))
            session = await store.create()
            await store.set_library(session.id, library)
            one = sorted(library.liked_ids)[0]  # the same book in both libraries
            llm = ScriptedLLM(
                openai__scripted=[
                    tool_reply(("readers_also_liked", {"history": True, "book_ids": [one], "limit": 6})),
                    text_reply("From your shelves."),
                ]
            )
            settings = Settings(model="openai/scripted", fallback_models=[], max_turns=3)
            agent = Agent(default_registry(), ToolContext(deps=mini_services), settings, llm=llm)
            answers[name] = (await _answer(store, agent, session.id), library)
        for got, library in answers.values():
            order = weighted_order(goodbooks_mini_index, library)
            assert got and set(got) <= set(order) and got[0] == order[0]
            assert not set(got) & set(library.read_ids)
        assert answers["wizards"][0] != answers["epic"][0]
    finally:
        store.close()
