"""The compact tool profile for small and local models, over the fake OpenAI-compatible server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from agent_fakes import ToolLog, books_of, collect, done_of, make_registry
from fake_openai_server import FakeOpenAIServer, Text, ToolCalls

from vibeshelf.agent.loop import Agent
from vibeshelf.agent.prompt import unfence_data
from vibeshelf.settings import Settings
from vibeshelf.tools.compact import is_small_or_local
from vibeshelf.tools.tool import ToolContext

SMALL = "openai/qwen2.5-coder-1.5b-instruct"


@dataclass
class Deps:
    genres: dict[str, int] = field(default_factory=lambda: {"fantasy": 9, "young_adult": 5, "humor": 2})


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        yield server


def agent_for(server: FakeOpenAIServer, log: ToolLog, **overrides) -> Agent:
    values = {
        "model": SMALL,
        "api_base": server.base_url,
        "api_key": "sk-fake",
        "llm_retries": 0,
        "llm_timeout_s": 2.0,
        "stream_deadline_s": 5.0,
        **overrides,
    }
    return Agent(make_registry(log), ToolContext(Deps()), Settings(**values))


def user(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


ANSWER = Text("Try **A Winter of Small Griefs** by Tomas Lind.")


async def test_a_small_model_gets_flat_tools_and_its_aliases_are_understood(fake_openai: FakeOpenAIServer):
    fake_openai.script(
        ToolCalls(
            ("search_books", {"query": "melancholic", "genre_exclude": "young_adult", "min_year": 1990})
        ),
        ANSWER,
    )
    log = ToolLog()
    events = await collect(agent_for(fake_openai, log).run(user("something melancholic")))
    tools = fake_openai.requests[0]["tools"]
    # The fake registry has no readers_also_liked, and popular_books is not in the compact set.
    assert [t["function"]["name"] for t in tools] == ["search_books", "find_book"]
    text = json.dumps(tools)
    assert "anyOf" not in text and "null" not in text and '"filters"' not in text
    search = tools[0]["function"]["parameters"]["properties"]
    assert search["genres"]["items"]["enum"] == ["fantasy", "young_adult", "humor"]
    assert log.calls == [
        (
            "search_books",
            {
                "query": "melancholic",
                "limit": 5,
                "filters": {"genres_exclude": ["young_adult"], "year_min": 1990},
            },
        )
    ]
    assert books_of(events) == ["t:3"] and not done_of(events).fell_back


async def test_a_small_model_reads_slim_results(fake_openai: FakeOpenAIServer):
    fake_openai.script(ToolCalls(("search_books", {"query": "melancholic cozy"})), ANSWER)
    await collect(agent_for(fake_openai, ToolLog()).run(user("something melancholic")))
    content = fake_openai.requests[1]["messages"][-1]["content"]
    result = json.loads(unfence_data(content))
    assert set(result) <= {"books", "notes"}
    for book in result["books"]:
        assert (
            {"id", "title", "authors"}
            <= set(book)
            <= {
                "id",
                "title",
                "authors",
                "year",
                "genres",
                "rating",
                "why",
                "excerpt",
            }
        )
    assert "null" not in content and "image_url" not in content


async def test_the_profile_setting_overrides_the_guess(fake_openai: FakeOpenAIServer):
    fake_openai.script(Text("What are you in the mood for?"))
    await collect(agent_for(fake_openai, ToolLog(), tool_profile="full").run(user("hello")))
    names = [t["function"]["name"] for t in fake_openai.requests[0]["tools"]]
    assert names == ["search_books", "find_book", "popular_books"]


@pytest.mark.parametrize(
    ("model", "small"),
    [
        ("openai/qwen2.5-coder-1.5b-instruct", True),
        ("ollama/llama3.1", True),
        ("ollama_chat/mistral", True),
        ("hosted_vllm/meta-llama/Llama-3.1-8B-Instruct", True),
        ("groq/llama-3.3-70b-versatile", False),
        ("openai/gpt-4o-mini", False),
        ("anthropic/claude-sonnet-4", False),
        ("openai/fake-model", False),
    ],
)
def test_known_small_or_local_models(model: str, small: bool):
    assert is_small_or_local(model) is small
