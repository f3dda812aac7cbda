"""``vibeshelf chat`` against a real uvicorn process: one-shot, interactive with feedback, and errors."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from chat_server import Server, free_port, uvicorn_server
from click.testing import CliRunner

from vibeshelf.cli import main


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = {
        "VIBESHELF_HOME": str(tmp_path_factory.mktemp("home")),
        "VIBESHELF_CHAT_RATE_LIMIT_PER_MINUTE": "0",
    }
    with uvicorn_server(env) as s:
        yield s


def run(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> tuple[int, str]:
    env = {"COLUMNS": "200", "VIBESHELF_API_KEY": "", **(env or {})}
    result = CliRunner().invoke(main, ["chat", *args], input=stdin, env=env)
    return result.exit_code, result.output


def listed(output: str) -> list[str]:
    """Titles of the numbered book lines ("   1. Title — Author (year)  ★ 4.10  reason") in order."""
    return re.findall(r"^\s*\d+\. (.+?) — ", output, flags=re.MULTILINE)


def test_one_shot_prints_cards_then_the_streamed_answer(server: Server) -> None:
    code, output = run("--url", server.url, "something cozy for a rainy weekend")
    assert code == 0, output
    titles = listed(output)
    assert titles[:2] == ["The Rain Cottage", "Winter Reading Room"]
    assert "★ 4.10" in output
    # The answer comes after the cards, bold markers turned into styling (no raw ** in the output).
    answer = output[output.index("Here is what I found.") :]
    assert "The Rain Cottage fits the mood." in answer and "**" not in answer
    assert output.index(titles[0]) < output.index("Here is what I found.")


def test_interactive_feedback_changes_the_next_answer(server: Server) -> None:
    code, output = run("--url", server.url, stdin="cozy rainy\n/down 1\ncozy rainy\n/session\n/quit\n")
    assert code == 0, output
    first, second = output.split("won't show again")
    top = listed(first)[0]
    assert listed(second) and top not in listed(second)
    sid = re.search(r"\b([0-9a-f]{32})$", second, flags=re.MULTILINE).group(1)
    view = httpx.get(f"{server.url}/v1/sessions/{sid}").json()
    top_id = next(b["id"] for b in view["shown"] if b["title"] == top)
    assert view["turn_count"] == 2 and view["disliked_ids"] == [top_id]


def test_interactive_bad_commands_are_explained(server: Server) -> None:
    code, output = run("--url", server.url, stdin="/up 1\n/up x\n/what\n")
    assert code == 0
    assert "no session yet" in output
    assert "usage: /up N" in output
    assert "commands: /up N" in output


def test_clear_errors_without_a_server_or_with_an_unknown_session(server: Server, tmp_path: Path) -> None:
    code, output = run("--url", f"http://127.0.0.1:{free_port()}", "hello")
    assert code == 2 and "no vibeshelf server at" in output and "vibeshelf serve" in output
    code, output = run("--url", server.url, "--session", "nope", "hello")
    assert code == 2 and "unknown or expired" in output and "404" in output


def test_feedback_numbers_are_the_numbers_on_the_cards(server: Server) -> None:
    code, output = run("--url", server.url, stdin="cozy rainy\n/read 2\n/session\n/quit\n")
    assert code == 0, output
    numbers = re.findall(r"^\s*(\d+)\. ", output, flags=re.MULTILINE)
    assert numbers[:3] == ["1", "2", "3"]
    second = re.search(r"^\s*2\. (.+?) — ", output, flags=re.MULTILINE).group(1)
    assert f"{second}: marked as read" in output
    sid = re.search(r"\b([0-9a-f]{32})$", output, flags=re.MULTILINE).group(1)
    view = httpx.get(f"{server.url}/v1/sessions/{sid}").json()
    assert [b["title"] for b in view["shown"] if b["id"] in view["read_ids"]] == [second]


@pytest.mark.parametrize(
    "url", ["localhost:8000", "http://", "ftp://example.com", "http://exa mple.com:99999"]
)
def test_a_bad_url_is_one_line_not_a_traceback(url: str) -> None:
    code, output = run("--url", url, "hello")
    assert code == 2
    assert output.strip().count("\n") == 0 and "--url" in output and "Traceback" not in output


def test_a_keyed_server_takes_the_key_from_the_option_or_the_environment(tmp_path: Path) -> None:
    env = {"VIBESHELF_HOME": str(tmp_path), "VIBESHELF_API_KEYS": '["sk-cli"]'}
    with uvicorn_server(env) as keyed:
        code, output = run("--url", keyed.url, "cozy rainy")
        assert code == 2 and "HTTP 401" in output and "--api-key" in output
        code, output = run("--url", keyed.url, "--api-key", "sk-cli", "cozy rainy")
        assert code == 0 and listed(output), output
        code, output = run("--url", keyed.url, "cozy rainy", env={"VIBESHELF_API_KEY": "sk-cli"})
        assert code == 0 and listed(output), output
