"""A reader's library on their session: ``POST /v1/sessions/{id}/library`` on the real app over the
goodbooks-mini index, sessions in a temp DuckDB file. Books read are never recommended afterwards, liked
books are the session's history, bad files name the row and column, and other credentials get 404."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from goodreads_library import EXPORT_PATH, LIKED, RATINGS, READ, TO_READ
from pydantic import SecretStr

from vibeshelf.agent.session_state import ReaderLibrary, SessionState
from vibeshelf.layout import Layout
from vibeshelf.retrieval.readers_also_liked import ReadersAlsoLiked
from vibeshelf.settings import Settings
from vibeshelf.web.app import create_app

pytestmark = pytest.mark.slow

ALICE, MALLORY = "alice-key", "mallory-key"
HEADER = "Book Id,Title,Author,Additional Authors,ISBN,ISBN13,My Rating,Exclusive Shelf"
# Catching Fire by ISBN (read, 5 stars), Mockingjay by title + author (read, 4), Twilight read and
# disliked (2), Divergent to-read (neither read nor liked), one book the catalog does not have.
EXPORT = (
    HEADER + "\n"
    '1,"Catching Fire (The Hunger Games, #2)",Suzanne Collins,,"=""0439023491""",="",5,read\n'
    '2,"Mockingjay",Suzanne Collins,,="",="",4,read\n'
    '3,"Twilight",Stephenie Meyer,,="",="",2,read\n'
    '4,"Divergent",Veronica Roth,,="",="",0,to-read\n'
    '5,"A Pamphlet Nobody Wrote",Nobody Known,,="",="",3,read\n'
)
CATCHING_FIRE, MOCKINGJAY, TWILIGHT = "goodbooks:17", "goodbooks:20", "goodbooks:3"


@pytest.fixture(scope="module")
def client(goodbooks_mini_index: Layout, tmp_path_factory: pytest.TempPathFactory):
    settings = Settings(
        home=goodbooks_mini_index.home,
        state_db=tmp_path_factory.mktemp("state") / "state.duckdb",
        chat_rate_limit_per_minute=0,
        api_keys=[SecretStr(ALICE), SecretStr(MALLORY)],
        library_max_bytes=16384,  # the 50-book export is ~9 KB; the 413 test sends ~19 KB
    )
    with TestClient(create_app(settings)) as c:
        yield c


def _as(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _new_session(client: TestClient, key: str = ALICE) -> str:
    response = client.post("/v1/sessions", headers=_as(key))
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _upload(client: TestClient, sid: str, data: str | bytes, key: str = ALICE, name: str = "goodreads.csv"):
    return client.post(
        f"/v1/sessions/{sid}/library", files={"file": (name, data, "text/csv")}, headers=_as(key)
    )


def _picks(client: TestClient, sid: str | None, message: str) -> list[str]:
    body = {"message": message, **({"session_id": sid} if sid else {})}
    text = client.post("/v1/chat", json=body, headers=_as(ALICE)).text
    assert "event: done" in text, text[-500:]
    return re.findall(r'"id": ?"(goodbooks:\d+)"', text)


def test_import_counts_matches_and_lists_unmatched_rows(client: TestClient) -> None:
    sid = _new_session(client)
    response = _upload(client, sid, EXPORT)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["format"] == "goodreads"
    assert (body["rows"], body["matched"], body["not_found"]) == (5, 4, 1)
    assert body["read"] == 3 and body["liked"] == 2 and body["rated"] == 3  # Twilight's 2 stars count too
    assert [(u["row"], u["title"]) for u in body["unmatched"]] == [(6, "A Pamphlet Nobody Wrote")]
    assert body["unmatched"][0]["reason"]

    view = client.get(f"/v1/sessions/{sid}", headers=_as(ALICE)).json()
    assert view["library"]["liked_ids"] == [CATCHING_FIRE, MOCKINGJAY]  # best rated first
    assert view["library"]["ratings"] == {CATCHING_FIRE: 5.0, MOCKINGJAY: 4.0, TWILIGHT: 2.0}
    assert {CATCHING_FIRE, MOCKINGJAY, TWILIGHT} <= set(view["excluded_ids"])
    state = SessionState(liked_ids=view["liked_ids"], library=ReaderLibrary(**view["library"]))
    assert state.liked_history() == [CATCHING_FIRE, MOCKINGJAY]

    # A second upload replaces the first (rerunning an import is safe).
    again = _upload(client, sid, HEADER + '\n1,"Twilight",Stephenie Meyer,,="",="",5,read\n').json()
    assert (again["matched"], again["liked"]) == (1, 1)
    view = client.get(f"/v1/sessions/{sid}", headers=_as(ALICE)).json()
    assert view["library"]["read_ids"] == [TWILIGHT] and CATCHING_FIRE not in view["excluded_ids"]


def test_books_in_the_library_are_never_recommended(client: TestClient) -> None:
    ask = "books like The Hunger Games"
    without = _picks(client, None, ask)
    assert CATCHING_FIRE in without or MOCKINGJAY in without, without  # else this test proves nothing
    sid = _new_session(client)
    assert _upload(client, sid, EXPORT).status_code == 200
    first = _picks(client, sid, ask)
    second = _picks(client, sid, "more like that, please")
    assert first and second
    for picks in (first, second):
        assert not {CATCHING_FIRE, MOCKINGJAY, TWILIGHT} & set(picks), picks


def test_a_bad_file_names_the_row_and_column(client: TestClient) -> None:
    sid = _new_session(client)
    bad = HEADER + "\n" + '1,"Mockingjay",Suzanne Collins,,="",="",five,read\n'
    response = _upload(client, sid, bad)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_library"
    where = error["fields"][0]
    assert (where["field"], where["row"], where["column"]) == ("file", 2, "My Rating")
    assert "goodreads.csv" in error["message"] and "row 2" in error["message"]

    not_an_export = _upload(client, sid, "name,colour\nfoo,red\n").json()["error"]
    assert not_an_export["fields"][0]["row"] == 1 and "Goodreads" in not_an_export["message"]
    missing = client.post(f"/v1/sessions/{sid}/library", headers=_as(ALICE), data={"other": "x"})
    assert missing.status_code == 422 and missing.json()["error"]["fields"][0]["field"] == "file"


def test_too_large_a_file_is_413(client: TestClient) -> None:
    sid = _new_session(client)
    big = HEADER + "\n" + '1,"Mockingjay",Suzanne Collins,,="",="",4,read\n' * 400
    response = _upload(client, sid, big)
    assert response.status_code == 413
    assert "VIBESHELF_LIBRARY_MAX_BYTES" in response.json()["error"]["message"]


def test_another_credentials_session_reads_as_unknown(client: TestClient) -> None:
    sid = _new_session(client, ALICE)
    response = _upload(client, sid, EXPORT, key=MALLORY)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "session_not_found"
    assert client.get(f"/v1/sessions/{sid}", headers=_as(ALICE)).json()["library"] is None
    assert _upload(client, "no-such-session", EXPORT).status_code == 404
    assert client.post(f"/v1/sessions/{sid}/library", files={"file": ("x.csv", EXPORT)}).status_code == 401


def test_feedback_up_and_down_exclude_each_other_and_can_be_taken_back(client: TestClient) -> None:
    sid = _new_session(client)

    def vote(kind: str) -> dict:
        response = client.post(
            "/v1/feedback", json={"session_id": sid, "book_id": MOCKINGJAY, "kind": kind}, headers=_as(ALICE)
        )
        assert response.status_code == 200, response.text
        return response.json()

    assert vote("up")["liked_ids"] == [MOCKINGJAY]
    after_down = vote("down")
    assert (after_down["liked_ids"], after_down["disliked_ids"]) == ([], [MOCKINGJAY])
    cleared = vote("clear")
    assert (cleared["liked_ids"], cleared["disliked_ids"], cleared["excluded_ids"]) == ([], [], [])
    assert vote("read")["read_ids"] == [MOCKINGJAY]
    assert vote("unread")["excluded_ids"] == []


def test_state_files_without_a_library_still_load(tmp_path: Path) -> None:
    old = SessionState.model_validate_json('{"liked_ids": ["a"], "read_ids": ["b"], "disliked_ids": ["a"]}')
    assert old.library is None and old.excluded_ids == ["b", "a"] and old.liked_history() == []


def test_a_large_library_is_enforced_whole_but_named_briefly_in_the_prompt() -> None:
    from vibeshelf.agent.constraints import HardConstraints
    from vibeshelf.tools.models import BookCard

    read = [f"goodbooks:{n}" for n in range(1000, 1300)]
    state = SessionState(library=ReaderLibrary(format="goodreads", read_ids=read), read_ids=["goodbooks:7"])
    rules = HardConstraints.from_conversation([{"role": "user", "content": "a cozy mystery"}], state)
    prompt = rules.describe()
    assert "goodbooks:7" in prompt and "and 251 more" in prompt and "goodbooks:1000," not in prompt
    oldest = BookCard(id="goodbooks:1000", title="An Early Import")
    assert rules.violation(oldest) is not None  # not in the prompt, still never recommended
    assert rules.violation(BookCard(id="goodbooks:5", title="Free")) is None


def test_what_next_after_an_import_answers_from_the_history_model(client: TestClient) -> None:
    sid = _new_session(client)
    assert _upload(client, sid, EXPORT).status_code == 200
    text = client.post(
        "/v1/chat", json={"message": "what should I read next?", "session_id": sid}, headers=_as(ALICE)
    ).text
    assert "event: done" in text, text[-500:]
    call = next(
        line for line in text.splitlines() if line.startswith("data:") and '"readers_also_liked"' in line
    )
    assert '"history": true' in call or '"history":true' in call
    assert CATCHING_FIRE in call and MOCKINGJAY in call  # the library's liked books are the history
    picks = set(re.findall(r'"id": ?"(goodbooks:\d+)"', text.split("event: books", 1)[-1]))
    assert picks and not picks & {CATCHING_FIRE, MOCKINGJAY, TWILIGHT}


def test_a_50_book_goodreads_export_changes_the_next_answer(
    client: TestClient, goodbooks_mini_index: Layout
) -> None:
    """The issue's acceptance test: a reader's real-sized Goodreads export (BOM, quoted commas, Excel
    ISBNs, 0 and empty ratings) uploaded through the API; the next "what next?" leaves out every book
    read and answers from the reader's liked history."""
    ask = "what should I read next?"
    before = _picks(client, _new_session(client), ask)
    assert set(before) & set(READ), before  # the reader's books were picks before: else this proves nothing

    sid = _new_session(client)
    response = _upload(client, sid, EXPORT_PATH.read_bytes(), name=EXPORT_PATH.name)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["format"], body["rows"], body["matched"], body["not_found"]) == ("goodreads", 50, 50, 0)
    assert (body["read"], body["liked"], body["unmatched"]) == (48, 36, [])
    view = client.get(f"/v1/sessions/{sid}", headers=_as(ALICE)).json()
    assert sorted(view["library"]["liked_ids"]) == sorted(LIKED)
    assert set(READ) <= set(view["excluded_ids"]) and not set(TO_READ) & set(view["excluded_ids"])

    after = _picks(client, sid, ask)
    assert after and after != before
    assert not set(after) & set(READ), after
    # Picks from that history: each is among the history model's own best books for the rated books, each
    # weighted by the reader's stars (the 36 liked ones weigh most).
    ratings = view["library"]["ratings"]
    assert ratings == RATINGS and set(LIKED) <= set(ratings) <= set(READ)
    history = ReadersAlsoLiked.load(goodbooks_mini_index).recommend_history(
        list(ratings), avoid_ids=READ, k=40, ratings=ratings
    )
    assert set(after) <= {hit.book_id for hit in history.hits}, (after, history.hits[:10])
