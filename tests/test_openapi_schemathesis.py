"""A bounded schemathesis run over both OpenAPI documents against the real app (issue 10, Low 10).

Every operation of ``/openapi.json`` and ``/v1/plugin/openapi.json`` gets a fixed number of derandomized,
schema-generated requests (``VIBESHELF_SCHEMATHESIS_EXAMPLES`` for more), each checked for: no server
error, a documented status code, content type and response body, and that a request valid by the schema
is accepted (2xx, or 404 for an id that names nothing).

Where the schema cannot say what the server checks, the acceptance check is left out, named here with the
reason: cross-field ranges (``year_max >= year_min``, ``max_pages >= min_pages``, ...; JSON Schema has no
way to compare two fields), "the last message comes from the user" in the chat completions API, and genre
names, which are the live catalog's.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from pydantic import SecretStr
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from vibeshelf.layout import Layout
from vibeshelf.settings import Settings
from vibeshelf.web.app import create_app

pytestmark = pytest.mark.slow

KEY = "schemathesis-key"
EXAMPLES = int(os.environ.get("VIBESHELF_SCHEMATHESIS_EXAMPLES", "12"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Operations whose schema-valid requests the server may still reject with 422, and why (module docstring).
ACCEPTANCE_EXEMPT = {
    "GET /v1/books/search": "cross-field ranges (max_* >= min_*)",
    "POST /v1/chat": "cross-field ranges in filters",
    "POST /v1/chat/completions": "the last message must come from the user",
    "POST /v1/tools/search_books": "cross-field ranges in filters",
    "POST /v1/tools/readers_also_liked": "cross-field ranges in filters",
    "POST /v1/tools/feeling_lucky": "cross-field ranges in filters",
    "POST /v1/tools/popular_books": "genre names are the live catalog's",
    "POST /v1/tools/{name}": "the body is the named tool's arguments, which the generic operation cannot type",
}


@pytest.fixture(scope="module")
def app(goodbooks_mini_index: Layout, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    settings = Settings(
        home=goodbooks_mini_index.home,
        state_db=tmp_path_factory.mktemp("state") / "state.duckdb",
        api_keys=[SecretStr(KEY)],
        slack_signing_secret=SecretStr("schemathesis-slack-secret"),
        rate_limit_per_minute=0,
        chat_rate_limit_per_minute=0,
    )
    application = create_app(settings)
    with TestClient(application):  # runs the lifespan: index, sessions, agent
        yield application


def _operations(app: FastAPI, document: str) -> list[tuple[str, object]]:
    schema = schemathesis.openapi.from_asgi(document, app)
    ops = [result.ok() for result in schema.get_all_operations()]
    return [(op.label, op) for op in ops]


@pytest.mark.parametrize("document", ["/openapi.json", "/v1/plugin/openapi.json"])
def test_schemathesis_finds_no_server_error_and_no_schema_mismatch(app: FastAPI, document: str) -> None:
    failures: dict[str, str] = {}
    operations = _operations(app, document)
    assert len(operations) >= 6
    for label, operation in operations:
        checks = CHECKS if label in ACCEPTANCE_EXEMPT else [*CHECKS, positive_data_acceptance]
        failure = _run(operation, checks)
        if failure:
            failures[label] = failure
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())


def _run(operation, checks) -> str | None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(operation.as_strategy())
    def run(case) -> None:
        case.call_and_validate(headers={"Authorization": f"Bearer {KEY}"}, checks=checks)

    try:
        run()
    except BaseException as err:  # schemathesis reports a FailureGroup (a BaseExceptionGroup)
        if isinstance(err, KeyboardInterrupt):
            raise
        return str(err)[:1500]
    return None


def test_the_documents_declare_the_error_responses(app: FastAPI) -> None:
    client = TestClient(app)
    main = client.get("/openapi.json").json()
    for path, operations in main["paths"].items():
        for method, operation in operations.items():
            for status in ("400", "404", "413", "422", "429"):
                schema = operation["responses"][status]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, path, status)
    chat = main["components"]["schemas"]["ChatRequest"]["properties"]["message"]
    assert chat["minLength"] == 1
    plugin = client.get("/v1/plugin/openapi.json").json()
    for path, operations in plugin["paths"].items():
        if path.startswith("/v1/tools/"):
            assert {"400", "404", "413", "422", "429"} <= set(operations["post"]["responses"])
        else:  # GET /v1/shelves takes no input: only the key and the rate limit can refuse it
            assert {"401", "403", "429"} <= set(operations["get"]["responses"]), path
    assert Path(__file__).exists()
