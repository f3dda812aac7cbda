"""One JSON error shape for every 4xx/5xx: {"error": {"code", "message", "fields"?}}."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException


def error_body(code: str, message: str, fields: list[dict[str, str]] | None = None) -> dict[str, Any]:
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
