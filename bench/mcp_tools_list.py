"""What an MCP client pays for ``tools/list`` on every turn: bytes and approximate tokens, before/after.

    .venv/bin/python bench/mcp_tools_list.py [--tokenizer tokenizer.json]

Both listings are built in this run from the real registry: *with output schemas* is what ``/mcp`` and
``vibeshelf mcp`` published before (``outputSchema`` on every tool), *lean* is what they publish now
(``web/mcp_server.mcp_tool``). Sizes are of the JSON-RPC result as the SDK serialises it; tokens are
counted with cl100k_base (bundled with litellm, no download) or the given tokenizer, per tool and in total.
No index is needed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import mcp_types as types

sys.path.insert(0, str(Path(__file__).resolve().parent))
from prompt_tokens import counter

from vibeshelf.tools.default_registry import default_registry
from vibeshelf.web.mcp_server import mcp_tool


def wire(tools: list[types.Tool]) -> str:
    result = types.ListToolsResult(tools=tools)
    return json.dumps(result.model_dump(mode="json", by_alias=True, exclude_none=True), separators=(",", ":"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tokenizer", help="a Hugging Face tokenizer.json (default: cl100k_base)")
    args = parser.parse_args()
    name, count = counter(args.tokenizer)
    registry = default_registry()
    lean = [mcp_tool(tool) for tool in registry]
    before = [
        item.model_copy(update={"output_schema": dict(tool.output_schema)})
        for item, tool in zip(lean, registry, strict=True)
    ]
    print(f"tools/list, {len(lean)} tools; tokens: {name}")
    print(f"{'tool':<22}{'before B':>10}{'lean B':>10}{'before tok':>12}{'lean tok':>10}")
    for old, new in zip(before, lean, strict=True):
        a, b = wire([old]), wire([new])
        print(f"{new.name:<22}{len(a):>10,}{len(b):>10,}{count(a):>12,}{count(b):>10,}")
    a, b = wire(before), wire(lean)
    print(f"{'total':<22}{len(a):>10,}{len(b):>10,}{count(a):>12,}{count(b):>10,}")
    print(f"lean / before: bytes {len(b) / len(a):.2f}, tokens {count(b) / count(a):.2f}")


if __name__ == "__main__":
    main()
