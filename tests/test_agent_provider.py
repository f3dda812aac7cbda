"""The agent over litellm's real HTTP path, against a fake OpenAI-compatible server on 127.0.0.1.

``VIBESHELF_MODEL=openai/fake-model`` + ``VIBESHELF_API_BASE=http://127.0.0.1:<port>/v1`` is exactly how
a llama.cpp / vLLM / OpenAI deployment is configured, so these tests prove that configuration works:
streamed tool-call deltas, multi-turn tool use, provider failures falling back to the offline planner
(the planner client, no litellm), grounding and hard constraints.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from agent_fakes import ToolLog, books_of, collect, done_of, make_registry, statuses, text_of
from fake_openai_server import Error, FakeOpenAIServer, Hang, Text, ToolCalls

from vibeshelf.agent.events import BooksEvent, TextEvent
from vibeshelf.agent.llm import PLANNER_MODEL
from vibeshelf.agent.loop import Agent
from vibeshelf.agent.prompt import unfence_data
from vibeshelf.agent.session_state import SessionState
from vibeshelf.settings import Settings
from vibeshelf.tools.tool import ToolContext

MODEL = "openai/fake-model"


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        yield server


def agent_for(server: FakeOpenAIServer, log: ToolLog | None = None, **overrides) -> Agent:
    values = {
        "model": MODEL,
        "api_base": server.base_url,
        "api_key": "sk-fake",
        "llm_retries": 0,
        "llm_timeout_s": 2.0,
        "stream_deadline_s": 5.0,
        "max_turns": 4,
        **overrides,
    }
    return Agent(make_registry(log or ToolLog()), ToolContext(None), Settings(**values))


def user(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


async def test_streamed_tool_call_deltas_and_multi_turn_tool_use(fake_openai: FakeOpenAIServer):
    fake_openai.script(
        ToolCalls(
            ("search_books", {"query": "cozy rainy", "limit": 3}),
            ("popular_books", {"genre": None, "limit": 2}),
            fragment=4,
        ),
        Text("Try **The Quiet Lighthouse** by Ada Vale.\n", "It is cozy and rainy."),
    )
    log = ToolLog()
    events = await collect(agent_for(fake_openai, log).run(user("a cozy book for a rainy day")))

    # The tool calls arrived in 4-character fragments, interleaved; both were rebuilt exactly.
    assert log.calls == [
        ("search_books", {"query": "cozy rainy", "limit": 3}),
        ("popular_books", {"limit": 2}),
    ]
    first, second = fake_openai.requests
    assert first["model"] == "fake-model" and first["stream"] is True
    assert {t["function"]["name"] for t in first["tools"]} == {"search_books", "find_book", "popular_books"}
    assert first["messages"][0]["role"] == "system"
    assert fake_openai.headers[0]["authorization"] == "Bearer sk-fake"
    # Turn two carries the assistant's tool calls and one fenced result per call.
    assistant, *tool_msgs = second["messages"][-3:]
    assert [c["id"] for c in assistant["tool_calls"]] == ["call_fake_0", "call_fake_1"]
    assert json.loads(assistant["tool_calls"][1]["function"]["arguments"]) == {"genre": None, "limit": 2}
    assert [m["tool_call_id"] for m in tool_msgs] == ["call_fake_0", "call_fake_1"]
    assert json.loads(unfence_data(tool_msgs[0]["content"]))["query"] == "cozy rainy"

    kinds = [e.type for e in events]
    assert kinds.index("books") < kinds.index("text")
    assert text_of(events) == "Try **The Quiet Lighthouse** by Ada Vale.\nIt is cozy and rainy."
    done = done_of(events)
    assert done.model == MODEL and not done.fell_back and done.turns == 2
    assert done.usage.total_tokens == (13 + 5) + (11 + 7)  # both calls' streamed usage


async def test_fragments_without_an_index_are_merged(fake_openai: FakeOpenAIServer):
    fake_openai.script(
        ToolCalls(("search_books", {"query": "melancholic", "limit": 2}), fragment=3, omit_index=True),
        Text("**A Winter of Small Griefs** suits that."),
    )
    log = ToolLog()
    events = await collect(agent_for(fake_openai, log).run(user("melancholic")))
    assert log.calls == [("search_books", {"query": "melancholic", "limit": 2})]
    assert books_of(events) == ["t:3"]


@pytest.mark.parametrize(("reply", "code"), [(Error(429), "rate_limited"), (Error(500), "server_error")])
async def test_provider_errors_fall_back_to_the_planner_for_this_turn(fake_openai, reply, code):
    fake_openai.script(reply)
    agent = agent_for(fake_openai)
    events = await collect(agent.run(user("something cozy and rainy")))
    assert len(fake_openai.requests) == 1  # no silent retries against a failing provider
    said = statuses(events)[0]
    assert f"{MODEL} is unavailable ({code})" in said and "offline planner" in said
    done = done_of(events)
    assert done.fell_back and done.model == PLANNER_MODEL
    assert books_of(events) and text_of(events).strip()
    # The next message tries the configured provider again.
    fake_openai.script(Text("Happy reading!"))
    events = await collect(agent.run([*user("something cozy and rainy"), *user("thanks!")]))
    assert done_of(events).model == MODEL and not done_of(events).fell_back


async def test_a_provider_that_never_answers_is_cut_at_the_timeout(fake_openai: FakeOpenAIServer):
    fake_openai.script(Hang())
    events = await collect(agent_for(fake_openai, llm_timeout_s=1.0).run(user("something cozy")))
    assert any("(timeout)" in s for s in statuses(events))  # cut by the timeout, not by the hang ending
    assert done_of(events).fell_back and books_of(events)


async def test_a_provider_that_stalls_mid_stream_is_cut_at_the_deadline(fake_openai: FakeOpenAIServer):
    fake_openai.script(Hang(after_chunks=2))
    agent = agent_for(fake_openai, llm_timeout_s=30.0, stream_deadline_s=1.0)
    events = await collect(agent.run(user("something cozy")))
    assert done_of(events).fell_back
    assert any("(timeout)" in s for s in statuses(events))
    assert "part 0" not in text_of(events)  # the half line never passed the grounder


async def test_a_hallucinated_title_is_removed(fake_openai: FakeOpenAIServer):
    fake_openai.script(
        ToolCalls(("search_books", {"query": "melancholic", "limit": 3})),
        Text(
            "Here are two:\n",
            "- **A Winter of Small Griefs** by Tomas Lind: grief, gently told.\n",
            "- **Never Let Me Go** by Kazuo Ishiguro: quietly devastating.\n",
        ),
    )
    events = await collect(agent_for(fake_openai).run(user("something melancholic")))
    text = text_of(events)
    assert "A Winter of Small Griefs" in text
    assert "Never Let Me Go" not in text and "Ishiguro" not in text
    assert done_of(events).removed_titles == ["Never Let Me Go"]
    shown = {b.title for e in events if isinstance(e, BooksEvent) for b in e.books}
    assert all(t.split("**")[1] in shown for t in text.splitlines() if "**" in t)


async def test_max_turns_is_respected(fake_openai: FakeOpenAIServer):
    fake_openai.script(*[ToolCalls(("search_books", {"query": f"cozy {i}", "limit": 1})) for i in range(6)])
    events = await collect(agent_for(fake_openai, max_turns=2).run(user("cozy")))
    assert len(fake_openai.requests) == 2 and fake_openai.remaining == 4
    done = done_of(events)
    assert done.finish_reason == "max_turns" and done.turns == 2
    assert text_of(events).strip()


async def test_an_unknown_tool_name_is_answered_with_an_error_result(fake_openai: FakeOpenAIServer):
    fake_openai.script(
        ToolCalls(("run_shell", {"cmd": "rm -rf /"})),
        Text("Sorry, could you describe the book you want?"),
    )
    events = await collect(agent_for(fake_openai).run(user("hi")))
    tool_msg = fake_openai.requests[1]["messages"][-1]
    error = json.loads(unfence_data(tool_msg["content"]))["error"]
    assert error["type"] == "not_found" and "run_shell" in error["message"]
    assert text_of(events) == "Sorry, could you describe the book you want?"


async def test_hard_constraints_hold_when_the_provider_forgets_not_ya(fake_openai: FakeOpenAIServer):
    fake_openai.script(
        ToolCalls(("search_books", {"query": "rainy", "limit": 5}), ("popular_books", {"limit": 5})),
        Text("Here are some rainy-day reads."),
        ToolCalls(("popular_books", {"limit": 5})),
        Text("More for you."),
    )
    log = ToolLog()
    agent = agent_for(fake_openai, log)
    state = SessionState()
    history = user("rainy day books, but not YA")
    events = await collect(agent.run(history, session_state=state))
    assert log.calls[0][1]["filters"]["genres_exclude"] == ["young_adult"]
    assert set(books_of(events)) == {"t:1", "t:3", "t:4"}  # no t:2 / t:5 (young adult)
    # Two turns later the exclusion still holds, though the provider never mentions it.
    history += [
        {"role": "assistant", "content": "Here are some rainy-day reads."},
        *user("show me popular ones"),
    ]
    events = await collect(agent.run(history, session_state=state))
    assert "t:5" not in books_of(events) and "t:2" not in books_of(events)


async def test_text_streams_in_several_events(fake_openai: FakeOpenAIServer):
    fake_openai.script(Text("Tell me more:\n", "what did you ", "last enjoy?\n", "Any genre?"))
    events = await collect(agent_for(fake_openai).run(user("hello")))
    deltas = [e.delta for e in events if isinstance(e, TextEvent)]
    assert deltas == ["Tell me more:\n", "what did you last enjoy?\n", "Any genre?"]


async def test_a_local_server_without_a_key_still_works(fake_openai: FakeOpenAIServer, monkeypatch):
    # llama.cpp / vLLM take any key, but the OpenAI client refuses to send a request without one.
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    fake_openai.script(Text("What are you in the mood for?"))
    events = await collect(agent_for(fake_openai, api_key=None).run(user("hello")))
    assert done_of(events).model == MODEL and not done_of(events).fell_back
    assert fake_openai.headers[0]["authorization"] == "Bearer no-key"
