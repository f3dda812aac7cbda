"""A multi-turn conversation over HTTP with the default model: the offline planner (no litellm)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from chat_server import books_of, chat, uvicorn_server

from vibeshelf.agent.events import BooksEvent, DoneEvent, TextEvent, ToolCallEvent


def test_planner_conversation_keeps_constraints_and_feedback_across_turns(tmp_path: Path) -> None:
    env = {
        "VIBESHELF_HOME": str(tmp_path),
        "VIBESHELF_CHAT_RATE_LIMIT_PER_MINUTE": "0",
        "VIBESHELF_MODEL": "vibeshelf/planner",
        "CHAT_TEST_MODEL": "settings",
    }
    with uvicorn_server(env) as server:
        first = chat(server, message="something cozy and melancholic for a rainy weekend")
        sid = first[0].session_id
        done = first[-1]
        assert isinstance(done, DoneEvent) and done.model == "vibeshelf/planner" and not done.fell_back
        shown = {b.title for e in first if isinstance(e, BooksEvent) for b in e.books}
        answer = "".join(e.delta for e in first if isinstance(e, TextEvent))
        assert shown and set(re.findall(r"\*\*(.+?)\*\*", answer)) <= shown

        second = chat(server, session_id=sid, message="nothing young adult please")
        cards = [b for e in second if isinstance(e, BooksEvent) for b in e.books]
        assert cards and all("young_adult" not in b.genres for b in cards)

        third = chat(server, session_id=sid, message="more like the second one")
        seeds = [
            e.arguments["book_ids"]
            for e in third
            if isinstance(e, ToolCallEvent) and "book_ids" in e.arguments
        ]
        assert seeds and seeds[0] == [cards[1].id]  # "the second one" of the previous answer
        third_cards = [b for e in third if isinstance(e, BooksEvent) for b in e.books]
        assert third_cards and all("young_adult" not in b.genres for b in third_cards)  # turn 2 still holds

        read = third_cards[0].id
        httpx.post(f"{server.url}/v1/feedback", json={"session_id": sid, "book_id": read, "kind": "read"})
        fourth = chat(server, session_id=sid, message="more like the second one")
        assert read not in books_of(fourth)
        view = httpx.get(f"{server.url}/v1/sessions/{sid}").json()
        assert view["turn_count"] == 4 and read in view["excluded_ids"]
        assert "Traceback" not in server.output()


def test_the_session_returns_its_standing_request_as_data(tmp_path: Path) -> None:
    env = {
        "VIBESHELF_HOME": str(tmp_path),
        "VIBESHELF_CHAT_RATE_LIMIT_PER_MINUTE": "0",
        "VIBESHELF_MODEL": "vibeshelf/planner",
        "CHAT_TEST_MODEL": "settings",
    }
    with uvicorn_server(env) as server:
        sid = chat(server, message="a cozy fantasy, something like The Clockmaker's Garden")[0].session_id
        chat(server, session_id=sid, message="nothing by Hal Ives please, and published before 2000")
        request = httpx.get(f"{server.url}/v1/sessions/{sid}").json()["request"]
        assert "fantasy" in request["topic"] and "fantasy" in request["shelves_in"]
        assert request["liked_titles"] == ["The Clockmaker's Garden"]
        assert "Hal Ives" in request["exclude_authors"] and request["year_max"] == 1999

        chat(server, session_id=sid, message="forget that, a thriller for the train")
        request = httpx.get(f"{server.url}/v1/sessions/{sid}").json()["request"]
        assert "thriller" in request["topic"] and request["shelves_in"] == ["thriller"]
        assert request["liked_titles"] == [] and request["year_max"] is None
        assert "Hal Ives" in request["exclude_authors"]  # a "no" outlives the request it was said in
        assert request["authors"] == []


def test_the_request_view_names_the_authors_asked_for() -> None:
    from vibeshelf.agent.intent import Constraints
    from vibeshelf.agent.session_state import ReaderConstraints
    from vibeshelf.web.chat_routes import RequestView

    kept = ReaderConstraints(rules=Constraints(authors_any=["Eve Lin"], exclude_authors=["Hal Ives"]))
    view = RequestView.of(kept)
    assert view.authors == ["Eve Lin"] and view.exclude_authors == ["Hal Ives"]
