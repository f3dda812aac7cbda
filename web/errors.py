"""One JSON error shape for every 4xx/5xx: {"error": {"code", "message", "fields"?}}."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException


class ErrorField(BaseModel):
    field: str = Field(description="The offending field: a body path (`filters.year_max`), `body`, a header.")
    message: str
    row: int | None = Field(default=None, description="An uploaded file's row (the header is row 1).")
    column: str | None = Field(default=None, description="An uploaded file's column.")


class ErrorDetail(BaseModel):
    code: str = Field(description="Machine-readable: invalid_request, not_found, rate_limited, ...")
    message: str = Field(description="One line for a person.")
    fields: list[ErrorField] | None = None


class ErrorBody(BaseModel):
    """Every 4xx/5xx answer: ``{"error": {"code", "message", "fields"?}}``."""

    error: ErrorDetail


# What any API route may answer besides its success, documented on every operation (document_errors).
ERROR_RESPONSES: dict[int, str] = {
    400: "The request could not be read.",
    401: "Missing or invalid API key.",
    403: "A site key used without its registered origin, or on a route it does not open.",
    404: "Unknown tool, book or session (a session another credential owns reads as unknown).",
    409: "The session has reached its message limit.",
    413: "The body is larger than the limit (VIBESHELF_CHAT_MAX_BODY_BYTES).",
    422: "Invalid request; `error.fields` names each offending field.",
    429: "Over the rate limit; `Retry-After` says when to retry.",
    503: "A service the route needs (index, state database, Slack) is unavailable.",
}


def document_errors(app: FastAPI) -> None:
    """Make ``app``'s OpenAPI document state every error answer: each operation lists the statuses in
    ``ERROR_RESPONSES`` with the one error body (FastAPI would document 422 as its own validation-error
    shape, which this app never sends). Applied when the document is first built."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        ref = "#/components/schemas/ErrorBody"
        body = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(body.pop("$defs", {}))
        components["ErrorBody"] = body
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                for status, why in ERROR_RESPONSES.items():
                    entry = responses.setdefault(str(status), {"description": why})
                    entry["content"] = {"application/json": {"schema": {"$ref": ref}}}
        for unused in ("HTTPValidationError", "ValidationError"):
            components.pop(unused, None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def error_body(code: str, message: str, fields: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    return {"error": error}


def _field_path(loc: tuple[Any, ...]) -> str:
    # Drop FastAPI's "body"/"query"/"path" prefix: clients know which part they sent.
    parts = [str(p) for p in loc[1:]] if loc and loc[0] in {"body", "query", "path", "header"} else list(loc)
    return ".".join(str(p) for p in parts) or str(loc[0] if loc else "")


def _field_error(error: dict[str, Any]) -> dict[str, str]:
    if error.get("type") == "json_invalid":
        # FastAPI reports a broken body at ("body", <char offset>): name the body, say what is wrong.
        detail = (error.get("ctx") or {}).get("error", "")
        return {"field": "body", "message": f"request body is not valid JSON ({detail})".replace(" ()", "")}
    return {"field": _field_path(tuple(error["loc"])), "message": error["msg"]}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [_field_error(e) for e in exc.errors()]
        names = ", ".join(f["field"] for f in fields)
        return JSONResponse(
            status_code=422, content=error_body("invalid_request", f"invalid {names}", fields)
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
            # FastAPI's answer to a body it cannot decode at all (invalid UTF-8): a bad field like any other.
            message = "request body is not valid JSON (not UTF-8 text)"
            return JSONResponse(
                status_code=422,
                content=error_body("invalid_request", message, [{"field": "body", "message": message}]),
            )
        if isinstance(exc.detail, dict) and "error" in exc.detail:
            content = exc.detail
        else:
            code = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized", 429: "rate_limited"}
            content = error_body(code.get(exc.status_code, "http_error"), str(exc.detail))
        return JSONResponse(status_code=exc.status_code, content=content, headers=exc.headers)
