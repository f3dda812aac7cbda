"""The set of tools one surface offers (agent loop, HTTP, MCP), looked up by name.

    registry = ToolRegistry([search_books, find_book, get_book])
    registry.openai_schemas()                 # the `tools=` list for a chat completion
    result = await registry.call("get_book", '{"book_id": "goodbooks:1"}', ToolContext(services))
    result.to_json()                          # the `tool` message content; result.error when it failed

Asking for a tool the registry does not have raises :class:`UnknownToolError`: the caller decides what
that means (404 over HTTP, a corrective message to the model in the agent loop).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from vibeshelf.tools.tool import Tool, ToolContext, ToolResult, UnknownToolError


class ToolRegistry:
    """Tools by name, in registration order."""

    def __init__(self, tools: Iterable[Tool | Callable[..., Any]] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        for item in tools:
            self.register(item)

    def register(self, item: Tool | Callable[..., Any]) -> Tool:
        """Add a tool (a plain function is wrapped with :meth:`Tool.from_function`). Names must be unique."""
        wrapped = item if isinstance(item, Tool) else Tool.from_function(item)
        if wrapped.name in self._tools:
            raise ValueError(f"a tool named {wrapped.name!r} is already registered")
        self._tools[wrapped.name] = wrapped
        return wrapped

    def tool(self, fn: Callable[..., Any]) -> Tool:
        """Decorator: ``@registry.tool`` wraps and registers a function."""
        return self.register(fn)

    def get(self, name: str) -> Tool:
        try:
            return self._tools[name]
        except KeyError:
            known = ", ".join(self._tools) or "none"
            raise UnknownToolError(f"unknown tool {name!r} (known: {known})") from None

    __getitem__ = get

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __iter__(self) -> Iterator[Tool]:
        return iter(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)

    def names(self) -> list[str]:
        return list(self._tools)

    def openai_schemas(self) -> list[dict[str, Any]]:
        """The OpenAI ``tools`` list: one strict function entry per tool."""
        return [t.openai_schema() for t in self._tools.values()]

    async def call(
        self,
        name: str,
        arguments: Mapping[str, Any] | str | bytes | None,
        context: ToolContext[Any] | None = None,
    ) -> ToolResult:
        """Run a tool by name. Bad arguments and tool failures come back as a ToolError result;
        an unknown name raises :class:`UnknownToolError`."""
        return await self.get(name).call(arguments, context)
