"""The book tools over the Model Context Protocol: ``vibeshelf mcp`` (stdio) and ``/mcp`` (streamable HTTP).

Both transports serve one low-level MCP ``Server`` built from the tool registry, so MCP clients see
exactly what ``GET /v1/tools`` and the agent loop see (``/mcp`` loads this module on its first request:
``web/mcp_endpoint.py``):

* ``tools/list``: every registry tool with its strict input schema (``Tool.parameters_schema``); no
  ``outputSchema``, to keep the listing an assistant re-reads every turn small (see ``mcp_tool``).
* resources: ``vibeshelf://shelves`` (the valid genre names) and ``vibeshelf://books/{book_id}`` (one
  book, as ``get_book`` returns it); prompts: ``recommend_from_mood`` and ``books_like``
  (``prompts/mcp_*.md``).
* ``tools/call``: runs through ``ToolRegistry.call`` (the same argument validation as the HTTP plugin and
  the chat loop). A result comes back as text content (the JSON) plus ``structuredContent``; a
  ``ToolError`` (invalid arguments naming each field, unknown book, internal failure) comes back as
  ``isError: true`` with the error JSON as text, so the model can read it and correct the call. An
  unknown tool name is a protocol error (JSON-RPC invalid params), as the MCP spec asks.

The low-level server is used rather than ``MCPServer`` because the schemas already exist (derived once
from the typed tool functions); ``MCPServer`` would derive its own from function signatures.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import mcp_types as types
from mcp.server import Server
from mcp.server.context import ServerRequestContext
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.exceptions import MCPError

from vibeshelf import __version__
from vibeshelf.tools.registry import ToolRegistry
from vibeshelf.tools.tool import Tool, ToolContext, ToolResult

if TYPE_CHECKING:
    from vibeshelf.retrieval.services import Services
    from vibeshelf.settings import Settings

logger = logging.getLogger(__name__)

SERVER_NAME = "vibeshelf"
INSTRUCTIONS = (
    "Book recommendation tools over a real catalog. Use search_books for a mood, theme or description; "
    "find_book to resolve a title the reader names; readers_also_liked for 'books like X' (pass ids); "
    "get_book for one book's details; popular_books for well-known picks; feeling_lucky for a surprise. "
    "Only recommend books these tools return, and ground every reason in the returned fields."
)
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _title(name: str) -> str:
    return name.replace("_", " ").capitalize()


def mcp_tool(tool: Tool) -> types.Tool:
    """The MCP description of one registry tool (the input schema is copied, never shared).

    No ``outputSchema``: an assistant pays for ``tools/list`` on every turn, and the result schemas were
    72% of it (41 of 57 KB; ``bench/mcp_tools_list.py`` prints the figures). Results still come back as
    ``structuredContent`` plus JSON text, which the spec allows without a declared schema.
    """
    return types.Tool(
        name=tool.name,
        title=_title(tool.name),
        description=tool.description,
        input_schema=tool.openai_schema()["function"]["parameters"],  # a deep copy of parameters_schema
        # Every book tool only reads the local catalog; clients may run them without asking each time.
        annotations=types.ToolAnnotations(read_only_hint=True, destructive_hint=False, open_world_hint=False),
    )


# --- resources and prompts ------------------------------------------------------------------------------

SHELVES_URI = "vibeshelf://shelves"
BOOK_URI_PREFIX = "vibeshelf://books/"
BOOK_URI_TEMPLATE = BOOK_URI_PREFIX + "{book_id}"
_JSON = "application/json"

RESOURCES = [
    types.Resource(
        uri=SHELVES_URI,
        name="shelves",
        title="Shelves",
        description="Every shelf (genre name) the search filters and popular_books accept, with its book "
        "count, the fullest first.",
        mime_type=_JSON,
    )
]
RESOURCE_TEMPLATES = [
    types.ResourceTemplate(
        uri_template=BOOK_URI_TEMPLATE,
        name="book",
        title="Book",
        description="One book's details (as get_book returns them) by catalog id, e.g. "
        "vibeshelf://books/goodbooks:2767.",
        mime_type=_JSON,
    )
]
# Prompt name -> (prompt file, description, arguments); the texts live in prompts/mcp_*.md.
PROMPTS = {
    "recommend_from_mood": (
        "mcp_recommend_from_mood",
        "Recommend books from a mood, a theme or a description, leaving out what the reader does not want.",
        [
            types.PromptArgument(
                name="mood", description="e.g. 'cozy and melancholic, for a rainy weekend'", required=True
            ),
            types.PromptArgument(name="avoid", description="What to leave out, e.g. 'young adult'"),
        ],
    ),
    "books_like": (
        "mcp_books_like",
        "What to read after a book the reader loved: what that book's readers also loved.",
        [types.PromptArgument(name="title", description="The book, e.g. 'The Night Circus'", required=True)],
    ),
}


def _invalid(message: str) -> MCPError:
    return MCPError(code=types.INVALID_PARAMS, message=message)


def prompt_result(name: str, arguments: dict[str, str] | None) -> types.GetPromptResult:
    """The user message of prompt ``name`` with ``arguments`` filled in; a missing argument is named."""
    from vibeshelf.agent.prompt import render

    if name not in PROMPTS:
        raise _invalid(f"unknown prompt {name!r}; prompts: {', '.join(PROMPTS)}")
    file, description, wanted = PROMPTS[name]
    given = {k: v.strip() for k, v in (arguments or {}).items() if isinstance(v, str)}
    values: dict[str, str] = {}
    for argument in wanted:
        value = given.get(argument.name, "")
        if argument.required and not value:
            raise _invalid(f"prompt {name!r} needs the argument {argument.name!r}")
        values[argument.name] = value or "nothing in particular"
    text = render(file, **values)
    message = types.PromptMessage(role="user", content=types.TextContent(type="text", text=text))
    return types.GetPromptResult(description=description, messages=[message])


def call_result(result: ToolResult) -> types.CallToolResult:
    """A registry call's outcome as an MCP result: JSON text plus structuredContent, or isError."""
    if result.error is not None:
        # The REST error shape (web.errors.error_body: code, message, fields), not the tool model's
        # `type`, so a client sees one contract on every surface.
        import json

        from vibeshelf.web.errors import error_body

        err = result.error.error
        fields = [{"field": f.field, "message": f.message} for f in err.fields]
        body = json.dumps(error_body(err.type, err.message, fields))
        # No structuredContent: it must match the output schema, which describes successes only.
        return types.CallToolResult(content=[types.TextContent(type="text", text=body)], is_error=True)
    text = types.TextContent(type="text", text=result.to_json())
    return types.CallToolResult(content=[text], structured_content=result.to_dict(), is_error=False)


def build_mcp_server(
    registry: Callable[[], ToolRegistry], services: Callable[[], Services]
) -> Server[dict[str, Any]]:
    """An MCP server over the registry ``registry()`` returns, running tools with ``services()``.

    Both are callables so the HTTP transport can read the app's registry and services, which its
    lifespan opens after the routes are built; stdio passes the objects it opened itself.
    """

    def input_schema(name: str) -> dict[str, Any] | None:
        reg = registry()
        return reg.get(name).parameters_schema if name in reg else None

    async def list_tools(
        ctx: ServerRequestContext[dict[str, Any]], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[mcp_tool(t) for t in registry()])

    async def call_tool(
        ctx: ServerRequestContext[dict[str, Any]], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        reg = registry()
        if params.name not in reg:
            raise MCPError(
                code=types.INVALID_PARAMS,
                message=f"unknown tool {params.name!r}; tools: {', '.join(reg.names())}",
            )
        request_id = None if ctx.request_id is None else f"mcp:{ctx.request_id}"
        result = await reg.call(
            params.name, params.arguments, ToolContext(deps=services(), request_id=request_id)
        )
        logger.info(
            "mcp tools/call %s: %s in %.0f ms",
            params.name,
            "ok" if result.ok else f"error ({result.error.error.type if result.error else '?'})",
            result.elapsed_ms,
        )
        return call_result(result)

    async def list_resources(
        ctx: ServerRequestContext[dict[str, Any]], params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        return types.ListResourcesResult(resources=RESOURCES)

    async def list_resource_templates(
        ctx: ServerRequestContext[dict[str, Any]], params: types.PaginatedRequestParams | None
    ) -> types.ListResourceTemplatesResult:
        return types.ListResourceTemplatesResult(resource_templates=RESOURCE_TEMPLATES)

    async def read_resource(
        ctx: ServerRequestContext[dict[str, Any]], params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        import json

        uri = str(params.uri)
        if uri == SHELVES_URI:
            from vibeshelf.web.tool_routes import ShelfList, shelves_of

            text = ShelfList(shelves=shelves_of(services())).model_dump_json()
        elif uri.startswith(BOOK_URI_PREFIX) and len(uri) > len(BOOK_URI_PREFIX):
            from urllib.parse import unquote

            book_id = unquote(uri.removeprefix(BOOK_URI_PREFIX))
            result = await registry().call("get_book", {"book_id": book_id}, ToolContext(deps=services()))
            if result.error is not None:
                raise _invalid(f"no resource {uri}: {result.error.error.message}")
            text = json.dumps(result.to_dict(), ensure_ascii=False)
        else:
            raise _invalid(f"unknown resource {uri!r}; resources: {SHELVES_URI}, {BOOK_URI_TEMPLATE}")
        return types.ReadResourceResult(
            contents=[types.TextResourceContents(uri=uri, mime_type=_JSON, text=text)]
        )

    async def list_prompts(
        ctx: ServerRequestContext[dict[str, Any]], params: types.PaginatedRequestParams | None
    ) -> types.ListPromptsResult:
        prompts = [
            types.Prompt(name=name, title=_title(name), description=description, arguments=arguments)
            for name, (_, description, arguments) in PROMPTS.items()
        ]
        return types.ListPromptsResult(prompts=prompts)

    async def get_prompt(
        ctx: ServerRequestContext[dict[str, Any]], params: types.GetPromptRequestParams
    ) -> types.GetPromptResult:
        return prompt_result(params.name, params.arguments)

    return Server(
        SERVER_NAME,
        version=__version__,
        title="vibeshelf book recommender",
        instructions=INSTRUCTIONS,
        get_tool_input_schema=input_schema,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_resources=list_resources,
        on_list_resource_templates=list_resource_templates,
        on_read_resource=read_resource,
        on_list_prompts=list_prompts,
        on_get_prompt=get_prompt,
    )


# --- streamable HTTP, mounted in the FastAPI app --------------------------------------------------------


def transport_security(settings: Settings) -> TransportSecuritySettings:
    """DNS-rebinding protection when the server binds loopback (a laptop), as the MCP spec advises.

    A public deployment (``VIBESHELF_HOST=0.0.0.0`` behind a domain) cannot know its Host names in advance;
    there the API-key policy in ``web/access.py`` is the guard.
    """
    if settings.host not in _LOOPBACK:
        return TransportSecuritySettings(enable_dns_rebinding_protection=False)
    hosts = ["127.0.0.1:*", "localhost:*", "[::1]:*", "127.0.0.1", "localhost"]
    origins = ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]
    if settings.public_url:  # a reverse proxy on the same machine forwards the public Host header
        public = urlsplit(settings.public_url)
        hosts.append(public.netloc)
        origins.append(f"{public.scheme}://{public.netloc}")
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins
    )


# --- stdio: `vibeshelf mcp` ---------------------------------------------------------------------------


def configure_stderr_logging(level: int = logging.INFO) -> None:
    """Logs to stderr only: on the stdio transport stdout carries the protocol and nothing else."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "stream", None) is sys.stdout:
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level)


async def serve_stdio(settings: Settings) -> None:
    """Open the services under ``settings.home`` and serve MCP on stdin/stdout until stdin closes.

    The transport is entered first: while it runs, fd 1 points at stderr, so stray prints from native
    libraries while the index and encoder load cannot corrupt the protocol stream.
    """
    import anyio
    from mcp.server.stdio import stdio_server

    from vibeshelf.retrieval.services import open_services
    from vibeshelf.tools.default_registry import default_registry

    async with stdio_server() as (read_stream, write_stream):
        services = await anyio.to_thread.run_sync(open_services, settings)
        registry = default_registry()
        server = build_mcp_server(lambda: registry, lambda: services)
        logger.info("vibeshelf MCP server on stdio: %d tools over %s", len(registry), settings.home_dir)
        await server.run(read_stream, write_stream, server.create_initialization_options())
