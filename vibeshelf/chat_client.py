"""The terminal side of ``vibeshelf chat``: talks to a running server's ``POST /v1/chat`` over HTTP and
draws the events as they arrive (status lines, a compact list of book cards, the answer text).

Book cards are numbered as they are listed; interactive commands: ``/up N``, ``/down N``, ``/read N``
(feedback on card N of the last answer),
``/new`` (start a new session), ``/session`` (print its id), ``/quit``. Ctrl-C while an answer streams
stops that answer (the server cancels its work); Ctrl-C or Ctrl-D at the prompt leaves.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from rich.console import Console
from rich.text import Text

from vibeshelf.agent.events import (
    AgentEvent,
    Answer,
    BookPick,
    BooksEvent,
    DoneEvent,
    ErrorEvent,
    SessionEvent,
    StatusEvent,
    TextEvent,
    ToolCallEvent,
    decode_event,
)

# Book cards listed per answer before "... and N more"; tools often return more than the answer uses.
MAX_CARDS = 8
# Status lines are cut to one terminal line (a "like X" search can carry a whole description).
MAX_STATUS = 100


API_KEY_HINT = "pass --api-key KEY or set VIBESHELF_API_KEY"


def check_url(url: str) -> str:
    """``url`` without a trailing slash, or a ChatClientError saying what a server URL looks like."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as err:
        raise ChatClientError(f"--url {url!r} is not a URL ({err}); e.g. http://127.0.0.1:8000") from err
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ChatClientError(f"--url {url!r} is not an http(s) server URL; e.g. http://127.0.0.1:8000")
    return url.rstrip("/")


class ChatClientError(Exception):
    """The server could not be reached or refused the request; the message says what to do."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


def iter_events(response: httpx.Response) -> Iterator[AgentEvent]:
    """Typed events from an SSE response, each as soon as its blank line arrives."""
    type_: str | None = None
    data: list[str] = []
    for line in response.iter_lines():
        if line.startswith("event:"):
            type_ = line[len("event:") :].strip()
        elif line.startswith("data:"):
            data.append(line[len("data:") :].lstrip(" "))
        elif line == "":
            if type_ and data:
                yield decode_event(type_, "\n".join(data))
            type_, data = None, []


def _error_of(response: httpx.Response) -> ChatClientError:
    try:
        error = response.json()["error"]
        hint = f"; {API_KEY_HINT}" if response.status_code in (401, 403) else ""
        return ChatClientError(f"{error['message']} (HTTP {response.status_code}){hint}", error.get("code"))
    except (ValueError, KeyError, TypeError):
        return ChatClientError(f"HTTP {response.status_code}: {response.text[:200]}")


class _BoldMarkdown:
    """Turns ``**bold**`` in streamed text into terminal bold, even when a marker is split across deltas."""

    def __init__(self) -> None:
        self.bold = False
        self.pending = ""

    def feed(self, delta: str) -> Text:
        text = self.pending + delta
        self.pending = ""
        if text.endswith("*") and not text.endswith("**"):
            text, self.pending = text[:-1], "*"
        out = Text()
        for i, part in enumerate(text.split("**")):
            if i:
                self.bold = not self.bold
            out.append(part, style="bold" if self.bold else None)
        return out


@dataclass
class ChatClient:
    url: str
    console: Console
    session_id: str | None = None
    verbose: bool = False
    timeout_s: float = 120.0
    api_key: str | None = None
    last_books: list[BookPick] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.url = check_url(self.url)
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        self.http = httpx.Client(timeout=httpx.Timeout(self.timeout_s, connect=5.0), headers=headers)

    def close(self) -> None:
        self.http.close()

    # --- one message ----------------------------------------------------------------------------
    def send(self, message: str) -> DoneEvent | ErrorEvent | None:
        """Stream one answer to the console; returns its last event (None if cut short)."""
        body: dict[str, Any] = {"message": message}
        if self.session_id:
            body["session_id"] = self.session_id
        try:
            with self.http.stream("POST", f"{self.url}/v1/chat", json=body) as response:
                if response.status_code != 200:
                    response.read()
                    raise _error_of(response)
                return self._render(iter_events(response))
        except httpx.ConnectError as err:
            raise ChatClientError(
                f"no vibeshelf server at {self.url} ({err}); start one with `vibeshelf serve` "
                "(or `make run`), or pass --url"
            ) from err
        except httpx.TimeoutException as err:
            raise ChatClientError(
                f"the server at {self.url} did not answer within {self.timeout_s:.0f}s"
            ) from err
        except httpx.HTTPError as err:  # a dropped connection, a proxy speaking something else, ...
            raise ChatClientError(f"talking to {self.url} failed: {err or type(err).__name__}") from err

    def _render(self, events: Iterator[AgentEvent]) -> DoneEvent | ErrorEvent | None:
        out = self.console
        bold = _BoldMarkdown()
        in_text = False
        answer = Answer()
        books = answer.books
        for event in events:
            answer.add(event)
            if isinstance(event, SessionEvent):
                self.session_id = event.session_id
            elif isinstance(event, StatusEvent):
                message = (
                    event.message if len(event.message) <= MAX_STATUS else event.message[:MAX_STATUS] + "…"
                )
                out.print(Text(f"… {message}", style="dim italic"))
            elif isinstance(event, ToolCallEvent):
                if self.verbose:
                    out.print(Text(f"  ↳ {event.name}({event.arguments})", style="dim"))
            elif isinstance(event, BooksEvent):
                first = len(books) - len(event.books)  # already folded into the answer
                for number, book in enumerate(event.books, start=first + 1):
                    if number <= MAX_CARDS:
                        out.print(self._card_line(number, book))
            elif isinstance(event, TextEvent):
                if not in_text:
                    if len(books) > MAX_CARDS:
                        out.print(Text(f"  … and {len(books) - MAX_CARDS} more found", style="dim"))
                    out.print()
                    in_text = True
                out.print(bold.feed(event.delta), end="")
            elif isinstance(event, ErrorEvent):
                out.print()
                out.print(Text(f"error: {event.message} ({event.code})", style="bold red"))
                return event
            elif isinstance(event, DoneEvent):
                if in_text:
                    out.print()
                # /up N etc. take the numbers printed on the cards (only listed cards have one).
                self.last_books = books[:MAX_CARDS] or self.last_books
                took = event.timings.get("total_ms")
                note = f"{event.model}" + (f" · {took:.0f} ms" if took is not None else "")
                if event.fell_back:
                    note += " · the provider failed, the offline planner answered"
                out.print(Text(note, style="dim"))
                return event
        return None

    @staticmethod
    def _card_line(number: int, book: BookPick) -> Text:
        line = Text(f"  {number:>2}. ", style="cyan")
        line.append(book.title, style="bold")
        if book.authors:
            line.append(f" — {', '.join(book.authors[:2])}")
        if book.year is not None:
            line.append(f" ({book.year})", style="dim")
        if book.average_rating is not None:
            line.append(f"  ★ {book.average_rating:.2f}", style="yellow")
        if book.reason:
            line.append(f"  {book.reason}", style="dim")
        return line

    # --- feedback -------------------------------------------------------------------------------
    def feedback(self, kind: str, n: int) -> str:
        if not self.session_id:
            raise ChatClientError("no session yet: ask for something first")
        if not 1 <= n <= len(self.last_books):
            raise ChatClientError(f"pick a book number between 1 and {len(self.last_books)}")
        book = self.last_books[n - 1]
        body = {"session_id": self.session_id, "book_id": book.id, "kind": kind}
        response = self.http.post(f"{self.url}/v1/feedback", json=body)
        if response.status_code != 200:
            raise _error_of(response)
        return book.title

    # --- the interactive loop -------------------------------------------------------------------
    def repl(self) -> None:
        out = self.console
        out.print(
            Text(
                f"vibeshelf at {self.url} — describe what you feel like reading. "
                "/up N, /down N, /read N (card N of the last answer), /new, /quit",
                style="dim",
            )
        )
        while True:
            try:
                line = out.input("[bold green]you ›[/] ").strip()
            except (EOFError, KeyboardInterrupt):
                out.print()
                return
            if not line:
                continue
            if line.startswith("/"):
                if self._command(line):
                    return
                continue
            try:
                self.send(line)
            except KeyboardInterrupt:
                out.print(Text("\n(stopped)", style="dim"))
            except ChatClientError as err:
                if err.code in ("session_not_found", "max_turns"):
                    out.print(Text(f"{err}; starting a new session", style="yellow"))
                    self.session_id = None
                    self.last_books = []
                    self._retry(line)
                else:
                    out.print(Text(f"error: {err}", style="bold red"))

    def _retry(self, line: str) -> None:
        try:
            self.send(line)
        except ChatClientError as err:
            self.console.print(Text(f"error: {err}", style="bold red"))

    def _command(self, line: str) -> bool:
        """Run a /command; True means leave."""
        name, _, arg = line[1:].partition(" ")
        out = self.console
        if name in ("quit", "exit", "q"):
            return True
        if name == "new":
            self.session_id, self.last_books = None, []
            out.print(Text("new session", style="dim"))
        elif name == "session":
            out.print(self.session_id or "(none yet)")
        elif name in ("up", "down", "read"):
            try:
                title = self.feedback(name, int(arg))
            except ValueError:
                out.print(Text(f"usage: /{name} N (a book number from the last list)", style="yellow"))
            except ChatClientError as err:
                out.print(Text(f"error: {err}", style="bold red"))
            else:
                verb = {"up": "liked", "down": "won't show again", "read": "marked as read"}[name]
                out.print(Text(f"{title}: {verb}", style="dim"))
        else:
            out.print(Text("commands: /up N, /down N, /read N, /new, /session, /quit", style="yellow"))
        return False


def run_chat(
    url: str, message: str | None, session_id: str | None, verbose: bool, api_key: str | None = None
) -> int:
    """Entry point for the CLI: one-shot when ``message`` is given, else the interactive loop."""
    console = Console(highlight=False)
    try:
        client = ChatClient(url=url, console=console, session_id=session_id, verbose=verbose, api_key=api_key)
    except ChatClientError as err:
        Console(stderr=True).print(f"[bold red]error:[/] {err}")
        return 2
    try:
        if message is None:
            client.repl()
            return 0
        try:
            last = client.send(message)
        except KeyboardInterrupt:
            return 130
        if client.session_id and verbose:
            console.print(Text(f"session {client.session_id}", style="dim"))
        return 0 if isinstance(last, DoneEvent) else 1
    except ChatClientError as err:
        Console(stderr=True).print(f"[bold red]error:[/] {err}")
        return 2
    finally:
        client.close()
