"""The FastAPI application: one service for the widget, the tool plugin, MCP, Slack and the streamed API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

from vibeshelf import __version__
from vibeshelf.layout import Layout
from vibeshelf.settings import Settings, get_settings
from vibeshelf.web.errors import install_error_handlers


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    layout = Layout(settings.home_dir)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Heavy resources open here, once per process, and reach handlers through dependencies.
        from vibeshelf.retrieval.book_index import BookIndex

        app.state.settings = settings
        app.state.layout = layout
        app.state.book_index = BookIndex.open(layout)
        yield

    app = FastAPI(title="vibeshelf", version=__version__, lifespan=lifespan)
    install_error_handlers(app)

    @app.get("/healthz", tags=["ops"])
    async def healthz(request: Request) -> dict[str, object]:
        manifest = request.app.state.book_index.manifest
        return {"status": "ok", "version": __version__, "index": manifest.table, "books": manifest.counts}

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def root() -> str:
        return (
            "<!doctype html><html lang=en><meta charset=utf-8><title>vibeshelf</title>"
            "<h1>vibeshelf</h1><p>Conversational book recommendations. "
            "API docs: <a href=/docs>/docs</a> · health: <a href=/healthz>/healthz</a></p></html>"
        )

    return app
