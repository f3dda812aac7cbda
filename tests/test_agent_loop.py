"""The agent loop's logic, driven by a scripted model at our own LLM boundary (no HTTP, no litellm)."""

from __future__ import annotations

import asyncio
import json

import pytest
from agent_fakes import (
    Hang,
    ScriptedLLM,
    ToolLog,
    books_of,
    collect,
    done_of,
    make_registry,
    statuses,
    system_text,
    text_of,
    text_reply,
    tool_reply,
)

from vibeshelf.agent.constraints import HardConstraints
from vibeshelf.agent.events import BooksEvent, ErrorEvent, StatusEvent, TextEvent, ToolCallEvent
from vibeshelf.agent.llm import PLANNER_MODEL, LLMDelta, ProviderError, ToolCallDelta
from vibeshelf.agent.loop import Agent, ToolCallAccumulator
from vibeshelf.agent.prompt import unfence_data
from vibeshelf.agent.session_state import SessionState, ShownBook
from vibeshelf.settings import Settings
from vibeshelf.tools.tool import ToolContext

MODEL = "openai/x"


def no_constraints(messages, state):
    return HardConstraints.from_conversation([], state)


def make_agent(llm: ScriptedLLM, log: ToolLog | None = None, constraints=no_constraints, **settings) -> Agent:
    values = {"model": MODEL, "llm_timeout_s": 1.0, "stream_deadline_s": 2.0, "max_turns": 4, **settings}
    s = Settings(**values)
    return Agent(make_registry(log or ToolLog()), ToolContext(None), s, llm=llm, constraints_from=constraints)


def user(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


async def test_text_answer_streams_and_finishes_with_done():
    llm = ScriptedLLM(openai__x=[text_reply("Hello! What are you ", "in the mood for?\n", "Tell me more.")])
    events = await collect(make_agent(llm).run(user("hi")))
    assert text_of(events) == "Hello! What are you in the mood for?\nTell me more."
    done = done_of(events)
    assert (done.model, done.fell_back, done.turns, done.finish_reason) == (MODEL, False, 1, "stop")
    # The system prompt comes first and names the tools; the user's words follow unchanged.
    _, messages, tools = llm.calls[0]
    assert messages[0]["role"] == "system" and "search_books" in messages[0]["content"]
    assert messages[1]["role"] == "system" and "<book_data>" in messages[1]["content"]  # the reader's context
    assert messages[2:] == user("hi")
    assert {t["function"]["name"] for t in tools} == {"search_books", "find_book", "popular_books"}


async def test_streamed_tool_call_fragments_are_merged_and_tools_run_concurrently():
    log = ToolLog(together=2)
    llm = ScriptedLLM(
        openai__x=[
            tool_reply(
                ("search_books", {"query": "cozy rainy", "limit": 5}), ("popular_books", {"limit": 2})
            ),
            text_reply("Try **The Quiet Lighthouse** by Ada Vale: cozy and rainy.\n"),
        ]
    )
    events = await collect(make_agent(llm, log).run(user("something cozy for a rainy day")))

    assert log.calls[0] == ("search_books", {"query": "cozy rainy", "limit": 5})
    assert log.calls[1] == ("popular_books", {"limit": 2})
    assert log.max_running == 2  # both tools were running at the same moment: dispatched concurrently
    calls = [e for e in events if isinstance(e, ToolCallEvent)]
    assert [(c.name, c.arguments) for c in calls] == [
        ("search_books", {"query": "cozy rainy", "limit": 5}),
        ("popular_books", {"limit": 2}),
    ]
    assert "searching for cozy rainy" in statuses(events)
    # Books arrive before any explanation text, each with a reason.
    first_books = next(i for i, e in enumerate(events) if isinstance(e, BooksEvent))
    first_text = next(i for i, e in enumerate(events) if isinstance(e, TextEvent))
    assert first_books < first_text
    picks = [b for e in events if isinstance(e, BooksEvent) for b in e.books]
    assert len({p.id for p in picks}) == len(picks)  # a book returned by both tools is shown once
    assert all(p.reason for p in picks)
    # The second model call sees the assistant tool calls and both results, fenced as data.
    _, messages, _ = llm.calls[1]
    assistant = messages[-3]
    assert [c["function"]["name"] for c in assistant["tool_calls"]] == ["search_books", "popular_books"]
    assert json.loads(assistant["tool_calls"][0]["function"]["arguments"]) == {
        "query": "cozy rainy",
        "limit": 5,
    }
    tool_msgs = messages[-2:]
    assert [m["tool_call_id"] for m in tool_msgs] == ["c0", "c1"]
    assert all(m["content"].startswith("<book_data>") for m in tool_msgs)
    assert json.loads(unfence_data(tool_msgs[0]["content"]))["query"] == "cozy rainy"
    assert done_of(events).turns == 2


async def test_unknown_tool_and_bad_arguments_go_back_to_the_model_as_tool_errors():
    llm = ScriptedLLM(
        openai__x=[
            tool_reply(("delete_database", {}), ("search_books", {"limit": 3})),
            text_reply("Could you tell me more about the mood you want?"),
        ]
    )
    log = ToolLog()
    events = await collect(make_agent(llm, log).run(user("books")))
    assert log.calls == []  # neither call reached a tool
    _, messages, _ = llm.calls[1]
    unknown, invalid = (json.loads(unfence_data(m["content"]))["error"] for m in messages[-2:])
    assert unknown["type"] == "not_found" and "delete_database" in unknown["message"]
    assert "search_books" in unknown["message"]  # tells the model what it may call
    assert invalid["type"] == "invalid_arguments" and invalid["fields"][0]["field"] == "query"
    assert text_of(events) == "Could you tell me more about the mood you want?"


async def test_max_turns_bounds_the_loop_and_still_answers_from_the_tool_results():
    looping = [tool_reply(("search_books", {"query": f"rainy {i}", "limit": 2})) for i in range(10)]
    llm = ScriptedLLM(openai__x=looping)
    log = ToolLog()
    events = await collect(make_agent(llm, log, max_turns=3).run(user("rainy")))
    assert len(llm.calls) == 3
    assert len(log.calls) == 2  # the calls asked for on the last turn are not run
    done = done_of(events)
    assert done.finish_reason == "max_turns" and done.turns == 3
    assert "stopped after 3 model calls" in statuses(events)
    text = text_of(events)
    assert "**The Quiet Lighthouse**" in text  # a grounded summary of what the tools found


@pytest.mark.parametrize(
    "failure",
    [
        ProviderError(MODEL, "rate_limited", "slow down", 429),
        ProviderError(MODEL, "server_error", "boom", 500),
        Hang(seconds=30),
    ],
    ids=["429", "500", "hang"],
)
async def test_provider_failure_falls_back_to_the_planner_and_says_so(failure):
    llm = ScriptedLLM(
        openai__x=[failure],
        vibeshelf__planner=[
            tool_reply(("search_books", {"query": "rainy", "limit": 2})),
            text_reply("**Rain on Juniper Street** by Mina Okafor fits a rainy day."),
        ],
    )
    events = await collect(make_agent(llm).run(user("rainy")))
    assert [c[0] for c in llm.calls] == [MODEL, PLANNER_MODEL, PLANNER_MODEL]
    said = statuses(events)[0]
    assert said.startswith(f"{MODEL} is unavailable") and "offline planner" in said
    if isinstance(failure, Hang):
        assert "(timeout)" in said  # cut by llm_timeout_s, not by the 30 s hang ending
    done = done_of(events)
    assert done.fell_back and done.model == PLANNER_MODEL
    assert "Rain on Juniper Street" in text_of(events)


async def test_a_provider_that_trickles_is_cut_at_the_stream_deadline():
    trickle = [LLMDelta(text="a")] * 1  # one delta, then silence below the idle timeout forever
    llm = ScriptedLLM(
        openai__x=[Hang(seconds=30, after=trickle)],
        vibeshelf__planner=[text_reply("Tell me more about what you like.")],
    )
    agent = make_agent(llm, llm_timeout_s=5.0, stream_deadline_s=0.5)
    events = await collect(agent.run(user("hi")))
    assert done_of(events).fell_back
    assert any("(timeout)" in s for s in statuses(events))


async def test_fallback_chain_tries_configured_fallbacks_before_the_planner():
    llm = ScriptedLLM(
        openai__x=[ProviderError(MODEL, "unreachable", "refused")],
        openai__backup=[text_reply("Backup here: what mood are you in?")],
    )
    agent = make_agent(llm, fallback_models=["openai/backup"])
    assert agent.models() == [MODEL, "openai/backup", PLANNER_MODEL]
    events = await collect(agent.run(user("hi")))
    assert done_of(events).model == "openai/backup"
    assert "answering with openai/backup instead" in statuses(events)[0]


async def test_when_every_model_fails_the_stream_ends_with_an_error_event():
    llm = ScriptedLLM(
        openai__x=[ProviderError(MODEL, "server_error", "down", 500)],
        vibeshelf__planner=[ProviderError(PLANNER_MODEL, "provider_error", "broken")],
    )
    events = await collect(make_agent(llm).run(user("hi")))
    assert isinstance(events[-1], ErrorEvent) and events[-1].code == "provider_failed"


async def test_invented_titles_are_removed_from_the_answer():
    llm = ScriptedLLM(
        openai__x=[
            tool_reply(("search_books", {"query": "melancholic", "limit": 3})),
            text_reply(
                "Two picks:\n",
                "1. **A Winter of Small Griefs** by Tomas Lind — quietly sad.\n",
                "2. **The Midnight Library** by Matt Haig — a classic.\n",
                "Both suit a grey afternoon.",
            ),
        ]
    )
    events = await collect(make_agent(llm).run(user("something melancholic")))
    text = text_of(events)
    assert "A Winter of Small Griefs" in text and "Both suit a grey afternoon." in text
    assert "Midnight Library" not in text and "Matt Haig" not in text
    assert done_of(events).removed_titles == ["The Midnight Library"]


async def test_a_line_that_misstates_a_returned_books_figures_is_removed():
    # Seen on a real small model: the first book's "rated 4.12 by 18,000 readers" copied onto the next.
    llm = ScriptedLLM(
        openai__x=[
            tool_reply(("search_books", {"query": "cozy", "limit": 2})),
            text_reply(
                "1. **The Quiet Lighthouse** by Ada Vale (1994) — rated 4.12 by 18,000 readers.\n",
                "2. **The Tea Shop at Harrow End** by Ada Vale (2016) — rated 4.12 by 18,000 readers.\n",
                "Both are gentle.",
            ),
        ]
    )
    events = await collect(make_agent(llm).run(user("cozy")))
    text = text_of(events)
    assert "**The Quiet Lighthouse** by Ada Vale (1994) — rated 4.12 by 18,000 readers." in text
    assert "Tea Shop" not in text and "Both are gentle." in text
    assert done_of(events).removed_titles == ["The Tea Shop at Harrow End"]


async def test_figures_of_a_book_from_an_earlier_turn_are_checked_against_that_turns_result():
    first = ScriptedLLM(
        openai__x=[tool_reply(("search_books", {"query": "cozy", "limit": 1})), text_reply("ok")]
    )
    run = make_agent(first).run(user("cozy"))
    await collect(run)
    history = [*user("cozy"), *run.new_messages, *user("tell me more about that one")]
    # This turn's search returns another book: the first one's figures come from the history alone.
    second = ScriptedLLM(
        openai__x=[
            tool_reply(("search_books", {"query": "static", "limit": 1})),
            text_reply(
                "**Salt and Static** by Rosalind Park.\n\n",
                "**The Quiet Lighthouse** (1994) has 18,000 ratings.\n\n",
                "**The Quiet Lighthouse** came out in 2012.",
            ),
        ]
    )
    events = await collect(make_agent(second).run(history))
    assert books_of(events) == ["t:5"]
    text = text_of(events)
    assert "**The Quiet Lighthouse** (1994) has 18,000 ratings." in text and "2012" not in text
    assert done_of(events).removed_titles == ["The Quiet Lighthouse"]


async def test_an_answer_that_was_entirely_invented_is_replaced_by_the_tool_results():
    llm = ScriptedLLM(
        openai__x=[
            tool_reply(("search_books", {"query": "cozy", "limit": 2})),
            text_reply("- **Gone Girl** by Gillian Flynn\n- **Rebecca** by Daphne du Maurier\n"),
        ]
    )
    events = await collect(make_agent(llm).run(user("cozy")))
    text = text_of(events)
    assert "Gone Girl" not in text and "Rebecca" not in text
    assert "**The Quiet Lighthouse** by Ada Vale" in text


async def test_hard_constraints_hold_when_the_model_forgets_them():
    llm = ScriptedLLM(
        openai__x=[
            # The model drops the reader's "nothing young adult" entirely.
            tool_reply(("search_books", {"query": "rainy", "limit": 5}), ("popular_books", {"limit": 5})),
            text_reply("Here you go."),
        ]
    )
    log = ToolLog()
    state = SessionState(read_ids=["t:3"])
    agent = make_agent(llm, log, constraints=HardConstraints.from_conversation)
    events = await collect(
        agent.run(user("rainy day reads, nothing young adult please"), session_state=state)
    )
    search_args = dict(log.calls)["search_books"]
    assert "young_adult" in search_args["filters"]["genres_exclude"]  # merged into the call
    assert "t:3" in search_args["filters"]["exclude_ids"]  # the session's read book
    shown = books_of(events)
    assert "t:2" not in shown and "t:5" not in shown  # YA, incl. from popular_books, which has no filters
    assert "t:3" not in shown
    assert "t:1" in shown
    # The reader's constraints reach the model too.
    assert "young adult" in system_text(llm.calls[0][1])


async def test_session_state_records_shown_books_and_turns():
    llm = ScriptedLLM(
        openai__x=[tool_reply(("search_books", {"query": "cozy", "limit": 2})), text_reply("Enjoy.")]
    )
    state = SessionState(turns=2, shown=[ShownBook(id="t:9", title="Old Pick", turn=1)])
    await collect(make_agent(llm).run(user("cozy"), session_state=state))
    assert [(b.id, b.turn) for b in state.shown] == [("t:9", 1), ("t:1", 2), ("t:4", 2)]
    assert state.turns == 3
    # The earlier pick was offered to the model as conversation context (fenced data).
    assert "Old Pick" in system_text(llm.calls[0][1])


async def test_run_exposes_the_messages_to_persist():
    llm = ScriptedLLM(
        openai__x=[
            tool_reply(("search_books", {"query": "cozy", "limit": 1})),
            text_reply("**The Quiet Lighthouse**."),
        ]
    )
    run = make_agent(llm).run(user("cozy"))
    await collect(run)
    roles = [m["role"] for m in run.new_messages]
    assert roles == ["assistant", "tool", "assistant"]
    assert run.new_messages[-1]["content"] == run.answer == "**The Quiet Lighthouse**."
    assert [b.id for b in run.books] == ["t:1"] and run.model == MODEL


async def test_history_titles_count_as_grounded_in_later_turns():
    first = ScriptedLLM(
        openai__x=[tool_reply(("search_books", {"query": "cozy", "limit": 1})), text_reply("ok")]
    )
    run = make_agent(first).run(user("cozy"))
    await collect(run)
    history = [*user("cozy"), *run.new_messages, *user("tell me more about that one")]
    second = ScriptedLLM(openai__x=[text_reply("**The Quiet Lighthouse** is set on a stormy coast.")])
    events = await collect(make_agent(second).run(history))
    assert "The Quiet Lighthouse" in text_of(events)
    assert done_of(events).removed_titles == []


async def test_a_client_that_leaves_cancels_the_tool_work():
    log = ToolLog(hold=True)
    llm = ScriptedLLM(openai__x=[tool_reply(("search_books", {"query": "cozy", "limit": 1}))])
    run = make_agent(llm, log).run(user("cozy"))
    async for event in run:
        if isinstance(event, ToolCallEvent):
            break
    consumer = asyncio.ensure_future(run.__anext__())  # now blocked inside the tool
    await asyncio.wait_for(log.started.wait(), 10)
    assert log.running == 1
    consumer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await consumer
    await run.aclose()
    await asyncio.sleep(0)
    assert log.running == 0  # the tool task was cancelled, not left holding


async def test_the_last_message_must_be_from_the_user():
    events = await collect(make_agent(ScriptedLLM()).run([{"role": "assistant", "content": "hi"}]))
    assert isinstance(events[-1], ErrorEvent) and events[-1].code == "invalid_request"


async def test_text_before_tool_calls_becomes_a_status_line():
    llm = ScriptedLLM(
        openai__x=[
            [
                LLMDelta(text="Let me look that up."),
                *tool_reply(("search_books", {"query": "cozy", "limit": 1})),
            ],
            text_reply("**The Quiet Lighthouse** it is."),
        ]
    )
    events = await collect(make_agent(llm).run(user("cozy")))
    assert "Let me look that up." in statuses(events)
    assert text_of(events) == "**The Quiet Lighthouse** it is."
    assert isinstance(events[0], StatusEvent)


# --- the accumulator --------------------------------------------------------------------------------


def test_accumulator_merges_fragments_by_index_in_any_order():
    acc = ToolCallAccumulator()
    acc.add([ToolCallDelta(index=1, id="b", name="find_book")])
    acc.add([ToolCallDelta(index=0, id="a", name="search_books", arguments='{"que')])
    acc.add([ToolCallDelta(index=1, arguments='{"title": "Du')])
    acc.add([ToolCallDelta(index=0, arguments='ry": "x"}'), ToolCallDelta(index=1, arguments='ne"}')])
    calls = acc.calls(turn=0)
    assert [(c.id, c.name, json.loads(c.arguments)) for c in calls] == [
        ("a", "search_books", {"query": "x"}),
        ("b", "find_book", {"title": "Dune"}),
    ]


def test_accumulator_handles_missing_index_ids_and_split_names():
    acc = ToolCallAccumulator()
    acc.add([ToolCallDelta(id="a", name="search_")])
    acc.add([ToolCallDelta(name="books", arguments='{"query":')])
    acc.add([ToolCallDelta(arguments=' "x"}')])
    acc.add([ToolCallDelta(id="b", name="find_book", arguments="{}")])
    acc.add([ToolCallDelta(index=None, name=None, arguments="")])
    calls = acc.calls(turn=3)
    assert [(c.id, c.name, c.arguments) for c in calls] == [
        ("a", "search_books", '{"query": "x"}'),
        ("b", "find_book", "{}"),
    ]
    acc2 = ToolCallAccumulator()
    acc2.add([ToolCallDelta(index=0, name="find_book", arguments="{}")])
    assert acc2.calls(turn=3)[0].id == "call_3_0"  # a provider that sends no id still gets one


async def test_a_book_the_reader_named_misspelt_may_be_named_back_once_ruled_out(tmp_path):
    # The reader liked "the quiet lighthose", then ruled its author out: the book may no longer be a pick,
    # but "If you liked The Quiet Lighthouse" names the reader's own book, as the catalog spells it.
    import pyarrow as pa
    import pyarrow.parquet as pq

    from vibeshelf.layout import Layout

    books = [("The Quiet Lighthouse", "Ada Vale"), ("Rain on Juniper Street", "Mina Okafor")]
    filler = " ".join(["a quiet street in the rain"] * 12)
    table = pa.table(
        {
            "title": [t for t, _ in books],
            "series": [None, None],
            "series_index": [None, None],
            "authors": [[a] for _, a in books],
            "genres": [["mystery"], ["mystery"]],
            "description": [filler, filler],
            "ratings_count": [50_000, 40_000],
            "year": [1994, 2001],
        }
    )
    layout = Layout(tmp_path).ensure()
    pq.write_table(table, layout.catalog)
    first = ScriptedLLM(
        openai__x=[tool_reply(("search_books", {"query": "quiet lighthouse", "limit": 1})), text_reply("ok")]
    )
    run = make_agent(first, constraints=None, home=tmp_path).run(user("loved the quiet lighthose"))
    await collect(run)
    history = [*user("loved the quiet lighthose"), *run.new_messages, *user("nothing by ada vale though")]
    answer = "If you liked **The Quiet Lighthouse**, try **Rain on Juniper Street** by Mina Okafor.\n"
    second = ScriptedLLM(
        openai__x=[tool_reply(("search_books", {"query": "rain", "limit": 2})), text_reply(answer)]
    )
    events = await collect(make_agent(second, constraints=None, home=tmp_path).run(history))
    assert done_of(events).removed_titles == []
    assert text_of(events) == answer
