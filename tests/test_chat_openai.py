"""``POST /v1/chat/completions`` through the official ``openai`` client, against a real uvicorn process."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pydantic
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
    with_books = [c for c in chunks if "vibeshelf_books" in (c.model_extra or {})]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    # All the answer's cards ride on one chunk, the one that lists them as markdown after the answer.
    assert len(with_books) == 1
    cards = with_books[0].model_extra["vibeshelf_books"]
    listed = re.findall(r"^\d+\. \*\*\[(.+?)\]", with_books[0].choices[0].delta.content, flags=re.MULTILINE)
    assert listed == [c["title"] for c in cards] and len(cards) >= 2
    assert text.split("**Books**")[0].strip()  # the answer text came first
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


def test_two_searches_still_send_the_cards_once(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="vibeshelf", messages=[{"role": "user", "content": "two-searches please"}], stream=True
    )
    chunks = list(stream)
    with_books = [c for c in chunks if "vibeshelf_books" in (c.model_extra or {})]
    assert len(with_books) == 1
    ids = [b["id"] for b in with_books[0].model_extra["vibeshelf_books"]]
    # Both searches' books, as the non-streamed answer lists them.
    whole = client.chat.completions.create(
        model="vibeshelf", messages=[{"role": "user", "content": "two-searches please"}]
    )
    assert ids == [b["id"] for b in whole.model_extra["vibeshelf_books"]] and len(ids) >= 3


def test_model_list_for_model_pickers(client: openai.OpenAI) -> None:
    models = client.models.list()
    assert [m.id for m in models.data] == ["vibeshelf"]
    assert models.data[0].object == "model" and models.data[0].created > 0
    assert client.models.retrieve("vibeshelf").id == "vibeshelf"
    with pytest.raises(openai.NotFoundError) as err:
        client.models.retrieve("gpt-4o")
    assert err.value.body == {
        "message": err.value.body["message"],
        "type": "invalid_request_error",
        "param": "model",
        "code": "model_not_found",
        "fields": [{"field": "model", "message": err.value.body["message"]}],
    }


class Pick(pydantic.BaseModel):
    title: str


@pytest.mark.parametrize(
    ("options", "param"),
    [
        ({"response_format": {"type": "json_object"}}, "response_format"),
        ({"tools": [openai.pydantic_function_tool(Pick)]}, "tools"),
        ({"n": 2}, "n"),
        ({"logprobs": True}, "logprobs"),
    ],
)
def test_options_it_cannot_honour_are_refused_by_name(
    client: openai.OpenAI, options: dict[str, object], param: str
) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(
            model="vibeshelf", messages=[{"role": "user", "content": "cozy"}], **options
        )
    assert err.value.body["param"] == param and err.value.body["code"] == "unsupported_parameter"
    assert err.value.body["type"] == "invalid_request_error" and param in err.value.body["message"]


def test_structured_output_helper_gets_a_clear_400(client: openai.OpenAI) -> None:
    # What LangChain's with_structured_output sends: a strict json_schema built by openai's own helper.
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.parse(
            model="vibeshelf", messages=[{"role": "user", "content": "cozy"}], response_format=Pick
        )
    assert err.value.body["param"] == "response_format"
    # A plain-text response_format asks for what vibeshelf does anyway.
    fine = client.chat.completions.create(
        model="vibeshelf", messages=[{"role": "user", "content": "cozy"}], response_format={"type": "text"}
    )
    assert fine.choices[0].message.content


async def test_refusals_before_the_route_are_openai_shaped_too(tmp_path: Path) -> None:
    # The real app's access check (no lifespan needed: the request is refused before any route).
    from vibeshelf.settings import Settings
    from vibeshelf.web.app import create_app

    app = create_app(Settings(home=tmp_path, api_keys=["sk-right"]))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        client = openai.AsyncOpenAI(
            base_url="http://test/v1", api_key="sk-wrong", http_client=http, max_retries=0
        )
        with pytest.raises(openai.AuthenticationError) as err:
            await client.models.list()
        with pytest.raises(openai.AuthenticationError) as chat_err:
            await client.chat.completions.create(
                model="vibeshelf", messages=[{"role": "user", "content": "x"}]
            )
    for body in (err.value.body, chat_err.value.body):
        assert body["type"] == "authentication_error" and body["code"] == "unauthorized"
        assert body["param"] == "Authorization"
