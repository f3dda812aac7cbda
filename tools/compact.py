"""Tool profiles: what a model is offered and what it reads back.

The *full* profile offers every tool with its complete schema and returns complete results: right for
large hosted models. The *compact* profile is for small and local models, whose context is small and
which read a prompt on CPU: three tools (``search_books``, ``find_book``, ``readers_also_liked``), flat
filters that cannot be null with the catalog's shelves as an enum, common misspellings of argument names
accepted (``genre_include``, ``min_year``), and slim results (id, title, authors, year, genres, rating,
one-line why, a short excerpt). The compact arguments are translated to the full tool's before the tool
(and the reader's hard constraints) see them, so the tools themselves are the same.

``profile_for(setting, model, registry, shelves)`` picks one; ``auto`` means compact for models known
to be small or local (Ollama, llamafile, LM Studio, names with a size of 14B or less such as
``qwen2.5-coder-1.5b-instruct``) and full otherwise.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from pydantic import BaseModel, Field

from vibeshelf.tools.models import BookCard
from vibeshelf.tools.tool import ToolResult

COMPACT_TOOLS = ("search_books", "find_book", "readers_also_liked")
LOCAL_PREFIXES = ("ollama/", "ollama_chat/", "llamafile/", "lm_studio/")
SMALL_MAX_BILLIONS = 14.0
_SIZE = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)b(?![a-z0-9])")
EXCERPT_CHARS = 160
MAX_SHELVES = 64

# Flat argument names -> the full tools' filter fields.
_FILTER_FIELDS = {
    "genres": "genres_include",
    "exclude_genres": "genres_exclude",
    "must_have_genres": "genres_all",
    "year_min": "year_min",
    "year_max": "year_max",
    "exclude_authors": "exclude_authors",
    "exclude_words": "exclude_terms",
    "max_pages": "max_pages",
    "min_rating": "min_average_rating",
}
# What small models write instead (and the full profile's own names), folded onto the flat names.
_ALIASES = {
    "genre": "genres",
    "genre_include": "genres",
    "genres_include": "genres",
    "include_genres": "genres",
    "genre_exclude": "exclude_genres",
    "genres_exclude": "exclude_genres",
    "exclude_genre": "exclude_genres",
    "genres_all": "must_have_genres",
    "min_year": "year_min",
    "after_year": "year_min",
    "max_year": "year_max",
    "before_year": "year_max",
    "exclude_author": "exclude_authors",
    "authors_exclude": "exclude_authors",
    "exclude_terms": "exclude_words",
    "min_average_rating": "min_rating",
    "pages_max": "max_pages",
    "book_id": "book_ids",
    "ids": "book_ids",
    "n": "limit",
    "k": "limit",
}
_LISTS = {"genres", "exclude_genres", "must_have_genres", "exclude_authors", "exclude_words", "book_ids"}


SEARCH_TOOL = "search_books"


class ToolProfile(Protocol):
    """How one model sees the tools."""

    name: str
    # The tool that finds books for a request in the reader's words: the one a model that answered from
    # memory is made to call (None: the model is only asked to).
    search_tool: str | None

    def schemas(self) -> list[dict[str, Any]]:
        """The ``tools`` list offered to the model."""
        ...

    def tool_names(self) -> list[str]:
        """The names of the tools :meth:`schemas` offers, without building the schemas."""
        ...

    def arguments(self, tool: str, arguments: str) -> str:
        """The model's arguments for ``tool`` as the full tool takes them (JSON text in, JSON text out)."""
        ...

    def result_json(self, result: ToolResult) -> str:
        """The tool message content the model reads for ``result``."""
        ...


class FullProfile:
    """Every tool, complete schemas, complete results."""

    name = "full"

    def __init__(self, registry: Any) -> None:
        self.registry = registry
        self.search_tool = SEARCH_TOOL if SEARCH_TOOL in registry.names() else None

    def schemas(self) -> list[dict[str, Any]]:
        return self.registry.openai_schemas()

    def tool_names(self) -> list[str]:
        return list(self.registry.names())

    def arguments(self, tool: str, arguments: str) -> str:
        return arguments

    def result_json(self, result: ToolResult) -> str:
        return result.to_json()


def _function(name: str, description: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {"type": "object", "properties": properties, "required": required},
        },
    }


def _list(description: str, enum: Sequence[str] | None = None) -> dict[str, Any]:
    items: dict[str, Any] = {"type": "string"}
    if enum:
        items["enum"] = list(enum)
    return {"type": "array", "items": items, "description": description}


class CompactProfile:
    """Three tools with flat filters and slim results, for small and local models."""

    name = "compact"
    search_tool: str | None = SEARCH_TOOL

    def __init__(self, registry: Any, shelves: Iterable[str] = ()) -> None:
        self.registry = registry
        self.shelves = list(shelves)[:MAX_SHELVES]

    def schemas(self) -> list[dict[str, Any]]:
        shelf = self.shelves or None
        filters: dict[str, Any] = {
            "genres": _list("Any of these shelves.", shelf),
            "exclude_genres": _list("None of these shelves (what the reader does NOT want).", shelf),
            "must_have_genres": _list("Every one of these shelves, for a tone: 'a funny fantasy' -> humor."),
            "year_min": {"type": "integer"},
            "year_max": {"type": "integer", "description": "'before 2000' -> 1999."},
            "exclude_authors": _list("Authors to leave out."),
            "exclude_words": _list("Words the reader does not want ('no vampires' -> vampire)."),
            "max_pages": {"type": "integer"},
            "min_rating": {"type": "number", "description": "1-5."},
        }
        limit = {"type": "integer", "minimum": 1, "maximum": 10, "description": "Default 5."}
        offered = {
            "search_books": _function(
                "search_books",
                "Find books by mood, theme or plot. Put what the reader does not want in the filters.",
                {"query": {"type": "string", "description": "The reader's wish, no exclusions."}}
                | filters
                | {"limit": limit},
                ["query"],
            ),
            "find_book": _function(
                "find_book",
                "Look up a book the reader names; returns its id.",
                {"title": {"type": "string"}, "author": {"type": "string"}},
                ["title"],
            ),
            "readers_also_liked": _function(
                "readers_also_liked",
                "Books that readers of the given books also loved (ids from find_book or earlier results).",
                {"book_ids": _list("1-10 book ids.")}
                | {k: v for k, v in filters.items() if k in ("exclude_genres", "year_min", "year_max")}
                | {"limit": limit},
                ["book_ids"],
            ),
        }
        return [offered[name] for name in self.tool_names()]

    def tool_names(self) -> list[str]:
        return [name for name in COMPACT_TOOLS if name in self.registry]

    def arguments(self, tool: str, arguments: str) -> str:
        try:
            given = json.loads(arguments) if arguments.strip() else {}
        except json.JSONDecodeError:
            return arguments  # the tool reports bad JSON in its own words
        if not isinstance(given, dict):
            return arguments
        fields = set(self.registry.get(tool).args_model.model_fields) if tool in self.registry else set()
        out: dict[str, Any] = {}
        filters: dict[str, Any] = (
            dict(given.get("filters") or {}) if isinstance(given.get("filters"), dict) else {}
        )
        for key, value in given.items():
            if key == "filters" or value is None or value == "" or value == []:
                continue
            flat = str(_ALIASES.get(key, key))  # JSON keys are strings
            if flat in _LISTS and isinstance(value, str):
                value = [v.strip() for v in value.split(",") if v.strip()]
            if flat in _FILTER_FIELDS and "filters" in fields:
                filters[_FILTER_FIELDS[flat]] = value
            else:  # a name the tool does not know is passed on, and the tool's error names the right ones
                out[flat if flat in fields else key] = value
        if filters and "filters" in fields:
            out["filters"] = filters
        if "limit" in fields and "limit" not in out:
            out["limit"] = 5
        return json.dumps(out, ensure_ascii=False)

    def result_json(self, result: ToolResult) -> str:
        if not result.ok or not isinstance(result.output, BaseModel):
            return result.to_json()
        return json.dumps(_slim(result.output), ensure_ascii=False, separators=(",", ":"))


class CompactBook(BaseModel):
    """What :func:`slim_card` writes, as a schema (the tool plugin's ``view=compact`` documents it); empty
    fields are left out."""

    id: str
    title: str
    authors: list[str] | None = Field(default=None, description="The first two.")
    year: int | None = None
    genres: list[str] | None = Field(default=None, description="The first four shelves.")
    rating: float | None = Field(default=None, description="Average rating, 1-5.")
    why: str | None = Field(default=None, description="One line: why the book matched.")
    excerpt: str | None = Field(default=None, description=f"About {EXCERPT_CHARS} characters of description.")


def slim_card(card: BookCard) -> dict[str, Any]:
    """One book as a small model reads it."""
    why = card.why.reason or ""
    if card.why.co_readers:
        why = f"{card.why.co_readers} readers of your picks loved it"
    elif card.why.matched_terms:
        why = "mentions " + ", ".join(card.why.matched_terms[:4])
    out: dict[str, Any] = {
        "id": card.id,
        "title": card.title,
        "authors": card.authors[:2],
        "year": card.year,
        "genres": card.genres[:4],
        "rating": card.average_rating,
        "why": why,
    }
    if card.excerpt:
        excerpt = " ".join(card.excerpt.split())
        if len(excerpt) > EXCERPT_CHARS:
            excerpt = excerpt[:EXCERPT_CHARS].rsplit(" ", 1)[0] + "…"
        out["excerpt"] = excerpt
    return {k: v for k, v in out.items() if v not in (None, "", [])}


def slim_result(output: BaseModel) -> dict[str, Any]:
    """A tool result as the compact profile returns it: books as :class:`CompactBook`, bookkeeping fields
    (applied filters, candidate counts, the query echoed back) dropped."""
    return _slim(output)


_DROP = {"applied_filters", "total_candidates", "query", "cold_seeds", "unknown_ids", "mood", "method"}


def _slim(value: Any) -> Any:
    if isinstance(value, BookCard):
        return slim_card(value)
    if isinstance(value, BaseModel):
        out = {}
        for name in type(value).model_fields:
            if name in _DROP:
                continue
            slim = _slim(getattr(value, name))
            if slim not in (None, "", [], {}):
                out[name] = slim
        return out
    if isinstance(value, list):
        return [_slim(v) for v in value]
    return value


def is_small_or_local(model: str) -> bool:
    """Known small or local models: Ollama / llamafile / LM Studio, or a size of 14B or less in the name."""
    lowered = model.lower()
    if lowered.startswith(LOCAL_PREFIXES):
        return True
    sizes = [float(m.group(1)) for m in _SIZE.finditer(lowered.rsplit("/", 1)[-1])]
    return bool(sizes) and max(sizes) <= SMALL_MAX_BILLIONS


def profile_for(setting: str, model: str, registry: Any, shelves: Iterable[str] = ()) -> ToolProfile:
    """The profile for ``model`` under the ``tool_profile`` setting (``auto``, ``full`` or ``compact``)."""
    if setting == "compact" or (setting == "auto" and is_small_or_local(model)):
        return CompactProfile(registry, shelves)
    return FullProfile(registry)
