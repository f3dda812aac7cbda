"""Who may call the API: secret API keys for servers, origin-bound site keys for the embedded widget.

Site keys are public (they sit in the host page's HTML), so a site key is only honoured together with an
`Origin` its site registered; secret API keys work from anywhere. With no API keys configured the API
is open, which is what `make run` on a laptop wants; production sets ``VIBESHELF_API_KEYS``.
"""

from __future__ import annotations

import hmac

from fastapi import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vibeshelf.settings import Settings
from vibeshelf.web.errors import error_body

SITE_KEY_HEADER = "X-Vibeshelf-Key"
API_KEY_HEADER = "X-API-Key"
# Paths anyone may read: the widget and its demo page, health, docs.
PUBLIC_PREFIXES = (
    "/healthz",
    "/widget.js",
    "/docs",
    "/openapi.json",
    "/redoc",
    "/popular",
    "/slack/",
    # The tool plugin's OpenAPI document and manifest (web/plugin_openapi.py): importers such as GPT
    # Actions fetch them before they hold a key, and they describe only what /openapi.json already does.
    "/v1/plugin/",
    "/.well-known/",
)
PUBLIC_EXACT = ("/",)
CORS_HEADERS = f"Content-Type, Authorization, {SITE_KEY_HEADER}, {API_KEY_HEADER}, Last-Event-ID"


class AccessPolicy:
    def __init__(self, settings: Settings) -> None:
        self._api_keys = [k.get_secret_value() for k in settings.api_keys if k.get_secret_value()]
        self._site_keys = {
            key: {o.rstrip("/") for o in origins} for key, origins in settings.site_keys.items()
        }
        self.allowed_origins = set().union(*self._site_keys.values()) if self._site_keys else set()

    @property
    def open(self) -> bool:
        return not self._api_keys

    def api_key_ok(self, presented: str | None) -> bool:
        # Constant-time comparison against every key, so timing reveals nothing about which matched.
        if not presented:
            return False
        matches = [hmac.compare_digest(presented.encode(), key.encode()) for key in self._api_keys]
        return any(matches)

    def site_key_ok(self, key: str | None, origin: str | None, own_origin: str) -> bool:
        if not key or key not in self._site_keys:
            return False
        if origin is None or origin.rstrip("/") == own_origin:
            return True  # same-origin: the page was served by us
        return origin.rstrip("/") in self._site_keys[key]

    def check(self, request: Request) -> JSONResponse | None:
        """None when the request may proceed, else the 401/403 response to send."""
        path = request.url.path
        if path in PUBLIC_EXACT or path.startswith(PUBLIC_PREFIXES):
            return None
        origin = request.headers.get("origin")
        own_origin = f"{request.url.scheme}://{request.url.netloc}"
        site_key = request.headers.get(SITE_KEY_HEADER)
        if site_key is not None:
            if self.site_key_ok(site_key, origin, own_origin):
                return None
            return JSONResponse(
                status_code=403,
                content=error_body(
                    "forbidden_origin",
                    f"site key not valid for origin {origin or '(none)'}; register the origin for this key "
                    "in VIBESHELF_SITE_KEYS",
                    [{"field": SITE_KEY_HEADER, "message": "unknown key or origin not allowed"}],
                ),
            )
        if self.open:
            return None
        auth = request.headers.get("authorization", "")
        bearer = auth[7:].strip() if auth.lower().startswith("bearer ") else None
        if self.api_key_ok(bearer or request.headers.get(API_KEY_HEADER)):
            return None
        return JSONResponse(
            status_code=401,
            content=error_body(
                "unauthorized",
                "missing or invalid API key: send `Authorization: Bearer KEY` or `X-API-Key: KEY`",
                [{"field": "Authorization", "message": "missing or invalid API key"}],
            ),
            headers={"WWW-Authenticate": "Bearer"},
        )


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
            denied = self.policy.check(request)
            if denied is None:

                async def send_with_cors(message: Message) -> None:
                    if message["type"] == "http.response.start":
                        message = {**message, "headers": [*message.get("headers", []), *cors]}
                    await send(message)

                await self.app(scope, receive, send_with_cors)
                return
            response = denied
        response.raw_headers.extend(cors)
        await response(scope, receive, send)
