"""Plain typed Python functions as language-model tools.

A tool is an ordinary function (sync or async) with type hints and a docstring. :func:`tool` (or
:meth:`Tool.from_function`) wraps it: the docstring's prose before its first section (``Args:``,
``Returns:``, ``Notes:`` ...) becomes the description the model reads; parameter descriptions come
from ``Annotated[..., Field(description=...)]`` or a Google-style ``Args:`` section (``Field`` wins
when both are given), and the arguments model is built with pydantic from the signature. That one
model gives the OpenAI strict-mode JSON schema and validates what the model sends back, so the two
cannot drift apart::

    from typing import Annotated
    from pydantic import Field
    from vibeshelf.tools.models import BookCard, PopularBooksResult
    from vibeshelf.tools.tool import ToolContext, tool

    @tool
    def popular_books(
        ctx: ToolContext[Services],
        genre: str | None = None,
        limit: Annotated[int, Field(ge=1, le=25)] = 10,
    ) -> PopularBooksResult:
        \"\"\"The most-read books overall or in one genre.

        Use it when the reader asks for well-known picks. (Every paragraph up to the first section
        reaches the model; keep developer-only remarks under ``Notes:``.)

        Args:
            genre: Goodreads shelf such as 'fantasy'; null for all genres.
            limit: How many books to return.
        \"\"\"
        rows = ctx.deps.catalog.popular(genre, limit)
        return PopularBooksResult(books=[BookCard.from_row(r) for r in rows], genre=genre)

    popular_books.openai_schema()      # {"type": "function", "function": {..., "strict": True}}
    await popular_books.call('{"genre": "fantasy", "limit": null}', ToolContext(services))

Or hand over a whole :class:`~vibeshelf.tools.models.ToolArgs` model as the single parameter; its
fields become the top-level arguments: ``def search_books(ctx: ToolContext[Services], args:
SearchBooksArgs) -> SearchResult``.

Rules, checked when the tool is defined (a broken definition raises :class:`ToolDefinitionError`):

* **Context injection.** The first parameter is injected, and left out of the schema, when its
  annotation is :class:`ToolContext` (bare, parametrised as ``ToolContext[Deps]``, or a subclass).
  The decision is made on the resolved type hint, never on the parameter's name. A ``ToolContext``
  anywhere else is an error.
* Every other parameter needs a type hint and the return annotation must be a pydantic model (its
  JSON schema is :attr:`Tool.output_schema`, which MCP publishes). ``*args``/``**kwargs`` are refused.
* **Strict mode.** OpenAI strict mode wants every property listed in ``required`` and
  ``additionalProperties: false`` on every object. A parameter with a default is therefore sent as
  nullable (``anyOf [..., {"type": "null"}]``) and a null from the model means "use the default",
  recursively through nested models. ``$ref`` s are inlined, so each schema is self-contained; ``title``
  and ``default`` are dropped (the default is stated in the description), keywords strict mode does not
  accept (``minLength``, ``maxLength``, unsupported ``format`` s) are moved into the description, and
  constructs it cannot express at all (free-form dicts, tuples, ``Any``, recursive models) are errors.
* **Failures are results.** Bad JSON, wrong types, unknown or out-of-range fields give a
  :class:`~vibeshelf.tools.models.ToolError` of type ``invalid_arguments`` naming each field path
  (``filters.year_min``, ``book_ids[2]``). Raise :class:`ToolFailure` inside a tool to send the model a
  message of your own (``not_found`` for an unknown id, say); any other exception is logged and becomes
  a ``tool_failed`` error with a generic message, so internals never leak into the conversation.
"""

from __future__ import annotations

import asyncio
import copy
import inspect
import json
import logging
import re
import time
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Generic, Literal, TypeVar, Union, get_args, get_origin, overload

from pydantic import BaseModel, ValidationError, create_model
from pydantic.fields import FieldInfo

from vibeshelf.tools.models import ErrorType, FieldError, ToolArgs, ToolError

logger = logging.getLogger(__name__)

DepsT = TypeVar("DepsT")

_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")  # OpenAI's rule for function names


class ToolDefinitionError(TypeError):
    """A function cannot be turned into a tool (a programmer error, raised at definition time)."""


class UnknownToolError(LookupError):
    """The registry has no tool of that name."""


@dataclass
class ToolContext(Generic[DepsT]):
    """What the caller hands to every tool call: the services (``deps``) tools work with.

    ``deps`` is whatever object the application builds once at start-up (search index, CF model,
    catalog); annotate ``ctx: ToolContext[Services]`` to have it typed in the tool body.
    """

    deps: DepsT
    request_id: str | None = None


class ToolFailure(Exception):
    """Raise inside a tool to return a :class:`ToolError` whose message the model should read."""

    def __init__(
        self, message: str, *, error_type: ErrorType = "tool_failed", fields: Sequence[FieldError] = ()
    ) -> None:
        super().__init__(message)
        self.message = message
        self.error_type: ErrorType = error_type
        self.fields = list(fields)


@dataclass(frozen=True)
class ToolResult:
    """The outcome of one call: the tool's result model, or a :class:`ToolError`."""

    tool: str
    output: BaseModel
    arguments: BaseModel | None = None  # the validated arguments; None when they were invalid
    elapsed_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return not isinstance(self.output, ToolError)

    @property
    def error(self) -> ToolError | None:
        return self.output if isinstance(self.output, ToolError) else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: the result model, or ``{"error": {...}}``."""
        return self.output.model_dump(mode="json")

    def to_json(self) -> str:
        """Compact JSON for the ``tool`` message the model reads next."""
        return self.output.model_dump_json()


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


def _strip_annotated(tp: Any) -> Any:
    while get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    return tp


def _is_union(tp: Any) -> bool:
    return get_origin(tp) in (Union, types.UnionType)


def accepts_none(tp: Any) -> bool:
    """Whether a type hint admits None (Optional, ``X | None``, ``Literal[None, ...]``, Any)."""
    tp = _strip_annotated(tp)
    if tp is None or tp is type(None) or tp is Any:
        return True
    if _is_union(tp):
        return any(accepts_none(arg) for arg in get_args(tp))
    if get_origin(tp) is Literal:
        return None in get_args(tp)
    return False


def _model_types(tp: Any) -> list[type[BaseModel]]:
    """The pydantic models a hint can hold directly (through Optional / unions / Annotated)."""
    tp = _strip_annotated(tp)
    if _is_union(tp):
        return [m for arg in get_args(tp) for m in _model_types(arg)]
    return [tp] if isinstance(tp, type) and issubclass(tp, BaseModel) else []


def _item_type(tp: Any) -> Any:
    """The element type of a list-like hint (through Optional / Annotated), or None."""
    tp = _strip_annotated(tp)
    if _is_union(tp):
        items = [_item_type(a) for a in get_args(tp) if a is not type(None)]
        items = [i for i in items if i is not None]
        return items[0] if len(items) == 1 else None
    if get_origin(tp) in (list, set, frozenset, Sequence, typing.Sequence) and get_args(tp):
        return get_args(tp)[0]
    return None


def _is_context(tp: Any) -> bool:
    tp = _strip_annotated(tp)
    origin = get_origin(tp) or tp
    return isinstance(origin, type) and issubclass(origin, ToolContext)


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

    def convert(self, node: Mapping[str, Any], path: str, refs: tuple[str, ...] = (), depth: int = 0) -> dict:
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


# --- the tool ---------------------------------------------------------------------------------------


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_") if part)


@dataclass(frozen=True, eq=False)
class Tool:
    """A function the model can call, with its schemas and argument validation."""

    name: str
    description: str
    fn: Callable[..., Any]
    args_model: type[BaseModel]
    result_model: type[BaseModel]
    takes_context: bool
    parameters_schema: dict[str, Any]
    output_schema: dict[str, Any]
    args_param: str | None = None  # set when one ToolArgs parameter receives the whole arguments model
    positional: tuple[str, ...] = ()  # positional-only parameters, passed by position
    run_sync_in_thread: bool = True

    @classmethod
    def from_function(
        cls,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
        run_sync_in_thread: bool = True,
    ) -> Tool:
        """Wrap a typed function. Raises :class:`ToolDefinitionError` when it cannot be a tool.

        ``run_sync_in_thread``: sync functions run in a worker thread so a slow one does not stall
        the event loop; turn it off for trivial functions where the thread hop would dominate.
        """
        tool_name = name or getattr(fn, "__name__", "")
        where = f"tool {tool_name!r}"
        if not _NAME.match(tool_name):
            raise ToolDefinitionError(f"{where}: a name must match {_NAME.pattern}")
        doc = Docstring.parse(inspect.getdoc(fn))
        text = description if description is not None else doc.summary
        if not text.strip():
            raise ToolDefinitionError(f"{where}: no description (give the function a docstring)")
        try:
            hints = typing.get_type_hints(fn, include_extras=True)
        except (NameError, TypeError) as exc:
            raise ToolDefinitionError(f"{where}: cannot resolve its type hints ({exc})") from exc

        params = list(inspect.signature(fn).parameters.values())
        takes_context = bool(params) and params[0].name in hints and _is_context(hints[params[0].name])
        first_name = params[0].name if params else ""
        if takes_context:
            params = params[1:]

        result_model = hints.get("return")
        if not (isinstance(result_model, type) and issubclass(result_model, BaseModel)):
            raise ToolDefinitionError(
                f"{where}: the return annotation must be a pydantic model, not {result_model!r}"
            )

        fields: dict[str, Any] = {}
        positional: list[str] = []
        for param in params:
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                raise ToolDefinitionError(
                    f"{where}: *{param.name} / **{param.name} parameters are not supported"
                )
            if param.name not in hints:
                raise ToolDefinitionError(f"{where}: parameter {param.name!r} has no type annotation")
            hint = hints[param.name]
            if _is_context(hint):
                raise ToolDefinitionError(
                    f"{where}: a ToolContext must be the first parameter ({param.name!r})"
                )
            if param.kind == param.POSITIONAL_ONLY:
                positional.append(param.name)
            fields[param.name] = (hint, cls._field(hint, param, doc.params.get(param.name)))

        # A documented parameter the signature lacks is drift between the two: refuse it.
        unknown = set(doc.params) - {p.name for p in params} - ({first_name} if takes_context else set())
        if unknown:
            raise ToolDefinitionError(f"{where}: docstring documents unknown parameters {sorted(unknown)}")

        args_param: str | None = None
        single = _strip_annotated(hints[params[0].name]) if len(params) == 1 else None
        if isinstance(single, type) and issubclass(single, ToolArgs) and params[0].default is params[0].empty:
            args_model: type[BaseModel] = single
            args_param = params[0].name
        else:
            for param in params:
                hint = _strip_annotated(hints[param.name])
                if isinstance(hint, type) and issubclass(hint, ToolArgs):
                    raise ToolDefinitionError(
                        f"{where}: a ToolArgs parameter ({param.name!r}) must be the only argument"
                    )
            try:
                args_model = create_model(f"{_camel(tool_name)}Args", __base__=ToolArgs, **fields)
            except Exception as exc:  # pydantic's schema errors: unsupported types and the like
                raise ToolDefinitionError(f"{where}: cannot build its arguments model ({exc})") from exc
        try:
            parameters = strict_json_schema(args_model, where)
            output = result_model.model_json_schema(mode="serialization")
        except ToolDefinitionError:
            raise
        except Exception as exc:
            raise ToolDefinitionError(f"{where}: cannot build its JSON schema ({exc})") from exc

        return cls(
            name=tool_name,
            description=text.strip(),
            fn=fn,
            args_model=args_model,
            result_model=result_model,
            takes_context=takes_context,
            parameters_schema=parameters,
            output_schema=output,
            args_param=args_param,
            positional=tuple(positional),
            run_sync_in_thread=run_sync_in_thread,
        )

    @staticmethod
    def _field(hint: Any, param: inspect.Parameter, doc: str | None) -> Any:
        """The default (or FieldInfo) for create_model: the docstring fills a missing description."""
        default = ... if param.default is param.empty else param.default
        has_description = FieldInfo.from_annotation(hint).description is not None
        if isinstance(default, FieldInfo):  # `x: int = Field(3, ...)` style
            if default.description is None and doc and not has_description:
                default.description = doc
            return default
        if doc and not has_description:
            return FieldInfo(default=default, description=doc)
        return default

    # --- using it ---------------------------------------------------------------------------------

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the underlying function directly (for unit tests and internal reuse)."""
        return self.fn(*args, **kwargs)

    def openai_schema(self) -> dict[str, Any]:
        """The Chat Completions ``tools`` entry for this tool."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": copy.deepcopy(self.parameters_schema),
                "strict": True,
            },
        }

    def parse_arguments(self, arguments: Mapping[str, Any] | str | bytes | None) -> BaseModel | ToolError:
        """Validate raw arguments (a dict or the model's JSON string) into the arguments model."""
        if arguments is None:
            data: Any = {}
        elif isinstance(arguments, (str, bytes, bytearray)):
            text = arguments.decode() if isinstance(arguments, (bytes, bytearray)) else arguments
            if not text.strip():
                data = {}  # some models send "" for a call without arguments
            else:
                try:
                    data = json.loads(text)
                except json.JSONDecodeError as exc:
                    return ToolError.of(
                        "invalid_arguments",
                        f"Arguments for {self.name} are not valid JSON ({exc.msg} at line {exc.lineno}, "
                        f"column {exc.colno}). Send a JSON object.",
                    )
        else:
            data = arguments
        if not isinstance(data, Mapping):
            return ToolError.of(
                "invalid_arguments",
                f"Arguments for {self.name} must be a JSON object, not {type(data).__name__}.",
            )
        try:
            return self.args_model.model_validate(nulls_to_defaults(self.args_model, data))
        except ValidationError as exc:
            return invalid_arguments(self.name, self.args_model, exc)

    async def call(
        self, arguments: Mapping[str, Any] | str | bytes | None, context: ToolContext[Any] | None = None
    ) -> ToolResult:
        """Validate, run, and wrap the outcome. Never raises for bad arguments or tool failures."""
        start = time.perf_counter()
        if self.takes_context and context is None:
            raise TypeError(f"tool {self.name!r} needs a ToolContext but none was given")
        parsed = self.parse_arguments(arguments)
        if isinstance(parsed, ToolError):
            logger.info("tool %s: invalid arguments: %s", self.name, parsed.error.message)
            return ToolResult(self.name, parsed, None, (time.perf_counter() - start) * 1000)
        try:
            output = await self._run(parsed, context)
        except ToolFailure as exc:
            output = ToolError.of(exc.error_type, exc.message, exc.fields)
        except Exception:
            logger.exception("tool %s failed with arguments %s", self.name, parsed.model_dump_json())
            output = ToolError.of(
                "tool_failed",
                f"{self.name} failed with an internal error. Try again with different arguments, "
                "or use another tool.",
            )
        return ToolResult(self.name, output, parsed, (time.perf_counter() - start) * 1000)

    async def _run(self, parsed: BaseModel, context: ToolContext[Any] | None) -> BaseModel:
        if self.args_param is not None:
            kwargs: dict[str, Any] = {self.args_param: parsed}
        else:
            kwargs = {name: getattr(parsed, name) for name in type(parsed).model_fields}
        args = [context] if self.takes_context else []
        args += [kwargs.pop(name) for name in self.positional]
        if inspect.iscoroutinefunction(self.fn):
            value = await self.fn(*args, **kwargs)
        elif self.run_sync_in_thread:
            value = await asyncio.to_thread(self.fn, *args, **kwargs)
        else:
            value = self.fn(*args, **kwargs)
        if isinstance(value, self.result_model):
            return value
        # A dict or a look-alike model: validate it, so a tool can never hand out an off-contract result.
        data = value.model_dump() if isinstance(value, BaseModel) else value
        return self.result_model.model_validate(data)


@overload
def tool(fn: Callable[..., Any], /) -> Tool: ...
@overload
def tool(
    *, name: str | None = None, description: str | None = None, run_sync_in_thread: bool = True
) -> Callable[[Callable[..., Any]], Tool]: ...
def tool(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    run_sync_in_thread: bool = True,
) -> Tool | Callable[[Callable[..., Any]], Tool]:
    """Decorator form of :meth:`Tool.from_function`: ``@tool`` or ``@tool(name=..., description=...)``."""

    def wrap(f: Callable[..., Any]) -> Tool:
        return Tool.from_function(
            f, name=name, description=description, run_sync_in_thread=run_sync_in_thread
        )

    return wrap(fn) if fn is not None else wrap
