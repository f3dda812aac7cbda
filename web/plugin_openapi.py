"""The tool plugin's OpenAPI 3.1 document: one operation per tool, usable as GPT Actions.

Each registry tool becomes ``POST /v1/tools/{tool}`` as its own path, with ``operationId`` = the tool name,
the tool's strict parameters schema as the request body and its result model's schema as the 200
response, so an importer (GPT Actions, an OpenAPI client generator) sees the same contract the model
sees in ``GET /v1/tools`` and the MCP server publishes. Errors use the API's one JSON error body.

Every operation only reads the catalog, so each is marked ``x-openai-isConsequential: false`` (ChatGPT
would otherwise ask the reader to confirm each call). ``?view=compact`` asks for slim results, and
``GET /v1/shelves`` (operation ``list_shelves``) lists the valid genre names.

Served at ``GET /v1/plugin/openapi.json``; ``GET /.well-known/ai-plugin.json`` is the classic plugin
manifest pointing at it. Both are public (like FastAPI's own ``/openapi.json``): importers fetch them
before they hold a key, and they describe nothing the key protects.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from vibeshelf import __version__
from vibeshelf.tools.compact import CompactBook
from vibeshelf.tools.registry import ToolRegistry
from vibeshelf.tools.schema import strict_json_schema
from vibeshelf.web.access import API_KEY_HEADER
from vibeshelf.web.tool_routes import VIEW_DESCRIPTION, RegistryDep, Shelf, ShelfList

PLUGIN_OPENAPI_PATH = "/v1/plugin/openapi.json"
PLUGIN_LOGO_PATH = "/v1/plugin/logo.svg"
AI_PLUGIN_PATH = "/.well-known/ai-plugin.json"
TOOL_PATH = "/v1/tools/{name}"
# GPT Actions truncate (and warn about) operation descriptions longer than this.
MAX_OPERATION_DESCRIPTION = 300
_REF_PREFIX = "#/components/schemas/"

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Every 4xx/5xx answer. `fields` names each offending argument so the caller can fix it.",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {
                    "type": "string",
                    "description": "invalid_arguments, not_found, tool_failed, unauthorized, "
                    "invalid_request, ...",
                },
                "message": {"type": "string", "description": "What went wrong and how to correct the call."},
                "fields": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "field": {
                                "type": "string",
                                "description": "Argument path, e.g. 'filters.year_min' or 'book_ids[2]'.",
                            },
                            "message": {"type": "string"},
                        },
                        "required": ["field", "message"],
                    },
                },
            },
            "required": ["code", "message"],
        }
    },
    "required": ["error"],
}

_ERROR_RESPONSES = {
    "400": "The request body could not be read.",
    "401": "Missing or invalid API key.",
    "403": "A site key: it does not open the tools (docs/access.md).",
    "404": "Unknown tool, or an id that names no book.",
    "413": "The body is larger than the limit (VIBESHELF_CHAT_MAX_BODY_BYTES).",
    "422": "Invalid arguments; `error.fields` names each one.",
    "429": "Over the rate limit; `Retry-After` says when to retry.",
    "500": "The tool failed internally; try other arguments or another tool.",
}


SHELVES_PATH = "/v1/shelves"
VIEW_PARAMETER: dict[str, Any] = {
    "name": "view",
    "in": "query",
    "required": False,
    "description": VIEW_DESCRIPTION,
    "schema": {"type": "string", "enum": ["full", "compact"], "default": "full"},
}
COMPACT_RESULT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "CompactResult",
    "description": "A result with view=compact: the tool's result with each book as a CompactBook and "
    "bookkeeping fields (applied_filters, total_candidates, query, ...) left out.",
    "properties": {"books": {"type": "array", "items": {"$ref": _REF_PREFIX + "CompactBook"}}},
    "additionalProperties": True,
}


def tool_path(name: str) -> str:
    return TOOL_PATH.format(name=name)


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_") if part)


def _short(description: str, limit: int = MAX_OPERATION_DESCRIPTION) -> str:
    """The description cut at a sentence (else a word) boundary to fit ``limit`` characters."""
    text = " ".join(description.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    end = max(cut.rfind(". "), cut.rfind("? "), cut.rfind("! "))
    return cut[: end + 1] if end > limit // 2 else cut[: cut.rfind(" ")] + "…"


def _rewrite_refs(node: Any, renames: dict[str, str]) -> Any:
    """Point ``#/$defs/X`` refs at ``#/components/schemas/<renamed X>``, recursively."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#/$defs/"):
                name = value.removeprefix("#/$defs/")
                out[key] = _REF_PREFIX + renames.get(name, name)
            else:
                out[key] = _rewrite_refs(value, renames)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(v, renames) for v in node]
    return node


class _Components:
    """``components.schemas``: shared models (BookCard, SearchFilters) appear once; a different model
    under a name already taken gets the tool's name as a prefix."""

    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {"Error": copy.deepcopy(ERROR_SCHEMA)}

    def _claim(self, wanted: str, schema: dict[str, Any], prefix: str) -> str:
        taken = self.schemas.get(wanted)
        if taken is None or taken == schema:
            return wanted
        name = f"{_camel(prefix)}{wanted}"
        if name in self.schemas and self.schemas[name] != schema:
            raise ValueError(f"two different schemas want the component name {name!r}")
        return name

    def add_output(self, tool_name: str, output_schema: dict[str, Any]) -> str:
        """Hoist a result schema (and its ``$defs``) into the components; return the result's name."""
        schema = copy.deepcopy(output_schema)
        defs: dict[str, Any] = schema.pop("$defs", {})
        root = schema.get("title") or f"{_camel(tool_name)}Result"
        # Names first (a def may refer to another), then the rewritten bodies.
        renames: dict[str, str] = {}
        for name, body in defs.items():
            renames[name] = self._claim(name, _rewrite_refs(body, {}), tool_name)
        for name, body in defs.items():
            self.schemas[renames[name]] = _rewrite_refs(body, renames)
        body = _rewrite_refs(schema, renames)
        root_name = self._claim(root, body, tool_name)
        self.schemas[root_name] = body
        return root_name


def plugin_openapi(
    registry: ToolRegistry,
    server_url: str,
    *,
    title: str = "vibeshelf book tools",
    version: str = __version__,
) -> dict[str, Any]:
    """The OpenAPI 3.1 document for ``registry``'s tools, served from ``server_url``."""
    components = _Components()
    components.schemas["CompactBook"] = CompactBook.model_json_schema()
    components.schemas["CompactResult"] = copy.deepcopy(COMPACT_RESULT_SCHEMA)
    paths: dict[str, Any] = {}
    for tool in registry:
        result_name = components.add_output(tool.name, tool.output_schema)
        responses: dict[str, Any] = {
            "200": {
                "description": f"The {tool.name} result (with view=compact, its compact form).",
                "content": {
                    "application/json": {
                        "schema": {
                            "anyOf": [
                                {"$ref": _REF_PREFIX + result_name},
                                {"$ref": _REF_PREFIX + "CompactResult"},
                            ]
                        }
                    }
                },
            }
        }
        for status, why in _ERROR_RESPONSES.items():
            responses[status] = {
                "description": why,
                "content": {"application/json": {"schema": {"$ref": _REF_PREFIX + "Error"}}},
            }
        summary = _short(tool.description.split("\n\n")[0].split(". ")[0].rstrip("."), 120)
        paths[tool_path(tool.name)] = {
            "post": {
                "operationId": tool.name,
                "summary": summary,
                "description": _short(tool.description),
                "tags": ["tools"],
                # Every tool only reads the catalog: ChatGPT may call it without asking the user each time.
                "x-openai-isConsequential": False,
                "parameters": [VIEW_PARAMETER],
                "requestBody": {
                    "required": True,
                    # The strict schema plus the length limits the server enforces (strict function
                    # calling cannot state them; OpenAPI can, so a valid-by-schema body is accepted).
                    "content": {
                        "application/json": {
                            "schema": strict_json_schema(tool.args_model, tool.name, keep_lengths=True)
                        }
                    },
                },
                "responses": responses,
            }
        }
    components.schemas["Shelf"] = Shelf.model_json_schema()
    components.schemas["ShelfList"] = _rewrite_refs(
        {k: v for k, v in ShelfList.model_json_schema().items() if k != "$defs"}, {}
    )
    paths[SHELVES_PATH] = {
        "get": {
            "operationId": "list_shelves",
            "summary": "The catalog's shelves: every valid genre name, with its book count",
            "description": "Every genre name that the filters (genres_include, genres_exclude, genres_all) and "
            "popular_books accept, the fullest shelf first. Read it before filtering by genre.",
            "tags": ["books"],
            "x-openai-isConsequential": False,
            "responses": {
                "200": {
                    "description": "The shelves.",
                    "content": {"application/json": {"schema": {"$ref": _REF_PREFIX + "ShelfList"}}},
                },
                **{
                    status: {
                        "description": _ERROR_RESPONSES[status],
                        "content": {"application/json": {"schema": {"$ref": _REF_PREFIX + "Error"}}},
                    }
                    for status in ("401", "403", "429")
                },
            },
        }
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": "Book recommendation tools over a real catalog: search by mood or theme, resolve "
            "a title, readers-also-liked, book details, popular and surprise picks. Every operation is one "
            "tool; the request body is its JSON arguments (null means the default), the response its JSON "
            "result.",
        },
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {
            "schemas": components.schemas,
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A key from VIBESHELF_API_KEYS as `Authorization: Bearer KEY`.",
                },
                "apiKeyHeader": {
                    "type": "apiKey",
                    "in": "header",
                    "name": API_KEY_HEADER,
                    "description": f"The same key as `{API_KEY_HEADER}: KEY`.",
                },
            },
        },
        # Either scheme will do (two entries = alternatives).
        "security": [{"bearerAuth": []}, {"apiKeyHeader": []}],
    }


def ai_plugin_manifest(server_url: str, openapi_url: str) -> dict[str, Any]:
    """The classic ``ai-plugin.json`` manifest (service-level bearer auth) pointing at the document."""
    return {
        "schema_version": "v1",
        "name_for_human": "vibeshelf",
        "name_for_model": "vibeshelf",
        "description_for_human": "Book recommendations that match a mood, a theme or books you loved.",
        "description_for_model": "Recommend books from a real catalog. Search by description, resolve titles "
        "to ids, find what readers of a book also liked, and fetch details. Only recommend books the "
        "operations return, and explain picks with the returned fields.",
        "auth": {"type": "service_http", "authorization_type": "bearer"},
        "api": {"type": "openapi", "url": openapi_url},
        "logo_url": f"{server_url}{PLUGIN_LOGO_PATH}",
        "contact_email": "",
        "legal_info_url": f"{server_url}/",
    }


def _server_url(request: Request) -> str:
    """The public base URL: ``VIBESHELF_PUBLIC_URL`` when set (behind a proxy), else what was asked for."""
    settings = getattr(request.app.state, "settings", None)
    configured = getattr(settings, "public_url", None)
    return (configured or str(request.base_url)).rstrip("/")


router = APIRouter()


@router.get(PLUGIN_OPENAPI_PATH, tags=["plugin"], summary="OpenAPI 3.1 for the tools (GPT Actions)")
async def plugin_openapi_json(request: Request, registry: RegistryDep) -> dict[str, Any]:
    return plugin_openapi(registry, _server_url(request))


@router.get(AI_PLUGIN_PATH, tags=["plugin"], summary="Plugin manifest")
async def ai_plugin_json(request: Request) -> dict[str, Any]:
    base = _server_url(request)
    return ai_plugin_manifest(base, base + PLUGIN_OPENAPI_PATH)


# Three book spines on a shelf: the manifest needs a logo, and a file we draw needs no asset pipeline.
LOGO_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">'
    '<rect width="64" height="64" rx="12" fill="#2d3047"/>'
    '<rect x="14" y="14" width="10" height="36" rx="2" fill="#e0a458"/>'
    '<rect x="27" y="18" width="9" height="32" rx="2" fill="#93b7be"/>'
    '<rect x="39" y="12" width="11" height="38" rx="2" fill="#ffdbb5" transform="rotate(8 44 31)"/>'
    '<rect x="10" y="50" width="44" height="3" rx="1.5" fill="#ffffff"/></svg>'
)


@router.get(PLUGIN_LOGO_PATH, tags=["plugin"], summary="Plugin logo", include_in_schema=False)
async def plugin_logo() -> Response:
    return Response(LOGO_SVG, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})


if __name__ == "__main__":  # print the document: python -m vibeshelf.web.plugin_openapi
    from vibeshelf.tools.default_registry import default_registry

    print(json.dumps(plugin_openapi(default_registry(), "http://127.0.0.1:8000"), indent=2))
