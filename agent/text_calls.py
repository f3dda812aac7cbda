"""Tool calls a model wrote as text, read back as calls.

Small and local models often ignore the server's tool-call channel and write the call into the answer
in their chat template's own format. The common forms:

* Hermes / Qwen: ``<tool_call>{"name": "search_books", "arguments": {...}}</tool_call>``
* bare JSON: ``{"name": "search_books", "arguments": {...}}`` (``"parameters"`` for ``"arguments"``, a
  ``{"function": {...}}`` wrapper, or a list of calls)
* the same JSON in a Markdown code fence, or with doubled braces (``{{"name": ...}}``)

:class:`TextCallGate` sits in front of the answer stream: a line that opens one of these forms stops the
text from reaching the reader, and :func:`parse_text_calls` reads what was held back when the stream ends.
Nothing here knows any tool's name.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

# Line openings that may start a written tool call; held until the stream ends.
_OPENERS = ("<tool_call>", "<function_call>", "```", "{", "[{")
_TAGGED = re.compile(r"<(tool_call|function_call)>\s*(.*?)\s*(?:</\1>|\Z)", re.DOTALL)
_FENCED = re.compile(r"```[\w-]*[ \t]*\n?(.*?)(?:```|\Z)", re.DOTALL)
_DATA_OPENING = re.compile(r'\[?\s*\{\s*"[^"\n]{1,60}"\s*:')
_CALL_LOOKING = re.compile(
    r"<(?:tool_call|function_call)>|\"name\"\s*:\s*\"[^\"]*\"\s*,\s*\"(?:arguments|parameters)\"", re.DOTALL
)


def _opens_call(start: str) -> bool | None:
    """Whether a line beginning ``start`` opens a written call: True, False, or None (can't tell yet)."""
    s = start.lstrip(" \t")
    if not s:
        return None if not start.endswith("\n") else False
    if any(s.startswith(o) for o in _OPENERS):
        return True
    if any(o.startswith(s) for o in _OPENERS):
        return None
    return False


@dataclass
class TextCallGate:
    """Passes prose through; from a line that opens a written call on, holds everything back.

    ``feed`` returns the text that may go on to the reader (through the grounder). A line's first
    characters are kept until they show whether the line opens a call, which costs nothing: the grounder
    releases whole lines anyway.
    """

    held: str = ""
    holding: bool = False
    _start: str = ""  # the current line's first characters, not yet passed on
    _in_prose_line: bool = False  # the current line is known to be prose

    def feed(self, delta: str) -> str:
        out: list[str] = []
        while delta:
            if self.holding:
                self.held += delta
                break
            newline = delta.find("\n")
            piece, delta = (delta, "") if newline < 0 else (delta[: newline + 1], delta[newline + 1 :])
            if self._in_prose_line:
                out.append(piece)
                self._in_prose_line = not piece.endswith("\n")
                continue
            self._start += piece
            verdict = _opens_call(self._start)
            if verdict:
                self.holding, self.held, self._start = True, self._start, ""
            elif verdict is False:
                out.append(self._start)
                self._in_prose_line = not self._start.endswith("\n")
                self._start = ""
        return "".join(out)

    def flush(self) -> str:
        """What is left that is not held: an unfinished line that could not be told apart."""
        rest, self._start = self._start, ""
        return rest


@dataclass
class TextCalls:
    """What held-back text turned out to be."""

    calls: list[tuple[str, str]] = field(default_factory=list)  # (name, arguments JSON)
    prose: str = ""  # the text outside the calls
    looked_like_call: bool = False  # it had a call's shape, whether or not it could be read


def _loads(text: str) -> Any:
    text = text.strip()
    if not text:
        raise ValueError("empty")
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        # The double-brace variant: {{"name": ..., "arguments": {...}}} (a template's escaping leaked).
        if text.startswith("{{") and text.endswith("}}"):
            return json.loads(text[1:-1])
        raise


def _as_calls(value: Any) -> list[tuple[str, str]] | None:
    """``value`` as tool calls, or None when it is not call-shaped."""
    if isinstance(value, list):
        calls = [_as_calls(v) for v in value]
        if value and all(c is not None for c in calls):
            return [call for c in calls if c for call in c]
        return None
    if not isinstance(value, dict):
        return None
    if isinstance(value.get("function"), dict):
        value = value["function"]
    name = value.get("name")
    if not isinstance(name, str) or not name.strip():
        return None
    args = value.get("arguments", value.get("parameters", {}))
    if isinstance(args, str):
        try:
            args = json.loads(args) if args.strip() else {}
        except json.JSONDecodeError:
            return None
    if not isinstance(args, dict):
        return None
    return [(name.strip(), json.dumps(args, ensure_ascii=False))]


def _bare_json_calls(text: str) -> tuple[list[tuple[str, str]], str]:
    """Call-shaped JSON values starting at line beginnings; returns the calls and the rest of the text."""
    decoder = json.JSONDecoder()
    calls: list[tuple[str, str]] = []
    rest: list[str] = []
    i = 0
    for m in re.finditer(r"(?m)^[ \t]*(?=\{|\[\{)", text):
        start = m.end()
        if start < i:
            continue
        value: Any = None
        end = start
        for candidate, skip in ((text[start:], 0), (text[start + 1 :], 1)):
            try:
                value, length = decoder.raw_decode(candidate)
            except json.JSONDecodeError:
                continue
            end = start + skip + length + skip
            # Small models miscount closing braces ({"name": ..., "arguments": {...}}}): closers left on
            # the call's own line belong to the call, not to the prose after it.
            extra = re.match(r"[ \t]*[}\]]+[ \t]*(?=\n|\Z)", text[end:])
            if extra:
                end += extra.end()
            break
        found = _as_calls(value) if value is not None else None
        if found:
            rest.append(text[i:start])
            calls.extend(found)
            i = end
    rest.append(text[i:])
    return calls, "".join(rest)


def parse_text_calls(text: str) -> TextCalls:
    """Read the tool calls written into ``text`` (see the module docstring for the forms)."""
    out = TextCalls(looked_like_call=bool(_CALL_LOOKING.search(text)))
    calls: list[tuple[str, str]] = []

    def tagged(m: re.Match[str]) -> str:
        body = _FENCED.sub(lambda f: f.group(1), m.group(2))
        try:
            found = _as_calls(_loads(body))
        except (ValueError, json.JSONDecodeError):
            found = None
        if found:
            calls.extend(found)
        else:
            out.looked_like_call = True
        return ""

    text = _TAGGED.sub(tagged, text)

    def fenced(m: re.Match[str]) -> str:
        try:
            found = _as_calls(_loads(m.group(1)))
        except (ValueError, json.JSONDecodeError):
            return m.group(0)
        if not found:
            return m.group(0)
        calls.extend(found)
        return ""

    text = _FENCED.sub(fenced, text)
    bare, text = _bare_json_calls(text)
    calls.extend(bare)
    out.calls = calls
    out.prose = re.sub(r"\n{3,}", "\n\n", text).strip()
    return out


def strip_text_calls(text: str) -> str:
    """``text`` without any tool call written into it (for replaying an assistant turn)."""
    if not _CALL_LOOKING.search(text) and "```" not in text:
        return text
    return parse_text_calls(text).prose


def is_data(text: str) -> bool:
    """Whether ``text`` is nothing but JSON data (an object or a list, fenced or not)."""
    body = _FENCED.sub(lambda m: m.group(1), text).strip()
    if not body.startswith(("{", "[")):
        return False
    try:
        json.loads(body)
    except json.JSONDecodeError:
        # Cut off by the token limit, it is still data when it opens like an object with keys.
        return bool(_DATA_OPENING.match(body))
    return True


def looks_like_call(text: str) -> bool:
    """Whether ``text`` has a written tool call's shape (never shown to a reader, even unreadable)."""
    return bool(_CALL_LOOKING.search(text)) or text.lstrip().startswith(("{{", "<tool_call>"))
