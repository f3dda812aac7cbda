"""The tools and books over HTTP (web/tool_routes.py), served by the real app on the goodbooks-mini home."""

from __future__ import annotations

import jsonschema
import pytest
from fastapi.testclient import TestClient

from vibeshelf.settings import Settings
from vibeshelf.web.app import create_app


@pytest.fixture(scope="module")
def client(goodbooks_mini_index):
    app = create_app(Settings(home=goodbooks_mini_index.home))
    with TestClient(app) as client:
        yield client


def test_tools_list_is_the_openai_tools_array(client: TestClient) -> None:
    response = client.get("/v1/tools")
    assert response.status_code == 200
    tools = response.json()
    assert [t["function"]["name"] for t in tools] == [
        "search_books",
        "find_book",
        "readers_also_liked",
        "get_book",
        "feeling_lucky",
        "popular_books",
    ]
    for entry in tools:
        assert entry["type"] == "function" and entry["function"]["strict"] is True
        jsonschema.Draft202012Validator.check_schema(entry["function"]["parameters"])


def test_call_a_tool_with_json_arguments(client: TestClient) -> None:
    response = client.post("/v1/tools/search_books", json={"query": "space opera", "limit": 3})
    assert response.status_code == 200
    body = response.json()
    assert len(body["books"]) == 3 and body["query"] == "space opera"
    assert body["books"][0]["why"]["fused_rank"] is not None


def test_unknown_tool_is_404(client: TestClient) -> None:
    response = client.post("/v1/tools/delete_everything", json={})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert "search_books" in response.json()["error"]["message"]


def test_invalid_arguments_are_422_naming_the_field(client: TestClient) -> None:
    response = client.post("/v1/tools/search_books", json={"query": "x", "filters": {"year_min": "soon"}})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_arguments"
    assert [f["field"] for f in error["fields"]] == ["filters.year_min"]


def test_tool_not_found_result_is_404(client: TestClient) -> None:
    response = client.post("/v1/tools/get_book", json={"book_id": "goodbooks:424242"})
    assert response.status_code == 404 and response.json()["error"]["fields"][0]["field"] == "book_id"


def test_get_book_by_id(client: TestClient) -> None:
    response = client.get("/v1/books/goodbooks:2")
    assert response.status_code == 200
    book = response.json()["book"]
    assert book["title"].startswith("Harry Potter") and book["description"]
    assert client.get("/v1/books/goodbooks:424242").status_code == 404


def test_search_endpoint_maps_query_parameters_to_filters(client: TestClient) -> None:
    response = client.get(
        "/v1/books/search",
        params={
            "q": "vampire romance",
            "exclude_term": "vampire",
            "genre": ["romance", "fantasy"],
            "limit": 5,
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert body["applied_filters"]["exclude_terms"] == ["vampire"]
    assert body["applied_filters"]["genres_include"] == ["romance", "fantasy"]
    for book in body["books"]:
        assert {"romance", "fantasy"} & set(book["genres"]) and "vampires" not in book["genres"]


def test_search_endpoint_takes_required_genres(client: TestClient) -> None:
    params = {"q": "funny life stories", "genre": "memoir", "genre_all": "Humor", "limit": 5}
    body = client.get("/v1/books/search", params=params).json()
    assert body["applied_filters"]["genres_all"] == ["humor"] and body["books"]
    assert all({"memoir", "humor"} <= set(book["genres"]) for book in body["books"])


def test_search_endpoint_takes_page_bounds(client: TestClient) -> None:
    body = client.get("/v1/books/search", params={"q": "a short read", "max_pages": 200, "limit": 3}).json()
    # goodbooks-mini has no page counts: the bound is not applied, and the result says so.
    assert len(body["books"]) == 3 and body["applied_filters"]["max_pages"] is None
    assert any("no page counts" in n for n in body["notes"])
    response = client.get("/v1/books/search", params={"q": "x", "min_pages": 300, "max_pages": 200})
    assert response.status_code == 422
    assert [f["field"] for f in response.json()["error"]["fields"]] == ["max_pages"]


def test_search_endpoint_rejects_bad_filters_naming_the_parameter(client: TestClient) -> None:
    response = client.get("/v1/books/search", params={"q": "x", "year_min": 2000, "year_max": 1990})
    assert response.status_code == 422
    assert [f["field"] for f in response.json()["error"]["fields"]] == ["year_max"]
    missing_q = client.get("/v1/books/search")
    assert missing_q.status_code == 422 and missing_q.json()["error"]["fields"][0]["field"] == "q"


def test_autocomplete_titles_and_authors(client: TestClient) -> None:
    titles = client.get("/v1/autocomplete", params={"q": "harry pot", "limit": 3}).json()
    assert len(titles) == 3 and all(t["title"].startswith("Harry Potter") for t in titles)
    authors = client.get("/v1/autocomplete", params={"q": "king"}).json()
    assert any("Stephen King" in t["authors"] for t in authors)


def test_a_body_that_is_not_json_names_the_body(client: TestClient) -> None:
    response = client.post(
        "/v1/tools/search_books", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["fields"][0]["field"] == "body"
    assert "not valid JSON" in error["fields"][0]["message"]


def test_counts_beyond_int64_are_no_server_error(client: TestClient) -> None:
    # schemathesis found it: a bound past int64 reached Arrow's compare and failed as a 500.
    huge = 83527528919288796801925120
    response = client.get("/v1/books/search", params={"q": "schema", "max_ratings_count": huge})
    assert response.status_code == 200 and response.json()["books"]
    nothing = client.post(
        "/v1/tools/search_books", json={"query": "x", "filters": {"min_ratings_count": huge}}
    )
    assert nothing.status_code == 200 and nothing.json()["books"] == []


def test_shelves_list_the_genre_names_the_filters_accept(client: TestClient) -> None:
    shelves = client.get("/v1/shelves").json()["shelves"]
    counts = [s["books"] for s in shelves]
    assert counts == sorted(counts, reverse=True) and counts[0] > counts[-1] > 0
    # A listed shelf works as a filter; a name not listed is refused with the field named.
    shelf = shelves[5]["name"]
    found = client.post("/v1/tools/popular_books", json={"genre": shelf, "limit": 3}).json()["books"]
    assert found and all(shelf in b["genres"] for b in found)
    names = {s["name"] for s in shelves}
    assert "not_a_shelf" not in names
    refused = client.post("/v1/tools/popular_books", json={"genre": "not_a_shelf"})
    assert refused.status_code == 422 and refused.json()["error"]["fields"][0]["field"] == "genre"


def test_compact_view_returns_the_same_books_slim(client: TestClient) -> None:
    args = {"query": "wizard school friendship", "limit": 25}
    full = client.post("/v1/tools/search_books", json=args)
    compact = client.post("/v1/tools/search_books", params={"view": "compact"}, json=args)
    assert [b["id"] for b in compact.json()["books"]] == [b["id"] for b in full.json()["books"]]
    assert set(compact.json()["books"][0]) <= {
        "id",
        "title",
        "authors",
        "year",
        "genres",
        "rating",
        "why",
        "excerpt",
    }
    assert "applied_filters" not in compact.json()
    assert len(compact.content) * 2 < len(full.content)
    bad = client.post("/v1/tools/search_books", params={"view": "tiny"}, json=args)
    assert bad.status_code == 422 and bad.json()["error"]["fields"][0]["field"] == "view"
