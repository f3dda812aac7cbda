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

The agent loop knows no tool by name; what it needs from one is metadata given to the decorator:
``@tool(status=lambda args: f"looking up {args['title']}", recommends=False)``. ``status`` turns the
arguments the model sent into the reader's status line (None, or a None from it: "calling <name>");
``recommends`` says whether the result's book cards are picks to show (False for lookups).

Schema derivation (docstring parsing, the strict-mode schema, argument errors) lives in
:mod:`vibeshelf.tools.schema`.

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
import functools
import inspect
import json
import logging
import re
import time
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, get_origin, overload

from pydantic import BaseModel, ValidationError, create_model
from pydantic.fields import FieldInfo

from vibeshelf.tools.models import ErrorType, FieldError, ToolArgs, ToolError
from vibeshelf.tools.schema import (
    Docstring,
    ToolDefinitionError,
    invalid_arguments,
    nulls_to_defaults,
    strict_json_schema,
    strip_annotated,
)

logger = logging.getLogger(__name__)

DepsT = TypeVar("DepsT")
# A tool's status line from the arguments the model sent (None: the generic "calling <name>").
StatusLine = Callable[[Mapping[str, Any]], "str | None"]

_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")  # OpenAI's rule for function names


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
    # The reader's rated history from their session (book id -> 1-5 stars, None for a book without a
    # rating), best rated first; None outside a session. A tool answering from the reader's own history
    # (``readers_also_liked`` with ``history``) reads it here, so the model never has to pass it.
    reader_history: Mapping[str, float | None] | None = None


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


# --- the tool ---


def _is_context(tp: Any) -> bool:
    tp = strip_annotated(tp)
    origin = get_origin(tp) or tp
    return isinstance(origin, type) and issubclass(origin, ToolContext)


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
    # The reader-facing status line while the tool runs, from the arguments the model sent; None (or a
    # None from it) reads "calling <name>".
    status: StatusLine | None = None
    # Whether the book cards in its result are recommendations shown to the reader; False for lookups
    # ("which book is X"), whose cards answer a question rather than suggest a read.
    recommends: bool = True

    @classmethod
    def from_function(
        cls,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
        run_sync_in_thread: bool = True,
        status: StatusLine | None = None,
        recommends: bool = True,
    ) -> Tool:
        """Wrap a typed function. Raises :class:`ToolDefinitionError` when it cannot be a tool.

        ``run_sync_in_thread``: sync functions run in a worker thread so a slow one does not stall
        the event loop; turn it off for trivial functions where the thread hop would dominate.
        ``status`` and ``recommends``: what the agent loop shows while it runs and whether it shows the
        result's books as picks (see the fields of the same names).
        """
        tool_name = name or str(getattr(fn, "__name__", ""))
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
        single = strip_annotated(hints[params[0].name]) if len(params) == 1 else None
        if isinstance(single, type) and issubclass(single, ToolArgs) and params[0].default is params[0].empty:
            args_model: type[BaseModel] = single
            args_param = params[0].name
        else:
            for param in params:
                hint = strip_annotated(hints[param.name])
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
            status=status,
            recommends=recommends,
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

    def describe(self, arguments: Mapping[str, Any]) -> str:
        """The status line for a call with ``arguments`` (the model's, unvalidated)."""
        line = self.status(arguments) if self.status is not None else None
        return line or f"calling {self.name}"

    def openai_schema(self) -> dict[str, Any]:
        """The Chat Completions ``tools`` entry for this tool (a fresh copy: callers may change it)."""
        # Parsed from JSON text made once: the agent loop asks for the schemas at every model step, and a
        # deepcopy of the nested schema cost ~5x more CPU than json.loads.
        entry: dict[str, Any] = json.loads(self._openai_schema_json)
        return entry

    @functools.cached_property
    def _openai_schema_json(self) -> str:
        return json.dumps(
            {
                "type": "function",
                "function": {
                    "name": self.name,
                    "description": self.description,
                    "parameters": self.parameters_schema,
                    "strict": True,
                },
            }
        )

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
    *,
    name: str | None = None,
    description: str | None = None,
    run_sync_in_thread: bool = True,
    status: StatusLine | None = None,
    recommends: bool = True,
) -> Callable[[Callable[..., Any]], Tool]: ...
def tool(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    run_sync_in_thread: bool = True,
    status: StatusLine | None = None,
    recommends: bool = True,
) -> Tool | Callable[[Callable[..., Any]], Tool]:
    """Decorator form of :meth:`Tool.from_function`: ``@tool`` or ``@tool(name=..., status=...)``."""

    def wrap(f: Callable[..., Any]) -> Tool:
        return Tool.from_function(
            f,
            name=name,
            description=description,
            run_sync_in_thread=run_sync_in_thread,
            status=status,
            recommends=recommends,
        )

    return wrap(fn) if fn is not None else wrap
