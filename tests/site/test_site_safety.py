"""Hostile notes are escaped and sanitised; output paths never leave the site."""

from __future__ import annotations

from pathlib import Path

from sitehtml import Page

from kgraph.site.output import SiteOutput
from kgraph.site.sanitize import sanitize_html
from kgraph.site.urls import page_path, safe_slug


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
