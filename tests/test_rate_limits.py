"""Every route group is rate limited, and X-Forwarded-For is believed only from trusted proxies
(issue 10, Medium 7). The audit beat a 5/min chat limit 8 times of 8 by rotating the header."""

from __future__ import annotations

import httpx
import pytest
from chat_server import Server, uvicorn_server
from fastapi import FastAPI

from vibeshelf.layout import Layout
from vibeshelf.web.errors import install_error_handlers
from vibeshelf.web.limits import RateLimitMiddleware, TrustedProxies


def _stub(per_minute: int, trusted: list[str]) -> httpx.AsyncClient:
    app = FastAPI()
    install_error_handlers(app)

    @app.api_route("/{path:path}", methods=["GET", "POST"])
    async def anything() -> dict[str, bool]:
        return {"ok": True}

    app.add_middleware(RateLimitMiddleware, per_minute=per_minute, proxies=TrustedProxies(trusted))
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://test")


async def _statuses(client: httpx.AsyncClient, path: str, n: int, rotate: bool = True) -> list[int]:
    out = []
    for i in range(n):
        headers = {"X-Forwarded-For": f"203.0.113.{i if rotate else 1}"}
        out.append((await client.post(path, headers=headers)).status_code)
    return out


async def test_a_rotated_forwarded_for_header_gets_no_fresh_bucket() -> None:
    async with _stub(5, []) as client:
        assert await _statuses(client, "/v1/chat", 8) == [200] * 5 + [429] * 3
        refused = await client.post("/v1/chat")
        assert refused.json()["error"]["code"] == "rate_limited" and int(refused.headers["retry-after"]) >= 1


async def test_behind_a_trusted_proxy_the_forwarded_client_is_limited() -> None:
    async with _stub(5, ["127.0.0.1"]) as client:
        assert await _statuses(client, "/v1/chat", 8) == [200] * 8  # eight different readers
        assert await _statuses(client, "/v1/tools/x", 7, rotate=False) == [200] * 5 + [429] * 2


async def test_tools_and_mcp_are_limited_in_their_own_group_and_health_never() -> None:
    async with _stub(3, []) as client:
        assert await _statuses(client, "/v1/tools/search_books", 4) == [200] * 3 + [429]
        assert (await client.post("/mcp")).status_code == 429  # the same `api` group
        assert (await client.post("/v1/chat")).status_code == 200  # the widget's bucket is untouched
        assert [(await client.get("/healthz")).status_code for _ in range(10)] == [200] * 10


def test_chat_limit_holds_against_rotated_headers_on_a_real_server(tmp_path) -> None:
    env = {"VIBESHELF_HOME": str(tmp_path), "VIBESHELF_CHAT_RATE_LIMIT_PER_MINUTE": "5"}
    with uvicorn_server(env) as server:
        statuses = []
        for i in range(8):
            headers = {"X-Forwarded-For": f"198.51.100.{i}"}
            body = {"message": "cozy"}
            statuses.append(
                httpx.post(f"{server.url}/v1/chat", json=body, headers=headers, timeout=30).status_code
            )
    assert statuses == [200] * 5 + [429] * 3


@pytest.mark.slow
def test_vibeshelf_serve_limits_tool_calls_whatever_the_header(
    goodbooks_mini_index: Layout, tmp_path
) -> None:
    env = {
        "VIBESHELF_HOME": str(goodbooks_mini_index.home),
        "VIBESHELF_STATE_DB": str(tmp_path / "state.duckdb"),
        "VIBESHELF_RATE_LIMIT_PER_MINUTE": "5",
    }
    with uvicorn_server(env, cli=True, timeout_s=120) as server:
        server: Server
        statuses = []
        for i in range(8):
            headers = {"X-Forwarded-For": f"198.51.100.{i}"}
            response = httpx.post(
                f"{server.url}/v1/tools/search_books", json={"query": "dune"}, headers=headers, timeout=30
            )
            statuses.append(response.status_code)
    assert statuses == [200] * 5 + [429] * 3
