"""The tools over HTTP, for testing and for assistants, plus plain REST book endpoints.

``GET /v1/tools`` is the OpenAI tools list; ``POST /v1/tools/{name}`` takes the JSON arguments and
returns the tool's JSON result (404 unknown tool, 422 invalid arguments naming each field, 404 for an
unknown book). The book endpoints run the same tools, so REST users and the model see the same data.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError

from vibeshelf.retrieval.search_filters import YEAR_MAX, YEAR_MIN
from vibeshelf.retrieval.services import Services
from vibeshelf.retrieval.title_lookup import TitleMatch
from vibeshelf.tools.compact import slim_result
from vibeshelf.tools.models import (
    MAX_LIMIT,
    FieldError,
    GetBookResult,
    SearchFilters,
    SearchResult,
    ToolError,
)
from vibeshelf.tools.registry import ToolRegistry
from vibeshelf.tools.schema import invalid_arguments
from vibeshelf.tools.tool import ToolContext, UnknownToolError
from vibeshelf.web.errors import error_body

router = APIRouter(prefix="/v1")


def get_services(request: Request) -> Services:
    """The services of the live index, one snapshot per request (a reindex swaps them between requests)."""
    services = request.app.state.services
    return getattr(services, "current", services)  # LiveServices in the app; a plain Services in tests


def get_registry(request: Request) -> ToolRegistry:
    return request.app.state.tool_registry


ServicesDep = Annotated[Services, Depends(get_services)]
RegistryDep = Annotated[ToolRegistry, Depends(get_registry)]


def _error_response(err: ToolError) -> JSONResponse:
    fields = [{"field": f.field, "message": f.message} for f in err.error.fields]
    return JSONResponse(
        status_code=err.http_status, content=error_body(err.error.type, err.error.message, fields)
    )


View = Literal["full", "compact"]
VIEW_DESCRIPTION = (
    "`full` (default): the complete result. `compact`: the same books, slim (id, title, authors, year, "
    "genres, rating, one-line why, short excerpt; about a third of the bytes), bookkeeping fields left out."
)


async def _run(
    registry: ToolRegistry, services: Services, name: str, arguments: Any, view: View = "full"
) -> Any:
    try:
        result = await registry.call(name, arguments, ToolContext(deps=services))
    except UnknownToolError:
        known = ", ".join(registry.names())
        return JSONResponse(
            status_code=404, content=error_body("not_found", f"unknown tool {name!r}; tools: {known}")
        )
    if result.error is not None:
        return _error_response(result.error)
    if view == "compact" and isinstance(result.output, BaseModel):
        return slim_result(result.output)
    return result.to_dict()


@router.get(
    "/tools", tags=["tools"], summary="The tools, as an OpenAI `tools` list (strict function schemas)"
)
async def list_tools(registry: RegistryDep) -> list[dict[str, Any]]:
    return registry.openai_schemas()


@router.post("/tools/{name}", tags=["tools"], summary="Call a tool with JSON arguments")
async def call_tool(
    name: str,
    registry: RegistryDep,
    services: ServicesDep,
    arguments: Annotated[dict[str, Any] | None, Body()] = None,
    view: Annotated[View, Query(description=VIEW_DESCRIPTION)] = "full",
) -> Any:
    return await _run(registry, services, name, arguments or {}, view)


class Shelf(BaseModel):
    name: str = Field(description="The shelf (genre) as filters and tools take it, e.g. 'cozy_mystery'.")
    books: int = Field(description="Books on this shelf in the catalog.")


class ShelfList(BaseModel):
    shelves: list[Shelf] = Field(description="Every shelf of the catalog, the fullest first.")


@router.get("/shelves", tags=["books"], summary="The catalog's shelves (valid genre names)")
async def list_shelves(services: ServicesDep) -> ShelfList:
    """Every genre name the filters (`genres_include`, `genres_exclude`, `genres_all`) and `popular_books`
    accept, with its book count, the fullest first."""
    return ShelfList(shelves=shelves_of(services))


def shelves_of(services: Services) -> list[Shelf]:
    ranked = sorted(services.genres.items(), key=lambda item: (-item[1], item[0]))
    return [Shelf(name=name, books=count) for name, count in ranked]


# Query parameter -> SearchFilters field.
_FILTER_FIELD = {
    "year_min": "year_min",
    "year_max": "year_max",
    "genre": "genres_include",
    "genre_all": "genres_all",
    "exclude_genre": "genres_exclude",
    "min_rating": "min_average_rating",
    "min_ratings_count": "min_ratings_count",
    "max_ratings_count": "max_ratings_count",
    "min_pages": "min_pages",
    "max_pages": "max_pages",
    "language": "language",
    "exclude_author": "exclude_authors",
    "exclude_id": "exclude_ids",
    "exclude_term": "exclude_terms",
}
_PARAM = {v: k for k, v in _FILTER_FIELD.items()}


@router.get("/books/search", tags=["books"], response_model=SearchResult)
async def search_books(
    registry: RegistryDep,
    services: ServicesDep,
    q: Annotated[str, Query(min_length=1, max_length=500, description="What to search for.")],
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 10,
    # The same bounds as SearchFilters, so the OpenAPI document states what the server accepts.
    year_min: Annotated[int | None, Query(ge=YEAR_MIN, le=YEAR_MAX)] = None,
    year_max: Annotated[int | None, Query(ge=YEAR_MIN, le=YEAR_MAX)] = None,
    genre: Annotated[list[str] | None, Query(description="Genre to include (repeatable).")] = None,
    genre_all: Annotated[
        list[str] | None, Query(description="Genre every book must have (repeatable), e.g. humor.")
    ] = None,
    exclude_genre: Annotated[list[str] | None, Query(description="Genre to exclude (repeatable).")] = None,
    min_rating: Annotated[float | None, Query(ge=0, le=5)] = None,
    min_ratings_count: Annotated[int | None, Query(ge=0)] = None,
    max_ratings_count: Annotated[int | None, Query(ge=0)] = None,
    min_pages: Annotated[int | None, Query(ge=1)] = None,
    max_pages: Annotated[int | None, Query(ge=1)] = None,
    language: Annotated[str | None, Query(max_length=20)] = None,
    exclude_author: Annotated[list[str] | None, Query()] = None,
    exclude_id: Annotated[list[str] | None, Query()] = None,
    exclude_term: Annotated[list[str] | None, Query(description="Word the books must not mention.")] = None,
) -> Any:
    params = {
        "year_min": year_min,
        "year_max": year_max,
        "genre": genre,
        "genre_all": genre_all,
        "exclude_genre": exclude_genre,
        "min_rating": min_rating,
        "min_ratings_count": min_ratings_count,
        "max_ratings_count": max_ratings_count,
        "min_pages": min_pages,
        "max_pages": max_pages,
        "language": language,
        "exclude_author": exclude_author,
        "exclude_id": exclude_id,
        "exclude_term": exclude_term,
    }
    raw = {_FILTER_FIELD[k]: v for k, v in params.items() if v is not None}
    try:
        filters = SearchFilters.model_validate(raw) if raw else None
    except ValidationError as exc:
        err = invalid_arguments("search", SearchFilters, exc)
        # Name the query parameter the client sent, not the filter field behind it.
        renamed = [
            FieldError(field=_PARAM.get(f.field, f.field), message=f.message) for f in err.error.fields
        ]
        names = ", ".join(f.field for f in renamed)
        return _error_response(
            ToolError.of("invalid_arguments", f"invalid query parameters: {names}", renamed)
        )
    arguments = {"query": q, "limit": limit, "filters": filters.model_dump() if filters else None}
    return await _run(registry, services, "search_books", arguments)


@router.get("/books/{book_id}", tags=["books"], response_model=GetBookResult)
async def get_book(
    book_id: Annotated[str, Path(min_length=1, max_length=200)], registry: RegistryDep, services: ServicesDep
) -> Any:
    return await _run(registry, services, "get_book", {"book_id": book_id})


@router.get("/autocomplete", tags=["books"], response_model=list[TitleMatch])
async def autocomplete(
    services: ServicesDep,
    q: Annotated[str, Query(min_length=1, max_length=200, description="The start of a title or author.")],
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 8,
) -> Any:
    return services.titles.autocomplete(q, limit)
