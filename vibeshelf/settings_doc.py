"""The settings reference table in the README, generated from `Settings` so the two cannot drift."""

from __future__ import annotations

import json
from typing import Any

from pydantic import SecretStr
from pydantic_core import PydanticUndefined

from vibeshelf.settings import Settings

START = "<!-- settings:start -->"
END = "<!-- settings:end -->"


def _default(field: Any) -> str:
    value = field.default_factory() if field.default_factory is not None else field.default
    if value is PydanticUndefined or value is None or value == [] or value == {}:
        return "" if value in (None, PydanticUndefined) else f"`{json.dumps(value)}`"
    if isinstance(value, SecretStr):
        return "(secret)"
    if isinstance(value, dict | list):
        return f"`{json.dumps(value)}`"
    return f"`{value}`"


def settings_table() -> str:
    prefix = Settings.model_config.get("env_prefix", "")
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        meaning = " ".join((field.description or "").split()).replace("|", "\\|")
        rows.append(f"| `{prefix}{name.upper()}` | {_default(field)} | {meaning} |")
    return "\n".join(rows)


def render_into(readme: str) -> str:
    """README text with the block between the markers replaced by the current table."""
    head, _, rest = readme.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n{settings_table()}\n{END}{tail}"


if __name__ == "__main__":
    print(settings_table())
