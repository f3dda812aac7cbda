"""The six book tools as the model sees them: valid OpenAI strict function schemas, derived in code."""

from __future__ import annotations

import jsonschema
import pytest

from vibeshelf.tools.default_registry import default_registry
from vibeshelf.tools.models import SearchFilters

SIX = ["search_books", "find_book", "readers_also_liked", "get_book", "feeling_lucky", "popular_books"]


def _objects(schema: dict):
    """Every object node of a JSON schema (through properties, items and anyOf)."""
    if schema.get("type") == "object":
        yield schema
        for prop in schema.get("properties", {}).values():
            yield from _objects(prop)
    for branch in schema.get("anyOf", []):
        yield from _objects(branch)
    if "items" in schema:
        yield from _objects(schema["items"])


def test_default_registry_holds_the_six_tools() -> None:
    assert default_registry().names() == SIX


@pytest.mark.parametrize("name", SIX)
def test_each_tool_schema_is_openai_strict(name: str) -> None:
    entry = default_registry().get(name).openai_schema()
    assert entry["type"] == "function"
    fn = entry["function"]
    assert fn["name"] == name and fn["strict"] is True
    assert 20 < len(fn["description"]) < 400  # a real first paragraph, not the developer notes
    params = fn["parameters"]
    jsonschema.Draft202012Validator.check_schema(params)
    assert "$defs" not in params and "$ref" not in str(params)
    for obj in _objects(params):
        assert obj["additionalProperties"] is False
        assert sorted(obj["required"]) == sorted(obj["properties"])


def test_search_filters_offer_negative_intent() -> None:
    params = default_registry().get("search_books").openai_schema()["function"]["parameters"]
    filters = next(b for b in params["properties"]["filters"]["anyOf"] if b.get("type") == "object")
    for field in ("exclude_terms", "genres_exclude", "exclude_authors", "exclude_ids"):
        assert field in filters["properties"], field
    assert "vampire" in filters["properties"]["exclude_terms"]["description"]


def test_schemas_accept_a_plausible_model_call_and_reject_a_typo() -> None:
    tool = default_registry().get("search_books")
    call = {"query": "cosy mystery", "filters": {"exclude_terms": ["murder"], "year_min": 1990}, "limit": 5}
    # Strict mode makes the model send every property; unset ones arrive as null.
    filters = dict.fromkeys(SearchFilters.model_fields) | call["filters"]
    full = {**call, "filters": filters}
    jsonschema.validate(full, tool.openai_schema()["function"]["parameters"])
    parsed = tool.parse_arguments(call)
    assert not hasattr(parsed, "error")
    typo = tool.parse_arguments({"query": "x", "filters": {"genre": "fantasy"}})
    assert typo.error.type == "invalid_arguments"
    assert typo.error.fields[0].field == "filters.genre"
