"""The planner as a litellm model: registration, response and stream shapes, catalog-fitted words, speed."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import litellm
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from test_planner_harness import Chat, MiniTools, build_mini_tools

from vibeshelf.agent.intent import ParseConfig
from vibeshelf.agent.planner import AnswerStep, PlannerConfig, plan
from vibeshelf.agent.planner_provider import (
    PLANNER_MODEL,
    PlannerProvider,
    catalog_parse_config,
    register_planner,
)


@pytest.fixture()
def mini_tools(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> MiniTools:
    return build_mini_tools(shared_data, tmp_path_factory)


@pytest.fixture()
def chat(mini_tools: MiniTools) -> Chat:
    return Chat(mini_tools)


@pytest.fixture()
def provider() -> PlannerProvider:
    return register_planner(PlannerConfig())


def test_register_is_idempotent_and_keeps_one_entry() -> None:
    first = register_planner()
    again = register_planner()
    assert first is again
    entries = [p for p in litellm.custom_provider_map if p["provider"] == "vibeshelf"]
    assert len(entries) == 1 and entries[0]["custom_handler"] is first
    cfg = PlannerConfig(picks=3)
    assert register_planner(cfg) is first and first.config is cfg


async def _stream(messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> list[Any]:
    response = await litellm.acompletion(
        model=PLANNER_MODEL,
        messages=messages,
        tools=tools,
        stream=True,
        stream_options={"include_usage": True},
    )
    return [chunk async for chunk in response]


async def test_streamed_tool_calls_arrive_as_tool_call_deltas(
    provider: PlannerProvider, mini_tools: MiniTools
) -> None:
    messages = [{"role": "user", "content": "Something like The Hunger Games, nothing young adult"}]
    chunks = await _stream(messages, mini_tools.schemas())
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    calls = [tc for d in deltas for tc in (d.tool_calls or [])]
    assert len(calls) == 1
    call = calls[0]
    assert call.id.startswith("call_") and call.type == "function" and call.index == 0
    assert call.function.name == "find_book"
    assert json.loads(call.function.arguments) == {"title": "The Hunger Games"}
    assert not "".join(d.content or "" for d in deltas)
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["tool_calls"]


async def test_a_whole_conversation_runs_through_litellm_streaming(
    provider: PlannerProvider, mini_tools: MiniTools
) -> None:
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "You are vibeshelf."},
        {"role": "user", "content": "Something like The Hunger Games, nothing young adult"},
    ]
    names: list[list[str]] = []
    for _ in range(5):
        chunks = await _stream(messages, mini_tools.schemas())
        calls: dict[int, dict[str, str]] = {}
        text = ""
        for chunk in chunks:
            if not chunk.choices:
                continue
            delta = chunk.choices[0].delta
            text += delta.content or ""
            for tc in delta.tool_calls or []:
                entry = calls.setdefault(tc.index, {"id": "", "name": "", "arguments": ""})
                entry["id"] = tc.id or entry["id"]
                entry["name"] = tc.function.name or entry["name"]
                entry["arguments"] += tc.function.arguments or ""
        if not calls:
            break
        names.append([c["name"] for c in calls.values()])
        messages.append(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": c["id"],
                        "type": "function",
                        "function": {"name": c["name"], "arguments": c["arguments"]},
                    }
                    for c in calls.values()
                ],
            }
        )
        for c in calls.values():
            messages.append(
                {
                    "role": "tool",
                    "tool_call_id": c["id"],
                    "content": mini_tools.call(c["name"], c["arguments"]),
                }
            )
    assert names == [["find_book"], ["readers_also_liked", "search_books"]]
    # The streamed text is the planner's answer, cut into several deltas.
    expected = plan(messages, mini_tools.schemas(), PlannerConfig())
    assert isinstance(expected, AnswerStep) and text == expected.text
    content_chunks = [c for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(content_chunks) > 5
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == [
        "stop"
    ]
    usage = next(c.usage for c in chunks if getattr(c, "usage", None))
    assert usage.prompt_tokens > 100 and usage.completion_tokens > 10


async def test_non_streaming_responses(provider: PlannerProvider, mini_tools: MiniTools) -> None:
    messages = [{"role": "user", "content": "cozy mysteries, before 2000"}]
    response = await litellm.acompletion(model=PLANNER_MODEL, messages=messages, tools=mini_tools.schemas())
    choice = response.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    (call,) = choice.message.tool_calls
    assert call.function.name == "search_books"
    assert json.loads(call.function.arguments) == {
        "query": "cozy mysteries",
        "filters": {"genres_include": ["mystery"], "year_max": 1999},
        "limit": 6,
    }
    assert response.usage.total_tokens == response.usage.prompt_tokens + response.usage.completion_tokens

    sync = litellm.completion(model=PLANNER_MODEL, messages=[{"role": "user", "content": "hello"}])
    assert sync.choices[0].finish_reason == "stop" and "in the mood for" in sync.choices[0].message.content
    streamed = "".join(
        c.choices[0].delta.content or ""
        for c in litellm.completion(
            model=PLANNER_MODEL, messages=[{"role": "user", "content": "hello"}], stream=True
        )
        if c.choices
    )
    assert streamed == sync.choices[0].message.content


def test_vague_words_are_fitted_to_the_catalog(mini_tools: MiniTools, tmp_path: Path) -> None:
    table = pq.read_table(mini_tools.catalog_path, columns=["year", "ratings_count"])
    cfg = catalog_parse_config(mini_tools.catalog_path)
    assert cfg.latest_year == pc.max(table["year"]).as_py()
    median, p90 = pc.quantile(table["ratings_count"], q=[0.5, 0.9]).to_pylist()
    # One significant figure: "under 20,000 ratings" reads better than "under 21,157".
    for value, fitted in ((median, cfg.obscure_max_ratings), (p90, cfg.popular_min_ratings)):
        magnitude = 10 ** math.floor(math.log10(value))
        assert fitted == round(value / magnitude) * magnitude
    assert cfg.popular_min_ratings > cfg.obscure_max_ratings
    assert catalog_parse_config(tmp_path / "missing.parquet") == ParseConfig()
