"""One JSON error shape everywhere (issue 10, Low 9): ``{"error": {"code", "message", "fields"?}}``.

The real app over the goodbooks-mini index: an undecodable body is a 422 naming ``body`` (it was a 400
``http_error`` with no field), an oversized ``/mcp`` body is the JSON 413 (it was text/plain), and MCP
tool errors carry ``code`` like REST (they said ``type``; see test_mcp_server.py).
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from vibeshelf.layout import Layout
from vibeshelf.settings import Settings
from vibeshelf.web.app import create_app

pytestmark = pytest.mark.slow

JSON = {"content-type": "application/json"}
MCP = {"content-type": "application/json", "accept": "application/json, text/event-stream"}


@pytest.fixture(scope="module")
def client(goodbooks_mini_index: Layout, tmp_path_factory: pytest.TempPathFactory):
    settings = Settings(
        home=goodbooks_mini_index.home,
        state_db=tmp_path_factory.mktemp("state") / "state.duckdb",
        rate_limit_per_minute=0,
    )
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.mark.parametrize(
    "path", ["/v1/chat", "/v1/feedback", "/v1/tools/search_books", "/v1/chat/completions"]
)
def test_a_body_that_is_not_utf8_is_422_naming_body(client: TestClient, path: str) -> None:
    response = client.post(path, content=b'{"message": "\xff\xfe caf\xe9"}', headers=JSON)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_request" and error["fields"][0]["field"] == "body"


def test_an_oversized_mcp_body_is_the_json_413(client: TestClient) -> None:
    big = b'{"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"pad": "' + b"x" * 200_000 + b'"}}'
    response = client.post("/mcp", content=big, headers=MCP)
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == "body_too_large" and error["fields"][0]["field"] == "body"
