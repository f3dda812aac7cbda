"""Tool calls rebuilt from a streamed completion: providers send each call in fragments (a name, then
pieces of its JSON arguments), keyed by index, by id, or by neither."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from vibeshelf.agent.llm import ToolCallDelta

log = logging.getLogger(__name__)


@dataclass
class ToolCall:
    id: str
    name: str
    arguments: str  # raw JSON text, exactly as the model sent it

    def parsed(self) -> dict[str, Any]:
        try:
            value = json.loads(self.arguments) if self.arguments.strip() else {}
        except json.JSONDecodeError:
            return {"_raw": self.arguments}
        return value if isinstance(value, dict) else {"_raw": self.arguments}

    def signature(self) -> str:
        """The tool and its arguments, the same however the model spaced or ordered them."""
        return self.name + json.dumps(self.parsed(), sort_keys=True)


class ToolCallAccumulator:
    """Rebuilds tool calls from streamed fragments: same ``index`` -> same call, arguments concatenated.

    A provider that omits ``index`` is handled too: a fragment with a new id starts a call, one
    without an id continues the latest. So is one that sends every call at index 0, each whole with
    its own id (Ollama, some Gemini proxies): a new id at a used index starts a new call.
    """

    def __init__(self) -> None:
        # Keyed (provider index, n-th call sent at that index), so calls come out in index order.
        self._calls: dict[tuple[int, int], dict[str, Any]] = {}
        self._slot: dict[int, tuple[int, int]] = {}  # the provider's index -> the latest call sent at it
        self._last: tuple[int, int] | None = None

    def __bool__(self) -> bool:
        return bool(self._calls)

    def _next_free(self) -> tuple[int, int]:
        return (max((k[0] for k in self._calls), default=-1) + 1, 0)

    def add(self, deltas: Iterable[ToolCallDelta]) -> None:
        for d in deltas:
            key = self._slot.get(d.index) if d.index is not None else None
            if d.index is not None:
                if key is None:
                    key = (d.index, 0)
                elif d.id and self._calls[key]["id"] not in (None, d.id):
                    key = (d.index, key[1] + 1)
                self._slot[d.index] = key
            else:
                known = {c["id"]: k for k, c in self._calls.items() if c["id"]}
                if d.id and d.id in known:
                    key = known[d.id]
                elif d.id or self._last is None:
                    key = self._next_free()
                else:
                    key = self._last
            call = self._calls.setdefault(key, {"id": None, "name": "", "arguments": ""})
            if d.id and not call["id"]:
                call["id"] = d.id
            if d.name and d.name != call["name"]:
                call["name"] += d.name  # a name is normally sent once; some providers split it
            call["arguments"] += d.arguments
            self._last = key

    def calls(self, turn: int) -> list[ToolCall]:
        out = []
        for n, key in enumerate(sorted(self._calls)):
            call = self._calls[key]
            if not call["name"]:
                log.warning("dropping a streamed tool call without a name: %s", call)
                continue
            out.append(ToolCall(call["id"] or f"call_{turn}_{n}", call["name"], call["arguments"]))
        return out
