"""Well-formed pages with unique ids, inline tags as links, and the code stylesheet."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from sitehtml import Balance, Page

from kgraph.site.codestyle import pygments_css
from kgraph.site.output import SiteOutput
from kgraph.site.rewrite import dedupe_ids, element_ids, link_tags, prefix_ids


def test_every_page_balances_without_duplicate_ids(basic_site: tuple[Path, SiteOutput]) -> None:
    out = basic_site[0]
    pages = [p for p in out.rglob("*.html") if "pagefind" not in p.parts]
    assert len(pages) > 15
    errors = [f"{p.relative_to(out)}: {e}" for p in pages for e in Balance(p.read_text()).errors]
    assert errors == []


def test_balance_checker_catches_problems() -> None:
    assert Balance('<div id="a"><p id="a">x</div>').errors == [
        "</div> closes <p>",
        "duplicate id 'a'",
    ]
    assert Balance("<ul><li>x</li></ul><br><img src=x>").errors == []


def test_transcluded_ids_are_prefixed_and_own_ids_kept(
    basic_site: tuple[Path, SiteOutput],
) -> None:
    host = (basic_site[0] / "host/index.html").read_text()
    ids = [i for i in Page(host).ids]
    assert {"t1-plasticity", "t2-plasticity", "plasticity"} <= set(ids)
    # The second merged note's heading and footnotes are renamed, links follow them.
    assert {"plasticity-2", "fn1", "fn1-2", "fnref1-2"} <= set(ids)
    assert '<a href="#fn1-2" id="fnref1-2">' in host
    assert '<a href="#fnref1-2" class="footnote-backref">' in host
    # A heading may not take an id the page chrome owns.
    assert '<h2 id="main-2">Main</h2>' in host and host.count('id="main"') == 1


def test_inline_tag_links_to_its_tag_page(basic_site: tuple[Path, SiteOutput]) -> None:
    host = (basic_site[0] / "host/index.html").read_text()
    assert (
        '<a class="tag" href="../tags/biology/cells/index.html" data-tag="biology/cells">'
        "#biology/cells</a>"
    ) in host
    assert '<span class="tag"' not in host


def test_rewrites_by_hand() -> None:
    frag = '<h2 id="x">X</h2><p><a href="#x">to x</a> <a href="#y">to y</a></p>'
    assert prefix_ids(frag, "t1-") == (
        '<h2 id="t1-x">X</h2><p><a href="#t1-x">to x</a> <a href="#y">to y</a></p>'
    )
    taken = {"x", "x-2"}
    renamed, mapping = dedupe_ids(frag, taken)
    assert mapping == {"x": "x-3"} and "x-3" in taken
    assert renamed.startswith('<h2 id="x-3">') and 'href="#x-3"' in renamed
    span = '<span class="tag" data-tag="a/b">#a/b</span> <span class="tag" data-tag="c">#c</span>'
    linked = link_tags(span, lambda t: "tags/a/b/" if t == "a/b" else None)
    assert linked == (
        '<a class="tag" href="tags/a/b/" data-tag="a/b">#a/b</a> '
        '<span class="tag" data-tag="c">#c</span>'
    )


_START_TAG = re.compile(r"<[a-zA-Z][^<>]*>")
_ID = re.compile(r'\sid="([^"]*)"')


@given(
    st.lists(
        st.sampled_from(['<p id="a">', "<p>", '<a\tid="b" id="c">', ' id="d"', "<", ">", '"',
                         'data-id="e"', " ", "x", '<h2 class="k" id="f-1">', "</p>", "id="])
    ).map("".join)
)  # fmt: skip
def test_element_ids_are_the_ids_of_start_tags(fragment: str) -> None:
    expected = [m.group(1) for tag in _START_TAG.findall(fragment) for m in _ID.finditer(tag)]
    assert element_ids(fragment) == expected


def test_pygments_stylesheet_for_both_themes(basic_site: tuple[Path, SiteOutput]) -> None:
    css = (basic_site[0] / "_kgraph/pygments.css").read_text()
    assert css == pygments_css()
    assert ".highlight .k { color: #008000; font-weight: bold }" in css  # light: 'default'
    assert ':root[data-theme="dark"] .highlight .k { color: #FF7B72 }' in css
    media = css[css.index("@media (prefers-color-scheme: dark)") :]
    assert ':root:not([data-theme="light"]) .highlight .k { color: #FF7B72 }' in media
    assert "\npre {" not in css and "linenos" not in css  # nothing outside `.highlight`
    home = (basic_site[0] / "index.html").read_text()
    assert '<link rel="stylesheet" href="_kgraph/pygments.css">' in home


def test_missing_heading_lands_on_the_note(basic_site: tuple[Path, SiteOutput]) -> None:
    host = (basic_site[0] / "host/index.html").read_text()
    assert (
        '<a class="internal" href="../synapse/index.html">Synapse &gt; No such heading</a>' in host
    )
    assert 'href="../neuron/index.html#block-key-point"' in host
