"""``POST /v1/chat/completions`` through the official ``openai`` client, against a real uvicorn process."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest
from chat_server import Server, uvicorn_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = {
        "VIBESHELF_HOME": str(tmp_path_factory.mktemp("home")),
        "VIBESHELF_CHAT_RATE_LIMIT_PER_MINUTE": "0",
        "VIBESHELF_CHAT_MAX_HISTORY_MESSAGES": "6",
    }
    with uvicorn_server(env) as s:
        yield s


@pytest.fixture
def client(server: Server) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0, timeout=30)


def test_non_stream_completion_carries_text_markdown_and_cards(client: openai.OpenAI) -> None:
    response = client.chat.completions.create(
        model="vibeshelf", messages=[{"role": "user", "content": "cozy rainy weekend"}]
    )
    assert response.object == "chat.completion"
    choice = response.choices[0]
    assert choice.finish_reason == "stop" and choice.message.role == "assistant"
    cards = response.model_extra["vibeshelf_books"]
    assert [c["id"] for c in cards][:2] == ["t:1", "t:12"]
    content = choice.message.content
    assert content.startswith("Here is what I found.")
    # The markdown list names every card, with its link, in order.
    listed = re.findall(r"^\d+\. \*\*\[(.+?)\]\((.+?)\)\*\*", content, flags=re.MULTILINE)
    assert listed == [(c["title"], c["link"]) for c in cards]
    assert response.usage.total_tokens > 0
    assert response.model_extra["vibeshelf_session_id"]


def test_streamed_completion_in_openai_chunk_format(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="vibeshelf",
        messages=[{"role": "user", "content": "a cozy mystery"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert len({c.id for c in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] == "stop" and set(finishes[:-1]) == {None}
    with_books = [c for c in chunks if (c.model_extra or {}).get("vibeshelf_books")]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    # Cards ride on a chunk before the answer text; the text ends with the same books as markdown.
    first_text = next(i for i, c in enumerate(chunks) if c.choices and c.choices[0].delta.content)
    assert with_books and chunks.index(with_books[0]) < first_text
    titles = [b["title"] for c in with_books for b in c.model_extra["vibeshelf_books"]]
    assert titles and all(t in text.split("**Books**")[1] for t in titles)
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens > 0


def test_stream_ends_with_done_sentinel(server: Server) -> None:
    body = {"model": "vibeshelf", "stream": True, "messages": [{"role": "user", "content": "space"}]}
    with httpx.stream("POST", f"{server.url}/v1/chat/completions", json=body, timeout=30) as response:
        lines = [line for line in response.iter_lines() if line.startswith("data:")]
    assert lines[-1] == "data: [DONE]"
    assert all(json.loads(line[5:])["object"] == "chat.completion.chunk" for line in lines[:-1])


def test_only_an_explicit_session_id_continues_a_session(client: openai.OpenAI, server: Server) -> None:
    first = client.chat.completions.create(model="vibeshelf", messages=[{"role": "user", "content": "cozy"}])
    sid = first.model_extra["vibeshelf_session_id"]
    # Replaying the exact conversation is not proof of owning it: it starts a session of its own.
    history = [
        {"role": "user", "content": "cozy"},
        {"role": "assistant", "content": first.choices[0].message.content},
        {"role": "user", "content": "something melancholic"},
    ]
    replayed = client.chat.completions.create(model="vibeshelf", messages=history)
    assert replayed.model_extra["vibeshelf_session_id"] != sid
    second = client.chat.completions.create(
        model="vibeshelf",
        messages=[{"role": "user", "content": "science"}],
        extra_body={"vibeshelf_session_id": sid},
    )
    assert second.model_extra["vibeshelf_session_id"] == sid
    view = httpx.get(f"{server.url}/v1/sessions/{sid}").json()
    assert [t["user"] for t in view["turns"]] == ["cozy", "science"]


def test_a_limit_in_the_sent_transcript_holds_for_the_whole_session(
    client: openai.OpenAI, server: Server
) -> None:
    young_adult = {"t:3", "t:10"}  # the two "teen" books, first for any search with "teen" in it
    transcript = [
        {"role": "user", "content": "nothing young adult please"},
        {"role": "assistant", "content": "Noted: no young adult."},
        {"role": "user", "content": "a teen story"},
    ]
    first = client.chat.completions.create(model="vibeshelf", messages=transcript)
    sid = first.model_extra["vibeshelf_session_id"]
    cards = [c["id"] for c in first.model_extra["vibeshelf_books"]]
    assert cards and not set(cards) & young_adult  # the whole transcript it sent was read
    # The session stored only the message it answered; the limit from the transcript is kept all the same.
    for text in ["melancholic teen", "vampire teen"]:
        later = client.chat.completions.create(
            model="vibeshelf",
            messages=[{"role": "user", "content": text}],
            extra_body={"vibeshelf_session_id": sid},
        )
        cards = [c["id"] for c in later.model_extra["vibeshelf_books"]]
        assert cards and not set(cards) & young_adult, cards
    view = httpx.get(f"{server.url}/v1/sessions/{sid}").json()
    assert [t["user"] for t in view["turns"]] == ["a teen story", "melancholic teen", "vampire teen"]
    assert view["constraints"] == ["leaving out young adult"]


def test_bad_requests_are_openai_style_errors(client: openai.OpenAI) -> None:
    with pytest.raises(openai.UnprocessableEntityError) as err:
        client.chat.completions.create(
            model="vibeshelf",
            messages=[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "x"}],
        )
    assert err.value.body["fields"][0]["field"] == "messages.1.role"
    with pytest.raises(openai.UnprocessableEntityError) as err:
        client.chat.completions.create(model="vibeshelf", messages=[{"role": "user", "content": "hi"}] * 7)
    assert err.value.body["code"] == "history_too_long"


def test_sampling_options_are_accepted(client: openai.OpenAI, tmp_path: Path) -> None:
    response = client.chat.completions.create(
        model="anything", messages=[{"role": "user", "content": "cozy"}], temperature=0.2, max_tokens=50
    )
    assert response.model == "anything" and response.choices[0].message.content
