"""Hostile notes are escaped and sanitised; output paths never leave the site."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from sitehtml import Page

from kgraph.site.output import SiteOutput
from kgraph.site.sanitize import sanitize_html
from kgraph.site.urls import SEGMENT_BYTES, clean_segment, fit_segment, page_path, safe_slug


def hostile(site: tuple[Path, SiteOutput]) -> str:
    pages = [p for p in site[1].files if "evil" in p and p.endswith(".html")]
    assert len(pages) == 1
    return site[1].files[pages[0]].decode()


def test_hostile_title_is_escaped(basic_site: tuple[Path, SiteOutput]) -> None:
    text = hostile(basic_site)
    assert "<script>alert('t')</script>" not in text
    assert "&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt; Evil" in text


def test_hostile_body_is_sanitised(basic_site: tuple[Path, SiteOutput]) -> None:
    text = hostile(basic_site)
    body = text[text.index('<div class="note-body">') : text.index("</article>")]
    lowered = body.lower()
    assert "<script" not in lowered and "alert('body')" not in body
    assert "onerror" not in lowered and "onclick" not in lowered
    assert 'href="javascript' not in lowered and "raw js link</a>" in body
    assert "<iframe" not in lowered
    assert "url(" not in lowered
    kept_tags = ("<b>bold</b>", "<sub>2</sub>", "<sup>2</sup>", "<kbd>Ctrl</kbd>")
    for kept in (*kept_tags, "<mark>marked</mark>", "<summary>More</summary>"):
        assert kept in body


def test_hostile_tags_are_escaped_everywhere(basic_site: tuple[Path, SiteOutput]) -> None:
    for rel, data in basic_site[1].files.items():
        if rel.endswith(".html"):
            parsed = Page(data.decode())
            assert all(not k.startswith("on") for _, attrs in parsed.elements for k in attrs), rel


def test_sanitizer_keeps_mathml_and_our_markup() -> None:
    math = ('<span class="math inline" data-x="1"><math xmlns="http://www.w3.org/1998/Math/MathML" '
            'display="inline"><msup><mi>x</mi><mn>2</mn></msup></math></span>')  # fmt: skip
    assert sanitize_html(math) == math
    assert sanitize_html('<a href="javascript:alert(1)">x</a>') == "<a>x</a>"
    assert sanitize_html('<td style="text-align: right">1</td>').count("text-align") in (0, 1)
    assert "url(" not in sanitize_html('<td style="background: url(x)">1</td>')


def test_slugs_cannot_escape_the_output() -> None:
    assert safe_slug("../../etc/passwd") == "etc/passwd"
    assert safe_slug("a/./../b") == "a/b"
    assert safe_slug("..") == "untitled"
    assert page_path(safe_slug("/abs/x")) == "abs/x/index.html"
    assert safe_slug("C:\\win\\x") == "c/win/x"


def test_sanitizer_keeps_renderer_markup() -> None:
    kept = [
        '<details class="callout" data-callout="tip"><summary class="callout-title">T</summary>'
        '<div class="callout-content"><p>x</p></div></details>',
        '<li class="task-list-item"><input class="task-list-item-checkbox" checked="checked" '
        'disabled="disabled" type="checkbox"> done</li>',
        '<sup class="footnote-ref"><a href="#fn1" id="fnref1">[1]</a></sup>',
        '<th style="text-align:right">a</th>',
        "<dl><dt>Term</dt><dd>Definition</dd></dl>",
    ]
    for fragment in kept:
        wrapped = f"<table><tr>{fragment}</tr></table>" if fragment.startswith("<th") else fragment
        wrapped = f"<ul>{fragment}</ul>" if fragment.startswith("<li") else wrapped
        assert fragment in sanitize_html(wrapped)


@given(st.text(min_size=1, max_size=400), st.integers(20, 255))
@settings(max_examples=300, deadline=None)
def test_a_segment_fits_its_bytes_and_keeps_what_fits(seg: str, limit: int) -> None:
    fitted = fit_segment(seg, limit)
    assert len(fitted.encode("utf-8")) <= limit
    if len(seg.encode("utf-8")) <= limit:
        assert fitted == seg
    else:
        assert fitted != seg and fitted == fit_segment(seg, limit)  # stable across runs
        head = fitted.rsplit("-", 1)[0]
        assert seg.startswith(head)


def test_long_segments_that_start_alike_stay_apart() -> None:
    first, second = "word-" * 60 + "one", "word-" * 60 + "two"
    assert fit_segment(first) != fit_segment(second)
    assert len(fit_segment("é" * 300).encode("utf-8")) <= SEGMENT_BYTES
    assert clean_segment("Word " * 100) == fit_segment("word-" * 99 + "word")


def test_long_titles_and_deep_tags_build_pages_a_file_system_takes(tmp_path: Path) -> None:
    """Titles and link targets too long for a file name, and a tag thousands of levels
    deep: the build used to fail on the first and never end on the second."""
    vault = tmp_path / "v"
    vault.mkdir()
    long_a, long_b = "Long title " * 30 + "A", "Long title " * 30 + "B"
    missing = "Missing target " * 25
    (vault / "a.md").write_text(f"---\ntitle: {long_a}\n---\nSee [[{long_b}]] and [[{missing}]].\n")
    (vault / "b.md").write_text(
        f"---\ntitle: {long_b}\ntags: [{'x/' * 40}y, ok]\n---\nBack [[{long_a}]].\n"
    )
    (vault / "c.md").write_text("# C\n\nDeep #" + "t/" * 3000 + "u and #fine/tag.\n")
    out, report = tmp_path / "site", tmp_path / "report.json"
    env = {**os.environ, "KGRAPH_CACHE_DIR": str(tmp_path / "cache")}
    cmd = [sys.executable, "-m", "kgraph", "build", str(vault), "-o", str(out)]
    done = subprocess.run(
        [*cmd, "--report", str(report)], capture_output=True, env=env, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    files = [p.relative_to(out) for p in out.rglob("*")]
    assert all(len(part.encode()) <= 255 for p in files for part in p.parts)
    pages = {p.parts[0] for p in files if p.name == "index.html" and len(p.parts) == 2}
    assert len([p for p in pages if p.startswith("long-title")]) == 2
    assert len([p for p in pages if p.startswith("missing-target")]) == 1
    # Every link between the long-titled pages leads to a page that exists.
    for page in pages:
        html = (out / page / "index.html").read_text()
        for href in re.findall(r'href="\.\./([^"#]+)"', html):
            assert (out / href).exists(), href
    tags = {
        p.parent.relative_to("tags").as_posix()
        for p in files
        if p.parts[0] == "tags" and p.name == "index.html" and len(p.parts) > 2
    }
    assert {"ok", "fine", "fine/tag"} <= tags
    assert not any(t.startswith(("t", "x")) for t in tags)
    assert json.loads(report.read_text())["notes"] == 3
