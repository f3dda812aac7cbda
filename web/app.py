"""The FastAPI application: one service for the widget, the tool plugin, MCP, Slack and the streamed API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from vibeshelf import __version__
from vibeshelf.layout import Layout
from vibeshelf.settings import Settings, get_settings
from vibeshelf.web.access import AccessMiddleware, AccessPolicy
from vibeshelf.web.chat_routes import install_chat
from vibeshelf.web.errors import document_errors, error_body, install_error_handlers
from vibeshelf.web.mcp_endpoint import McpHttp
from vibeshelf.web.memory import freeze_startup_objects, release_free_memory, thaw_objects, tune_allocators
from vibeshelf.web.pages import router as pages_router
from vibeshelf.web.plugin_openapi import router as plugin_router
from vibeshelf.web.slack.routes import install_slack
from vibeshelf.web.tool_routes import router as tool_router


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    layout = Layout.from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Heavy resources open here, once per process, and reach handlers through dependencies.
        # Allocator settings first, before the index opens and request threads exist (web/memory.py).
        tune_allocators()
        app.state.settings = settings
        app.state.layout = layout
        # Retrieval services and the six tools (retrieval/services.py, tools/default_registry.py):
        # handlers get them through web.tool_routes.get_services / get_registry.
        # LiveServices follows `vibeshelf ingest`: a rebuilt index is opened beside the old one and
        # swapped in (docs/reindex.md).
        from vibeshelf.retrieval.services import LiveServices
        from vibeshelf.tools.default_registry import default_registry
        from vibeshelf.tools.tool import ToolContext

        app.state.services = LiveServices(layout)
        # The planner's reading vocabulary comes from the searcher's catalog, already in memory, rather than
        # from decoding catalog.parquet again (~40 MB resident); the file's digest must still match.
        from vibeshelf.agent.reading.vocabulary import share_catalog

        current = app.state.services.current
        share_catalog(
            layout.catalog,
            current.search.searcher.catalog,
            current.index.manifest.source.get("catalog_sha256"),
        )
        app.state.tool_registry = default_registry()
        # The conversation (web/chat_routes.py): the agent over the same tools, sessions in DuckDB.
        from vibeshelf.agent.loop import Agent

        # Unmarked refusals are judged over the same encoder; read from the encoder's folder (ingest fits it).
        from vibeshelf.agent.reading.stance import StanceJudge
        from vibeshelf.web.chat_routes import open_chat

        live = app.state.services
        stance = StanceJudge.open(layout.stance, live.encode_words, current.encoder.info.model)
        # The live object, not a snapshot, so the agent's tools follow a reindex too.
        agent = Agent(
            app.state.tool_registry,
            ToolContext(deps=app.state.services),
            settings,
            kinds=app.state.services.predict_shelves,  # refused kinds read by meaning, same index
            stance=stance.against,
        )
        app.state.chat = open_chat(settings, layout, agent)
        app.state.chat.book_exists = lambda book_id: bool(live.search.rows([book_id]))
        await app.state.chat.warm_up()  # imports and the first search happen here, not in a request
        freeze_startup_objects()  # kept for the process's life: no GC pass needs to walk them again
        release_free_memory()  # start-up's one-off allocations (catalog scan, model load) back to the OS
        # The Slack bot (web/slack/bot.py) answers in its own worker tasks; None without a bot token.
        from vibeshelf.web.slack.bot import SlackBot

        app.state.slack = SlackBot.open(settings, app.state.chat.store, agent)
        if app.state.slack is not None:
            await app.state.slack.start()
        try:
            # The MCP transport (web/mcp_endpoint.py) starts in this task group on the first /mcp request.
            async with mcp_http.run():
                yield
        finally:
            if app.state.slack is not None:
                await app.state.slack.aclose()
            app.state.chat.close()
            thaw_objects()

    app = FastAPI(title="vibeshelf", version=__version__, lifespan=lifespan)
    install_error_handlers(app)
    app.add_middleware(AccessMiddleware, policy=AccessPolicy(settings))  # keys + CORS allowlist
    app.include_router(pages_router)  # /, /widget.js, /popular (web/pages.py)
    app.include_router(plugin_router)
    app.include_router(tool_router)  # /v1/tools, /v1/books, /v1/autocomplete (web/tool_routes.py)
    install_chat(app, settings)  # /v1/chat, /v1/chat/completions, /v1/feedback, /v1/sessions + body limit
    mcp_http = McpHttp.for_app(app, settings)  # MCP over streamable HTTP at /mcp, started on first use
    install_slack(app, settings)  # POST /slack/events (web/slack/routes.py; bot opened in the lifespan)

    @app.get(
        "/healthz",
        tags=["ops"],
        responses={503: {"description": "The index cannot answer searches; the error message says why."}},
    )
    async def healthz(request: Request) -> JSONResponse:
        """200 while searches work; 503 (with the reason) when the live index table is unusable."""
        from starlette.concurrency import run_in_threadpool

        services = request.app.state.services
        usable, reason = await run_in_threadpool(services.health)
        manifest = services.current.index.manifest
        if not usable:
            return JSONResponse(status_code=503, content=error_body("index_unavailable", reason))
        body = {
            "status": "ok",
            "version": __version__,
            "index": manifest.table,
            "books": manifest.counts.model_dump(),
            "reloads": services.reloads,
            "reload_error": services.reload_error,
        }
        return JSONResponse(body)

    document_errors(app)  # last: every route above documents the one error body
    return app
