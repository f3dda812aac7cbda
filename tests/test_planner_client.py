"""The planner behind the LLMClient seam: delta shapes, a whole tool loop, catalog-fitted words, no litellm."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from test_planner_harness import Chat, MiniTools, build_mini_tools

from vibeshelf.agent.intent import ParseConfig
from vibeshelf.agent.llm import PLANNER_MODEL, LLMDelta, ModelRouter, ProviderError
from vibeshelf.agent.planner import AnswerStep, PlannerConfig, plan
from vibeshelf.agent.planner_client import TEXT_CHUNK, PlannerClient, catalog_parse_config, text_pieces
from vibeshelf.settings import Settings


@pytest.fixture()
def mini_tools(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> MiniTools:
    return build_mini_tools(shared_data, tmp_path_factory)


@pytest.fixture()
def chat(mini_tools: MiniTools) -> Chat:
    return Chat(mini_tools)


@pytest.fixture()
def provider() -> PlannerClient:
    return PlannerClient(PlannerConfig())


async def _stream(
    client: PlannerClient, messages: list[dict[str, Any]], tools: list[dict[str, Any]]
) -> list[LLMDelta]:
    return [d async for d in client.stream(PLANNER_MODEL, messages, tools)]


async def test_tool_calls_arrive_as_tool_call_deltas(provider: PlannerClient, mini_tools: MiniTools) -> None:
    messages = [{"role": "user", "content": "Something like The Hunger Games, nothing young adult"}]
    deltas = await _stream(provider, messages, mini_tools.schemas())
    calls = [tc for d in deltas for tc in d.tool_calls]
    assert len(calls) == 1
    call = calls[0]
    assert call.id and call.id.startswith("call_") and call.index == 0
    assert call.name == "find_book"
    assert json.loads(call.arguments) == {"title": "The Hunger Games"}
    assert not "".join(d.text for d in deltas)
    assert [d.finish_reason for d in deltas if d.finish_reason] == ["tool_calls"]


async def test_a_whole_conversation_runs_through_the_client(
    provider: PlannerClient, mini_tools: MiniTools
) -> None:
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "You are vibeshelf."},
        {"role": "user", "content": "Something like The Hunger Games, nothing young adult"},
    ]
    names: list[list[str]] = []
    for _ in range(5):
        chunks = await _stream(provider, messages, mini_tools.schemas())
        calls: dict[int, dict[str, str]] = {}
        text = ""
        for delta in chunks:
            text += delta.text
            for tc in delta.tool_calls:
                entry = calls.setdefault(tc.index or 0, {"id": "", "name": "", "arguments": ""})
                entry["id"] = tc.id or entry["id"]
                entry["name"] = tc.name or entry["name"]
                entry["arguments"] += tc.arguments
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
    # The streamed text is the planner's answer, in deltas of paragraph size cut at a space.
    expected = plan(messages, mini_tools.schemas(), PlannerConfig())
    assert isinstance(expected, AnswerStep) and text == expected.text
    pieces = [d.text for d in chunks if d.text]
    assert all(len(p) <= TEXT_CHUNK for p in pieces)
    assert len(pieces) == len(list(text_pieces(expected.text)))

    assert [d.finish_reason for d in chunks if d.finish_reason] == ["stop"]
    usage = next(d.usage for d in chunks if d.usage)
    assert usage.prompt_tokens > 100 and usage.completion_tokens > 10


async def test_the_router_answers_the_planner_model_without_litellm(tmp_path: Path) -> None:
    """A fresh process that configures only the planner answers without importing litellm."""
    script = f"""
import asyncio, sys
from vibeshelf.agent.llm import PLANNER_MODEL
from vibeshelf.agent.loop import default_client
from vibeshelf.settings import Settings
client = default_client(Settings(home={str(tmp_path)!r}))
client.warm_up()
async def main():
    return [d async for d in client.stream(PLANNER_MODEL, [{{"role": "user", "content": "hello"}}], [])]
deltas = asyncio.run(main())
assert "".join(d.text for d in deltas), deltas
print("litellm" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


async def test_the_router_sends_other_models_to_the_provider_client() -> None:
    seen: list[str] = []

    class Provider:
        async def _deltas(self) -> Any:
            yield LLMDelta(text="from the provider")

        def stream(
            self,
            model: str,
            messages: list[dict[str, Any]],
            tools: list[dict[str, Any]],
            force: str | None = None,
        ) -> Any:
            seen.append(model)
            return self._deltas()

    router = ModelRouter(Settings(), PlannerClient(PlannerConfig()), Provider())
    got = [d async for d in router.stream("openai/x", [{"role": "user", "content": "hi"}], [])]
    assert seen == ["openai/x"] and got[0].text == "from the provider"
    planned = [d async for d in router.stream(PLANNER_MODEL, [{"role": "user", "content": "hello"}], [])]
    assert seen == ["openai/x"] and "in the mood for" in "".join(d.text for d in planned)


def test_a_long_answer_streams_in_pieces_cut_at_spaces() -> None:
    text = " ".join(f"word{i}" for i in range(1000))
    pieces = list(text_pieces(text))
    assert len(pieces) > 1 and "".join(pieces) == text
    assert all(len(p) <= TEXT_CHUNK and (p.endswith(" ") or p is pieces[-1]) for p in pieces)


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


async def test_a_planner_that_cannot_plan_fails_the_call_instead_of_answering(tmp_path: Path) -> None:
    # A damaged catalog stands in for any bug: the failure must reach the loop (an error event the reader
    # and the evaluations see), not pass for an answer.
    catalog = tmp_path / "catalog.parquet"
    catalog.write_bytes(b"not a parquet file")
    client = PlannerClient(catalog=catalog)
    with pytest.raises(ProviderError) as failed:
        await _stream(client, [{"role": "user", "content": "a cozy mystery"}], [])
    assert failed.value.code == "planner_failed" and failed.value.model == PLANNER_MODEL
