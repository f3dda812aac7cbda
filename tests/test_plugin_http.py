"""The tool plugin as served: API-key auth, the OpenAPI document matching live answers, and the
examples/ assistant run end to end against the fake OpenAI-compatible server and a real vibeshelf."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from chat_server import Server
from conftest import LIVE_API_KEY as KEY
from fake_openai_server import FakeOpenAIServer, Text, ToolCalls
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

BEARER = {"Authorization": f"Bearer {KEY}"}
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "openai_assistant.py"


@pytest.fixture
def live(live_vibeshelf: Server) -> Server:
    return live_vibeshelf


@pytest.fixture
def fake() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture
def doc(live: Server) -> dict[str, Any]:
    response = httpx.get(f"{live.url}/v1/plugin/openapi.json", timeout=30)  # public: no key
    assert response.status_code == 200
    return response.json()


def validator(doc: dict[str, Any], ref: dict[str, Any]) -> jsonschema.Validator:
    """A validator for ``{"$ref": ...}`` or ``{"anyOf": [{"$ref": ...}, ...]}`` inside the document."""
    resource = Resource.from_contents(doc, default_specification=DRAFT202012)
    registry = Registry().with_resource("urn:doc", resource)
    if "anyOf" in ref:
        schema = {"anyOf": [{"$ref": "urn:doc" + r["$ref"]} for r in ref["anyOf"]]}
    else:
        schema = {"$ref": "urn:doc" + ref["$ref"]}
    return jsonschema.Draft202012Validator(schema, registry=registry)


def response_schema(doc: dict[str, Any], tool: str, status: str) -> dict[str, str]:
    response = doc["paths"][f"/v1/tools/{tool}"]["post"]["responses"][status]
    return response["content"]["application/json"]["schema"]


def _without_lengths(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _without_lengths(v) for k, v in node.items() if k not in ("minLength", "maxLength")}
    if isinstance(node, list):
        return [_without_lengths(v) for v in node]
    return node


def test_document_matches_the_live_tool_list(live: Server, doc: dict[str, Any]) -> None:
    tools = httpx.get(f"{live.url}/v1/tools", headers=BEARER, timeout=30).json()
    operation_ids = [
        op["post"]["operationId"] for path, op in doc["paths"].items() if path.startswith("/v1/tools/")
    ]
    assert operation_ids == [t["function"]["name"] for t in tools]
    assert doc["paths"]["/v1/shelves"]["get"]["operationId"] == "list_shelves"
    for tool in tools:
        body = doc["paths"][f"/v1/tools/{tool['function']['name']}"]["post"]["requestBody"]
        # The strict parameters plus the length limits (OpenAPI can state them; strict mode cannot).
        assert (
            _without_lengths(body["content"]["application/json"]["schema"]) == tool["function"]["parameters"]
        )
    assert doc["servers"] == [{"url": live.url}]
    manifest = httpx.get(f"{live.url}/.well-known/ai-plugin.json", timeout=30).json()
    assert manifest["api"]["url"] == f"{live.url}/v1/plugin/openapi.json"
    logo = httpx.get(manifest["logo_url"], timeout=30)
    assert logo.status_code == 200
    assert logo.headers["content-type"].startswith("image/svg+xml")


def test_tool_calls_need_the_key(live: Server, doc: dict[str, Any]) -> None:
    url = f"{live.url}/v1/tools/search_books"
    arguments = {"query": "a cozy mystery in a bookshop", "limit": 3}
    error_schema = validator(doc, {"$ref": "#/components/schemas/Error"})

    for headers in ({}, {"Authorization": "Bearer wrong"}, {"X-API-Key": "wrong"}):
        denied = httpx.post(url, json=arguments, headers=headers, timeout=30)
        assert denied.status_code == 401, headers
        error_schema.validate(denied.json())
    assert httpx.get(f"{live.url}/v1/tools", timeout=30).status_code == 401

    ok_schema = validator(doc, response_schema(doc, "search_books", "200"))
    bodies = []
    for headers in (BEARER, {"X-API-Key": KEY}):
        ok = httpx.post(url, json=arguments, headers=headers, timeout=30)
        assert ok.status_code == 200, ok.text
        ok_schema.validate(ok.json())
        bodies.append(ok.json())
    assert len(bodies[0]["books"]) == 3
    assert bodies[0] == bodies[1]
    # The compact view and the shelf list match their documented schemas too.
    compact = httpx.post(url, params={"view": "compact"}, json=arguments, headers=BEARER, timeout=30)
    validator(doc, {"$ref": "#/components/schemas/CompactResult"}).validate(compact.json())
    shelves = httpx.get(f"{live.url}/v1/shelves", headers=BEARER, timeout=30)
    validator(doc, {"$ref": "#/components/schemas/ShelfList"}).validate(shelves.json())
    assert httpx.get(f"{live.url}/v1/shelves", timeout=30).status_code == 401


def test_error_answers_match_the_documented_error_body(live: Server, doc: dict[str, Any]) -> None:
    error_schema = validator(doc, response_schema(doc, "search_books", "422"))
    bad = httpx.post(
        f"{live.url}/v1/tools/search_books", json={"query": "x", "limit": 500}, headers=BEARER, timeout=30
    )
    assert bad.status_code == 422
    error_schema.validate(bad.json())
    assert [f["field"] for f in bad.json()["error"]["fields"]] == ["limit"]
    missing = httpx.post(
        f"{live.url}/v1/tools/get_book", json={"book_id": "goodbooks:999999999"}, headers=BEARER, timeout=30
    )
    assert missing.status_code == 404
    validator(doc, response_schema(doc, "get_book", "404")).validate(missing.json())


def run_example(
    live: Server, fake: FakeOpenAIServer, *extra: str, key: str = KEY
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "OPENAI_BASE_URL": fake.base_url,
        "OPENAI_API_KEY": "sk-fake",
        "VIBESHELF_API_KEY": key,
    }
    return subprocess.run(
        [sys.executable, str(EXAMPLE), "--vibeshelf", live.url, "--model", "fake-model", *extra],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_example_assistant_end_to_end(live: Server, fake: FakeOpenAIServer) -> None:
    call = {"query": "cozy mystery for a rainy day", "filters": None, "limit": 3}
    fake.script(ToolCalls(("search_books", call)), Text("Curl up with ", "these three."))

    proc = run_example(live, fake, "cozy mystery for a rainy day")

    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "Curl up with these three."
    assert "-> search_books" in proc.stderr
    assert fake.remaining == 0 and len(fake.requests) == 2
    first, second = fake.requests
    assert first["model"] == "fake-model"
    assert first["messages"][-1] == {"role": "user", "content": "cozy mystery for a rainy day"}
    # The tools the model saw are vibeshelf's live tool list.
    live_tools = httpx.get(f"{live.url}/v1/tools", headers=BEARER, timeout=30).json()
    assert first["tools"] == live_tools
    # The model's next request carries its tool call and vibeshelf's real answer to it.
    assistant, tool_message = second["messages"][-2:]
    assert assistant["tool_calls"][0]["function"]["name"] == "search_books"
    assert tool_message["role"] == "tool"
    assert tool_message["tool_call_id"] == assistant["tool_calls"][0]["id"]
    answer = json.loads(tool_message["content"])
    expected = httpx.post(f"{live.url}/v1/tools/search_books", json=call, headers=BEARER, timeout=30).json()
    assert answer == expected
    assert len(answer["books"]) == 3


def test_example_feeds_tool_errors_back_to_the_model(live: Server, fake: FakeOpenAIServer) -> None:
    fake.script(
        ToolCalls(("get_book", {"book_id": "goodbooks:999999999"})),
        Text("I could not find that one."),
    )
    proc = run_example(live, fake, "tell me about book 999999999")
    assert proc.returncode == 0, proc.stderr
    tool_message = fake.requests[1]["messages"][-1]
    error = json.loads(tool_message["content"])["error"]
    assert error["code"] == "not_found"
    assert error["fields"][0]["field"] == "book_id"


def test_example_reports_a_refused_key(live: Server, fake: FakeOpenAIServer) -> None:
    proc = run_example(live, fake, "anything", key="wrong-key")
    assert proc.returncode == 1
    assert "refused the key" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert fake.requests == []  # no model call before the tools are known
