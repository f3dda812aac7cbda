"""The chat widget in a real browser (Debian's chromium, driven headless by Playwright).

The server is the real app over a tiny hand-written catalog (tests/fixtures/widget) built with the real
`vibeshelf ingest`; one book's title and description carry HTML/script payloads that must stay inert.
A screenshot lands in artifacts/ (a CI artifact path, never committed).
"""

from __future__ import annotations

import json
import os
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


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    errors: list[str] = []
    pg = context.new_page()
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.errors = errors
    yield pg
    context.close()


def _embed_page(host_root: Path, name: str, server: Server, key: str, host_css: str = "") -> str:
    (host_root / name).write_text(
        "<!doctype html><html><head><meta charset=utf-8><title>host</title>"
        f"<style>{host_css}</style></head><body><h1>A bookshop</h1>"
        f'<script src="{server.url}/widget.js" data-vibeshelf-key="{key}" async></script></body></html>'
    )
    return name


def _chat(pg, message: str) -> None:  # type: ignore[no-untyped-def]
    pg.locator("button.launcher").click()
    box = pg.locator("input[name=message]")
    box.fill(message)
    box.press("Enter")


def test_demo_page_streams_cards_and_records_feedback(server: Server, page) -> None:  # type: ignore[no-untyped-def]
    response = page.goto(server.url + "/")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "*" not in csp.split("img-src")[0]

    _chat(page, "something cozy and melancholic for a rainy weekend")
    page.locator(".card").first.wait_for(timeout=20_000)
    answer = page.locator(".msg.bot").last
    page.wait_for_function(
        "() => { const h = document.querySelector('[data-vibeshelf]').shadowRoot;"
        " const bots = h.querySelectorAll('.msg.bot'); return bots[bots.length-1].textContent.length > 40 }",
        timeout=20_000,
    )
    assert page.locator("[role=log][aria-live=polite]").count() == 1
    titles = page.locator(".card .t").all_inner_texts()
    assert any("Lantern Keeper" in t or "Drowned Library" in t for t in titles), titles
    assert answer.inner_text().strip()

    first = page.locator(".card").first
    book_id = first.get_attribute("data-book-id")
    with page.expect_request("**/v1/feedback") as sent:
        first.get_by_role("button", name="More like this").click()
    session_id = json.loads(sent.value.post_data)["session_id"]
    page.wait_for_selector(".card >> nth=0 >> button[aria-pressed=true]", timeout=5_000)
    # The session belongs to the demo site key that created it (docs/access.md): read it as the page does.
    as_page = {"X-Vibeshelf-Key": "demo", "Origin": server.url}
    session = httpx.get(f"{server.url}/v1/sessions/{session_id}", headers=as_page, timeout=5).json()
    assert book_id in json.dumps(session["state"]["liked"] if "state" in session else session)

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "widget-demo.png"))
    assert page.errors == []


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
    page.locator(".msg.error").first.wait_for(timeout=10_000)
    assert page.locator(".card").count() == 0


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
