"""A reader's own library on their session: ``POST /v1/sessions`` (an empty session, so a reader can import
before the first message) and ``POST /v1/sessions/{id}/library`` (a Goodreads or StoryGraph CSV export,
multipart, at most ``VIBESHELF_LIBRARY_MAX_BYTES``).

The export is matched to the catalog by ``retrieval.library_import`` (the same code as ``vibeshelf
library``); the session keeps which books the reader has read (from then on excluded from every answer,
through ``SessionState.excluded_ids`` like books read or thumbed down in the conversation) and which they
liked (``SessionState.liked_history``). The answer counts both and lists every row that matched nothing,
with its row number and the reason. Same access rules as the session's other routes (docs/access.md): a
session another credential created is 404.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, HTTPException, Request, UploadFile
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from vibeshelf.agent.session_state import ReaderLibrary
from vibeshelf.agent.session_store import SessionNotFound
from vibeshelf.agent.state_db import StateDBError
from vibeshelf.retrieval.library_import import LibraryFormatError, UnmatchedRow, import_library
from vibeshelf.web.access import principal_of
from vibeshelf.web.chat_routes import Chat, SessionId, SessionView
from vibeshelf.web.errors import error_body
from vibeshelf.web.limits import limit_error
from vibeshelf.web.tool_routes import ServicesDep

router = APIRouter(prefix="/v1", tags=["chat"])


class LibraryImportResult(BaseModel):
    session_id: str
    format: str = Field(description="goodreads or storygraph, told from the header.")
    rows: int = Field(description="Book rows read from the file.")
    matched: int = Field(description="Rows matched to a catalog book.")
    not_found: int = Field(description="Rows that matched no catalog book (listed in `unmatched`).")
    read: int = Field(
        description="Distinct catalog books read, reading, abandoned or rated: never recommended."
    )
    liked: int = Field(description="Distinct catalog books the reader liked (rated 4+).")
    rated: int = Field(
        description="Distinct catalog books the reader rated: the history whole-history picks are scored "
        "from, each weighed by its stars."
    )
    unmatched: list[UnmatchedRow] = Field(
        description="Every row that matched nothing: row number (header = 1), reason."
    )


@router.post("/sessions", status_code=201)
async def create_session(request: Request, chat: Chat) -> SessionView:
    """Start an empty session (for example to import a library before the first message)."""
    try:
        stored = await chat.store.create(owner=principal_of(request))
    except StateDBError as err:
        raise limit_error(503, "state_unavailable", str(err)) from err
    return SessionView.of(stored, chat.settings.session_idle_expiry_s)


@router.post(
    "/sessions/{session_id}/library",
    responses={
        404: {"description": "Unknown or expired session (or one another credential created)."},
        413: {"description": "The file is larger than VIBESHELF_LIBRARY_MAX_BYTES."},
        422: {"description": "Not a Goodreads or StoryGraph CSV export; the error names the row and column."},
    },
)
async def import_session_library(
    session_id: SessionId,
    request: Request,
    chat: Chat,
    services: ServicesDep,
    file: Annotated[UploadFile, File(description="A Goodreads or StoryGraph library export (CSV).")],
) -> LibraryImportResult:
    """Match a reader's Goodreads or StoryGraph export and keep it on the session: books read are never
    recommended again, books liked seed whole-history picks. A second upload replaces the first."""
    owner = principal_of(request)
    stored = await chat.store.get(session_id)
    if stored is None or stored.owner != owner:
        raise limit_error(
            404, "session_not_found", f"session {session_id} is unknown or expired", "session_id"
        )
    data = await file.read()
    try:
        # Fuzzy title matching for thousands of rows is CPU work: off the event loop.
        library = await run_in_threadpool(import_library, data, services.library_matcher)
    except LibraryFormatError as err:
        where: dict[str, object] = {"field": "file", "message": str(err)}
        if err.row is not None:
            where["row"] = err.row
        if err.column is not None:
            where["column"] = err.column
        body = error_body("invalid_library", f"{file.filename or 'the file'}: {err}", [where])
        raise HTTPException(status_code=422, detail=body) from err
    kept = ReaderLibrary.of(library)
    try:
        await chat.store.set_library(session_id, kept, owner=owner)
    except SessionNotFound as err:
        raise limit_error(404, "session_not_found", str(err), "session_id") from err
    return LibraryImportResult(
        session_id=session_id,
        format=library.format,
        rows=len(library.matched) + len(library.unmatched),
        matched=len(library.matched),
        not_found=len(library.unmatched),
        read=len(kept.read_ids),
        liked=len(kept.liked_ids),
        rated=len(kept.ratings),
        unmatched=library.unmatched,
    )
