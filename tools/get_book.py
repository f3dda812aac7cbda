"""The ``get_book`` tool: one book's full record by id."""

from __future__ import annotations

from vibeshelf.retrieval.services import Services
from vibeshelf.tools.models import BookDetails, FieldError, GetBookArgs, GetBookResult, MatchEvidence
from vibeshelf.tools.tool import ToolContext, ToolFailure, tool


def resolve_id(services: Services, book_id: str) -> str | None:
    """The catalog id for ``book_id``; a bare native id ("2767") is tried with the catalog's source prefix."""
    if services.search.rows([book_id]):
        return book_id
    if ":" not in book_id:
        prefixed = f"{services.source}:{book_id}"
        if services.source and services.search.rows([prefixed]):
            return prefixed
    return None


# A lookup of one book's details: its card is not a recommendation.
@tool(status=lambda args: "reading the book's details", recommends=False)
def get_book(ctx: ToolContext[Services], args: GetBookArgs) -> GetBookResult:
    """Get one book's full details (description, language, pages, ISBN) by an id another tool returned."""
    services = ctx.deps
    book_id = resolve_id(services, args.book_id)
    if book_id is None:
        raise ToolFailure(
            f"No book with id {args.book_id!r}. Use an id exactly as search_books or find_book returned it "
            "(e.g. 'goodbooks:2767'), or call find_book with the title.",
            error_type="not_found",
            fields=[FieldError(field="book_id", message="unknown book id")],
        )
    row = services.search.rows([book_id])[book_id]
    return GetBookResult(book=BookDetails.from_row(row, MatchEvidence(method="lookup")))
