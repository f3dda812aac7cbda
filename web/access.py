"""Who may call the API: secret API keys for servers, origin-bound site keys for the embedded widget.

The rules are one table, route group x credential (docs/access.md, tested cell by cell in
tests/test_access.py):

* ``public`` routes (the demo page and its assets, health, the OpenAPI documents) need nothing;
* ``slack`` (``/slack/events``) proves itself with Slack's signature, checked by the route;
* ``widget`` routes (what ``widget.js`` calls: chat, feedback, sessions, autocomplete) take a site key
  together with an ``Origin`` registered for it, or an API key;
* ``api`` routes (tools, books, MCP, the OpenAI-style API, anything not listed) take an API key only.

Site keys are public (they sit in the host page's HTML), so a site key never opens an ``api`` route and
is only honoured with a browser's origin signal: an ``Origin`` header its site registered, or, for keys
registered with no origins (the built-in demo page), this server's own origin (``VIBESHELF_PUBLIC_URL``
when set, else the request's host; ``Sec-Fetch-Site: same-origin`` stands in for ``Origin`` on a
same-origin GET, which browsers send without one). A request with no origin signal is not a browser on a
registered page and is refused. With no API keys configured the API is open, which is what `make run` on
a laptop wants; production sets ``VIBESHELF_API_KEYS``.

Every request that passes is tagged with its *principal* (``scope["state"]["principal"]``): the API key
(by hash), the site key, or ``open``. Sessions belong to the principal that created them.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Literal
from urllib.parse import urlsplit

from fastapi import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vibeshelf.settings import Settings
from vibeshelf.web.errors import error_body

SITE_KEY_HEADER = "X-Vibeshelf-Key"
API_KEY_HEADER = "X-API-Key"

RouteGroup = Literal["public", "slack", "widget", "api"]
# Paths anyone may read: the widget, its demo page and style, health, the API descriptions.
PUBLIC_PREFIXES = (
    "/healthz",
    "/widget.js",
    "/static/",
    "/docs",
    "/openapi.json",
    "/redoc",
    "/popular",
    # The tool plugin's OpenAPI document and manifest (web/plugin_openapi.py): importers such as GPT
    # Actions fetch them before they hold a key, and they describe only what /openapi.json already does.
    "/v1/plugin/",
    "/.well-known/",
)
PUBLIC_EXACT = ("/",)
SLACK_PREFIX = "/slack/"
# What web/static/widget.js calls; a site key opens these and nothing else.
WIDGET_EXACT = ("/v1/chat", "/v1/feedback", "/v1/autocomplete", "/v1/sessions")
WIDGET_PREFIXES = ("/v1/sessions/",)
CORS_HEADERS = f"Content-Type, Authorization, {SITE_KEY_HEADER}, {API_KEY_HEADER}, Last-Event-ID"
OPEN_PRINCIPAL = "open"


def route_group(path: str) -> RouteGroup:
    """Which row of the access table ``path`` falls in; anything unlisted is ``api`` (needs a key)."""
    if path in PUBLIC_EXACT or path.startswith(PUBLIC_PREFIXES):
        return "public"
    if path.startswith(SLACK_PREFIX):
        return "slack"
    if path in WIDGET_EXACT or path.startswith(WIDGET_PREFIXES):
        return "widget"
    return "api"


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".rstrip("/")


class AccessPolicy:
    def __init__(self, settings: Settings) -> None:
        self._api_keys = [k.get_secret_value() for k in settings.api_keys if k.get_secret_value()]
        self._site_keys = {
            key: {o.rstrip("/") for o in origins} for key, origins in settings.site_keys.items()
        }
        self.allowed_origins = set().union(*self._site_keys.values()) if self._site_keys else set()
        # Behind a proxy the Host header is whatever the client wrote; the configured URL is not.
        self._public_origin = _origin_of(settings.public_url) if settings.public_url else None

    @property
    def open(self) -> bool:
        return not self._api_keys

    def api_key_ok(self, presented: str | None) -> bool:
        # Constant-time comparison against every key, so timing reveals nothing about which matched.
        if not presented:
            return False
        matches = [hmac.compare_digest(presented.encode(), key.encode()) for key in self._api_keys]
        return any(matches)

    def site_key_ok(
        self, key: str | None, origin: str | None, own_origin: str, fetch_site: str | None
    ) -> bool:
        if not key or key not in self._site_keys:
            return False
        registered = self._site_keys[key]
        if origin is None:
            # Browsers omit Origin on same-origin GETs but always send Sec-Fetch-Site; curl sends neither.
            return fetch_site == "same-origin" and not registered
        origin = origin.rstrip("/")
        if not registered:
            return origin == own_origin  # the demo page, served by us
        return origin in registered

    def _own_origin(self, request: Request) -> str:
        return self._public_origin or f"{request.url.scheme}://{request.url.netloc}"

    def check(self, request: Request) -> tuple[JSONResponse | None, str]:
        """(None, principal) when the request may proceed, else (the 401/403 response, "")."""
        group = route_group(request.url.path)
        if group in ("public", "slack"):
            return None, OPEN_PRINCIPAL
        auth = request.headers.get("authorization", "")
        bearer = auth[7:].strip() if auth.lower().startswith("bearer ") else None
        presented = bearer or request.headers.get(API_KEY_HEADER)
        if self.api_key_ok(presented):
            assert presented is not None
            return None, "api:" + hashlib.sha256(presented.encode()).hexdigest()[:16]
        site_key = request.headers.get(SITE_KEY_HEADER)
        if site_key is not None:
            origin = request.headers.get("origin")
            fetch_site = request.headers.get("sec-fetch-site")
            if not self.site_key_ok(site_key, origin, self._own_origin(request), fetch_site):
                return self._forbidden(
                    f"site key not valid for origin {origin or '(none)'}; register the origin for this key "
                    "in VIBESHELF_SITE_KEYS"
                ), ""
            if group == "widget":
                return None, f"site:{site_key}"
            if not self.open:
                return self._forbidden(
                    "site keys open only the widget's routes; this route needs an API key"
                ), ""
        if self.open:
            return None, OPEN_PRINCIPAL
        return JSONResponse(
            status_code=401,
            content=error_body(
                "unauthorized",
                "missing or invalid API key: send `Authorization: Bearer KEY` or `X-API-Key: KEY`",
                [{"field": "Authorization", "message": "missing or invalid API key"}],
            ),
            headers={"WWW-Authenticate": "Bearer"},
        ), ""

    @staticmethod
    def _forbidden(message: str) -> JSONResponse:
        return JSONResponse(
            status_code=403,
            content=error_body(
                "forbidden_origin",
                message,
                [{"field": SITE_KEY_HEADER, "message": "unknown key, origin not allowed, or route not open"}],
            ),
        )


def principal_of(request: Request) -> str:
    """Who the access middleware let in (``open`` when the app runs without it, as in tests)."""
    return request.scope.get("state", {}).get("principal", OPEN_PRINCIPAL)


class AccessMiddleware:
    """CORS for registered widget origins (never `*`) plus key checks, before any route runs.

    Pure ASGI rather than BaseHTTPMiddleware so streamed responses (SSE) pass through untouched and a
    client disconnect still reaches the endpoint.
    """

    def __init__(self, app: ASGIApp, policy: AccessPolicy) -> None:
        self.app = app
        self.policy = policy

    def _cors_headers(self, origin: str | None) -> list[tuple[bytes, bytes]]:
        headers = [(b"vary", b"Origin")]
        if origin and origin.rstrip("/") in self.policy.allowed_origins:
            headers += [
                (b"access-control-allow-origin", origin.encode("latin-1")),
                (b"access-control-allow-headers", CORS_HEADERS.encode()),
                (b"access-control-allow-methods", b"GET, POST, OPTIONS"),
                (b"access-control-max-age", b"600"),
            ]
        return headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        origin = request.headers.get("origin")
        cors = self._cors_headers(origin)
        if request.method == "OPTIONS" and "access-control-request-method" in request.headers:
            allowed = origin is not None and origin.rstrip("/") in self.policy.allowed_origins
            response: Response = Response(status_code=204 if allowed else 403)
        else:
            denied, principal = self.policy.check(request)
            if denied is None:
                scope.setdefault("state", {})["principal"] = principal

                async def send_with_cors(message: Message) -> None:
                    if message["type"] == "http.response.start":
                        message = {**message, "headers": [*message.get("headers", []), *cors]}
                    await send(message)

                await self.app(scope, receive, send_with_cors)
                return
            response = denied
        response.raw_headers.extend(cors)
        await response(scope, receive, send)
