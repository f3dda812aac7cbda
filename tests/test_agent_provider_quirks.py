"""What real OpenAI-compatible servers do to tool calls, reproduced by the fake server, one mode each.

Seen with llama-cpp-python, llama.cpp's server, Ollama and vLLM behind litellm: tools dropped unless
``tool_choice`` is sent, tool calls written as text in the model's own format, empty or cut streams
after a 200, and tool-call deltas with their arguments in the last chunk, empty fragments or no ids.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest
from agent_fakes import ToolLog, books_of, collect, done_of, make_registry, statuses, text_of
from fake_openai_server import EmptyStream, FakeOpenAIServer, RaiseAfter200, Text, ToolCalls

from vibeshelf.agent.events import ToolCallEvent
from vibeshelf.agent.llm import PLANNER_MODEL
from vibeshelf.agent.loop import Agent
from vibeshelf.settings import Settings
from vibeshelf.tools.tool import ToolContext

MODEL = "openai/fake-model"
ANSWER = "Try **A Winter of Small Griefs** by Tomas Lind: grief, gently told."


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        yield server


def agent_for(base_url: str, log: ToolLog | None = None, **overrides) -> Agent:
    values = {
        "model": MODEL,
        "api_base": base_url,
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


async def test_tool_choice_auto_is_sent_whenever_tools_are_offered(fake_openai: FakeOpenAIServer):
    # llama-cpp-python's chatml-function-calling leaves the tools out of the prompt without it.
    fake_openai.script(ToolCalls(("search_books", {"query": "melancholic", "limit": 2})), Text(ANSWER))
    await collect(agent_for(fake_openai.base_url).run(user("something melancholic")))
    assert [r.get("tool_choice") for r in fake_openai.requests] == ["auto", "auto"]
    assert all(r["tools"] for r in fake_openai.requests)


TEXT_CALLS = {
    "hermes": '<tool_call>\n{"name": "search_books", "arguments": {"query": "melancholic", "limit": 2}}\n'
    "</tool_call>",
    "bare_json": '{"name": "search_books", "arguments": {"query": "melancholic", "limit": 2}}',
    "fenced_json": '```json\n{"name": "search_books", "arguments": {"query": "melancholic", "limit": 2}}\n```',
    "double_brace": '{{"name": "search_books", "arguments": {"query": "melancholic", "limit": 2}}}',
    "extra_closing_brace": '{"name": "search_books", "arguments": {"query": "melancholic", "limit": 2}}}',
    "after_prose": "Let me look that up.\n<tool_call>\n"
    '{"name": "search_books", "parameters": {"query": "melancholic", "limit": 2}}\n</tool_call>',
}


@pytest.mark.parametrize("form", sorted(TEXT_CALLS))
async def test_tool_calls_written_as_text_are_run_as_calls(fake_openai: FakeOpenAIServer, form: str):
    text = TEXT_CALLS[form]
    # Streamed in small pieces, as a server sends them, so the markers arrive split.
    fake_openai.script(Text(*[text[i : i + 5] for i in range(0, len(text), 5)]), Text(ANSWER))
    log = ToolLog()
    events = await collect(agent_for(fake_openai.base_url, log).run(user("something melancholic")))
    assert log.calls == [("search_books", {"query": "melancholic", "limit": 2})]
    assert books_of(events) == ["t:3"]
    said = text_of(events)
    assert "tool_call" not in said and '"name"' not in said and "{" not in said
    assert "A Winter of Small Griefs" in said
    done = done_of(events)
    assert not done.fell_back and done.model == MODEL and done.turns == 2
    # The replayed assistant turn is a real tool call, not the text.
    assistant = fake_openai.requests[1]["messages"][-2]
    assert assistant["tool_calls"][0]["function"]["name"] == "search_books"
    assert "tool_call" not in (assistant.get("content") or "") and "{" not in (assistant.get("content") or "")


async def test_an_unreadable_call_looking_reply_is_a_provider_failure(fake_openai: FakeOpenAIServer):
    fake_openai.script(Text('<tool_call>\n{"name": "search_books", "arguments": {"query": "melan'))
    events = await collect(agent_for(fake_openai.base_url).run(user("something melancholic")))
    assert "tool_call" not in text_of(events)
    assert any(f"{MODEL} is unavailable (bad_response)" in s for s in statuses(events))
    done = done_of(events)
    assert done.fell_back and done.model == PLANNER_MODEL and books_of(events)


async def test_an_empty_stream_is_a_provider_failure(fake_openai: FakeOpenAIServer):
    fake_openai.script(EmptyStream())
    events = await collect(agent_for(fake_openai.base_url).run(user("something melancholic")))
    assert any(f"{MODEL} is unavailable (empty_response)" in s for s in statuses(events))
    done = done_of(events)
    assert done.fell_back and done.model == PLANNER_MODEL
    assert books_of(events) and "couldn't find" not in text_of(events)


@pytest.mark.parametrize(("chunks", "code"), [((), "empty_response"), (("Zzyzx half a ",), "truncated")])
async def test_a_server_that_raises_after_the_200_is_a_provider_failure(fake_openai, chunks, code):
    fake_openai.script(RaiseAfter200(chunks=chunks))
    events = await collect(agent_for(fake_openai.base_url).run(user("something melancholic")))
    said = statuses(events)
    assert any(f"{MODEL} is unavailable ({code})" in s and "offline planner" in s for s in said), said
    assert "Zzyzx" not in text_of(events)  # the cut-off line never reached the reader
    done = done_of(events)
    assert done.fell_back and done.model == PLANNER_MODEL and books_of(events)


@pytest.mark.parametrize(
    "quirk",
    [
        {"args_in_final_chunk": True},
        {"empty_deltas": True, "fragment": 3},
        {"omit_ids": True},
        {"whole_calls_at_index_0": True},
    ],
)
async def test_tool_call_stream_quirks_rebuild_the_same_calls(fake_openai: FakeOpenAIServer, quirk):
    fake_openai.script(
        ToolCalls(
            ("search_books", {"query": "melancholic", "limit": 2}),
            ("find_book", {"title": "The Quiet Lighthouse"}),
            **quirk,
        ),
        Text(ANSWER),
    )
    log = ToolLog()
    events = await collect(agent_for(fake_openai.base_url, log).run(user("something melancholic")))
    assert sorted(log.calls) == [
        ("find_book", {"title": "The Quiet Lighthouse"}),
        ("search_books", {"query": "melancholic", "limit": 2}),
    ]
    assert [e.arguments for e in events if isinstance(e, ToolCallEvent)] == [
        {"query": "melancholic", "limit": 2},
        {"title": "The Quiet Lighthouse"},
    ]
    # Each call has its own id in the replayed turn, and each result answers its own call.
    assistant, *results = fake_openai.requests[1]["messages"][-3:]
    ids = [c["id"] for c in assistant["tool_calls"]]
    assert len(set(ids)) == 2 and all(ids)
    assert [m["tool_call_id"] for m in results] == ids
    assert [json.loads(c["function"]["arguments"]) for c in assistant["tool_calls"]] == [
        {"query": "melancholic", "limit": 2},
        {"title": "The Quiet Lighthouse"},
    ]
    assert not done_of(events).fell_back


async def test_a_refused_connection_is_unreachable():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Nothing listens on the port now: the connection is refused.
    events = await collect(agent_for(f"http://127.0.0.1:{port}/v1").run(user("something melancholic")))
    assert any(f"{MODEL} is unavailable (unreachable)" in s for s in statuses(events)), statuses(events)
    assert done_of(events).fell_back


async def test_a_slow_first_token_waits_for_the_first_token_timeout(fake_openai: FakeOpenAIServer):
    # A CPU model reads the prompt for a long time, then streams at its own pace.
    fake_openai.script(Text("What are you in the mood for?", first_token_after_s=1.0))
    agent = agent_for(fake_openai.base_url, llm_timeout_s=0.3, llm_first_token_timeout_s=5.0)
    events = await collect(agent.run(user("hello")))
    assert text_of(events) == "What are you in the mood for?"
    assert not done_of(events).fell_back


async def test_the_first_token_timeout_defaults_to_the_llm_timeout(fake_openai: FakeOpenAIServer):
    fake_openai.script(Text("What are you in the mood for?", first_token_after_s=3.0))
    events = await collect(agent_for(fake_openai.base_url, llm_timeout_s=0.3).run(user("hello")))
    assert any("(timeout)" in s for s in statuses(events))
    assert done_of(events).fell_back


FROM_MEMORY = Text(
    "Here are two:\n",
    "- **Never Let Me Go** by Kazuo Ishiguro: quietly devastating.\n",
    "- **The Remains of the Day** by Kazuo Ishiguro: restraint and regret.\n",
)


async def test_an_answer_from_memory_is_nudged_once_to_use_the_tools(fake_openai: FakeOpenAIServer):
    fake_openai.script(
        FROM_MEMORY, ToolCalls(("search_books", {"query": "melancholic", "limit": 2})), Text(ANSWER)
    )
    log = ToolLog()
    events = await collect(agent_for(fake_openai.base_url, log).run(user("something melancholic")))
    said = text_of(events)
    assert "Ishiguro" not in said and "Here are two" not in said  # the held answer was never shown
    assert said == ANSWER and books_of(events) == ["t:3"]
    assert log.calls == [("search_books", {"query": "melancholic", "limit": 2})]
    nudge = fake_openai.requests[1]["messages"][-1]
    assert nudge["role"] == "user" and "tool" in nudge["content"]
    # The nudged step names the search tool, so a server that constrains output to its schema makes the
    # model call it; the other steps leave the choice to the model.
    assert fake_openai.requests[0]["tool_choice"] == "auto"
    assert fake_openai.requests[1]["tool_choice"] == {
        "type": "function",
        "function": {"name": "search_books"},
    }
    assert fake_openai.requests[2]["tool_choice"] == "auto"
    done = done_of(events)
    assert not done.fell_back and done.model == MODEL


async def test_a_model_that_still_uses_no_tool_hands_the_turn_to_the_planner(fake_openai: FakeOpenAIServer):
    fake_openai.script(FROM_MEMORY, FROM_MEMORY)
    log = ToolLog()
    events = await collect(agent_for(fake_openai.base_url, log).run(user("something melancholic")))
    assert len(fake_openai.requests) == 2
    assert any("without looking any book up" in s and "offline planner" in s for s in statuses(events))
    said = text_of(events)
    assert "Ishiguro" not in said and "Here are two" not in said
    # The planner answered from the same tools, and never saw the nudge as the reader's words.
    assert log.calls and log.calls[0][0] == "search_books" and "tool" not in log.calls[0][1]["query"]
    assert books_of(events)
    done = done_of(events)
    assert done.fell_back and done.model == PLANNER_MODEL


async def test_an_answer_that_is_only_data_is_nudged_not_answered_with_nothing(fake_openai: FakeOpenAIServer):
    # Seen on a real server for a pure mood: the reply was a JSON object (not a call), so nothing was left to
    # show, and the reader got "I couldn't find books" as if the model had looked and found none.
    fake_openai.script(
        Text('{"query": "cozy melancholic rainy weekend", "books": []}'),
        ToolCalls(("search_books", {"query": "melancholic", "limit": 2})),
        Text(ANSWER),
    )
    log = ToolLog()
    events = await collect(agent_for(fake_openai.base_url, log).run(user("something cozy for a rainy day")))
    assert "couldn't find" not in text_of(events) and text_of(events) == ANSWER
    assert len(log.calls) == 1 and books_of(events) == ["t:3"]
    assert not done_of(events).fell_back


def earlier_turn(reply: str) -> list[dict]:
    """A first turn whose search returned "A Winter of Small Griefs" by Tomas Lind, then ``reply``."""
    call = {"id": "c1", "type": "function", "function": {"name": "search_books", "arguments": "{}"}}
    found = {"books": [{"id": "t:3", "title": "A Winter of Small Griefs", "authors": ["Tomas Lind"]}]}
    return [
        *user("something melancholic"),
        {"role": "assistant", "content": "", "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "c1", "content": json.dumps(found)},
        {"role": "assistant", "content": ANSWER},
        *user(reply),
    ]


async def test_a_new_limit_answered_from_the_last_answer_is_nudged_to_look_again(
    fake_openai: FakeOpenAIServer,
):
    # Seen on a real server: "only ones published before 2000" answered by repeating the last answer,
    # with no look-up for the new limit.
    fake_openai.script(
        Text(ANSWER), ToolCalls(("search_books", {"query": "melancholic", "limit": 2})), Text(ANSWER)
    )
    log = ToolLog()
    events = await collect(agent_for(fake_openai.base_url, log).run(earlier_turn("only ones before 2000")))
    assert (
        len(log.calls) == 1 and fake_openai.requests[1]["tool_choice"]["function"]["name"] == "search_books"
    )
    assert text_of(events) == ANSWER and books_of(events) == ["t:3"] and not done_of(events).fell_back


async def test_a_book_found_earlier_whose_author_is_now_ruled_out_is_never_named(
    fake_openai: FakeOpenAIServer,
):
    # "anything but <author>" answered by repeating the last answer, which named that author's book (the
    # fake tools have no catalog to link a name to, so the refusal says "by").
    fake_openai.script(Text(ANSWER), Text(ANSWER))
    events = await collect(agent_for(fake_openai.base_url).run(earlier_turn("nothing by Tomas Lind")))
    assert "Winter of Small Griefs" not in text_of(events)
    assert "t:3" not in books_of(events)


async def test_a_question_back_without_books_is_shown_without_a_nudge(fake_openai: FakeOpenAIServer):
    fake_openai.script(Text("Happy to help! ", "Do you want something sad or something hopeful?"))
    events = await collect(agent_for(fake_openai.base_url).run(user("a book for tonight")))
    assert text_of(events) == "Happy to help! Do you want something sad or something hopeful?"
    assert len(fake_openai.requests) == 1 and not done_of(events).fell_back


async def test_static_instructions_and_tools_come_first_and_the_readers_context_later(
    fake_openai: FakeOpenAIServer,
):
    fake_openai.script(Text("What mood are you in?"), Text("Noted: nothing young adult."))
    agent = agent_for(fake_openai.base_url)
    await collect(agent.run(user("hello")))
    history = [
        *user("hello"),
        {"role": "assistant", "content": 'Sure.\n<tool_call>{"name": "search_books", "arguments": {}}'},
        *user("something rainy, but nothing young adult and before 2000"),
    ]
    await collect(agent.run(history))
    first, second = fake_openai.requests[:2]
    # The same prefix (system prompt, tools) for both turns, though the second states limits.
    assert first["messages"][0] == second["messages"][0] and first["tools"] == second["tools"]
    assert "leaving out young adult" not in second["messages"][0]["content"]
    context, last = second["messages"][-2:]
    assert context["role"] == "system" and "leaving out young adult" in context["content"]
    assert "<book_data>" in context["content"] and last == history[-1]
    # The replayed assistant turn carries no call-looking text for the model to copy.
    replayed = second["messages"][2]
    assert replayed["role"] == "assistant" and replayed["content"] == "Sure."


@pytest.mark.parametrize("on_finish", [False, True])
async def test_usage_is_counted_whether_it_comes_alone_or_with_the_finish(fake_openai, on_finish: bool):
    fake_openai.script(Text("What are you in the mood for?", usage=(120, 9), usage_on_finish=on_finish))
    events = await collect(agent_for(fake_openai.base_url).run(user("hello")))
    assert fake_openai.requests[0]["stream_options"] == {"include_usage": True}
    usage = done_of(events).usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (120, 9, 129)


async def test_a_model_that_repeats_its_calls_after_answering_stops_with_its_answer(
    fake_openai: FakeOpenAIServer,
):
    # A small model's loop seen on a real server: call, answer, then the same call again with the answer.
    call = '{"name": "search_books", "arguments": {"query": "melancholic", "limit": 2}}'
    again = '{"arguments": {"limit": 2, "query": "melancholic"}, "name": "search_books"}'
    fake_openai.script(Text(call), Text(ANSWER + "\n" + again), Text(ANSWER + "\n" + again))
    log = ToolLog()
    events = await collect(
        agent_for(fake_openai.base_url, log, max_turns=6).run(user("something melancholic"))
    )
    assert log.calls == [("search_books", {"query": "melancholic", "limit": 2})]  # run once
    assert len(fake_openai.requests) == 2
    assert text_of(events).strip() == ANSWER.strip()
    done = done_of(events)
    assert not done.fell_back and done.model == MODEL and done.finish_reason == "stop"


async def test_a_model_that_only_repeats_its_calls_stops_with_the_cards_it_found(
    fake_openai: FakeOpenAIServer,
):
    # Seen on a real server: the same look-ups asked for again and again, no answer written.
    call = ("search_books", {"query": "melancholic", "limit": 2})
    fake_openai.script(ToolCalls(call), ToolCalls(call), ToolCalls(call), ToolCalls(call))
    log = ToolLog()
    events = await collect(
        agent_for(fake_openai.base_url, log, max_turns=6).run(user("something melancholic"))
    )
    assert len(log.calls) == 1 and len(fake_openai.requests) == 2
    assert books_of(events) == ["t:3"] and "A Winter of Small Griefs" in text_of(events)
    assert done_of(events).finish_reason == "stop"


async def test_a_model_stuck_repeating_look_ups_that_found_nothing_hands_over_to_the_planner(
    fake_openai: FakeOpenAIServer,
):
    # Seen on a real server: find_book for a book, then the same find_book again and again; no card, no answer.
    call = ("find_book", {"title": "The Notebook"})
    fake_openai.script(ToolCalls(call), ToolCalls(call), ToolCalls(call))
    log = ToolLog()
    events = await collect(
        agent_for(fake_openai.base_url, log, max_turns=6).run(user("something melancholic"))
    )
    assert [name for name, _ in log.calls].count("find_book") == 1 and len(fake_openai.requests) == 2
    assert any("repeated its look-ups" in s for s in statuses(events))
    assert books_of(events) and done_of(events).fell_back and done_of(events).model == PLANNER_MODEL


async def test_the_same_call_written_several_times_in_one_reply_runs_once(fake_openai: FakeOpenAIServer):
    call = '{"name": "search_books", "arguments": {"query": "melancholic", "limit": 2}}'
    fake_openai.script(Text("\n".join([call, call, call])), Text(ANSWER))
    log = ToolLog()
    events = await collect(agent_for(fake_openai.base_url, log).run(user("something melancholic")))
    assert log.calls == [("search_books", {"query": "melancholic", "limit": 2})]
    assert text_of(events) == ANSWER


async def test_long_prose_after_a_call_is_not_shown_as_a_status(fake_openai: FakeOpenAIServer):
    claim = "This book is a classic novel that explores loss and longing, " * 4
    fake_openai.script(
        Text('{"name": "search_books", "arguments": {"query": "melancholic"}}\nLet me look that up.'),
        Text('{"name": "search_books", "arguments": {"query": "sad", "limit": 2}}\n\n' + claim),
        Text(ANSWER),
    )
    events = await collect(agent_for(fake_openai.base_url).run(user("something melancholic")))
    assert "Let me look that up." in statuses(events)
    assert not any("classic novel" in s for s in statuses(events))
    assert text_of(events) == ANSWER


async def test_an_answer_that_looks_nothing_up_for_a_limit_is_nudged(fake_openai: FakeOpenAIServer):
    # A small model's reply to a refinement, seen on a real server: no tool, no book, no answer.
    fake_openai.script(
        Text("Please rate the books you've seen."),
        ToolCalls(("search_books", {"query": "melancholic", "limit": 2})),
        Text(ANSWER),
    )
    log = ToolLog()
    events = await collect(
        agent_for(fake_openai.base_url, log).run(user("nothing by Stephen King, and before 2000"))
    )
    assert "rate the books" not in text_of(events)
    assert (
        len(log.calls) == 1 and fake_openai.requests[1]["tool_choice"]["function"]["name"] == "search_books"
    )
    assert text_of(events) == ANSWER and not done_of(events).fell_back


async def test_the_models_own_filters_that_find_nothing_are_dropped_but_the_readers_hold(
    fake_openai: FakeOpenAIServer,
):
    # The model invents a bound the reader never said, and nothing fits it.
    call = {"query": "melancholic", "limit": 2, "filters": {"year_max": 1000}}
    fake_openai.script(ToolCalls(("search_books", call)), Text(ANSWER))
    log = ToolLog()
    events = await collect(agent_for(fake_openai.base_url, log).run(user("something melancholic")))
    assert [c[1].get("filters") for c in log.calls] == [{"year_max": 1000}, None]
    assert books_of(events) == ["t:3"]
    tool_message = fake_openai.requests[1]["messages"][-1]
    assert "did not ask for" in tool_message["content"]


async def test_a_copied_data_block_is_never_the_answer(fake_openai: FakeOpenAIServer):
    # Seen on a real server: the model answered with the session block it was given.
    block = '{"last_shown": [], "liked_ids": ["The Hunger Games"], "constraints": {"genres_exclude": ["young_adult"]}}'
    fake_openai.script(
        ToolCalls(("search_books", {"query": "melancholic", "limit": 2})), Text(ANSWER + "\n" + block)
    )
    events = await collect(agent_for(fake_openai.base_url).run(user("something melancholic")))
    said = text_of(events)
    assert "liked_ids" not in said and "{" not in said and said.strip() == ANSWER


async def test_cards_under_a_text_that_names_none_of_them_get_their_description(
    fake_openai: FakeOpenAIServer,
):
    fake_openai.script(
        ToolCalls(("search_books", {"query": "melancholic", "limit": 2})), Text("Sorry, I can't help.")
    )
    events = await collect(agent_for(fake_openai.base_url).run(user("something melancholic")))
    said = text_of(events)
    assert said.startswith("Sorry, I can't help.") and "**A Winter of Small Griefs**" in said
    assert books_of(events) == ["t:3"] and not done_of(events).fell_back


async def test_a_model_failing_after_its_calls_hands_the_planner_the_readers_message(
    fake_openai: FakeOpenAIServer,
):
    fake_openai.script(ToolCalls(("find_book", {"title": "Nothing Like It"})), Text(""))
    log = ToolLog()
    events = await collect(agent_for(fake_openai.base_url, log).run(user("something melancholic")))
    done = done_of(events)
    assert done.fell_back and done.model == PLANNER_MODEL
    # The planner answered as it answers the message alone, not the failed model's lookup.
    alone = ToolLog()
    await collect(
        agent_for(fake_openai.base_url, alone, model=PLANNER_MODEL).run(user("something melancholic"))
    )
    assert log.calls[1:] == alone.calls and alone.calls
    assert "lost my place" not in text_of(events)


async def test_look_ups_that_come_to_nothing_hand_the_turn_to_the_planner(fake_openai: FakeOpenAIServer):
    # Seen on a real server: calls with invented ids, no card, then an "explanation" of the tool calls.
    fake_openai.script(
        ToolCalls(("search_books", {"query": "zzzz qqqq", "limit": 2})),
        Text("### Explanation:\n- **search_books**: searched the catalog.\n"),
    )
    log = ToolLog()
    events = await collect(agent_for(fake_openai.base_url, log).run(user("something melancholic")))
    assert any("offline planner" in s for s in statuses(events))
    done = done_of(events)
    assert done.fell_back and done.model == PLANNER_MODEL and books_of(events)
    assert "Explanation" not in text_of(events)


def test_a_call_shaped_line_is_never_a_status() -> None:
    from vibeshelf.agent.text_calls import looks_like_call

    assert looks_like_call('{{"name": "readers_also_liked", "arguments": {"book_ids": ["e5b3')
    assert looks_like_call('<tool_call>{"name": "x"')
    assert not looks_like_call("Let me look that up.")


async def test_a_book_shown_before_and_since_ruled_out_is_not_named_again(fake_openai: FakeOpenAIServer):
    from vibeshelf.agent.session_state import SessionState, ShownBook

    state = SessionState(
        shown=[ShownBook(id="t:1", title="The Quiet Lighthouse", authors=["Ada Vale"])], turns=1
    )
    # Seen on a real server: after "anything but <author>", the model repeated the earlier list, that author's book
    # included.
    fake_openai.script(
        Text("- **The Quiet Lighthouse** by Ada Vale: a classic.\n"),
        ToolCalls(("search_books", {"query": "melancholic", "limit": 2})),
        Text(ANSWER),
    )
    events = await collect(
        agent_for(fake_openai.base_url).run(user("nothing by Ada Vale please"), session_state=state)
    )
    assert "Quiet Lighthouse" not in text_of(events)
    assert text_of(events) == ANSWER


def test_data_cut_off_by_the_token_limit_is_still_data() -> None:
    from vibeshelf.agent.text_calls import is_data

    assert is_data(
        '{"last_shown": [{"position": 1, "id": "goodbooks:9780", "title": "Necronomicon", "year": 193'
    )
    assert is_data('```json\n{"a": 1}\n```')
    assert not is_data("{Braces} in prose are not data")


async def test_the_temperature_is_sent_only_when_set(fake_openai: FakeOpenAIServer):
    fake_openai.script(Text("Hi! What are you in the mood for?"), Text("Hi! What are you in the mood for?"))
    await collect(agent_for(fake_openai.base_url, temperature=0.0).run(user("hello")))
    await collect(agent_for(fake_openai.base_url).run(user("hello")))
    assert fake_openai.requests[0]["temperature"] == 0.0
    assert "temperature" not in fake_openai.requests[1]
