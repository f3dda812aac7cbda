"""MCP over streamable HTTP at /mcp of the real app, served by a real uvicorn process with API keys on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import httpx
import httpx2
import jsonschema
import pytest
from chat_server import Server
from conftest import LIVE_API_KEY as KEY
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from vibeshelf.tools.default_registry import default_registry

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "raw-http-test", "version": "0"},
    },
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


@pytest.fixture
def live(live_vibeshelf: Server) -> Server:
    return live_vibeshelf


def client(live: Server, mode: str, headers: dict[str, str]) -> Client:
    http = httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=60))
    return Client(streamable_http_client(f"{live.url}/mcp", http_client=http), mode=mode)


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_list_and_call_over_http(live: Server, mode: str) -> None:
    registry = default_registry()
    arguments = {"query": "a whimsical fantasy adventure with a dragon", "limit": 4}
    async with client(live, mode, {"Authorization": f"Bearer {KEY}"}) as mcp:
        listed = (await mcp.list_tools()).tools
        result = await mcp.call_tool("search_books", arguments)
        bad = await mcp.call_tool("search_books", {"query": "dragons", "filters": {"year_max": "later"}})

    assert [t.name for t in listed] == registry.names()
    for item in listed:
        assert item.input_schema == registry.get(item.name).parameters_schema
        assert item.output_schema is None  # lean listing (web/mcp_server.mcp_tool)

    assert result.is_error is False
    jsonschema.Draft202012Validator(registry.get("search_books").output_schema).validate(
        result.structured_content
    )
    assert len(result.structured_content["books"]) == 4
    # One registry behind both surfaces: the plugin's HTTP route gives the same result.
    plain = httpx.post(
        f"{live.url}/v1/tools/search_books", json=arguments, headers={"X-API-Key": KEY}, timeout=30
    )
    assert plain.status_code == 200
    assert result.structured_content == plain.json()

    assert bad.is_error is True
    error = json.loads(bad.content[0].text)["error"]
    assert [f["field"] for f in error["fields"]] == ["filters.year_max"]


def test_mcp_endpoint_needs_the_api_key(live: Server) -> None:
    url = f"{live.url}/mcp"
    denied = httpx.post(url, json=INITIALIZE, headers=MCP_HEADERS, timeout=30)
    assert denied.status_code == 401
    assert denied.json()["error"]["code"] == "unauthorized"
    assert denied.headers["www-authenticate"] == "Bearer"
    wrong = httpx.post(url, json=INITIALIZE, headers={**MCP_HEADERS, "X-API-Key": "nope"}, timeout=30)
    assert wrong.status_code == 401
    for auth in ({"Authorization": f"Bearer {KEY}"}, {"X-API-Key": KEY}):
        ok = httpx.post(url, json=INITIALIZE, headers={**MCP_HEADERS, **auth}, timeout=30)
        assert ok.status_code == 200, ok.text
        assert ok.json()["result"]["serverInfo"]["name"] == "vibeshelf"


def test_get_and_delete_answer_405_not_an_endless_stream(live: Server) -> None:
    headers = {"Accept": "text/event-stream", "X-API-Key": KEY}
    for method in ("GET", "DELETE"):
        # A short read timeout: the old behaviour (an SSE stream that never ends) fails here, not hangs.
        answer = httpx.request(method, f"{live.url}/mcp", headers=headers, timeout=httpx.Timeout(10, read=5))
        assert answer.status_code == 405 and answer.headers["allow"] == "POST"
        assert answer.json()["error"]["code"] == "method_not_allowed"


async def test_resources_and_prompts_over_http(live: Server) -> None:
    async with client(live, "auto", {"X-API-Key": KEY}) as mcp:
        shelves = await mcp.read_resource("vibeshelf://shelves")
        prompt = await mcp.get_prompt("recommend_from_mood", {"mood": "a quiet seaside mystery"})
    listed = json.loads(shelves.contents[0].text)["shelves"]
    assert listed and listed[0]["books"] >= listed[-1]["books"]
    assert "a quiet seaside mystery" in prompt.messages[0].content.text


def test_foreign_host_header_is_refused(live: Server) -> None:
    # DNS-rebinding protection: a page on evil.example resolving to 127.0.0.1 must not reach the tools.
    headers = {**MCP_HEADERS, "X-API-Key": KEY, "Host": "evil.example"}
    refused = httpx.post(f"{live.url}/mcp", json=INITIALIZE, headers=headers, timeout=30)
    assert refused.status_code == 421


def test_the_server_loads_the_mcp_sdk_on_first_use_only(goodbooks_mini_index, tmp_path) -> None:
    """A server that never sees /mcp (widget + chat only) does not pay for the MCP SDK, scipy or torch;
    the first /mcp request loads the SDK and is answered."""
    code = textwrap.dedent(
        f"""
        import json, sys
        from fastapi.testclient import TestClient
        from vibeshelf.web.app import create_app
        heavy = ("mcp", "scipy", "torch")
        with TestClient(create_app(), base_url="http://127.0.0.1:8000") as c:
            assert c.get("/healthz").status_code == 200
            chat = c.post("/v1/chat", json={{"message": "a cozy mystery"}})
            assert chat.status_code == 200 and "event: done" in chat.text, chat.text[-300:]
            print("BEFORE=" + ",".join(m for m in heavy if m in sys.modules))
            headers = {MCP_HEADERS!r}
            c.post("/mcp", json={INITIALIZE!r}, headers=headers)
            listed = c.post("/mcp", json={{"jsonrpc": "2.0", "id": 2, "method": "tools/list"}}, headers=headers)
            names = sorted(t["name"] for t in listed.json()["result"]["tools"])
            print("TOOLS=" + ",".join(names))
            print("AFTER=" + ",".join(m for m in heavy if m in sys.modules))
        """
    )
    env = {
        **os.environ,
        "VIBESHELF_HOME": str(goodbooks_mini_index.home),
        "VIBESHELF_STATE_DB": str(tmp_path / "state.duckdb"),
    }
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "BEFORE=\n" in out.stdout
    assert f"TOOLS={','.join(sorted(default_registry().names()))}\n" in out.stdout
    assert "AFTER=mcp\n" in out.stdout
