"""The built site in headless chromium: search, navigation, math, theme, previews, no leaks."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kgraph.site.output import SiteOutput
from kgraph.site.search import build_search_index

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"
    ),
]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def served(basic_site: tuple[Path, SiteOutput]) -> Iterator[str]:
    out = basic_site[0]
    assert build_search_index(out) == []
    handler = functools.partial(_Quiet, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Any, served: str) -> Iterator[Any]:
    """A fresh page that records console errors and every request's host."""
    context = browser.new_context()
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    tab.errors = []
    tab.hosts = set()
    tab.on("console", lambda m: tab.errors.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: tab.errors.append(str(e)))
    tab.on(
        "response", lambda r: tab.errors.append(f"{r.status} {r.url}") if r.status >= 400 else None
    )
    tab.on("request", lambda r: tab.hosts.add(r.url.split("/")[2] if "://" in r.url else r.url))
    yield tab
    host = served.split("/")[2]
    assert tab.errors == []
    assert tab.hosts <= {host}
    context.close()


def test_search_and_open_result(page: Any, served: str) -> None:
    page.goto(served + "/index.html")
    page.fill("#site-search-q", "thousands")
    page.press("#site-search-q", "Enter")
    result = page.locator(".pagefind-ui__result-link").first
    result.wait_for()
    assert "Synapse" in result.inner_text()
    excerpt = page.locator(".pagefind-ui__result-excerpt").first.inner_text()
    assert "thousands" in excerpt.lower()
    result.click()
    page.wait_for_url("**/synapse/**")
    assert page.locator("h1").inner_text() == "Synapse"


def test_follow_wikilink_and_backlink(page: Any, served: str) -> None:
    page.goto(served + "/neuron/index.html")
    page.locator(".note-body a.internal", has_text="Synapse").first.click()
    page.wait_for_url("**/synapse/index.html")
    page.locator('section[data-relation="Backlinks"] a', has_text="Neuron").click()
    page.wait_for_url("**/neuron/index.html")
    assert page.locator("h1").inner_text() == "Neuron"


def test_math_has_size(page: Any, served: str) -> None:
    page.goto(served + "/neuron/index.html")
    box = page.locator(".math.display math").first.bounding_box()
    assert box is not None and box["width"] > 20 and box["height"] > 10


def test_dark_mode_toggle(page: Any, served: str) -> None:
    page.emulate_media(color_scheme="light")
    page.goto(served + "/neuron/index.html")
    background = "getComputedStyle(document.body).backgroundColor"
    before = page.evaluate(background)
    page.click(".theme-toggle")
    after = page.evaluate(background)
    assert before != after
    page.reload()
    assert page.evaluate(background) == after  # remembered in localStorage


def test_hover_preview(page: Any, served: str) -> None:
    page.goto(served + "/neuron/index.html")
    page.locator(".note-body a.internal", has_text="Synapse").first.hover()
    popover = page.locator(".preview-popover")
    popover.wait_for()
    assert "A synapse joins two cells" in popover.inner_text()
    assert page.evaluate("document.querySelectorAll('.preview-popover [id]').length") == 0


def test_global_graph_draws(page: Any, served: str) -> None:
    page.goto(served + "/graph/index.html")
    count = page.evaluate("window.KGRAPH_GRAPH.nodes.length")
    assert count >= 8
    painted = page.evaluate(
        "(() => { const c = document.getElementById('global-graph');"
        " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        " let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n; })()"
    )
    assert painted > 100


def test_inlined_figure_follows_the_theme(page: Any, served: str) -> None:
    page.emulate_media(color_scheme="light")
    page.goto(served + "/neuron/index.html")
    color = (
        "[getComputedStyle(document.querySelector('.figure-svg svg')).color,"
        " getComputedStyle(document.body).color]"
    )
    light_svg, light_text = page.evaluate(color)
    page.click(".theme-toggle")
    dark_svg, dark_text = page.evaluate(color)
    assert light_svg == light_text and dark_svg == dark_text  # currentColor is the text colour
    assert light_svg != dark_svg


def test_inline_tag_and_keyboard_skip_link(page: Any, served: str) -> None:
    page.goto(served + "/host/index.html")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.locator(".note-body a.tag", has_text="#biology/cells").click()
    page.wait_for_url("**/tags/biology/cells/index.html")
    assert page.locator("h1").inner_text() == "#biology/cells"


def test_pages_work_from_file_urls(browser: Any, basic_site: tuple[Path, SiteOutput]) -> None:
    context = browser.new_context()
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.on("request", lambda r: errors.append(r.url) if not r.url.startswith("file:") else None)
    tab.goto((basic_site[0] / "neuron/index.html").as_uri())
    tab.locator(".note-body a.internal", has_text="Synapse").first.click()
    tab.wait_for_url("**/synapse/index.html")
    assert tab.locator("h1").inner_text() == "Synapse"
    context.close()
    assert errors == []
