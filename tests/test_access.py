"""The access table in docs/access.md, checked cell by cell against the real access middleware.

A stub app answers 200 on every path behind ``AccessMiddleware``, so each cell's status is the access
check's verdict alone; ``test_every_real_route_is_in_the_documented_group`` ties the table's rows to the
routes ``create_app`` really installs, and the live-server tests replay the audit's requests.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest
from chat_server import Server
from conftest import LIVE_API_KEY
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from pydantic import SecretStr

from vibeshelf.settings import Settings
from vibeshelf.web.access import AccessMiddleware, AccessPolicy, principal_of, route_group

DOC = Path(__file__).resolve().parents[1] / "docs" / "access.md"
API_KEY = "K-secret"
PARTNER = "https://shop.example"
OWN = "http://testserver"  # TestClient's base URL: the demo page's own origin


def _table() -> tuple[list[str], list[tuple[str, list[str], list[str]]]]:
    text = DOC.read_text()
    block = text.split("<!-- access-table:start -->")[1].split("<!-- access-table:end -->")[0]
    lines = [line for line in block.strip().splitlines() if line.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = []
    for line in lines[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        paths = [
            p.replace("{id}", "abc").replace("{name}", "search_books")
            for p in re.findall(r"`([^`]+)`", cells[1])
        ]
        rows.append((cells[0], paths, cells[2:]))
    return header[2:], rows


COLUMNS, ROWS = _table()

# The headers each credential column sends (for the demo key: no origins registered = own page only).
CREDENTIALS: dict[str, list[dict[str, str]]] = {
    "nothing": [{}],
    "site key + registered Origin": [
        {"X-Vibeshelf-Key": "pk_shop", "Origin": PARTNER},
        {"X-Vibeshelf-Key": "demo", "Origin": OWN},
        {"X-Vibeshelf-Key": "demo", "Sec-Fetch-Site": "same-origin"},
    ],
    "site key, Origin missing or not registered": [
        {"X-Vibeshelf-Key": "pk_shop"},
        {"X-Vibeshelf-Key": "pk_shop", "Origin": "https://evil.example"},
        {"X-Vibeshelf-Key": "demo"},  # curl: no Origin, no Sec-Fetch-Site
        {"X-Vibeshelf-Key": "demo", "Origin": "https://evil.example"},
        {"X-Vibeshelf-Key": "pk_shop", "Sec-Fetch-Site": "same-origin"},  # a partner key is not ours
        {"X-Vibeshelf-Key": "unknown", "Origin": PARTNER},
    ],
    "API key": [{"Authorization": f"Bearer {API_KEY}"}, {"X-API-Key": API_KEY}],
    "wrong API key": [{"Authorization": "Bearer nope"}, {"X-API-Key": "nope"}],
}


def _stub_client(api_keys: list[str], public_url: str | None = None) -> TestClient:
    settings = Settings(
        api_keys=[SecretStr(k) for k in api_keys],
        site_keys={"demo": [], "pk_shop": [PARTNER]},
        public_url=public_url,
    )
    app = FastAPI()

    @app.api_route("/{path:path}", methods=["GET", "POST"])
    async def anything(request: Request) -> dict[str, str]:
        return {"principal": principal_of(request)}

    app.add_middleware(AccessMiddleware, policy=AccessPolicy(settings))
    return TestClient(app)


def _status(client: TestClient, path: str, headers: dict[str, str]) -> int:
    method = "GET" if path in ("/", "/widget.js", "/static/demo.css", "/popular") else "POST"
    return client.request(method, path, headers=headers, json={}).status_code


def test_the_table_covers_every_group_and_credential() -> None:
    assert [r[0] for r in ROWS] == ["public", "slack", "widget", "api"]
    assert list(CREDENTIALS) == COLUMNS


@pytest.mark.parametrize("group,paths,cells", ROWS, ids=[r[0] for r in ROWS])
def test_every_cell_of_the_access_table(group: str, paths: list[str], cells: list[str]) -> None:
    client = _stub_client([API_KEY])
    for column, cell in zip(COLUMNS, cells, strict=True):
        expected = int(cell.split()[0])
        for path in paths:
            assert route_group(path) == group, path
            for headers in CREDENTIALS[column]:
                assert _status(client, path, headers) == expected, (path, column, headers)


def test_without_api_keys_everything_is_open_but_a_bad_site_key_is_still_refused() -> None:
    client = _stub_client([])
    for _, paths, _ in ROWS:
        for path in paths:
            assert _status(client, path, {}) == 200, path
    assert (
        _status(client, "/v1/chat", {"X-Vibeshelf-Key": "pk_shop", "Origin": "https://evil.example"}) == 403
    )
    assert _status(client, "/v1/chat", {"X-Vibeshelf-Key": "demo"}) == 403


def test_a_forged_host_does_not_make_an_origin_ours_when_the_public_url_is_set() -> None:
    client = _stub_client([API_KEY], public_url="https://books.example.com")
    forged = {"X-Vibeshelf-Key": "demo", "Origin": "https://evil.example", "Host": "evil.example"}
    assert _status(client, "/v1/chat", forged) == 403
    ours = {"X-Vibeshelf-Key": "demo", "Origin": "https://books.example.com"}
    assert _status(client, "/v1/chat", ours) == 200


def test_the_principal_names_the_credential_not_the_request() -> None:
    client = _stub_client([API_KEY])
    by_key = client.post("/v1/chat", headers={"X-API-Key": API_KEY}).json()["principal"]
    by_site = client.post("/v1/chat", headers={"X-Vibeshelf-Key": "pk_shop", "Origin": PARTNER}).json()
    assert by_key.startswith("api:") and API_KEY not in by_key
    assert by_site["principal"] == "site:pk_shop"
    assert _stub_client([]).post("/v1/chat").json()["principal"] == "open"


def test_every_real_route_is_in_the_documented_group() -> None:
    from vibeshelf.web.app import create_app

    documented = {path: group for group, paths, _ in ROWS for path in paths}
    app = create_app(Settings(api_keys=[SecretStr(API_KEY)]))
    for route in app.routes:
        path = getattr(route, "path", "")
        concrete = path.replace("{session_id}", "abc").replace("{name}", "search_books")
        concrete = concrete.replace("{book_id}", "abc").replace("{id}", "abc")
        if concrete in ("/docs/oauth2-redirect",):
            continue
        assert concrete in documented or route_group(concrete) == "api", f"{path} is not in docs/access.md"
        if concrete in documented:
            assert route_group(concrete) == documented[concrete], path


# --- the audit's requests against the real server (API keys on, default site keys) -----------------


def _post(server: Server, path: str, body: dict, **headers: str) -> httpx.Response:
    return httpx.post(f"{server.url}{path}", json=body, headers=headers, timeout=30)


@pytest.mark.slow
def test_the_demo_site_key_opens_no_api_route_on_the_real_server(live_vibeshelf: Server) -> None:
    demo = {"X-Vibeshelf-Key": "demo"}
    assert _post(live_vibeshelf, "/v1/tools/search_books", {"query": "dune"}, **demo).status_code == 403
    mcp_call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "search_books"}}
    mcp_headers = {**demo, "Accept": "application/json, text/event-stream"}
    assert _post(live_vibeshelf, "/mcp", mcp_call, **mcp_headers).status_code == 403
    completion = {"messages": [{"role": "user", "content": "dune"}]}
    assert _post(live_vibeshelf, "/v1/chat/completions", completion, **demo).status_code == 403
    own = {**demo, "Origin": live_vibeshelf.url}
    assert httpx.get(f"{live_vibeshelf.url}/v1/books/goodbooks:2", headers=own).status_code == 403
    assert httpx.get(f"{live_vibeshelf.url}/v1/autocomplete?q=har", headers=demo).status_code == 403
    # The demo page itself still works: its own origin opens the widget's autocomplete.
    assert httpx.get(f"{live_vibeshelf.url}/v1/autocomplete?q=har", headers=own).status_code == 200
    keyed = {"Authorization": f"Bearer {LIVE_API_KEY}"}
    assert _post(live_vibeshelf, "/v1/tools/search_books", {"query": "dune"}, **keyed).status_code == 200


@pytest.mark.slow
def test_the_demo_page_keeps_its_style_when_api_keys_are_set(live_vibeshelf: Server) -> None:
    response = httpx.get(f"{live_vibeshelf.url}/static/demo.css", timeout=30)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/css")
    assert json.dumps(response.text)  # a stylesheet, not an error body
    assert "error" not in response.text[:20]
