"""The tool plugin's OpenAPI 3.1 document, built from the real registry (no index needed)."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from vibeshelf.tools.default_registry import default_registry
from vibeshelf.tools.models import BookCard, ToolError
from vibeshelf.web.plugin_openapi import (
    MAX_OPERATION_DESCRIPTION,
    ai_plugin_manifest,
    plugin_openapi,
    tool_path,
)

SERVER = "https://books.example.com"


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return plugin_openapi(default_registry(), SERVER)


def schema_validator(doc: dict[str, Any], ref: dict[str, str]) -> jsonschema.Validator:
    """A validator for ``{"$ref": "#/components/schemas/X"}``, resolving refs inside the document."""
    resource = Resource.from_contents(doc, default_specification=DRAFT202012)
    registry = Registry().with_resource("urn:plugin", resource)
    return jsonschema.Draft202012Validator({"$ref": "urn:plugin" + ref["$ref"]}, registry=registry)


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema["$ref"]
    assert ref.startswith("#/components/schemas/"), ref
    return doc["components"]["schemas"][ref.rsplit("/", 1)[1]]


def test_document_is_valid_openapi_3_1(doc: dict[str, Any]) -> None:
    validator = pytest.importorskip("openapi_spec_validator")
    assert doc["openapi"] == "3.1.0"
    validator.validate(doc)  # raises OpenAPIValidationError naming the bad path


def test_one_post_operation_per_tool_in_registry_order(doc: dict[str, Any]) -> None:
    registry = default_registry()
    assert list(doc["paths"]) == [*(tool_path(name) for name in registry.names()), "/v1/shelves"]
    operation_ids = []
    for tool in registry:
        item = doc["paths"][f"/v1/tools/{tool.name}"]
        assert list(item) == ["post"], "each tool path has exactly one operation"
        op = item["post"]
        operation_ids.append(op["operationId"])
        assert op["operationId"] == tool.name
        # The request body is the tool's strict parameters schema plus the length limits it enforces.
        body = op["requestBody"]
        assert body["required"] is True
        schema = body["content"]["application/json"]["schema"]
        assert _without_lengths(schema) == tool.parameters_schema
        assert len(op["description"]) <= MAX_OPERATION_DESCRIPTION
        assert op["description"].split()[:3] == tool.description.split()[:3]
    assert len(set(operation_ids)) == len(registry) == 6


def _without_lengths(node):
    if isinstance(node, dict):
        return {k: _without_lengths(v) for k, v in node.items() if k not in ("minLength", "maxLength")}
    if isinstance(node, list):
        return [_without_lengths(v) for v in node]
    return node


def test_the_documented_bodies_state_the_length_limits(doc: dict) -> None:
    props = {
        name: doc["paths"][f"/v1/tools/{name}"]["post"]["requestBody"]["content"]["application/json"][
            "schema"
        ]["properties"]
        for name in ("search_books", "find_book", "get_book", "readers_also_liked")
    }
    assert props["search_books"]["query"]["minLength"] == 1
    assert props["find_book"]["title"]["minLength"] == 1
    assert props["get_book"]["book_id"]["minLength"] == 1
    assert props["readers_also_liked"]["book_ids"]["items"]["minLength"] == 1


def test_success_response_is_the_output_schema_with_refs_hoisted(doc: dict[str, Any]) -> None:
    for tool in default_registry():
        op = doc["paths"][tool_path(tool.name)]["post"]
        full, compact = op["responses"]["200"]["content"]["application/json"]["schema"]["anyOf"]
        assert compact == {"$ref": "#/components/schemas/CompactResult"}
        result = resolve(doc, full)
        # Same properties and required list as the tool's result model, refs pointing into components.
        assert set(result["properties"]) == set(tool.output_schema["properties"])
        assert result.get("required", []) == tool.output_schema.get("required", [])
        assert "$defs" not in result
        assert "#/$defs/" not in str(result)
    text = str(doc)
    assert "#/$defs/" not in text, "every $defs ref must be rewritten to #/components/schemas/"
    # Shared models appear once.
    assert doc["components"]["schemas"]["BookCard"]["properties"].keys() == BookCard.model_fields.keys()


def test_error_responses_share_the_api_error_body(doc: dict[str, Any]) -> None:
    for tool in default_registry():
        responses = doc["paths"][tool_path(tool.name)]["post"]["responses"]
        assert {"200", "401", "404", "422", "500"} <= set(responses)
        for status in ("401", "404", "422", "500"):
            schema = responses[status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Error"}
    validator = schema_validator(doc, {"$ref": "#/components/schemas/Error"})
    # What the HTTP routes answer for invalid arguments (web/errors.error_body shape).
    validator.validate(
        {
            "error": {
                "code": "invalid_arguments",
                "message": "Invalid arguments for search_books: limit.",
                "fields": [{"field": "limit", "message": "Input should be less than or equal to 25"}],
            }
        }
    )
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(ToolError.of("not_found", "no book").model_dump(mode="json"))  # `type`, not `code`


def test_security_schemes_offer_bearer_and_api_key_header(doc: dict[str, Any]) -> None:
    schemes = doc["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"}
    assert schemes["apiKeyHeader"]["type"] == "apiKey"
    assert schemes["apiKeyHeader"]["in"] == "header"
    assert schemes["apiKeyHeader"]["name"] == "X-API-Key"
    assert doc["security"] == [{"bearerAuth": []}, {"apiKeyHeader": []}]
    assert doc["servers"] == [{"url": SERVER}]


def test_manifest_points_at_the_document() -> None:
    manifest = ai_plugin_manifest(SERVER, f"{SERVER}/v1/plugin/openapi.json")
    assert manifest["api"] == {"type": "openapi", "url": f"{SERVER}/v1/plugin/openapi.json"}
    assert manifest["auth"]["type"] == "service_http"
    assert manifest["name_for_model"].isidentifier()


def test_read_only_operations_need_no_confirmation_in_chatgpt(doc: dict[str, Any]) -> None:
    operations = [op for item in doc["paths"].values() for op in item.values()]
    assert len(operations) == 7
    assert all(op["x-openai-isConsequential"] is False for op in operations)


def test_shelves_and_the_compact_view_are_documented(doc: dict[str, Any]) -> None:
    shelves = doc["paths"]["/v1/shelves"]["get"]
    assert shelves["operationId"] == "list_shelves"
    listing = {"shelves": [{"name": "fantasy", "books": 12}, {"name": "cozy_mystery", "books": 3}]}
    schema_validator(doc, shelves["responses"]["200"]["content"]["application/json"]["schema"]).validate(
        listing
    )
    view = doc["paths"][tool_path("search_books")]["post"]["parameters"][0]
    assert view["name"] == "view" and view["schema"]["enum"] == ["full", "compact"]
    compact = schema_validator(doc, {"$ref": "#/components/schemas/CompactResult"})
    compact.validate({"books": [{"id": "goodbooks:1", "title": "Dune", "why": "mentions desert"}]})
    with pytest.raises(jsonschema.ValidationError):
        compact.validate({"books": [{"title": "no id"}]})
