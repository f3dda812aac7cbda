"""The registry with the six book tools, as the agent loop, HTTP and MCP surfaces offer them."""

from __future__ import annotations

from vibeshelf.tools.feeling_lucky import feeling_lucky
from vibeshelf.tools.find_book import find_book
from vibeshelf.tools.get_book import get_book
from vibeshelf.tools.popular_books import popular_books
from vibeshelf.tools.readers_also_liked import readers_also_liked
from vibeshelf.tools.registry import ToolRegistry
from vibeshelf.tools.search_books import search_books

TOOLS = (search_books, find_book, readers_also_liked, get_book, feeling_lucky, popular_books)


def default_registry() -> ToolRegistry:
    """A fresh registry holding the six tools (tools are immutable; registries are cheap)."""
    return ToolRegistry(TOOLS)
