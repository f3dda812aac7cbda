"""Prompts live in ``prompts/*.md`` and are rendered strictly: a missing or unused variable is an error.

``string.Template`` syntax (``$name`` / ``${name}``, ``$$`` for a dollar sign). Untrusted text (book
descriptions, reader-supplied strings) goes into prompts only through :func:`fence_data`, which wraps it
in a tag the system prompt declares to be data, never instructions.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from string import Template

DATA_TAG = "book_data"


class PromptError(ValueError):
    """A prompt file is missing, malformed, or was rendered with the wrong variables."""


@cache
def _template(name: str) -> Template:
    path = resources.files("vibeshelf.prompts") / f"{name}.md"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise PromptError(f"prompts/{name}.md does not exist") from exc
    template = Template(text)
    if not template.is_valid():
        raise PromptError(
            f"prompts/{name}.md has an invalid placeholder (write $$ for a literal dollar sign)"
        )
    return template


def render(name: str, /, **variables: str) -> str:
    """Render ``prompts/<name>.md``; every placeholder must be given and every given variable used."""
    template = _template(name)
    wanted = set(template.get_identifiers())
    missing = sorted(wanted - variables.keys())
    unused = sorted(variables.keys() - wanted)
    if missing:
        raise PromptError(f"prompts/{name}.md needs variable(s) {', '.join(missing)}")
    if unused:
        raise PromptError(f"prompts/{name}.md has no placeholder for {', '.join(unused)}")
    return template.substitute(variables)


def fence_data(text: str, tag: str = DATA_TAG) -> str:
    """Wrap untrusted text in ``<tag>...</tag>`` so it cannot close the fence early.

    A closing tag inside the text is written ``<\\/tag>``: still readable, and for JSON payloads still
    valid JSON (``\\/`` is an escaped slash), so a tool result fenced this way parses after unfencing.
    """
    escaped = re.sub(rf"</(\s*{tag})", r"<\\/\1", text, flags=re.IGNORECASE)
    return f"<{tag}>\n{escaped}\n</{tag}>"


def unfence_data(text: str, tag: str = DATA_TAG) -> str:
    """The payload of a :func:`fence_data` block (text without a fence comes back unchanged)."""
    m = re.fullmatch(rf"\s*<{tag}>\n?(.*?)\n?</{tag}>\s*", text, flags=re.DOTALL)
    return m.group(1) if m else text
