"""Pages people look at: the widget script, the demo page that embeds it, and the /popular chart."""

from __future__ import annotations

import functools
import html
import json
import re
from importlib import resources
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from vibeshelf.agent.book_chart import BookChart, ChartRow, book_chart

router = APIRouter(include_in_schema=False)

# Served pages load only our own script and styles; covers come from the catalogs' image hosts.
# `frame-ancestors 'none'`: our own pages are never framed (the widget lives on host pages instead).
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": PAGE_CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


def _static(name: str) -> str:
    return (resources.files("vibeshelf.web") / "static" / name).read_text(encoding="utf-8")


def _page(body: str) -> HTMLResponse:
    return HTMLResponse(body, headers=PAGE_HEADERS)


_STRINGS_SLOT = re.compile(r"/\*VIBESHELF_STRINGS\*/.*?/\*END_STRINGS\*/", re.S)


@functools.cache
def widget_script() -> str:
    """widget.js with its UI strings (web/static/widget-strings.json, one table per language) filled in,
    so the strings live in a data file and the widget still loads in one request."""
    strings = json.dumps(
        json.loads(_static("widget-strings.json")), ensure_ascii=False, separators=(",", ":")
    )
    script, filled = _STRINGS_SLOT.subn(lambda _: strings, _static("widget.js"))
    if filled != 1:
        raise RuntimeError("widget.js has no /*VIBESHELF_STRINGS*/ slot for its UI strings")
    return script


@router.get("/widget.js")
async def widget_js() -> Response:
    return Response(
        widget_script(),
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/static/demo.css")
async def demo_css() -> Response:
    return Response(_static("demo.css"), media_type="text/css; charset=utf-8")


@router.get("/")
async def demo_page(request: Request) -> HTMLResponse:
    origin = html.escape(str(request.base_url).rstrip("/"))
    return _page(_static("demo.html").replace("ORIGIN", origin))


def _rows(rows: list[ChartRow], books: dict[str, Any], unit: str) -> str:
    if not rows:
        return f"<p>No {unit} yet: chat a little and come back.</p>"
    top = rows[0].count
    header = f"<tr><th>#</th><th>Book</th><th>Author</th><th>{unit.title()}</th></tr>"
    out = [f"<table><thead>{header}</thead><tbody>"]
    for rank, row in enumerate(rows, 1):
        book = books.get(row.book_id)
        title = html.escape(book["title"] if book else row.book_id)
        author = html.escape(", ".join(book["authors"][:2]) if book else "")
        out.append(
            f"<tr><td>{rank}</td><td>{title}</td><td>{author}</td>"
            f'<td><meter min="0" max="{top}" value="{row.count}"></meter> {row.count}</td></tr>'
        )
    out.append("</tbody></table>")
    return "".join(out)


@router.get("/popular")
async def popular_page(request: Request) -> HTMLResponse:
    chart: BookChart = await book_chart(request.app.state.chat.store)
    ids = sorted({r.book_id for r in chart.most_recommended + chart.most_liked})
    books = request.app.state.services.search.rows(ids) if ids else {}
    # Only books of the live catalog chart (votes from before ids were checked, or a rebuilt catalog).
    chart.most_liked = [r for r in chart.most_liked if r.book_id in books]
    chart.most_recommended = [r for r in chart.most_recommended if r.book_id in books]
    return _page(
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>vibeshelf: popular</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="stylesheet" href="/static/demo.css"></head><body><main>'
        "<h1>Most recommended</h1>"
        + _rows(chart.most_recommended, books, "recommendations")
        + "<h1>Most liked</h1>"
        + _rows(chart.most_liked, books, "net likes")
        + '<p><a href="/">Back to the chat</a></p></main></body></html>'
    )
