"""Bodies without raw HTML skip the sanitiser: it must have nothing to remove from them.

The renderer marks a body `raw` when a note's own HTML or an unsafe URL reached the
output; only those bodies go through nh3. The property test renders arbitrary bodies
the way the site does and checks that whenever a body is not marked, nh3 would keep
every element, attribute and character of it.
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kgraph.config import Config
from kgraph.graph.build import build_graph
from kgraph.site.context import SiteContext
from kgraph.site.hooks import RenderedNote, render_note
from kgraph.site.sanitize import sanitize_html
from kgraph.site.templates import make_environment
from kgraph.vault.parse import parse_file

_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "wbr"}


class _Events(HTMLParser):
    """What a browser builds from HTML, as a flat list: serialisation differences vanish."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.events: list[tuple[object, ...]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.events.append(("start", tag, tuple(sorted((k, v or "") for k, v in attrs))))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.events.append(("end", tag))

    def handle_endtag(self, tag: str) -> None:
        if tag not in _VOID:
            self.events.append(("end", tag))

    def handle_data(self, data: str) -> None:
        if self.events and self.events[-1][0] == "text":
            self.events[-1] = ("text", str(self.events[-1][1]) + data)
        else:
            self.events.append(("text", data))

    def handle_comment(self, data: str) -> None:
        self.events.append(("comment", data))


def events(fragment: str) -> list[tuple[object, ...]]:
    parser = _Events()
    parser.feed(fragment)
    parser.close()
    return parser.events


OTHERS = {
    "Target.md": "---\ntitle: Target\n---\n# Part\n\nPlain text with $x^2$.\n",
    "Raw.md": '---\ntitle: Raw\n---\nSome <b onclick="x()">bold</b> text.\n',
    "Unsafe.md": "---\ntitle: Unsafe\n---\nA [link](ftp://example.org/file).\n",
}


def render(tmp: Path, body: str) -> RenderedNote:
    notes = []
    files = [*OTHERS, "Probe.md"]
    for rel, text in {**OTHERS, "Probe.md": "---\ntitle: Probe\n---\n" + body}.items():
        found, _ = parse_file(text.encode(), rel)
        notes.extend(found)
    cg = build_graph(notes, files)
    config = Config(vault=tmp, out=tmp / "site")
    ctx = SiteContext(cg, config, make_environment(None), None)
    probe = next(n for n in notes if n.path == "Probe.md")
    key = cg.concept_of(probe)
    return render_note(ctx, key, probe, ctx.pages[key])


@pytest.mark.parametrize(
    "body",
    [
        "Plain *text* with [[Target]], [[Target#Part|a part]] and [[Nowhere]].",
        "Math $a < b$ and $$\\frac{1}{2}$$ and `code <b>` and a <T> pseudo-tag.",
        "```python\nif a < b: print('<b>')\n```\n",
        "- [ ] task\n- [x] done\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
        "> [!note]- Title <T> & co\n> body\n\nText[^1].\n\n[^1]: A footnote.\n",
        "[site](https://example.org/a?b=1&c=2) and <https://example.org> and mail@example.org",
        "![[Target]]\n\n![img](https://example.org/x.png) and ==marked== #tag ^block1",
        "Formula with text: $\\text{<script>alert(1)</script>}$",
        # an autolink inside a link's text: one anchor, not two nested
        "[<https://a.example>](https://b.example) and [[<https://a.example>\\[x](Target.md)",
    ],
)
def test_escaped_bodies_skip_the_sanitiser(tmp_path: Path, body: str) -> None:
    rendered = render(tmp_path, body)
    assert not rendered.raw, rendered.html
    assert events(rendered.html) == events(sanitize_html(rendered.html))
    assert "<script" not in rendered.html


@pytest.mark.parametrize(
    "body",
    [
        "Some <b>raw</b> HTML.",
        "<div>\nA block\n</div>\n",
        "<!-- a comment -->",
        "[x](ftp://example.org/f)",
        "<ftp://example.org/f>",
        "[[javascript:alert(1)]]",
        "![x](data:image/png;base64,AAAA)",
        "[x](//evil.example/p)",
        "![[Raw]]",
        "Before ![[Unsafe]] after",
        "Text then ![[Target]] inside a paragraph",
        "[^1]: - [^1]: ",  # the footnote plugin leaves `</li></ul>` without openers
    ],
)
def test_raw_html_and_unsafe_urls_are_sanitised(tmp_path: Path, body: str) -> None:
    assert render(tmp_path, body).raw


SAFE = [
    "[[Target]]", "[[Target#Part]]", "![[Target]]", "[[Nowhere|x]]", "[[", "]]",
    "[x](Target.md)", "[x](https://a.example/?q=<b>&r=\"s\")", "[x](javascript:alert(1))",
    "<https://a.example>", "<mailto:a@b.c>", "![i](x.png)", "$", "$$", "\\text{<b>}", "x<y",
    "a > b", "<T>", "<x y='1'>", "&", "&amp;", "&#60;", "\"", "'", "`", "```", "```python\n",
    "~~~", "\n", "\n\n", " ", "    ", "- ", "1. ", "> ", "> [!warning]+ ", "- [ ] ",
    "| a | b |\n|---|---|\n", "==", "#tag", "# ", "^b1", "[^1]", "[^1]: ", "%%", "*", "_",
    "word", "é", "🙂", "\\", "[", "]", "(", ")", ":", "See also: ",
]  # fmt: skip
RISKY = [
    "![[Raw]]", "[x](ftp://a)", "<ftp://a>", "![i](data:image/png;base64,AA)", "<b>", "</b>",
    "<i onclick=\"x\">", "<!--", "-->", "<script>", "[[vbscript:x]]",
]  # fmt: skip
PROPERTY = settings(
    deadline=None,
    max_examples=150,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def check_unmarked(tmp: Path, body: str) -> bool:
    rendered = render(tmp, body)
    if not rendered.raw:
        assert events(rendered.html) == events(sanitize_html(rendered.html)), body
    return rendered.raw


@PROPERTY
@given(st.lists(st.sampled_from(SAFE), max_size=30).map("".join))
def test_escaped_markup_is_what_the_sanitiser_keeps(tmp_path: Path, body: str) -> None:
    check_unmarked(tmp_path, body)


@PROPERTY
@given(st.lists(st.sampled_from(SAFE + RISKY), max_size=30).map("".join))
def test_unmarked_bodies_are_what_the_sanitiser_keeps(tmp_path: Path, body: str) -> None:
    check_unmarked(tmp_path, body)
