"""The chat widget in a real browser (Debian's chromium, driven headless by Playwright).

The server is the real app over a tiny hand-written catalog (tests/fixtures/widget) built with the real
`vibeshelf ingest`; one book's title and description carry HTML/script payloads that must stay inert.
A screenshot lands in artifacts/ (a CI artifact path, never committed).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from chat_server import Server, free_port, uvicorn_server

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "widget"
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

playwright_api = pytest.importorskip("playwright.sync_api")
if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        raise RuntimeError("chromium is required for the widget tests in CI (.ci/run installs it)")
    pytest.skip("chromium not installed (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def widget_home(tmp_path_factory: pytest.TempPathFactory, exported_encoder: Path) -> Path:
    home = tmp_path_factory.mktemp("widget-home")
    # The session's parity-checked ONNX export is reused (ingest re-exports only when it changed).
    shutil.copytree(exported_encoder, home / "encoder")
    env = {**os.environ, "VIBESHELF_HOME": str(home), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "vibeshelf.cli", "ingest", "--path", str(FIXTURE)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return home


class _HostSite:
    """A plain static site on its own origin that embeds the widget with one script tag."""

    def __init__(self, root: Path) -> None:
        self.port = free_port()
        handler = partial(SimpleHTTPRequestHandler, directory=str(root))
        handler.log_message = lambda *a, **k: None  # type: ignore[method-assign]
        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def host_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("host-site")


@pytest.fixture(scope="module")
def host_site(host_root: Path) -> Iterator[_HostSite]:
    site = _HostSite(host_root)
    yield site
    site.close()


@pytest.fixture(scope="module")
def server(widget_home: Path, host_site: _HostSite) -> Iterator[Server]:
    site_keys = {"demo": [], "pk_partner": [host_site.origin], "pk_elsewhere": ["https://shop.example"]}
    env = {"VIBESHELF_HOME": str(widget_home), "VIBESHELF_SITE_KEYS": json.dumps(site_keys)}
    with uvicorn_server(env, app="vibeshelf.web.app:create_app", timeout_s=90) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


SIZES = {
    "desktop": {"viewport": {"width": 1100, "height": 800}},
    "mobile": {
        "viewport": {"width": 390, "height": 844},
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 2,
    },
}


def _new_page(browser, size: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(**SIZES[size])
    pg = context.new_page()
    pg.errors = []
    pg.console_lines = []
    pg.on("pageerror", lambda exc: pg.errors.append(str(exc)))
    pg.on("console", lambda msg: pg.console_lines.append(msg.text))
    # Covers come from images.example.org in the fixture: refused here, as a dead image host would be.
    pg.route("https://images.example.org/**", lambda route: route.abort())
    pg.size = size
    return context, pg


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context, pg = _new_page(browser, "desktop")
    yield pg
    context.close()


@pytest.fixture(params=sorted(SIZES))
def sized_page(browser, request):  # type: ignore[no-untyped-def]
    """The same checks at a desktop and a phone size."""
    context, pg = _new_page(browser, request.param)
    yield pg
    context.close()


def _shot(pg, name: str) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"widget-{name}-{pg.size}.png"))


def _embed_page(
    host_root: Path, name: str, server: Server, key: str, host_css: str = "", attrs: str = ""
) -> str:
    (host_root / name).write_text(
        "<!doctype html><html><head><meta charset=utf-8><title>host</title>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        f"<style>{host_css}</style></head><body><h1>A bookshop</h1><div class=content>Shop</div>"
        f'<script src="{server.url}/widget.js" data-vibeshelf-key="{key}" {attrs} async></script></body></html>'
    )
    return name


def _chat(pg, message: str) -> None:  # type: ignore[no-untyped-def]
    if pg.locator("button.launcher").get_attribute("aria-expanded") != "true":
        pg.locator("button.launcher").click()
    box = pg.locator("input[name=message]")
    box.fill(message)
    box.press("Enter")


def _answered(pg, answers: int = 1) -> None:  # type: ignore[no-untyped-def]
    """Wait until ``answers`` answers have finished (the send button is back after each)."""
    pg.wait_for_function(
        "n => { const r = document.querySelector('[data-vibeshelf]').shadowRoot;"
        " return r.querySelectorAll('.msg.user').length >= n && !r.querySelector('button.send').hidden"
        " && !r.querySelector('.skeleton') }",
        arg=answers,
        timeout=20_000,
    )


def _rgb(text: str) -> tuple[int, int, int]:
    parts = [float(p) for p in re.findall(r"[\d.]+", text)[:3]]
    return (int(parts[0]), int(parts[1]), int(parts[2]))


def _contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    def lum(rgb: tuple[int, int, int]) -> float:
        c = [v / 255 for v in rgb]
        c = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in c]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]

    hi, lo = sorted([lum(a), lum(b)], reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _sse(*events: tuple[str, dict]) -> str:
    return "".join(f"event: {kind}\ndata: {json.dumps(data)}\n\n" for kind, data in events)


READER_WORDS_ONLY = re.compile(r"Failed to fetch|VIBESHELF|HTTP \d|site key|origin", re.I)


def test_demo_page_streams_cards_and_records_feedback(server: Server, sized_page) -> None:  # type: ignore[no-untyped-def]
    page = sized_page
    response = page.goto(server.url + "/")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "*" not in csp.split("img-src")[0]
    # Count what the live region says: one announcement per answer, not one per streamed fragment.
    page.evaluate(
        "() => { window.__spoken = []; const r = document.querySelector('[data-vibeshelf]').shadowRoot;"
        " const live = r.querySelector('[aria-live]'); new MutationObserver(() => window.__spoken.push("
        "live.textContent)).observe(live, {childList: true, characterData: true, subtree: true}) }"
    )
    _chat(page, "something cozy and melancholic for a rainy weekend")
    _answered(page)
    titles = page.locator(".card .t").all_inner_texts()
    assert any("Lantern Keeper" in t or "Drowned Library" in t for t in titles), titles
    text = "\n".join(page.locator(".msg.bot").all_inner_texts()[1:])  # after the greeting
    assert text.strip() and "**" not in text  # markdown rendered, not shown raw
    # The text frames the cards: its opening above them, the rest below.
    order = page.evaluate(
        "() => [...document.querySelector('[data-vibeshelf]').shadowRoot.querySelector('.log').children]"
        ".map(n => n.className)"
    )
    assert order[-3:] == ["msg bot", "cards", "msg bot"], order
    # Each book once: the cards name them, the answer text does not list them again.
    for title in titles:
        assert title not in text, (title, text)
    assert page.locator(".card .why").first.inner_text().strip()
    assert page.locator("[aria-live]").count() == 1
    assert page.locator(".log[aria-live], [role=log]").count() == 0
    spoken = page.evaluate("window.__spoken")
    assert len(spoken) == 1 and titles[0].split(" (")[0] in spoken[0], spoken

    first = page.locator(".card").first
    book_id = first.get_attribute("data-book-id")
    up, down = first.locator("[data-kind=up]"), first.locator("[data-kind=down]")
    with page.expect_request("**/v1/feedback") as sent:
        up.click()
    session_id = json.loads(sent.value.post_data)["session_id"]
    page.wait_for_selector(".card >> nth=0 >> [data-kind=up][aria-pressed=true]", timeout=5_000)
    down.click()  # up and down exclude each other
    page.wait_for_selector(".card >> nth=0 >> [data-kind=down][aria-pressed=true]", timeout=5_000)
    assert up.get_attribute("aria-pressed") == "false"
    as_page = {"X-Vibeshelf-Key": "demo", "Origin": server.url}
    session = httpx.get(f"{server.url}/v1/sessions/{session_id}", headers=as_page, timeout=5).json()
    assert book_id in session["disliked_ids"] and book_id not in session["liked_ids"]
    down.click()  # pressing it again takes it back
    page.wait_for_selector(".card >> nth=0 >> [data-kind=down][aria-pressed=false]", timeout=5_000)
    session = httpx.get(f"{server.url}/v1/sessions/{session_id}", headers=as_page, timeout=5).json()
    assert book_id not in session["disliked_ids"] + session["liked_ids"]
    read = first.locator("[data-kind=read]")
    assert "I've read it" in read.inner_text()
    # Covers that do not load become a placeholder, never the broken-image icon.
    page.wait_for_function(
        "() => !document.querySelector('[data-vibeshelf]').shadowRoot.querySelector('.card img')",
        timeout=10_000,
    )
    assert page.locator(".card .placeholder").count() == len(titles)
    _shot(page, "demo")
    assert page.errors == []


def test_markdown_subset_renders_safely(server: Server, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(server.url + "/")
    book = {
        "id": "goodbooks:1",
        "title": "Salt Roads",
        "authors": ["Ines Moor"],
        "link": "https://www.goodreads.com/book/show/1",
    }
    text = (
        "Here are **two** ideas, *gently* chosen:\n\n- **Salt Roads** by Ines Moor — cold seas\n"
        "- a [catalog link](https://www.goodreads.com/book/show/1) and [a trap](https://evil.example/x)\n\n"
        "<b>not bold</b> <img src=x onerror=window.__xss=1>"
    )
    body = _sse(
        ("session", {"session_id": "s1"}),
        ("books", {"books": [book]}),
        ("text", {"delta": text}),
        ("done", {}),
    )
    page.route(
        "**/v1/chat", lambda route: route.fulfill(status=200, content_type="text/event-stream", body=body)
    )
    _chat(page, "anything")
    _answered(page)
    lead, answer = page.locator(".msg.bot").nth(1), page.locator(".msg.bot").last
    assert lead.locator("strong").inner_text() == "two" and lead.locator("em").inner_text() == "gently"
    assert (
        page.evaluate(
            "() => { const log = document.querySelector('[data-vibeshelf]').shadowRoot.querySelector('.log');"
            " const kids = [...log.children]; return kids.indexOf(log.querySelector('.cards')) - kids.length }"
        )
        == -2
    )  # lead, cards, rest
    links = answer.locator("a")
    assert links.count() == 1 and links.get_attribute("href") == "https://www.goodreads.com/book/show/1"
    assert "a trap" in answer.inner_text() and page.locator("a[href*=evil]").count() == 0
    assert "<b>not bold</b>" in answer.inner_text() and answer.locator("b, img").count() == 0
    # The list line naming the card is dropped; its reason moved to the card, which had none.
    assert answer.locator("li").count() == 1 and "Salt Roads" not in answer.inner_text()
    assert page.locator(".card .why").inner_text() == "cold seas"
    assert page.evaluate("window.__xss") is None


def test_conversation_survives_reload_and_other_pages(
    server: Server, sized_page, host_site, host_root
) -> None:  # type: ignore[no-untyped-def]
    page = sized_page
    first = _embed_page(host_root, "shop-a.html", server, "pk_partner")
    second = _embed_page(host_root, "shop-b.html", server, "pk_partner")
    page.goto(f"{host_site.origin}/{first}")
    _chat(page, "robots tending an orchard on a spaceship")
    _answered(page)
    titles = page.locator(".card .t").all_inner_texts()
    metas = page.locator(".card .meta").all_inner_texts()
    page.locator(".card").first.locator("[data-kind=up]").click()
    page.wait_for_selector(".card >> nth=0 >> [data-kind=up][aria-pressed=true]", timeout=5_000)
    for url in (f"{host_site.origin}/{first}", f"{host_site.origin}/{second}"):
        page.goto(url)
        page.locator(".msg.user").first.wait_for(state="attached", timeout=10_000)
        assert page.locator(".msg.user").all_inner_texts() == ["robots tending an orchard on a spaceship"]
        assert page.locator(".card .t").all_inner_texts()[: len(titles)] == titles
        assert page.locator(".card").first.locator("[data-kind=up]").get_attribute("aria-pressed") == "true"
        # Whole cards (author, year, rating, link), as first shown.
        assert page.locator(".card .meta").all_inner_texts()[: len(metas)] == metas
        assert page.locator(".card .t a").count() >= len(titles)
        # Still open on a desktop; a phone's full-screen sheet does not cover the next page by itself.
        expanded = page.locator("button.launcher").get_attribute("aria-expanded")
        assert expanded == ("true" if page.size == "desktop" else "false")
    _chat(page, "something else, more of a winter mystery")
    _answered(page, 2)
    assert page.locator(".msg.user").count() == 2
    _shot(page, "restored")
    assert page.errors == []


def test_host_css_does_not_leak_in(server: Server, sized_page, host_site, host_root) -> None:  # type: ignore[no-untyped-def]
    page = sized_page
    css = (
        "div{border:7px solid rgb(255,0,0)!important} *{letter-spacing:6px!important;font-size:30px!important}"
        "button{background:rgb(255,0,0)!important} input{display:none!important}"
    )
    page.goto(f"{host_site.origin}/{_embed_page(host_root, 'leaky.html', server, 'pk_partner', css)}")
    launcher = page.locator("button.launcher")
    launcher.wait_for(timeout=10_000)
    assert launcher.evaluate("b => getComputedStyle(b).backgroundColor") != "rgb(255, 0, 0)"
    launcher.click()
    for selector in (".log", ".msg.bot", "input[name=message]"):
        style = page.locator(selector).first.evaluate(
            "n => { const s = getComputedStyle(n); return [s.letterSpacing, s.borderTopColor, s.display] }"
        )
        assert style[0] == "normal" and style[1] != "rgb(255, 0, 0)" and style[2] != "none", (selector, style)
    host_box = page.evaluate("() => getComputedStyle(document.querySelector('[data-vibeshelf]')).display")
    assert host_box == "contents"  # the host element draws no box the page's div rule could border
    _shot(page, "host-css")


def test_loading_shows_skeletons_and_stop(server: Server, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(server.url + "/")
    held: list = []
    page.route(
        "**/v1/chat", lambda route: held.append(route)
    )  # the request stays pending until the test lets it go
    _chat(page, "a cozy mystery")
    page.locator(".skeleton .ghost").first.wait_for(timeout=5_000)
    assert page.locator(".skeleton .ghost").count() == 3
    assert page.locator("button.stop").is_visible() and not page.locator("button.send").is_visible()
    _shot(page, "loading")
    page.locator("button.stop").click()
    page.locator(".stopped button").wait_for(timeout=5_000)
    assert page.locator(".skeleton").count() == 0 and page.locator("button.send").is_visible()
    page.unroute("**/v1/chat")
    page.locator(".stopped button").click()  # try again, now for real
    _answered(page, 2)
    assert page.locator(".card").count() > 0


@pytest.mark.parametrize(
    ("reply", "words"),
    [
        ({"status": 503, "json": {"error": {"code": "unavailable", "message": "db down"}}}, "our side"),
        (
            {"status": 429, "json": {"error": {"code": "rate_limited", "message": "slow down"}}},
            "wait a moment",
        ),
        (None, "couldn't reach"),
    ],
)
def test_errors_speak_to_the_reader_and_offer_a_retry(server: Server, page, reply, words) -> None:  # type: ignore[no-untyped-def]
    page.goto(server.url + "/")

    def fail(route) -> None:  # type: ignore[no-untyped-def]
        if reply is None:
            route.abort("connectionrefused")
        else:
            route.fulfill(status=reply["status"], json=reply["json"])

    page.route("**/v1/chat", fail)
    _chat(page, "a cozy mystery")
    error = page.locator(".msg.error")
    error.wait_for(timeout=15_000)
    assert words in error.inner_text() and not READER_WORDS_ONLY.search(error.inner_text())
    page.unroute("**/v1/chat")
    error.get_by_role("button", name="Try again").click()
    _answered(page, 2)
    assert page.locator(".card").count() > 0 and page.locator(".msg.error").count() == 0


def test_feedback_that_cannot_be_saved_says_so(server: Server, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(server.url + "/")
    page.evaluate(
        "() => { window.__events = []; document.addEventListener('vibeshelf:feedback',"
        " e => window.__events.push([e.detail.kind, e.detail.ok])) }"
    )
    _chat(page, "something cozy and melancholic for a rainy weekend")
    _answered(page)
    page.route(
        "**/v1/feedback",
        lambda route: route.fulfill(status=503, json={"error": {"code": "x", "message": "y"}}),
    )
    card = page.locator(".card").first
    card.locator("[data-kind=read]").click()
    card.locator(".fail").wait_for(timeout=5_000)
    assert "Couldn't save" in card.locator(".fail").inner_text()
    assert card.locator("[data-kind=read]").get_attribute("aria-pressed") == "false"
    assert page.evaluate("window.__events") == [["read", False]]
    page.unroute("**/v1/feedback")
    card.locator("[data-kind=read]").click()  # works again: the message goes, the button shows it
    page.wait_for_selector(".card >> nth=0 >> [data-kind=read][aria-pressed=true]", timeout=5_000)
    assert card.locator(".fail").count() == 0


def test_mobile_is_a_full_screen_sheet_with_touch_sized_controls(server: Server, browser) -> None:  # type: ignore[no-untyped-def]
    context, page = _new_page(browser, "mobile")
    page.goto(server.url + "/")
    launcher = page.locator("button.launcher")
    closed_box = launcher.bounding_box()
    assert closed_box["x"] + closed_box["width"] > 390 - 40  # bottom right, as on desktop
    _chat(page, "something cozy and melancholic for a rainy weekend")
    _answered(page)
    panel = page.locator(".panel").bounding_box()
    assert (panel["x"], panel["y"], panel["width"], panel["height"]) == (0, 0, 390, 844)
    assert page.locator("input[name=message]").evaluate("n => getComputedStyle(n).fontSize") == "16px"
    small = page.evaluate(
        "() => [...document.querySelector('[data-vibeshelf]').shadowRoot.querySelectorAll('.panel button')]"
        ".filter(b => b.offsetParent).map(b => { const r = b.getBoundingClientRect();"
        " return [b.textContent, r.width, r.height] }).filter(x => x[1] < 44 || x[2] < 44)"
    )
    assert small == []
    _shot(page, "sheet")
    page.keyboard.press("Escape")
    assert launcher.bounding_box() == closed_box  # the launcher comes back where it was
    context.close()


def test_focus_ring_and_borders_have_contrast(server: Server, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(server.url + "/")
    _chat(page, "something cozy and melancholic for a rainy weekend")
    _answered(page)
    white = (255, 255, 255)
    button = page.locator(".card").first.locator("[data-kind=up]")
    button.focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")  # keyboard focus: :focus-visible applies
    ring = button.evaluate("b => [getComputedStyle(b).outlineStyle, getComputedStyle(b).outlineColor]")
    assert ring[0] == "solid" and _contrast(_rgb(ring[1]), white) >= 3, ring
    for selector in (".card [data-kind=down]", "input[name=message]"):
        border = page.locator(selector).first.evaluate("n => getComputedStyle(n).borderTopColor")
        assert _contrast(_rgb(border), white) >= 3, (selector, border)
    close = page.get_by_role("button", name="Close book chat")
    close.focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    header = page.locator("header").evaluate("n => getComputedStyle(n).backgroundColor")
    ring = close.evaluate("b => getComputedStyle(b).outlineColor")
    assert _contrast(_rgb(ring), _rgb(header)) >= 3, (ring, header)


def test_script_tag_theming_language_and_host_events(
    server: Server, sized_page, host_site, host_root
) -> None:  # type: ignore[no-untyped-def]
    page = sized_page
    attrs = (
        'data-vibeshelf-accent="#0b6e4f" data-vibeshelf-title="Demandez au libraire" '
        'data-vibeshelf-position="left" data-vibeshelf-lang="fr"'
    )
    page.goto(
        f"{host_site.origin}/{_embed_page(host_root, 'themed.html', server, 'pk_partner', attrs=attrs)}"
    )
    page.evaluate(
        "() => { window.__events = []; for (const name of ['vibeshelf:book-click', 'vibeshelf:feedback'])"
        " document.addEventListener(name, e => { window.__events.push([e.type, e.detail.book.id, e.detail.kind]);"
        " if (e.type === 'vibeshelf:book-click') e.preventDefault() }) }"
    )
    launcher = page.locator("button.launcher")
    launcher.wait_for(timeout=10_000)
    assert "Idées de lecture" in launcher.inner_text()
    assert launcher.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(11, 110, 79)"
    assert launcher.bounding_box()["x"] < 40  # bottom left
    _chat(page, "robots tending an orchard on a spaceship")
    _answered(page)
    assert page.locator("header h2").inner_text() == "Demandez au libraire"
    assert page.locator("button.send").inner_text() == "Envoyer"
    first = page.locator(".card").first
    book_id = first.get_attribute("data-book-id")
    pages_before = len(page.context.pages)
    first.locator(".t a").click()
    first.locator("[data-kind=up]").click()
    page.wait_for_function("() => window.__events.length >= 2", timeout=5_000)
    assert page.evaluate("window.__events") == [
        ["vibeshelf:book-click", book_id, None],
        ["vibeshelf:feedback", book_id, "up"],
    ]
    assert len(page.context.pages) == pages_before  # the host page took the click over
    _shot(page, "themed-fr")


def test_reader_imports_a_library_and_read_books_stay_out(server: Server, sized_page, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page = sized_page
    export = tmp_path / "goodreads_library_export.csv"
    export.write_text(
        "Book Id,Title,Author,Additional Authors,ISBN,ISBN13,My Rating,Exclusive Shelf\n"
        "1,The Lantern Keeper's Rain,Marta Vell,,,,5,read\n"
        "2,A Book Nobody Has,Nobody,,,,3,read\n"
    )
    page.goto(server.url + "/")
    page.locator("button.launcher").click()
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Import my reading").click()
    chooser.value.set_files(str(export))
    result = page.locator(".import-result")
    result.wait_for(timeout=15_000)
    assert "1 books matched, 1 not found" in result.inner_text()
    assert "A Book Nobody Has" in result.inner_text()
    _chat(page, "something cozy and melancholic for a rainy weekend")
    _answered(page)
    titles = page.locator(".card .t").all_inner_texts()
    assert titles and not any("Lantern Keeper's Rain" in t for t in titles), titles
    _shot(page, "import")

    broken = tmp_path / "broken.csv"
    broken.write_text("Book Id,Title,Author,ISBN,ISBN13,My Rating,Exclusive Shelf\n1,X,Y,,,lots,read\n")
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Import my reading").click()
    chooser.value.set_files(str(broken))
    error = page.locator(".msg.error")
    error.wait_for(timeout=15_000)
    assert "row 2" in error.inner_text() and "My Rating" in error.inner_text()
    assert page.errors == []


@pytest.fixture(scope="module")
def goodbooks_server(goodbooks_mini_index, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The real app over goodbooks-mini (read-only; sessions in a private DuckDB file), for the import of a
    real-sized library."""
    env = {
        "VIBESHELF_HOME": str(goodbooks_mini_index.home),
        "VIBESHELF_STATE_DB": str(tmp_path_factory.mktemp("widget-state") / "state.duckdb"),
    }
    with uvicorn_server(env, app="vibeshelf.web.app:create_app", timeout_s=90) as running:
        yield running


def test_a_50_book_goodreads_export_changes_the_next_answer(  # type: ignore[no-untyped-def]
    goodbooks_server: Server, goodbooks_mini_index, browser
) -> None:
    """The issue's acceptance test through the widget: the reader's 50-book export (BOM, quoted commas,
    empty ratings) goes in through "Import my reading"; the next answer leaves every read book out and
    comes from the liked history (the history model's own best books)."""
    from goodreads_library import EXPORT_PATH, RATINGS, READ

    from vibeshelf.retrieval.readers_also_liked import ReadersAlsoLiked

    def next_read(pg, import_first: bool) -> list[str]:  # type: ignore[no-untyped-def]
        pg.goto(goodbooks_server.url + "/")
        pg.locator("button.launcher").click()
        if import_first:
            with pg.expect_file_chooser() as chooser:
                pg.get_by_role("button", name="Import my reading").click()
            chooser.value.set_files(str(EXPORT_PATH))
            result = pg.locator(".import-result")
            result.wait_for(timeout=15_000)
            assert "50 books matched, 0 not found" in result.inner_text()
        _chat(pg, "what should I read next?")
        _answered(pg)
        return [card.get_attribute("data-book-id") for card in pg.locator(".card").all()]

    context, before_page = _new_page(browser, "desktop")
    try:
        before = next_read(before_page, import_first=False)
    finally:
        context.close()
    assert set(before) & set(READ), before  # the reader's books were picks before: else this proves nothing

    context, page = _new_page(browser, "desktop")
    try:
        after = next_read(page, import_first=True)
        _shot(page, "import-50")
        assert page.errors == []
    finally:
        context.close()
    assert after and after != before
    assert not set(after) & set(READ), after
    # Scored as the server scores a library: every rated book, weighted by its stars.
    history = ReadersAlsoLiked.load(goodbooks_mini_index).recommend_history(
        list(RATINGS), avoid_ids=READ, k=40, ratings=RATINGS
    )
    assert set(after) <= {hit.book_id for hit in history.hits}, after


def test_untrusted_catalog_text_stays_inert(server: Server, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(server.url + "/")
    _chat(page, "a cozy rainy day mystery told in letters between two sisters")
    card = page.locator(".card", has_text="Letters")
    card.first.wait_for(timeout=20_000)
    page.wait_for_timeout(500)
    assert page.evaluate("window.__xss") is None
    # The payload is shown as text, not parsed into elements.
    assert "<img" in card.first.locator(".t").inner_text()
    assert page.locator(".card script").count() == 0
    assert page.locator("img[src='x']").count() == 0
    assert page.errors == []


def test_keyboard_escape_closes_and_returns_focus(server: Server, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(server.url + "/")
    launcher = page.locator("button.launcher")
    launcher.click()
    assert launcher.get_attribute("aria-expanded") == "true"
    page.locator("input[name=message]").press("Escape")
    assert launcher.get_attribute("aria-expanded") == "false"
    assert (
        page.evaluate("() => document.querySelector('[data-vibeshelf]').shadowRoot.activeElement.className")
        == "launcher"
    )


def test_embedded_on_an_allowed_origin(server: Server, page, host_site, host_root) -> None:  # type: ignore[no-untyped-def]
    # Host CSS that would wreck an unisolated widget.
    css = "button{background:rgb(255,0,0)!important;font-size:40px!important} input{display:none!important}"
    name = _embed_page(host_root, "shop.html", server, "pk_partner", css)
    page.goto(f"{host_site.origin}/{name}")
    launcher = page.locator("button.launcher")
    launcher.wait_for(timeout=10_000)
    assert launcher.evaluate("b => getComputedStyle(b).backgroundColor") != "rgb(255, 0, 0)"
    _chat(page, "robots tending an orchard on a spaceship")
    page.locator(".card").first.wait_for(timeout=20_000)
    assert any("Clockwork Orchard" in t for t in page.locator(".card .t").all_inner_texts())


def test_origin_not_listed_for_the_key_is_refused(server: Server, page, host_site, host_root) -> None:  # type: ignore[no-untyped-def]
    name = _embed_page(host_root, "other.html", server, "pk_elsewhere")
    page.goto(f"{host_site.origin}/{name}")
    _chat(page, "cozy mystery")
    error = page.locator(".msg.error").first
    error.wait_for(timeout=10_000)
    assert page.locator(".card").count() == 0
    # The reader gets plain words; the site owner's fix is in the console.
    assert "aren't available" in error.inner_text() and not READER_WORDS_ONLY.search(error.inner_text())
    assert any("VIBESHELF_SITE_KEYS" in line for line in page.console_lines), page.console_lines


def test_cors_allowlist_is_not_a_wildcard(server: Server, host_site) -> None:
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    allowed = httpx.options(f"{server.url}/v1/chat", headers={"Origin": host_site.origin, **preflight})
    assert allowed.status_code == 204
    assert allowed.headers["access-control-allow-origin"] == host_site.origin
    denied = httpx.options(f"{server.url}/v1/chat", headers={"Origin": "https://evil.example", **preflight})
    assert denied.status_code == 403
    assert "access-control-allow-origin" not in denied.headers


def test_popular_chart_escapes_titles(server: Server, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(server.url + "/")
    _chat(page, "a cozy rainy day mystery told in letters between two sisters")
    page.locator(".card").first.wait_for(timeout=20_000)
    html = httpx.get(f"{server.url}/popular", timeout=10).text
    assert "Most recommended" in html
    assert "&lt;img src=x" in html and "<img src=x" not in html


def test_like_autocomplete_suggests_titles_and_arrow_enter_picks_one(server: Server, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(server.url + "/")
    page.locator("button.launcher").click()
    box = page.locator("input[name=message]")
    box.press_sequentially("like lantern kee", delay=20)
    options = page.locator("[role=listbox] [role=option]")
    options.first.wait_for(timeout=10_000)
    labels = options.all_inner_texts()
    assert any("The Lantern Keeper's" in label for label in labels), labels
    box.press("ArrowDown")
    assert box.get_attribute("aria-activedescendant") == "vibeshelf-opt-0"
    box.press("Enter")  # picks the suggestion, does not send
    assert box.input_value().startswith("like The Lantern Keeper's")
    assert page.locator(".msg.user").count() == 0
