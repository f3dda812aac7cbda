"""Schema derivation for tools: docstring parsing, the OpenAI strict-mode JSON schema of an arguments
model, and the reading of what a model sends back (nulls meaning defaults, validation errors naming
each field). :mod:`vibeshelf.tools.tool` builds the :class:`~vibeshelf.tools.tool.Tool` type on these;
the rules it follows are described there.
"""

from __future__ import annotations

import copy
import inspect
import json
import re
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from vibeshelf.tools.models import FieldError, ToolError


class ToolDefinitionError(TypeError):
    """A function cannot be turned into a tool (a programmer error, raised at definition time)."""


# --- docstrings -------------------------------------------------------------------------------------

_SECTION = re.compile(
    r"^(Args|Arguments|Parameters|Params|Keyword Args|Keyword Arguments|Returns|Return|Yields|Raises|"
    r"Examples?|Notes?|Attributes|See Also|Todo|Warnings?)\s*:\s*$"
)
_ARGS_SECTIONS = {"Args", "Arguments", "Parameters", "Params", "Keyword Args", "Keyword Arguments"}
_ARG_LINE = re.compile(r"^\*{0,2}(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")


@dataclass(frozen=True)
class Docstring:
    """The parts of a Google-style docstring a tool uses."""

    summary: str
    params: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, doc: str | None) -> Docstring:
        lines = inspect.cleandoc(doc or "").splitlines()
        # The prose before the first section, paragraphs kept apart, lines of one paragraph joined.
        paragraphs: list[list[str]] = [[]]
        for line in lines:
            if _SECTION.match(line.strip()) and not line[:1].isspace():
                break
            if line.strip():
                paragraphs[-1].append(line.strip())
            elif paragraphs[-1]:
                paragraphs.append([])
        summary = "\n\n".join(" ".join(p) for p in paragraphs if p)
        params: dict[str, str] = {}
        in_args = False
        entry_indent: int | None = None
        current: str | None = None
        for line in lines:
            stripped = line.strip()
            indent = len(line) - len(line.lstrip())
            section = _SECTION.match(stripped) if indent == 0 else None
            if section:
                in_args = section.group(1) in _ARGS_SECTIONS
                entry_indent, current = None, None
                continue
            if not in_args:
                continue
            if not stripped:
                continue
            if indent == 0:  # dedented prose ends the section
                in_args = False
                continue
            if entry_indent is None:
                entry_indent = indent
            match = _ARG_LINE.match(stripped)
            if indent <= entry_indent and match:
                current = match.group(1)
                params[current] = match.group(2).strip()
            elif current is not None:
                params[current] = f"{params[current]} {stripped}".strip()
        return cls(summary=summary, params=params)


# --- type helpers -----------------------------------------------------------------------------------


def strip_annotated(tp: Any) -> Any:
    while get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    return tp


def _is_union(tp: Any) -> bool:
    return get_origin(tp) in (Union, types.UnionType)


def accepts_none(tp: Any) -> bool:
    """Whether a type hint admits None (Optional, ``X | None``, ``Literal[None, ...]``, Any)."""
    tp = strip_annotated(tp)
    if tp is None or tp is type(None) or tp is Any:
        return True
    if _is_union(tp):
        return any(accepts_none(arg) for arg in get_args(tp))
    if get_origin(tp) is Literal:
        return None in get_args(tp)
    return False


def _model_types(tp: Any) -> list[type[BaseModel]]:
    """The pydantic models a hint can hold directly (through Optional / unions / Annotated)."""
    tp = strip_annotated(tp)
    if _is_union(tp):
        return [m for arg in get_args(tp) for m in _model_types(arg)]
    return [tp] if isinstance(tp, type) and issubclass(tp, BaseModel) else []


def _item_type(tp: Any) -> Any:
    """The element type of a list-like hint (through Optional / Annotated), or None."""
    tp = strip_annotated(tp)
    if _is_union(tp):
        items = [_item_type(a) for a in get_args(tp) if a is not type(None)]
        items = [i for i in items if i is not None]
        return items[0] if len(items) == 1 else None
    if get_origin(tp) in (list, set, frozenset, Sequence, typing.Sequence) and get_args(tp):
        return get_args(tp)[0]
    return None


def _key(name: str, info: FieldInfo) -> str:
    return info.alias or name


def nulls_to_defaults(model: type[BaseModel], data: Any) -> Any:
    """Drop nulls sent for fields that do not accept None but have a default, recursively.

    Strict mode makes the model send every property; for an optional parameter it sends null, which
    must mean "the default", not a validation error.
    """
    if not isinstance(data, Mapping):
        return data
    out = dict(data)
    for name, info in model.model_fields.items():
        key = _key(name, info)
        if key not in out:
            continue
        value = out[key]
        if value is None:
            if not info.is_required() and not accepts_none(info.annotation):
                del out[key]
            continue
        models = _model_types(info.annotation)
        if len(models) == 1 and isinstance(value, Mapping):
            out[key] = nulls_to_defaults(models[0], value)
            continue
        items = _model_types(_item_type(info.annotation))
        if len(items) == 1 and isinstance(value, list):
            out[key] = [nulls_to_defaults(items[0], v) for v in value]
    return out


# --- validation errors ------------------------------------------------------------------------------


def _short(value: Any) -> str | None:
    if isinstance(value, (str, int, float, bool)) or value is None:
        text = json.dumps(value, ensure_ascii=False)
        return text if len(text) <= 60 else text[:57] + "..."
    return None


def _field_path(
    model: type[BaseModel], loc: tuple[int | str, ...], *, unknown_key: bool = False
) -> tuple[str, type[BaseModel] | None]:
    """A readable path (``filters.year_min``, ``book_ids[2]``) from a pydantic error location.

    Walks the location alongside the model's types so the tags pydantic inserts for union branches and
    validators (``'SearchFilters'``, ``'int'``) are skipped. ``unknown_key``: the last step is a key
    the model does not have (an ``extra_forbidden`` error). Also returns the model that owns (or, for an
    unknown key, received) the last step.
    """
    parts: list[str] = []
    current: Any = model
    owner: type[BaseModel] | None = None
    for i, step in enumerate(loc):
        if isinstance(step, int):
            parts.append(f"[{step}]")
            current = _item_type(current) if current is not None else None
            continue
        models = _model_types(current) if current is not None else []
        hit = next(((m, f) for m in models for n, f in m.model_fields.items() if _key(n, f) == step), None)
        last_unknown = unknown_key and i == len(loc) - 1
        if hit is not None and not last_unknown:
            owner, current = hit[0], hit[1].annotation
        elif not last_unknown and (branch := next((m for m in models if m.__name__ == step), None)):
            current = branch  # the union branch pydantic tried
            continue
        elif not last_unknown and current is not None:
            continue  # another union / validator tag: not part of the path
        else:
            owner = models[0] if len(models) == 1 else None
            current = None
        parts.append(f".{step}" if parts else step)
    return "".join(parts) or "(arguments)", owner


# Error types whose message already says what was wrong with the value (or there is no value).
_NO_INPUT_ECHO = {"missing", "value_error", "assertion_error"}


def invalid_arguments(tool_name: str, model: type[BaseModel], exc: ValidationError) -> ToolError:
    """A ToolError naming every invalid field; unknown fields come with the names that are allowed."""
    fields: list[FieldError] = []
    seen: set[tuple[str, str]] = set()
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        unknown = err["type"] == "extra_forbidden"
        path, owner = _field_path(model, loc, unknown_key=unknown)
        message = err["msg"].removeprefix("Value error, ")
        if unknown:
            allowed = ", ".join(_key(n, f) for n, f in owner.model_fields.items()) if owner else ""
            message = f"Unknown field. Allowed here: {allowed}." if allowed else "Unknown field."
        elif err["type"] not in _NO_INPUT_ECHO and (got := _short(err.get("input"))) is not None:
            message = f"{message} (got {got})"
        if (path, message) not in seen:
            seen.add((path, message))
            fields.append(FieldError(field=path, message=message))
    names = ", ".join(dict.fromkeys(f.field for f in fields))
    return ToolError.of(
        "invalid_arguments",
        f"Invalid arguments for {tool_name}: {names}. Correct these fields and call the tool again.",
        fields,
    )


# --- strict JSON schema -----------------------------------------------------------------------------

# Keywords OpenAI strict mode accepts, per type; anything else is moved into the description or refused.
_SUPPORTED_FORMATS = {"date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"}
_KEEP = {
    "type",
    "description",
    "enum",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "anyOf",
    "pattern",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minItems",
    "maxItems",
}
_DROP = {"title", "examples", "deprecated", "readOnly", "writeOnly", "discriminator", "$schema", "$id"}
_REFUSE = {
    "prefixItems": "tuples",
    "patternProperties": "pattern-keyed dicts",
    "not": "'not' schemas",
    "if": "conditional schemas",
    "allOf": "intersections",
    "dependentRequired": "dependent fields",
    "dependentSchemas": "dependent fields",
    "unevaluatedProperties": "unevaluated properties",
    "propertyNames": "dicts with constrained keys",
}
MAX_DEPTH = 10  # strict mode's nesting limit


def _allows_null(node: Mapping[str, Any]) -> bool:
    kind = node.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    if None in node.get("enum", ()):
        return True
    return any(_allows_null(branch) for branch in node.get("anyOf", ()))


def _append(description: str | None, note: str) -> str:
    if not description:
        return note
    return (
        f"{description.rstrip()} {note}"
        if description.rstrip().endswith((".", "!", "?", ")"))
        else (f"{description.rstrip()}. {note}")
    )


class _StrictSchema:
    """Rewrites a pydantic JSON schema into OpenAI strict-mode form (see the module docstring)."""

    def __init__(self, root: dict[str, Any], where: str, keep_lengths: bool = False) -> None:
        self.defs: dict[str, Any] = root.get("$defs", {})
        self.where = where
        self.keep_lengths = keep_lengths

    def fail(self, path: str, why: str) -> ToolDefinitionError:
        return ToolDefinitionError(
            f"{self.where}: {path or 'arguments'}: {why} cannot be expressed in OpenAI strict mode"
        )

    def convert(
        self, node: Mapping[str, Any], path: str, refs: tuple[str, ...] = (), depth: int = 0
    ) -> dict[str, Any]:
        node = dict(node)
        if "$ref" in node:
            ref = node.pop("$ref")
            name = ref.removeprefix("#/$defs/")
            if name in refs:
                raise self.fail(path, f"the recursive model {name}")
            if name not in self.defs:
                raise self.fail(path, f"the unresolvable reference {ref}")
            # Sibling keys (a field's description) override the referenced model's own.
            merged = {**self.defs[name], **node}
            return self.convert(merged, path, (*refs, name), depth)
        if "oneOf" in node:  # discriminated unions: anyOf has the same meaning for disjoint branches
            node["anyOf"] = node.pop("oneOf")
        if "const" in node:
            node["enum"] = [node.pop("const")]
        for key, what in _REFUSE.items():
            if key in node:
                raise self.fail(path, what)

        description: str | None = node.get("description")
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in _DROP or key in {"default", "$defs", "description"}:
                continue
            if key in ("minLength", "maxLength") and self.keep_lengths:
                out[key] = value
            if key == "minLength":
                if not (value == 1 and "maxLength" in node):  # "1-200 characters" is said below
                    description = _append(description, f"(at least {value} characters)")
            elif key == "maxLength":
                low = node.get("minLength", 0)
                span = f"{low}-{value}" if low else f"at most {value}"
                description = _append(description, f"({span} characters)")
            elif key == "uniqueItems":
                description = _append(description, "(no duplicates)")
            elif key == "format":
                if value in _SUPPORTED_FORMATS:
                    out[key] = value
                else:
                    description = _append(description, f"(format: {value})")
            elif key in _KEEP:
                out[key] = value
            else:
                raise self.fail(path, f"the JSON-schema keyword {key!r}")

        if "anyOf" in out:
            out["anyOf"] = [self.convert(b, path, refs, depth) for b in out["anyOf"]]
            # `str | None` with max_length leaves its note on the string branch; say it on the field.
            real = [b for b in out["anyOf"] if b.get("type") != "null"]
            if len(real) == 1 and real[0].get("type") != "object" and "description" in real[0]:
                description = _append(description, real[0].pop("description"))
        elif "type" not in out and "enum" not in out:
            raise self.fail(path, "a value of unspecified type (Any)")

        if out.get("type") == "object":
            if depth >= MAX_DEPTH:
                raise self.fail(path, f"nesting deeper than {MAX_DEPTH} objects")
            extra = out.get("additionalProperties", False)
            if extra not in (False, None) and (extra is True or extra != {}) and not out.get("properties"):
                raise self.fail(path, "a free-form dict")
            properties: dict[str, Any] = out.get("properties", {})
            required = set(out.get("required", ()))
            new_props: dict[str, Any] = {}
            for name, prop in properties.items():
                child_path = f"{path}.{name}" if path else name
                converted = self.convert(prop, child_path, refs, depth + 1)
                if name not in required:
                    converted = self._optional(converted, prop)
                new_props[name] = converted
            out["properties"] = new_props
            out["required"] = list(new_props)
            out["additionalProperties"] = False
        elif out.get("type") == "array":
            if "items" not in out:
                raise self.fail(path, "a list of unspecified items")
            out["items"] = self.convert(out["items"], f"{path}[]", refs, depth)

        if description:
            return {"description": description, **out}
        return out

    @staticmethod
    def _optional(converted: dict[str, Any], original: Mapping[str, Any]) -> dict[str, Any]:
        """Make an optional property nullable and state its default, since strict mode requires it."""
        description = converted.pop("description", None)
        default = original.get("default")
        if default is not None:
            description = _append(description, f"Null means the default, {json.dumps(default)}.")
        if not _allows_null(converted):
            converted = {"anyOf": [converted, {"type": "null"}]}
        return {"description": description, **converted} if description else converted


def strict_json_schema(
    model: type[BaseModel], where: str | None = None, *, keep_lengths: bool = False
) -> dict[str, Any]:
    """The OpenAI strict-mode JSON schema of an arguments model (self-contained, no ``$defs``).

    ``keep_lengths`` keeps ``minLength``/``maxLength`` as keywords too (for OpenAPI documents, which
    accept them; strict function calling does not).
    """
    schema = model.model_json_schema(mode="validation")
    converter = _StrictSchema(schema, where or model.__name__, keep_lengths)
    out = converter.convert(copy.deepcopy(schema), "")
    if out.get("type") != "object":
        raise ToolDefinitionError(f"{converter.where}: the arguments must be an object")
    return out
