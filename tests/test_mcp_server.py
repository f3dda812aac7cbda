"""The MCP server in-process (the SDK's in-memory client), over the real goodbooks-mini index.

Both protocol eras are exercised: ``auto`` negotiates the modern per-request protocol, ``legacy`` the
initialize handshake that most deployed clients still speak.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import mcp_types as types
import pytest
from mcp import Client, MCPError

from vibeshelf.retrieval.services import Services
from vibeshelf.settings import Settings
from vibeshelf.tools.default_registry import default_registry
from vibeshelf.tools.registry import ToolRegistry
from vibeshelf.web.mcp_server import build_mcp_server, transport_security

MODES = ["auto", "legacy"]
QUERY = {"query": "detective solving a murder in a quiet english village", "limit": 5}


@pytest.fixture
def services(mini_services: Services) -> Services:
    return mini_services


@pytest.fixture(scope="module")
def registry() -> ToolRegistry:
    return default_registry()


@pytest.fixture
def server(registry: ToolRegistry, services: Services) -> Any:
    return build_mcp_server(lambda: registry, lambda: services)


def error_of(result: types.CallToolResult) -> dict[str, Any]:
    assert result.is_error is True
    assert result.structured_content is None
    assert len(result.content) == 1 and result.content[0].type == "text"
    return json.loads(result.content[0].text)["error"]


@pytest.mark.parametrize("mode", MODES)
async def test_tools_list_publishes_the_registry_schemas(
    mode: str, server: Any, registry: ToolRegistry
) -> None:
    async with Client(server, mode=mode) as client:
        listed = (await client.list_tools()).tools
    assert [t.name for t in listed] == registry.names()
    assert len(listed) == 6
    for item in listed:
        tool = registry.get(item.name)
        assert item.input_schema == tool.parameters_schema
        assert item.output_schema == tool.output_schema
        assert item.output_schema["type"] == "object"
        assert item.description == tool.description
        assert item.annotations is not None and item.annotations.read_only_hint is True


@pytest.mark.parametrize("mode", MODES)
async def test_call_returns_json_text_plus_structured_content(
    mode: str, server: Any, registry: ToolRegistry, services: Services
) -> None:
    async with Client(server, mode=mode) as client:
        result = await client.call_tool("search_books", QUERY)
    assert result.is_error is False
    structured = result.structured_content
    jsonschema.Draft202012Validator(registry.get("search_books").output_schema).validate(structured)
    assert [c.type for c in result.content] == ["text"]
    assert json.loads(result.content[0].text) == structured
    assert len(structured["books"]) == 5
    assert all(book["id"].startswith("goodbooks:") for book in structured["books"])
    # The same registry call the HTTP plugin and the agent loop make.
    direct = await registry.call("search_books", QUERY, services.context())
    assert structured == direct.to_dict()


@pytest.mark.parametrize("mode", MODES)
async def test_invalid_argument_is_an_error_result_naming_the_field(mode: str, server: Any) -> None:
    async with Client(server, mode=mode) as client:
        result = await client.call_tool("search_books", {"query": "mystery", "filters": {"year_min": "soon"}})
        missing = await client.call_tool("readers_also_liked", {})
    error = error_of(result)
    assert error["code"] == "invalid_arguments" and "type" not in error  # the REST error shape
    assert [f["field"] for f in error["fields"]] == ["filters.year_min"]
    assert "filters.year_min" in error["message"]
    missing_error = error_of(missing)
    assert [f["field"] for f in missing_error["fields"]] == ["book_ids"]


async def test_tool_failure_is_an_error_result(server: Any) -> None:
    async with Client(server) as client:
        result = await client.call_tool("get_book", {"book_id": "goodbooks:999999999"})
        hits = await client.call_tool("search_books", QUERY)
        book_id = hits.structured_content["books"][0]["id"]
        found = await client.call_tool("get_book", {"book_id": book_id})
    error = error_of(result)
    assert error["code"] == "not_found"
    assert error["fields"][0]["field"] == "book_id"
    assert found.is_error is False
    assert found.structured_content["book"]["id"] == book_id


async def test_unknown_tool_is_a_protocol_error(server: Any) -> None:
    async with Client(server) as client:
        with pytest.raises(MCPError) as caught:
            await client.call_tool("delete_everything", {})
    assert caught.value.code == types.INVALID_PARAMS
    assert "search_books" in caught.value.message  # the error lists the tools that do exist


def test_transport_security_follows_the_bound_host() -> None:
    local = transport_security(Settings(host="127.0.0.1", public_url="https://books.example.com"))
    assert local.enable_dns_rebinding_protection is True
    assert "127.0.0.1:*" in local.allowed_hosts
    assert "books.example.com" in local.allowed_hosts  # a local reverse proxy forwards the public Host
    assert "https://books.example.com" in local.allowed_origins
    public = transport_security(Settings(host="0.0.0.0"))
    assert public.enable_dns_rebinding_protection is False
