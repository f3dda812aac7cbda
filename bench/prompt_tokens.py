"""Prompt size per tool profile: the tokens a model reads on the first and second request of a turn.

    VIBESHELF_HOME=.vibeshelf python bench/prompt_tokens.py [--tokenizer PATH] [--query "..."]

Drives the real agent loop with a recording model (no provider, no network): turn one asks for a
search, turn two answers. Prints, for the ``full`` and ``compact`` profiles: each tool schema, all
schemas, the system prompt, the reader's context message, one search result as the model reads it, and
the first and second requests in total (tools + messages, before the chat template's own few tokens
per message). With ``--tokenizer`` a Hugging Face ``tokenizer.json`` (the model's own, e.g.
Qwen2.5's) counts; otherwise OpenAI's cl100k_base, bundled with litellm (Qwen2.5's tokenizer reads
English and JSON within a few percent of it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any

from vibeshelf.agent.events import Usage
from vibeshelf.agent.llm import LLMDelta, ToolCallDelta
from vibeshelf.agent.loop import Agent
from vibeshelf.settings import Settings
from vibeshelf.tools.tool import ToolContext


def counter(tokenizer: str | None) -> tuple[str, Callable[[str], int]]:
    if tokenizer:
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(tokenizer)
        return tokenizer, lambda text: len(tok.encode(text).ids)
    from importlib.util import find_spec
    from pathlib import Path

    # litellm ships cl100k_base in tiktoken's cache layout (found without importing litellm): no download.
    spec = find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("litellm is not installed: pass --tokenizer tokenizer.json")
    bundled = Path(next(iter(spec.submodule_search_locations))) / "litellm_core_utils" / "tokenizers"
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(bundled))
    import tiktoken

    enc = tiktoken.get_encoding("cl100k_base")
    return "cl100k_base", lambda text: len(enc.encode(text, disallowed_special=()))


class Recorder:
    """A model that searches once, then answers; keeps every request it was sent."""

    def __init__(self, query: str) -> None:
        self.query = query
        self.requests: list[tuple[list[dict[str, Any]], list[dict[str, Any]]]] = []

    async def stream(
        self,
        model: str,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        force: str | None = None,
    ) -> AsyncIterator[LLMDelta]:
        self.requests.append((json.loads(json.dumps(messages)), tools))
        if len(self.requests) == 1:
            args = json.dumps({"query": self.query, "limit": 5})
            yield LLMDelta(tool_calls=[ToolCallDelta(index=0, id="c0", name="search_books", arguments=args)])
            yield LLMDelta(finish_reason="tool_calls", usage=Usage())
        else:
            yield LLMDelta(text="Here you go.")
            yield LLMDelta(finish_reason="stop", usage=Usage())


async def measure(profile: str, query: str, count: Callable[[str], int]) -> dict[str, Any]:
    from vibeshelf.retrieval.services import open_services
    from vibeshelf.tools.default_registry import default_registry

    settings = Settings(model="openai/bench-model", tool_profile=profile)
    services = open_services(settings, load_cf=True)
    recorder = Recorder(query)
    agent = Agent(default_registry(), ToolContext(deps=services), settings, llm=recorder)
    message = f"{query}, but nothing young adult and before 2000"
    async for _ in agent.run([{"role": "user", "content": message}]):
        pass
    (first, tools), (second, _) = recorder.requests
    schemas = {t["function"]["name"]: count(json.dumps(t)) for t in tools}
    result = second[-1]["content"]
    books = max(1, result.count('"title"'))
    total = lambda msgs: count(json.dumps(tools)) + sum(count(str(m.get("content") or "")) for m in msgs)  # noqa: E731
    calls = sum(count(json.dumps(m.get("tool_calls") or "")) for m in second)
    return {
        "tools": schemas,
        "all_tools": count(json.dumps(tools)),
        "system": count(first[0]["content"]),
        "context": count(first[-2]["content"]),
        "search_result": count(result),
        "per_book": count(result) // books,
        "books": books,
        "first_request": total(first),
        "second_request": total(second) + calls,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokenizer", help="a tokenizer.json (the model's own); default cl100k_base")
    parser.add_argument("--query", default="a funny road trip with a found family")
    args = parser.parse_args(argv)
    name, count = counter(args.tokenizer)
    print(f"tokens counted with {name}; query: {args.query!r}")
    rows = {p: asyncio.run(measure(p, args.query, count)) for p in ("full", "compact")}
    print(f"{'':28}{'full':>10}{'compact':>10}")
    names = list(dict.fromkeys([*rows["full"]["tools"], *rows["compact"]["tools"]]))
    for tool in names:
        print(
            f"  schema {tool:20}{rows['full']['tools'].get(tool, '-'):>10}{rows['compact']['tools'].get(tool, '-'):>10}"
        )
    for key in (
        "all_tools",
        "system",
        "context",
        "search_result",
        "per_book",
        "first_request",
        "second_request",
    ):
        print(f"{key:28}{rows['full'][key]:>10}{rows['compact'][key]:>10}")
    print(f"(search result: {rows['full']['books']} books full, {rows['compact']['books']} compact)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
