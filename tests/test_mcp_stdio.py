"""`vibeshelf mcp` as a real subprocess, driven by the `mcp` Python client over stdio."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from vibeshelf.layout import Layout
from vibeshelf.tools.default_registry import default_registry

OFFLINE = {"LITELLM_LOCAL_MODEL_COST_MAP": "True", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def vibeshelf_command() -> list[str]:
    """The installed `vibeshelf` script beside this interpreter, else the module form."""
    script = Path(sys.executable).with_name("vibeshelf")
    return [str(script)] if script.exists() else [sys.executable, "-m", "vibeshelf.cli"]


async def test_stdio_lists_and_calls_the_tools(goodbooks_mini_index: Layout, tmp_path: Path) -> None:
    command, *args = vibeshelf_command()
    params = StdioServerParameters(
        command=command,
        args=[*args, "mcp"],
        env={**OFFLINE, "VIBESHELF_HOME": str(goodbooks_mini_index.home)},
        cwd=tmp_path,  # no stray .env from the checkout
    )
    stderr_path = tmp_path / "mcp-stderr.log"
    registry = default_registry()
    with stderr_path.open("w") as errlog:
        async with Client(stdio_client(params, errlog=errlog), read_timeout_seconds=60) as client:
            listed = (await client.list_tools()).tools
            result = await client.call_tool("search_books", {"query": "a young wizard", "limit": 3})
            bad = await client.call_tool("search_books", {"query": "dragons", "limit": 500})

    assert [t.name for t in listed] == registry.names()
    for item in listed:
        assert item.input_schema == registry.get(item.name).parameters_schema
        assert item.output_schema is None  # lean listing (web/mcp_server.mcp_tool)

    assert result.is_error is False
    jsonschema.Draft202012Validator(registry.get("search_books").output_schema).validate(
        result.structured_content
    )
    assert len(result.structured_content["books"]) == 3
    assert json.loads(result.content[0].text) == result.structured_content

    assert bad.is_error is True
    error = json.loads(bad.content[0].text)["error"]
    assert error["code"] == "invalid_arguments" and "type" not in error
    assert [f["field"] for f in error["fields"]] == ["limit"]

    # The protocol worked, so stdout carried only JSON-RPC; the logs went to stderr.
    logs = stderr_path.read_text()
    assert "vibeshelf MCP server on stdio: 6 tools" in logs
    assert "mcp tools/call search_books: ok" in logs


def test_stdio_without_an_index_fails_with_one_clear_line(tmp_path: Path) -> None:
    home = tmp_path / "empty-home"
    proc = subprocess.run(
        [*vibeshelf_command(), "mcp"],
        env={**os.environ, **OFFLINE, "VIBESHELF_HOME": str(home)},
        cwd=tmp_path,
        input="",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""  # nothing but protocol ever goes to stdout
    assert "vibeshelf ingest" in proc.stderr
    assert "Traceback" not in proc.stderr
