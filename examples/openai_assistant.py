#!/usr/bin/env python
"""An assistant of your own that uses vibeshelf's tools, with the official ``openai`` SDK.

vibeshelf publishes its tools as an OpenAI ``tools`` list (``GET /v1/tools``) and runs them over HTTP
(``POST /v1/tools/{name}`` with the model's JSON arguments). This script is the whole integration: fetch
the tools, run a chat-completions loop against any OpenAI-compatible model, and execute each tool call
the model makes by POSTing it to vibeshelf. Nothing here imports vibeshelf.

    pip install openai httpx
    vibeshelf serve &                               # or any vibeshelf URL
    export OPENAI_API_KEY=sk-...    # and OPENAI_BASE_URL for another provider or a local model
    python examples/openai_assistant.py --vibeshelf http://127.0.0.1:8000 "cozy mystery for a rainy day"

Options: ``--model`` (default ``$OPENAI_MODEL`` or gpt-4o-mini), ``--vibeshelf-key`` (default
``$VIBESHELF_API_KEY``, needed when the server sets ``VIBESHELF_API_KEYS``), ``--max-turns``. Tool calls
are traced on stderr; the answer goes to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

import httpx
import openai
from openai import OpenAI

SYSTEM_PROMPT = (
    "You recommend books. Use the tools to find real books in the catalog; recommend only books a tool "
    "returned, and give each one a short reason grounded in what the tool said about it (its description, "
    "genres, ratings). If a tool answers with an error, read it, fix the arguments and call it again."
)


class VibeshelfError(Exception):
    """vibeshelf could not be used (unreachable, or the key was refused)."""


class VibeshelfTools:
    """vibeshelf's tools over HTTP: their OpenAI schemas and a way to run one call."""

    def __init__(self, base_url: str, api_key: str | None = None, timeout_s: float = 30.0) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout_s)

    def schemas(self) -> list[dict[str, Any]]:
        """The ``tools`` list to hand to chat.completions (strict function schemas)."""
        try:
            response = self._http.get("/v1/tools")
        except httpx.HTTPError as exc:
            raise VibeshelfError(f"cannot reach vibeshelf at {self._http.base_url} ({exc})") from exc
        if response.status_code == 401:
            raise VibeshelfError("vibeshelf refused the key: pass --vibeshelf-key or set VIBESHELF_API_KEY")
        if response.status_code != 200:
            raise VibeshelfError(f"GET /v1/tools answered {response.status_code}: {response.text[:200]}")
        return response.json()

    def call(self, name: str, arguments: str) -> str:
        """Run one tool call; the JSON text the model reads next (a result, or an error to correct)."""
        try:
            payload = json.loads(arguments or "{}")
        except json.JSONDecodeError as exc:
            return json.dumps({"error": {"code": "invalid_arguments", "message": f"not JSON: {exc}"}})
        # 4xx answers carry a JSON error naming the bad fields: the model reads it and retries.
        return self._http.post(f"/v1/tools/{name}", json=payload).text

    def close(self) -> None:
        self._http.close()


def run(
    client: OpenAI,
    tools: VibeshelfTools,
    model: str,
    question: str,
    max_turns: int = 6,
    trace: Any = sys.stderr,
) -> str:
    """Ask ``question``; loop model -> tool calls -> model until the model answers in text."""
    schemas = tools.schemas()
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": question},
    ]
    for _ in range(max_turns):
        completion = client.chat.completions.create(model=model, messages=messages, tools=schemas)
        message = completion.choices[0].message
        if not message.tool_calls:
            return message.content or ""
        messages.append(
            {
                "role": "assistant",
                "content": message.content,
                "tool_calls": [
                    {
                        "id": call.id,
                        "type": "function",
                        "function": {"name": call.function.name, "arguments": call.function.arguments},
                    }
                    for call in message.tool_calls
                    if call.type == "function"
                ],
            }
        )
        for call in message.tool_calls:
            if call.type != "function":
                continue
            print(f"-> {call.function.name} {call.function.arguments}", file=trace)
            result = tools.call(call.function.name, call.function.arguments)
            messages.append({"role": "tool", "tool_call_id": call.id, "content": result})
    raise RuntimeError(f"no answer after {max_turns} model calls")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("question", nargs="+", help="What you feel like reading.")
    parser.add_argument(
        "--vibeshelf",
        default=os.environ.get("VIBESHELF_URL", "http://127.0.0.1:8000"),
        help="vibeshelf base URL (default: $VIBESHELF_URL or http://127.0.0.1:8000).",
    )
    parser.add_argument(
        "--vibeshelf-key",
        default=os.environ.get("VIBESHELF_API_KEY"),
        help="vibeshelf API key (default: $VIBESHELF_API_KEY).",
    )
    parser.add_argument(
        "--model",
        default=os.environ.get("OPENAI_MODEL", "gpt-4o-mini"),
        help="Chat model name at OPENAI_BASE_URL (default: $OPENAI_MODEL or gpt-4o-mini).",
    )
    parser.add_argument("--max-turns", type=int, default=6, help="Most model calls for one answer.")
    args = parser.parse_args(argv)

    try:
        client = OpenAI()  # OPENAI_API_KEY and OPENAI_BASE_URL from the environment
    except openai.OpenAIError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    tools = VibeshelfTools(args.vibeshelf, args.vibeshelf_key)
    try:
        answer = run(client, tools, args.model, " ".join(args.question), args.max_turns)
    except (VibeshelfError, httpx.HTTPError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (openai.OpenAIError, RuntimeError) as exc:
        print(f"error: model {args.model}: {exc}", file=sys.stderr)
        return 1
    finally:
        tools.close()
    print(answer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
