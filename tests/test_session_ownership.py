"""Sessions belong to the credential that created them (issue 10, High 3).

The audit's attack: the planner is deterministic, so an attacker can learn another session's last answer
and replay it as history in ``/v1/chat/completions``; the request used to join the victim's session and
``GET /v1/sessions/{id}`` then showed the victim's messages. Against a real server with two API keys.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from chat_server import Server, chat, uvicorn_server

from vibeshelf.agent.events import SessionEvent

ALICE, MALLORY = "alice-key", "mallory-key"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = {
        "VIBESHELF_HOME": str(tmp_path_factory.mktemp("home")),
        "VIBESHELF_CHAT_RATE_LIMIT_PER_MINUTE": "0",
        "VIBESHELF_API_KEYS": json.dumps([ALICE, MALLORY]),
    }
    with uvicorn_server(env) as s:
        yield s


def _as(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _complete(server: Server, key: str, **body: object) -> httpx.Response:
    return httpx.post(f"{server.url}/v1/chat/completions", json=body, headers=_as(key), timeout=30)


def test_replaying_a_victims_answer_does_not_join_the_victims_session(server: Server) -> None:
    victim = _complete(server, ALICE, messages=[{"role": "user", "content": "cozy rainy weekend"}]).json()
    victim_sid = victim["vibeshelf_session_id"]
    # Mallory makes the same deterministic request, learns the answer, and replays it as history.
    learned = _complete(server, MALLORY, messages=[{"role": "user", "content": "cozy rainy weekend"}]).json()
    answer = learned["choices"][0]["message"]["content"]
    assert answer == victim["choices"][0]["message"]["content"]
    replay = [
        {"role": "user", "content": "cozy rainy weekend"},
        {"role": "assistant", "content": answer},
        {"role": "user", "content": "a cozy mystery"},
    ]
    attack = _complete(server, MALLORY, messages=replay).json()
    assert attack["vibeshelf_session_id"] not in (victim_sid, learned["vibeshelf_session_id"])
    # The same replay by the victim herself does not merge either: only an explicit id continues.
    own_replay = _complete(server, ALICE, messages=replay).json()
    assert own_replay["vibeshelf_session_id"] != victim_sid
    view = httpx.get(f"{server.url}/v1/sessions/{victim_sid}", headers=_as(ALICE), timeout=30).json()
    assert [t["user"] for t in view["turns"]] == ["cozy rainy weekend"]


def test_a_session_id_opens_nothing_for_another_credential(server: Server) -> None:
    sid = _complete(server, ALICE, messages=[{"role": "user", "content": "vampire"}]).json()[
        "vibeshelf_session_id"
    ]
    url = server.url
    stolen = httpx.get(f"{url}/v1/sessions/{sid}", headers=_as(MALLORY), timeout=30)
    assert stolen.status_code == 404 and stolen.json()["error"]["code"] == "session_not_found"
    continued = _complete(
        server, MALLORY, messages=[{"role": "user", "content": "more"}], vibeshelf_session_id=sid
    )
    assert continued.status_code == 404 and continued.json()["error"]["fields"][0]["field"] == "session_id"
    feedback = {"session_id": sid, "book_id": "t:1", "kind": "read"}
    marked = httpx.post(f"{url}/v1/feedback", json=feedback, headers=_as(MALLORY), timeout=30)
    assert marked.status_code == 404
    with httpx.Client(headers=_as(MALLORY), timeout=30) as other:
        response = other.post(f"{url}/v1/chat", json={"session_id": sid, "message": "hi"})
        assert response.status_code == 404
    # Alice still has it, untouched by Mallory's attempts.
    view = httpx.get(f"{url}/v1/sessions/{sid}", headers=_as(ALICE), timeout=30).json()
    assert [t["user"] for t in view["turns"]] == ["vampire"] and view["read_ids"] == []


def test_the_owner_continues_her_session_over_the_sse_api(server: Server) -> None:
    events = chat(server, message="cozy", headers=_as(ALICE))
    sid = next(e.session_id for e in events if isinstance(e, SessionEvent))
    again = chat(server, message="mystery", session_id=sid, headers=_as(ALICE))
    assert next(e.session_id for e in again if isinstance(e, SessionEvent)) == sid
