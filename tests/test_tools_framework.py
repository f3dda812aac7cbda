"""The tool framework: schema derivation, OpenAI strict-mode rules, argument validation, calling."""

from __future__ import annotations

import enum
import json
import logging
import threading
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import jsonschema
import pytest
from pydantic import BaseModel, Field

from vibeshelf.tools.models import (
    BookCard,
    FeelingLuckyArgs,
    FeelingLuckyResult,
    FindBookArgs,
    FindBookResult,
    GetBookArgs,
    GetBookResult,
    MatchEvidence,
    PopularBooksArgs,
    PopularBooksResult,
    ReadersAlsoLikedArgs,
    ReadersAlsoLikedResult,
    SearchBooksArgs,
    SearchFilters,
    SearchResult,
    ToolError,
)
from vibeshelf.tools.registry import ToolRegistry
from vibeshelf.tools.schema import Docstring, ToolDefinitionError, strict_json_schema
from vibeshelf.tools.tool import Tool, ToolContext, ToolFailure, UnknownToolError, tool

# --- an independent checker of OpenAI strict-mode rules ---------------------------------------------

ALLOWED_KEYS = {
    "type",
    "description",
    "enum",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "anyOf",
    "pattern",
    "format",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minItems",
    "maxItems",
}
JSON_TYPES = {"string", "number", "integer", "boolean", "object", "array", "null"}


def strict_problems(schema: Any, path: str = "$", depth: int = 0) -> list[str]:
    """Every violation of OpenAI's strict-mode schema subset, recursively (empty list: compliant)."""
    if not isinstance(schema, dict):
        return [f"{path}: not an object"]
    problems = [f"{path}: keyword {k!r} not allowed in strict mode" for k in schema if k not in ALLOWED_KEYS]
    kind = schema.get("type")
    if kind is None and "anyOf" not in schema and "enum" not in schema:
        problems.append(f"{path}: no type")
    if kind is not None and kind not in JSON_TYPES:
        problems.append(f"{path}: unknown type {kind!r}")
    if kind == "object":
        if depth > 10:
            problems.append(f"{path}: nested deeper than 10 objects")
        if schema.get("additionalProperties") is not False:
            problems.append(f"{path}: additionalProperties must be false")
        props = schema.get("properties")
        if not isinstance(props, dict):
            problems.append(f"{path}: object without properties")
            props = {}
        if sorted(schema.get("required", [])) != sorted(props):
            problems.append(f"{path}: required must list every property")
        for name, sub in props.items():
            problems += strict_problems(sub, f"{path}.{name}", depth + 1)
    if kind == "array":
        if "items" not in schema:
            problems.append(f"{path}: array without items")
        else:
            problems += strict_problems(schema["items"], f"{path}[]", depth)
    for i, branch in enumerate(schema.get("anyOf", [])):
        problems += strict_problems(branch, f"{path}|{i}", depth)
    return problems


def assert_strict(schema: dict[str, Any]) -> None:
    assert schema.get("type") == "object", "the root must be an object"
    assert "anyOf" not in schema, "the root must not be a union"
    problems = strict_problems(schema)
    assert problems == [], "\n".join(problems)


def test_checker_catches_a_plain_pydantic_schema() -> None:
    # The checker must be able to fail: pydantic's own output breaks several strict-mode rules.
    problems = strict_problems(SearchBooksArgs.model_json_schema())
    assert "$: keyword '$defs' not allowed in strict mode" in problems
    assert "$: keyword 'title' not allowed in strict mode" in problems
    assert "$: required must list every property" in problems
    assert "$.limit: keyword 'default' not allowed in strict mode" in problems


# --- test-only example tools ------------------------------------------------------------------------


@dataclass
class Shelf:
    """Stand-in services object for the context: a tiny in-memory catalog."""

    books: dict[str, str]


class Mood(enum.StrEnum):
    COSY = "cosy"
    DARK = "dark"


class Entry(BaseModel):
    book_id: str
    note: str | None = None
    stars: int = Field(default=3, ge=1, le=5, description="How much the reader liked it.")


class Lookup(BaseModel):
    found: list[str]
    mood: Mood | None = None
    mode: str
    limit: int
    tags: list[str]


@tool
def shelf_search(
    ctx: ToolContext[Shelf],
    query: Annotated[str, Field(description="From Field.", max_length=200)],
    filters: SearchFilters | None = None,
    mode: Literal["fast", "deep"] = "fast",
    mood: Mood | None = None,
    tags: list[str] = [],  # noqa: B006 - the framework copies defaults per call
    limit: Annotated[int, Field(ge=1, le=25)] = 10,
) -> Lookup:
    """Search the shelf for books whose title contains the query.

    Second paragraph, also
    for the model.

    Notes:
        For developers only; must not reach the model.

    Args:
        ctx: The services (not shown to the model).
        query: From the docstring, overridden by Field.
        mode: How hard to look:
            fast or deep.
        limit: Maximum number of books.
    """
    found = [i for i, title in ctx.deps.books.items() if query.lower() in title.lower()]
    if filters is not None and filters.exclude_ids:
        found = [i for i in found if i not in filters.exclude_ids]
    return Lookup(found=found[:limit], mood=mood, mode=mode, limit=limit, tags=tags)


class ShelfReport(BaseModel):
    entries: list[Entry]
    thread: str


@tool
async def rate_entries(entries: list[Entry], shelf_name: str = "main") -> ShelfReport:
    """Store ratings for several books at once.

    Args:
        entries: One entry per book.
        shelf_name: Which shelf.
    """
    return ShelfReport(entries=entries, thread=threading.current_thread().name)


@tool
def sync_report(entries: list[Entry]) -> ShelfReport:
    """Sync twin of rate_entries."""
    return ShelfReport(entries=entries, thread=threading.current_thread().name)


@tool(name="explode", description="Always fails.")
def explode_impl(x: int) -> ShelfReport:
    raise RuntimeError(f"secret internal path /srv/vibeshelf/{x}")


@tool
def get_shelf_book(ctx: ToolContext[Shelf], args: GetBookArgs) -> GetBookResult:
    """Fetch one book by id."""
    title = ctx.deps.books.get(args.book_id)
    if title is None:
        raise ToolFailure(
            f"No book with id {args.book_id!r}. Use search to find ids.", error_type="not_found"
        )
    return GetBookResult(book={"id": args.book_id, "title": title})  # type: ignore[arg-type]


@tool
def off_contract(x: int) -> ShelfReport:
    """Returns something that is not a ShelfReport."""
    return {"entries": "nope"}  # type: ignore[return-value]


@tool
def pick(target: int | Entry, also: list[int | Entry] | None = None) -> ShelfReport:
    """Takes unions, whose errors pydantic tags with the branch tried."""
    return ShelfReport(entries=[], thread="x")


SHELF = ToolContext(Shelf({"gb:1": "The Hunger Games", "gb:2": "Catching Fire", "gb:3": "Hunger"}))


# --- schema derivation ------------------------------------------------------------------------------


def test_description_is_the_prose_before_the_first_section() -> None:
    assert shelf_search.description == (
        "Search the shelf for books whose title contains the query.\n\nSecond paragraph, also for the model."
    )
    assert explode_impl.name == "explode" and explode_impl.description == "Always fails."


def test_parameter_descriptions_from_docstring_and_field() -> None:
    props = shelf_search.parameters_schema["properties"]
    assert props["query"]["description"].startswith("From Field.")  # Field wins over the docstring
    assert "(at most 200 characters)" in props["query"]["description"]  # maxLength moved, not lost
    assert props["mode"]["description"].startswith("How hard to look: fast or deep.")  # continuation line
    assert props["limit"]["description"].startswith("Maximum number of books.")


def test_context_parameter_is_injected_not_exposed() -> None:
    assert shelf_search.takes_context
    assert "ctx" not in shelf_search.parameters_schema["properties"]
    assert list(shelf_search.parameters_schema["properties"]) == [
        "query",
        "filters",
        "mode",
        "mood",
        "tags",
        "limit",
    ]


def test_optionals_are_required_and_nullable_with_their_default_stated() -> None:
    schema = shelf_search.parameters_schema
    assert schema["required"] == list(schema["properties"])
    limit = schema["properties"]["limit"]
    assert {"type": "null"} in limit["anyOf"]
    integer = next(b for b in limit["anyOf"] if b.get("type") == "integer")
    assert (integer["minimum"], integer["maximum"]) == (1, 25)
    assert "Null means the default, 10." in limit["description"]
    # Already-nullable parameters are not wrapped twice.
    mood = schema["properties"]["mood"]
    assert sum(b == {"type": "null"} for b in mood["anyOf"]) == 1


def test_literals_and_enums_become_enum_lists() -> None:
    props = shelf_search.parameters_schema["properties"]
    mode = next(b for b in props["mode"]["anyOf"] if b.get("type") != "null")
    assert mode == {"enum": ["fast", "deep"], "type": "string"}
    mood = next(b for b in props["mood"]["anyOf"] if b.get("type") != "null")
    assert mood["enum"] == ["cosy", "dark"]


def test_nested_models_are_inlined_and_strict() -> None:
    schema = rate_entries.parameters_schema
    assert "$defs" not in json.dumps(schema) and "$ref" not in json.dumps(schema)
    item = schema["properties"]["entries"]["items"]
    assert item["type"] == "object" and item["additionalProperties"] is False
    assert item["required"] == ["book_id", "note", "stars"]
    assert item["properties"]["stars"]["description"].startswith("How much the reader liked it.")
    filters = next(
        b for b in shelf_search.parameters_schema["properties"]["filters"]["anyOf"] if b["type"] != "null"
    )
    assert set(filters["properties"]) >= {"year_min", "genres_exclude", "exclude_ids"}


@pytest.mark.parametrize(
    "item", [shelf_search, rate_entries, sync_report, explode_impl, get_shelf_book, pick]
)
def test_example_tool_schemas_are_strict(item: Tool) -> None:
    entry = item.openai_schema()
    assert entry["type"] == "function" and entry["function"]["strict"] is True
    assert entry["function"]["name"] == item.name and entry["function"]["description"]
    assert_strict(entry["function"]["parameters"])
    jsonschema.Draft202012Validator.check_schema(entry["function"]["parameters"])


def test_openai_schema_is_a_fresh_copy_each_time() -> None:
    # Built once per tool and parsed per call: a caller changing its copy changes nothing for the next one.
    first = shelf_search.openai_schema()
    first["function"]["parameters"]["properties"].clear()
    first["function"]["name"] = "changed"
    again = shelf_search.openai_schema()
    assert again["function"]["name"] == "shelf_search"
    assert again["function"]["parameters"] == shelf_search.parameters_schema
    assert again["function"]["parameters"]["properties"]


CONTRACTS = [
    (SearchBooksArgs, SearchResult),
    (FindBookArgs, FindBookResult),
    (ReadersAlsoLikedArgs, ReadersAlsoLikedResult),
    (GetBookArgs, GetBookResult),
    (FeelingLuckyArgs, FeelingLuckyResult),
    (PopularBooksArgs, PopularBooksResult),
]


@pytest.mark.parametrize(("args_model", "result_model"), CONTRACTS)
def test_contract_models_make_strict_tools(
    args_model: type[BaseModel], result_model: type[BaseModel]
) -> None:
    def fn(ctx: ToolContext[Shelf], args: args_model) -> result_model:  # type: ignore[valid-type]
        """Contract check."""
        raise NotImplementedError

    fn.__annotations__ = {"ctx": ToolContext[Shelf], "args": args_model, "return": result_model}
    made = Tool.from_function(fn, name=args_model.__name__.removesuffix("Args").lower())
    assert made.args_model is args_model  # the ToolArgs model is the whole arguments object
    assert_strict(made.parameters_schema)
    assert made.output_schema["type"] == "object"
    jsonschema.Draft202012Validator.check_schema(made.output_schema)


def test_strict_schema_accepts_what_the_model_would_send_for_search_books() -> None:
    # What a strict-mode model sends: every property present, nulls for the unused ones.
    schema = strict_json_schema(SearchBooksArgs)
    sent = {
        "query": "cosy mystery",
        "filters": {name: None for name in SearchFilters.model_fields} | {"genres_exclude": ["horror"]},
        "limit": None,
    }
    jsonschema.validate(sent, schema)
    parsed = Tool.from_function(_search_contract).parse_arguments(json.dumps(sent))
    assert isinstance(parsed, SearchBooksArgs)
    assert parsed.limit == 10 and parsed.filters is not None and parsed.filters.genres_exclude == ["horror"]


def _search_contract(args: SearchBooksArgs) -> SearchResult:
    """Search contract."""
    return SearchResult(books=[], query=args.query, total_candidates=0)


def test_output_schema_validates_a_real_result() -> None:
    made = Tool.from_function(_search_contract)
    result = SearchResult(
        books=[BookCard(id="gb:1", title="T", why=MatchEvidence(matched_terms=["t"], fused_rank=1))],
        query="t",
        total_candidates=1,
    )
    jsonschema.validate(result.model_dump(mode="json"), made.output_schema)


def test_docstring_parser_handles_types_and_sections() -> None:
    doc = Docstring.parse(
        """Summary line
        continues here.

        Longer text.

        Args:
            a (int): First
                and more.
            b: Second.

        Returns:
            c: not an argument.
        """
    )
    assert doc.summary == "Summary line continues here.\n\nLonger text."
    assert doc.params == {"a": "First and more.", "b": "Second."}


# --- definition errors ------------------------------------------------------------------------------


class Node(BaseModel):
    children: list[Node] = []


def _untyped(x) -> ShelfReport:  # type: ignore[no-untyped-def]
    """Doc."""
    raise NotImplementedError


def _variadic(*xs: int) -> ShelfReport:
    """Doc."""
    raise NotImplementedError


def _no_return(x: int):  # type: ignore[no-untyped-def]
    """Doc."""


def _str_return(x: int) -> str:
    """Doc."""
    return ""


def _free_dict(x: dict[str, int]) -> ShelfReport:
    """Doc."""
    raise NotImplementedError


def _tuple(x: tuple[int, str]) -> ShelfReport:
    """Doc."""
    raise NotImplementedError


def _anything(x: Any) -> ShelfReport:
    """Doc."""
    raise NotImplementedError


def _recursive(x: Node) -> ShelfReport:
    """Doc."""
    raise NotImplementedError


def _context_second(x: int, ctx: ToolContext[Shelf]) -> ShelfReport:
    """Doc."""
    raise NotImplementedError


def _doc_drift(x: int) -> ShelfReport:
    """Doc.

    Args:
        y: A parameter that no longer exists.
    """
    raise NotImplementedError


def _undocumented(x: int) -> ShelfReport:
    raise NotImplementedError


def _args_and_more(args: GetBookArgs, extra: int) -> ShelfReport:
    """Doc."""
    raise NotImplementedError


@pytest.mark.parametrize(
    ("fn", "needle"),
    [
        (_untyped, "no type annotation"),
        (_variadic, "variadic"),
        (_no_return, "return annotation"),
        (_str_return, "return annotation"),
        (_free_dict, "free-form dict"),
        (_tuple, "tuples"),
        (_anything, "unspecified type"),
        (_recursive, "recursive model Node"),
        (_context_second, "must be the first parameter"),
        (_doc_drift, "unknown parameters ['y']"),
        (_undocumented, "no description"),
        (_args_and_more, "must be the only argument"),
    ],
)
def test_broken_definitions_raise(fn: Any, needle: str) -> None:
    with pytest.raises(ToolDefinitionError, match=needle.replace("[", r"\[").replace("(", r"\(")):
        Tool.from_function(fn)


def test_bad_name_raises() -> None:
    with pytest.raises(ToolDefinitionError, match="name"):
        Tool.from_function(sync_report.fn, name="has spaces")


# --- validation -------------------------------------------------------------------------------------


def fields_of(result: Any) -> dict[str, str]:
    assert isinstance(result, ToolError), result
    assert result.error.type == "invalid_arguments"
    return {f.field: f.message for f in result.error.fields}


async def test_json_string_and_dict_arguments_give_the_same_result() -> None:
    as_json = await shelf_search.call('{"query": "hunger", "limit": 1}', SHELF)
    as_dict = await shelf_search.call({"query": "hunger", "limit": 1}, SHELF)
    assert as_json.ok and as_dict.ok
    assert as_json.to_dict() == as_dict.to_dict()
    assert as_json.to_dict()["found"] == ["gb:1"]


async def test_nulls_mean_defaults_recursively() -> None:
    sent = {"query": "hunger", "filters": None, "mode": None, "mood": None, "tags": None, "limit": None}
    result = await shelf_search.call(sent, SHELF)
    assert result.ok, result.to_json()
    assert result.to_dict() == {
        "found": ["gb:1", "gb:3"],
        "mood": None,
        "mode": "fast",
        "limit": 10,
        "tags": [],
    }
    report = await rate_entries.call(
        {"entries": [{"book_id": "gb:1", "note": None, "stars": None}], "shelf_name": None}
    )
    assert report.ok, report.to_json()
    assert report.to_dict()["entries"] == [{"book_id": "gb:1", "note": None, "stars": 3}]


async def test_mutable_defaults_are_not_shared_between_calls() -> None:
    first = await shelf_search.call({"query": "x"}, SHELF)
    first.arguments.tags.append("leak")  # type: ignore[union-attr]
    second = await shelf_search.call({"query": "x"}, SHELF)
    assert second.to_dict()["tags"] == []


async def test_invalid_arguments_name_each_field_path() -> None:
    result = await shelf_search.call(
        {"query": "x", "filters": {"year_min": 2020, "year_max": 1990, "min_average_rating": 7}, "limit": 0},
        SHELF,
    )
    assert not result.ok and result.arguments is None
    fields = fields_of(result.error)
    assert set(fields) == {"filters.year_max", "filters.min_average_rating", "limit"}
    assert fields["filters.year_max"] == "year_max (1990) must be >= year_min (2020)"
    assert "less than or equal to 5" in fields["filters.min_average_rating"]
    assert "(got 7)" in fields["filters.min_average_rating"]
    assert "greater than or equal to 1" in fields["limit"]
    assert "filters.year_max" in result.error.error.message  # type: ignore[union-attr]


async def test_list_items_and_missing_fields_are_named() -> None:
    result = await rate_entries.call({"entries": [{"book_id": "gb:1"}, {"stars": 9}]})
    fields = fields_of(result.error)
    assert fields == {
        "entries[1].book_id": "Field required",
        "entries[1].stars": "Input should be less than or equal to 5 (got 9)",
    }


async def test_unknown_fields_list_the_allowed_ones() -> None:
    result = await shelf_search.call({"query": "x", "filters": {"yearmin": 2000}, "colour": "red"}, SHELF)
    fields = fields_of(result.error)
    assert set(fields) == {"filters.yearmin", "colour"}
    assert "year_min" in fields["filters.yearmin"] and "exclude_ids" in fields["filters.yearmin"]
    assert fields["colour"] == "Unknown field. Allowed here: query, filters, mode, mood, tags, limit."


async def test_wrong_types_and_enum_values() -> None:
    result = await shelf_search.call(
        {"query": ["not", "a", "string"], "mode": "slow", "mood": "happy"}, SHELF
    )
    fields = fields_of(result.error)
    assert set(fields) == {"query", "mode", "mood"}
    assert "'fast' or 'deep'" in fields["mode"] and '(got "slow")' in fields["mode"]


async def test_union_tags_are_not_part_of_the_path() -> None:
    result = await pick.call({"target": {"book_id": "gb:1", "stars": 0}, "also": [1, {"stars": 2}]})
    fields = fields_of(result.error)
    assert set(fields) == {"target", "target.stars", "also[1]", "also[1].book_id"}
    assert fields["target"].startswith("Input should be a valid integer")
    assert fields["target.stars"] == "Input should be greater than or equal to 1 (got 0)"
    assert fields["also[1].book_id"] == "Field required"
    valid = await pick.call({"target": 3, "also": None})
    assert valid.ok


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        ('{"query": "x",', "not valid JSON"),
        ("[1, 2]", "must be a JSON object, not list"),
        ('"just a string"', "must be a JSON object, not str"),
    ],
)
async def test_unparseable_arguments_are_an_error_result(raw: str, needle: str) -> None:
    result = await shelf_search.call(raw, SHELF)
    assert result.error is not None and result.error.error.type == "invalid_arguments"
    assert needle in result.error.error.message
    assert result.error.http_status == 422


async def test_empty_argument_string_means_no_arguments() -> None:
    result = await shelf_search.call("", SHELF)
    assert fields_of(result.error) == {"query": "Field required"}


# --- running ----------------------------------------------------------------------------------------


async def test_async_and_sync_tools_run() -> None:
    entries = [{"book_id": "gb:2", "stars": 5}]
    async_result = await rate_entries.call({"entries": entries})
    sync_result = await sync_report.call(json.dumps({"entries": entries}))
    assert async_result.ok and sync_result.ok
    assert (
        async_result.to_dict()["entries"]
        == sync_result.to_dict()["entries"]
        == [{"book_id": "gb:2", "note": None, "stars": 5}]
    )
    # Sync tools run off the event loop's thread; async ones on it.
    assert async_result.to_dict()["thread"] == threading.current_thread().name
    assert sync_result.to_dict()["thread"] != threading.current_thread().name
    inline = Tool.from_function(sync_report.fn, run_sync_in_thread=False)
    assert (await inline.call({"entries": entries})).to_dict()["thread"] == threading.current_thread().name


async def test_exceptions_become_safe_tool_failed_errors(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="vibeshelf.tools.tool"):
        result = await explode_impl.call({"x": 7})
    assert result.error is not None and result.error.error.type == "tool_failed"
    assert "secret" not in result.to_json() and "/srv" not in result.to_json()
    assert "explode failed" in result.error.error.message
    assert result.error.http_status == 500
    assert any("secret internal path /srv/vibeshelf/7" in (r.exc_text or "") for r in caplog.records)


async def test_tool_failure_carries_the_tools_own_message() -> None:
    result = await get_shelf_book.call({"book_id": "gb:404"}, SHELF)
    assert result.error is not None
    assert result.error.error.type == "not_found" and result.error.http_status == 404
    assert result.error.error.message == "No book with id 'gb:404'. Use search to find ids."
    found = await get_shelf_book.call({"book_id": "gb:2"}, SHELF)
    assert found.ok and found.to_dict()["book"]["title"] == "Catching Fire"
    assert isinstance(found.arguments, GetBookArgs)


async def test_off_contract_results_are_caught() -> None:
    result = await off_contract.call({"x": 1})
    assert result.error is not None and result.error.error.type == "tool_failed"


def test_tool_stays_callable_as_a_function() -> None:
    assert shelf_search(SHELF, "fire").found == ["gb:2"]


# --- registry ---------------------------------------------------------------------------------------


async def test_registry_lists_calls_and_refuses_unknown_names() -> None:
    registry = ToolRegistry([shelf_search, rate_entries])

    @registry.tool
    def count_shelf(ctx: ToolContext[Shelf]) -> ShelfReport:
        """Count the books on the shelf."""
        return ShelfReport(entries=[Entry(book_id=i) for i in ctx.deps.books], thread="x")

    assert registry.names() == ["shelf_search", "rate_entries", "count_shelf"]
    schemas = registry.openai_schemas()
    assert [s["function"]["name"] for s in schemas] == registry.names()
    for entry in schemas:
        assert_strict(entry["function"]["parameters"])
    assert schemas[2]["function"]["parameters"] == {
        "type": "object",
        "properties": {},
        "required": [],
        "additionalProperties": False,
    }
    counted = await registry.call("count_shelf", "{}", SHELF)
    assert len(counted.to_dict()["entries"]) == 3
    with pytest.raises(UnknownToolError, match="nope"):
        await registry.call("nope", {}, SHELF)
    with pytest.raises(ValueError, match="already registered"):
        registry.register(shelf_search)
    with pytest.raises(TypeError, match="needs a ToolContext"):
        await registry.call("shelf_search", {"query": "x"})


def test_the_real_book_tools_have_strict_schemas() -> None:
    # The six tools the retrieval code defines with this framework, as GET /v1/tools will list them.
    from vibeshelf.tools.default_registry import default_registry

    registry = default_registry()
    expected = {
        "search_books",
        "find_book",
        "readers_also_liked",
        "get_book",
        "feeling_lucky",
        "popular_books",
    }
    assert set(registry.names()) == expected
    for entry in registry.openai_schemas():
        assert entry["function"]["description"], entry["function"]["name"]
        assert_strict(entry["function"]["parameters"])
        jsonschema.Draft202012Validator.check_schema(entry["function"]["parameters"])
    for made in registry:
        assert made.takes_context and made.output_schema["type"] == "object"
