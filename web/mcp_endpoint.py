"""``/mcp``: the streamable HTTP transport of the MCP server, started on its first request.

The MCP SDK costs the server ~18 MB of resident memory once imported, and most deployments serve the
widget and the chat API only. So the route is installed at start-up, but the SDK is imported, the
server built (``web/mcp_server.py``) and its session manager started only when a client first calls
``/mcp``. The manager runs in a task of a task group that the app's lifespan owns, so it starts and
stops in one task, as anyio requires, and is cancelled cleanly at shutdown.

Stateless JSON mode: every POST is answered on its own, with no server-side session, so any uvicorn
worker can serve any request (``vibeshelf serve --workers N``) and nothing leaks when clients vanish.
The book tools never call back into the client, which is all that sessions would add. So ``GET /mcp``
(a server-to-client stream) and ``DELETE /mcp`` (ending a session) answer 405 with ``Allow: POST``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import anyio
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

if TYPE_CHECKING:
    from fastapi import FastAPI

    from vibeshelf.settings import Settings

logger = logging.getLogger(__name__)

MCP_PATH = "/mcp"


class McpHttp:
    """The ASGI endpoint at ``/mcp`` plus the lifespan hook (:meth:`run`) that hosts its session manager.

    The SDK's session manager runs once per instance, so each start of the app (a test client may start
    the same app twice) gets a fresh one, on demand.
    """

    def __init__(self, app: FastAPI, settings: Settings) -> None:
        self._state = app.state
        self._settings = settings
        self._manager: Any | None = None  # mcp's StreamableHTTPSessionManager, once started
        self._tasks: anyio.abc.TaskGroup | None = None
        self._starting = anyio.Lock()

    @classmethod
    def for_app(cls, app: FastAPI, settings: Settings, path: str = MCP_PATH) -> McpHttp:
        """Add the route at ``path``; the lifespan must enter :meth:`run` after opening the services."""
        mcp_http = cls(app, settings)
        app.router.routes.append(Route(path, endpoint=mcp_http, name="mcp"))
        return mcp_http

    @property
    def started(self) -> bool:
        """Whether the MCP SDK is loaded and serving (false until the first ``/mcp`` request)."""
        return self._manager is not None

    @contextlib.asynccontextmanager
    async def run(self) -> AsyncIterator[None]:
        """Enter inside the app's lifespan: the transport may start while this is open."""
        async with anyio.create_task_group() as tasks:
            self._tasks = tasks
            try:
                yield
            finally:
                self._tasks = None
                tasks.cancel_scope.cancel()  # stops the session manager, if a request started it

    async def _start(self) -> Any | None:
        async with self._starting:
            if self._manager is None and self._tasks is not None:
                ready = anyio.Event()
                self._tasks.start_soon(self._serve, ready)
                await ready.wait()
        return self._manager

    async def _serve(self, ready: anyio.Event) -> None:
        from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

        from vibeshelf.web.mcp_server import build_mcp_server, transport_security

        state = self._state
        try:
            manager = StreamableHTTPSessionManager(
                app=build_mcp_server(lambda: state.tool_registry, lambda: state.services),
                json_response=True,
                stateless=True,
                security_settings=transport_security(self._settings),
            )
            async with manager.run():
                self._manager = manager
                ready.set()
                logger.info("MCP transport started at %s", MCP_PATH)
                await anyio.sleep_forever()
        except Exception:
            logger.exception("the MCP transport failed to start")
        finally:
            self._manager = None
            ready.set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("method") != "POST":
            # Stateless JSON mode has no server-to-client stream (GET) and no session to end (DELETE); the
            # SDK would still open an SSE stream that never sends anything. The spec's answer is 405.
            from starlette.responses import JSONResponse

            from vibeshelf.web.errors import error_body

            message = f"{scope.get('method')} is not supported: this MCP server is stateless; POST JSON-RPC"
            response = JSONResponse(
                status_code=405,
                content=error_body("method_not_allowed", message),
                headers={"Allow": "POST"},
            )
            await response(scope, receive, send)
            return
        manager = self._manager or await self._start()
        if manager is None:
            from starlette.responses import JSONResponse

            from vibeshelf.web.errors import error_body

            response = JSONResponse(
                status_code=503, content=error_body("unavailable", "the MCP endpoint is not running")
            )
            await response(scope, receive, send)
            return
        await manager.handle_request(scope, receive, send)
