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
from vibeshelf.tools.tool import ToolContext
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
        # No output schemas: they were 72% of the listing an assistant re-reads every turn.
        assert item.output_schema is None
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
    direct = await registry.call("search_books", QUERY, ToolContext(deps=services))
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


@pytest.mark.parametrize("mode", MODES)
async def test_resources_a_book_by_uri_and_the_shelves(mode: str, server: Any, services: Services) -> None:
    book_id = _some_book_id(services)
    async with Client(server, mode=mode) as client:
        resources = (await client.list_resources()).resources
        templates = (await client.list_resource_templates()).resource_templates
        shelves = await client.read_resource("vibeshelf://shelves")
        book = await client.read_resource(f"vibeshelf://books/{book_id}")
        with pytest.raises(MCPError) as missing:
            await client.read_resource("vibeshelf://books/goodbooks:999999999")
        with pytest.raises(MCPError) as unknown:
            await client.read_resource("vibeshelf://nothing")
    assert [str(r.uri) for r in resources] == ["vibeshelf://shelves"]
    assert [t.uri_template for t in templates] == ["vibeshelf://books/{book_id}"]
    listed = json.loads(shelves.contents[0].text)["shelves"]
    assert {s["name"]: s["books"] for s in listed} == services.genres
    details = json.loads(book.contents[0].text)
    assert book.contents[0].mime_type == "application/json" and details["book"]["id"] == book_id
    assert missing.value.error.code == types.INVALID_PARAMS and "goodbooks:999999999" in str(missing.value)
    assert unknown.value.error.code == types.INVALID_PARAMS


def _some_book_id(services: Services) -> str:
    return str(services.table.search().limit(1).to_list()[0]["id"])


@pytest.mark.parametrize("mode", MODES)
async def test_prompts_recommend_from_a_mood(mode: str, server: Any) -> None:
    async with Client(server, mode=mode) as client:
        prompts = {p.name: p for p in (await client.list_prompts()).prompts}
        mood = await client.get_prompt(
            "recommend_from_mood", {"mood": "cozy, rainy weekend", "avoid": "horror"}
        )
        like = await client.get_prompt("books_like", {"title": "The Night Circus"})
        with pytest.raises(MCPError) as missing:
            await client.get_prompt("recommend_from_mood", {"avoid": "horror"})
    assert set(prompts) == {"recommend_from_mood", "books_like"}
    assert [a.name for a in prompts["recommend_from_mood"].arguments] == ["mood", "avoid"]
    text = mood.messages[0].content.text
    assert mood.messages[0].role == "user"
    assert "cozy, rainy weekend" in text and "Leave out: horror" in text and "search_books" in text
    assert "The Night Circus" in like.messages[0].content.text
    assert "readers_also_liked" in like.messages[0].content.text
    assert "'mood'" in str(missing.value)
