"""Sharded search sources and index: shard choice, dirty shards, carry-over, merged search."""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kgraph.site import search
from kgraph.site.output import SiteOutput
from kgraph.site.search import (
    HeadStart,
    SourceWriter,
    build_search_index,
    shard_count,
    shard_of,
    shard_sources,
    update_sources,
)


def _page(title: str, words: str) -> bytes:
    return (
        f'<!DOCTYPE html><html lang="en"><head><title>{title}</title></head><body>'
        f'<nav>menu</nav><article data-pagefind-body><h1 data-pagefind-meta="title">{title}</h1>'
        f"<p>{words}</p></article></body></html>"
    ).encode()


def _pages(n: int) -> dict[str, bytes]:
    return {
        f"page-{i:03d}/index.html": _page(f"Page {i}", f"common text number{i}") for i in range(n)
    }


def _files(root: Path) -> dict[str, tuple[int, bytes]]:
    return {
        p.relative_to(root).as_posix(): (p.stat().st_ino, p.read_bytes())
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@given(st.text(min_size=1, max_size=60), st.sampled_from([1, 2, 4, 8, 16, 32]))
def test_shard_of_is_stable_and_in_range(rel: str, count: int) -> None:
    shard = shard_of(rel, count)
    assert 0 <= shard < count
    assert shard == shard_of(rel, count)
    assert shard_of(rel, 1) == 0


def test_shard_of_spreads_pages() -> None:
    counts = [0] * 8
    for rel in _pages(800):
        counts[shard_of(rel, 8)] += 1
    assert min(counts) > 60 and max(counts) < 140  # about 100 each


def test_shard_count_rule() -> None:
    assert shard_count(0) == shard_count(500) == 1
    assert shard_count(501) == 2
    assert shard_count(10_000) == 32
    assert shard_count(10**6) == search.MAX_SHARDS
    assert shard_count(9, per_shard=3) == 4
    for pages in range(1, 3000, 37):
        count = shard_count(pages, per_shard=100)
        assert count & (count - 1) == 0  # a power of two
        assert pages <= count * 100 or count == search.MAX_SHARDS


def test_one_shard_keeps_the_flat_layout(tmp_path: Path) -> None:
    pages = _pages(3)
    assert update_sources(tmp_path, pages, pages) == {0}
    text = (tmp_path / "page-001/index.html").read_bytes()
    assert b"number1" in text and b"menu" not in text
    assert not list(tmp_path.glob("_shard-*"))


def test_update_sources_reports_exactly_the_dirty_shards(tmp_path: Path) -> None:
    pages = _pages(12)
    assert update_sources(tmp_path, pages, pages, per_shard=3) == {0, 1, 2, 3}
    rel = "page-005/index.html"
    shard = shard_of(rel, 4)
    assert (shard_sources(tmp_path, shard, 4) / rel).is_file()
    # Same bytes again: nothing to do.
    assert update_sources(tmp_path, pages, pages, [], per_shard=3) == set()
    # One page changed: its shard only.
    edited = {rel: _page("Page 5", "fresh words")}
    assert update_sources(tmp_path, edited, pages, [], per_shard=3) == {shard}
    assert b"fresh words" in (shard_sources(tmp_path, shard, 4) / rel).read_bytes()
    # A page deleted: its shard only, and its source is gone.
    gone = "page-007/index.html"
    rest = [p for p in pages if p != gone]
    assert update_sources(tmp_path, {}, rest, [gone], per_shard=3) == {shard_of(gone, 4)}
    assert not (shard_sources(tmp_path, shard_of(gone, 4), 4) / gone).exists()
    # A full check (no `gone`) after the same delete finds nothing more to do.
    assert update_sources(tmp_path, {}, rest, None, per_shard=3) == set()


def test_changing_the_shard_count_moves_everything(tmp_path: Path) -> None:
    pages = _pages(12)
    update_sources(tmp_path, pages, pages)
    assert (tmp_path / "page-000/index.html").is_file()
    assert update_sources(tmp_path, {}, pages, [], per_shard=3) == {0, 1, 2, 3}
    for rel in pages:
        assert (shard_sources(tmp_path, shard_of(rel, 4), 4) / rel).is_file()
    assert not (tmp_path / "page-000").exists()
    assert update_sources(tmp_path, {}, pages, [], per_shard=100) == {0}
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("_shard-")) == []
    assert (tmp_path / "page-000/index.html").is_file()


def test_lost_state_is_rebuilt_from_the_files(tmp_path: Path) -> None:
    pages = _pages(12)
    update_sources(tmp_path, pages, pages, per_shard=3)
    (tmp_path / search.STATE).unlink()
    assert update_sources(tmp_path, {}, pages, [], per_shard=3) == {0, 1, 2, 3}
    assert update_sources(tmp_path, {}, pages, [], per_shard=3) == set()


def _entry_pages(bundle: Path) -> int:
    entry = json.loads((bundle / "pagefind-entry.json").read_text())
    return sum(lang["page_count"] for lang in entry["languages"].values())


@pytest.mark.parametrize("with_cp", [True, False])
def test_rebuild_reindexes_only_the_dirty_shard(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, with_cp: bool
) -> None:
    if not with_cp:  # carried-over bundles linked by Python, as where no GNU cp is found
        monkeypatch.setattr(search.shutil, "which", lambda name: None)
    src, first, second = tmp_path / "src", tmp_path / "one", tmp_path / "two"
    pages = _pages(12)
    update_sources(src, pages, pages, per_shard=3)
    assert build_search_index(src, first) == []
    manifest = json.loads((first / search.MANIFEST).read_text())
    assert manifest["shards"] == 4 and manifest["bundles"] == ["00/", "01/", "02/", "03/"]
    for shard in range(4):
        expected = sum(1 for rel in pages if shard_of(rel, 4) == shard)
        assert _entry_pages(first / f"{shard:02d}") == expected
    assert (first / "pagefind-ui.js").is_file() and (first / "pagefind-ui.css").is_file()
    before = _files(first)

    rel = "page-004/index.html"
    dirty = update_sources(src, {rel: _page("Page 4", "zyzzogeton")}, pages, [], per_shard=3)
    assert dirty == {shard_of(rel, 4)}
    assert build_search_index(src, second, previous=first, dirty=dirty) == []
    after = _files(second)
    assert {k for k in before if "/" not in k} <= after.keys()  # the UI files and manifest
    mine = f"{shard_of(rel, 4):02d}/"
    for name, (inode, _) in before.items():
        if name.startswith(mine) or name == search.MANIFEST:
            continue
        assert name in after and after[name][0] == inode  # carried over, not rewritten
    assert any(
        name.startswith(mine) and (name not in before or before[name][1] != data)
        for name, (_, data) in after.items()
    )
    # Same sources indexed from scratch: byte for byte the same index.
    fresh = tmp_path / "fresh"
    assert build_search_index(src, fresh) == []
    assert {k: v[1] for k, v in _files(fresh).items()} == {k: v[1] for k, v in after.items()}


def _counting_runs(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every site folder pagefind is run on, from now on."""
    ran: list[Path] = []
    real = search._run_pagefind

    def counted(site: Path, output: Path, background: bool = False) -> str | None:
        ran.append(site)
        return real(site, output, background)

    monkeypatch.setattr(search, "_run_pagefind", counted)
    return ran


def _head_start_case(tmp_path: Path) -> tuple[Path, Path, dict[str, bytes], str, str]:
    """Sources in 4 shards, indexed once; two pages of one shard."""
    src, first = tmp_path / "src", tmp_path / "site" / "pagefind"
    pages = _pages(12)
    update_sources(src, pages, pages, per_shard=3)
    assert build_search_index(src, first) == []
    rel = "page-004/index.html"
    other = next(r for r in pages if r != rel and shard_of(r, 4) == shard_of(rel, 4))
    return src, first, pages, rel, other


def _edited_ahead(
    src: Path, pages: dict[str, bytes], rel: str, site: Path
) -> tuple[SourceWriter, HeadStart]:
    """`rel`'s article edited, and its shard's index started ahead, as an edit does."""
    writer = SourceWriter(src, pages, [], per_shard=3)
    writer.add({rel: _page("Page 4", "zyzzogeton")})
    return writer, HeadStart(src, site, writer.shard_digests(writer.dirty), writer.count)


def _same_as_from_scratch(src: Path, out: Path, fresh: Path) -> None:
    """The index in `out` is byte for byte the one made from scratch of the same sources."""
    assert build_search_index(src, fresh) == []
    assert {k: v[1] for k, v in _files(fresh).items()} == {k: v[1] for k, v in _files(out).items()}


def test_head_start_bundle_is_taken_when_its_shard_did_not_change_since(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src, first, pages, rel, _ = _head_start_case(tmp_path)
    ran = _counting_runs(monkeypatch)
    writer, head = _edited_ahead(src, pages, rel, tmp_path / "site")
    # The rest of the edit's pages: the same articles (their asides changed).
    writer.add({r: data for r, data in pages.items() if r != rel})
    dirty = writer.finish()
    assert dirty == {shard_of(rel, 4)}
    out = tmp_path / "two"
    assert build_search_index(src, out, previous=first, dirty=dirty, head=head) == []
    head.finish()
    assert ran == [shard_sources(src, shard_of(rel, 4), 4)], "pagefind ran once, ahead"
    assert not (tmp_path / ".site.pagefind-head").exists()
    _same_as_from_scratch(src, out, tmp_path / "fresh")


def test_head_start_is_not_taken_when_its_shard_changed_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src, first, pages, rel, other = _head_start_case(tmp_path)
    ran = _counting_runs(monkeypatch)
    writer, head = _edited_ahead(src, pages, rel, tmp_path / "site")
    # Another page of the same shard changes its article after pagefind started.
    writer.add({other: _page("Other", "quokkaphile")})
    dirty = writer.finish()
    out = tmp_path / "two"
    assert build_search_index(src, out, previous=first, dirty=dirty, head=head) == []
    head.finish()
    mine = shard_sources(src, shard_of(rel, 4), 4)
    assert ran == [mine, mine], "indexed ahead, then again with both pages"
    _same_as_from_scratch(src, out, tmp_path / "fresh")


def test_a_failed_head_start_is_indexed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src, first, pages, rel, _ = _head_start_case(tmp_path)
    real = search._run_pagefind
    ran: list[Path] = []

    def failing_ahead(site: Path, output: Path, background: bool = False) -> str | None:
        ran.append(output)
        return "crashed" if "pagefind-head" in str(output) else real(site, output, background)

    monkeypatch.setattr(search, "_run_pagefind", failing_ahead)
    writer, head = _edited_ahead(src, pages, rel, tmp_path / "site")
    dirty = writer.finish()
    out = tmp_path / "two"
    assert build_search_index(src, out, previous=first, dirty=dirty, head=head) == []
    head.finish()
    assert len(ran) == 2 and "pagefind-head" not in str(ran[1])
    _same_as_from_scratch(src, out, tmp_path / "fresh")


def test_stale_previous_shard_is_reindexed_even_if_not_named_dirty(tmp_path: Path) -> None:
    src = tmp_path / "src"
    pages = _pages(12)
    update_sources(src, pages, pages, per_shard=3)
    assert build_search_index(src, tmp_path / "one") == []
    rel = "page-004/index.html"
    update_sources(src, {rel: _page("Page 4", "zyzzogeton")}, pages, [], per_shard=3)
    # A build that lost its dirty set still indexes what changed.
    assert build_search_index(src, tmp_path / "two", previous=tmp_path / "one", dirty=set()) == []
    fresh = tmp_path / "fresh"
    assert build_search_index(src, fresh) == []
    assert {k: v[1] for k, v in _files(fresh).items()} == {
        k: v[1] for k, v in _files(tmp_path / "two").items()
    }


def test_output_may_be_the_previous_index(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "site" / "pagefind"
    pages = _pages(12)
    update_sources(src, pages, pages, per_shard=3)
    assert build_search_index(src, out) == []
    assert build_search_index(src, out, previous=out, dirty=set()) == []
    assert json.loads((out / search.MANIFEST).read_text())["bundles"] == [
        "00/",
        "01/",
        "02/",
        "03/",
    ]
    assert all((out / f"{s:02d}" / "pagefind-entry.json").is_file() for s in range(4))
    assert not list((tmp_path / "site").glob(".pagefind.*"))


def test_failing_pagefind_is_a_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "src"
    pages = _pages(4)
    update_sources(src, pages, pages)
    monkeypatch.setattr(search, "_pagefind", lambda: (str(tmp_path / "no-pagefind"),))
    problems = build_search_index(src, tmp_path / "out")
    assert [p.code for p in problems] == ["search-index"]
    assert json.loads((tmp_path / "out" / search.MANIFEST).read_text())["bundles"] == []


def test_pagefind_runs_as_its_binary() -> None:
    command = search._pagefind()
    assert len(command) == 1 and Path(command[0]).is_file()  # pagefind[bin] is installed
    assert Path(command[0]).name.startswith("pagefind")
    # The same binary pagefind's own lookup (which imports asyncio) finds.
    from pagefind.service import get_executable

    found = get_executable()
    assert found is not None and Path(command[0]) == found.resolve()


def test_pagefind_binary_named_by_its_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    binary = tmp_path / "my-pagefind"
    binary.write_text("#!/bin/sh\n")
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(binary))
    search._pagefind.cache_clear()
    try:
        assert search._pagefind() == (str(binary.resolve()),)
    finally:
        monkeypatch.delenv("PAGEFIND_BINARY_PATH")
        search._pagefind.cache_clear()
    assert search._pagefind() != (str(binary.resolve()),)


# The merged search, in the browser, over the real search page.

CHROMIUM = Path("/usr/bin/chromium")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def sharded_site(
    basic_site: tuple[Path, SiteOutput], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, str, str]:
    """The basic site indexed in 4 shards, then one page edited and re-indexed alone.

    Returns the site, the title of the edited page and of a page in another shard.
    """
    tmp = tmp_path_factory.mktemp("shards")
    out, output = tmp / "site", basic_site[1]
    shutil.copytree(basic_site[0], out, ignore=shutil.ignore_patterns("pagefind"))
    src = tmp / "src"
    pages = sorted(rel for rel, data in output.files.items() if search.search_source(data))
    files = {rel: output.files[rel] for rel in pages}
    count = shard_count(len(pages), per_shard=3)
    assert count > 1
    edited = pages[0]
    other = next(rel for rel in pages if shard_of(rel, count) != shard_of(edited, count))
    files[other] = files[other].replace(b"</article>", b"<p>quokkalike</p></article>")
    update_sources(src, files, pages, per_shard=3)
    assert build_search_index(src, out / "pagefind") == []
    change = {edited: files[edited].replace(b"</article>", b"<p>zyzzogeton</p></article>")}
    dirty = update_sources(src, change, pages, [], per_shard=3)
    assert dirty == {shard_of(edited, count)}
    assert build_search_index(src, out / "pagefind", previous=out / "pagefind", dirty=dirty) == []
    return out, edited, other


def _search(
    out: Path, words: tuple[str, ...]
) -> tuple[dict[str, str], list[str], list[str], list[str]]:
    """Search the site's search page for each word in chromium: the first result's link
    of each, the page's errors (script errors and failed requests), every URL loaded,
    and the URLs loaded by the time the page, opened without a query, shows its box."""
    from playwright.sync_api import sync_playwright

    handler = functools.partial(_Quiet, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    root = f"http://127.0.0.1:{server.server_address[1]}"
    errors: list[str] = []
    loaded: list[str] = []
    found: dict[str, str] = {}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox"]
            )
            tab = browser.new_page()
            tab.set_default_timeout(10_000)
            tab.on("pageerror", lambda e: errors.append(str(e)))
            tab.on("response", lambda r: errors.append(r.url) if r.status >= 400 else None)
            tab.context.on("request", lambda r: loaded.append(r.url))
            tab.goto(f"{root}/search/index.html")
            tab.locator(".pagefind-ui__search-input").wait_for()
            opened = list(loaded)
            for word in words:
                tab.goto(f"{root}/search/index.html?q={word}")
                link = tab.locator(".pagefind-ui__result-link").first
                link.wait_for()
                found[word] = link.get_attribute("href") or ""
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return found, errors, loaded, opened


def _page_of(href: str, rel: str) -> bool:
    return href.rstrip("/").endswith(rel.removesuffix("index.html").rstrip("/"))


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium")
def test_search_page_merges_every_shard(sharded_site: tuple[Path, str, str]) -> None:
    out, edited, other = sharded_site
    found, errors, loaded, opened = _search(out, ("zyzzogeton", "quokkalike"))
    assert errors == []
    assert _page_of(found["zyzzogeton"], edited)
    assert _page_of(found["quokkalike"], other)
    manifest = json.loads((out / "pagefind" / search.MANIFEST).read_text())
    used = {url.split("/pagefind/")[1][:3] for url in loaded if "/pagefind/" in url}
    assert set(manifest["bundles"]) <= used  # every shard's bundle was searched
    # Merged as the page opens, not on the first search (pagefind's UI merges them one
    # after another then).
    entries = {url.split("/pagefind/")[1].split("?")[0] for url in opened if "/pagefind/" in url}
    assert {f"{name}pagefind-entry.json" for name in manifest["bundles"]} <= entries


ARTICLE_PIECES = st.sampled_from(
    [
        "<article",
        "<articles",
        "<article ",
        " data-pagefind-body",
        " x-data-pagefind-body",
        " data-pagefind-body-x",
        " data-pagefind-bodyx",
        " class=a",
        ">",
        "</article>",
        "</article",
        "text",
        "<p>",
        "\n",
    ]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(ARTICLE_PIECES, max_size=14).map("".join))
def test_the_article_is_found_as_the_pattern_finds_it(text: str) -> None:
    page = text.encode()
    expected = search._ARTICLE.search(page)
    assert search._article(page) == (expected.group(0) if expected else None)
