"""Raw HTML passes through, but `<word>` pseudo-tags that are not HTML elements become text.

A render marks its environment `kg_raw` when it let anything through that the site must
sanitise: a raw HTML tag, or a link or image URL outside the safe schemes. Everything
else the renderers write is escaped markup of their own, which needs no sanitiser.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
RAW = "kg_raw"  # the render environment's flag
# The checkboxes the task-list plugin writes as HTML tokens of its own (labels off).
_TASK_BOXES = frozenset(
    f'<input class="task-list-item-checkbox" {checked}disabled="disabled" type="checkbox">'
    for checked in ("", 'checked="checked" ')
)

_TAG_NAME = re.compile(r"<\/?([A-Za-z][A-Za-z0-9-]*)")
_NAMES = """a abbr address area article aside audio b base bdi bdo blockquote body br button canvas
    caption cite code col colgroup data datalist dd del details dfn dialog div dl dt em embed
    fieldset figcaption figure footer form h1 h2 h3 h4 h5 h6 head header hgroup hr html i iframe
    img input ins kbd label legend li link main map mark menu meta meter nav noscript object ol
    optgroup option output p param picture pre progress q rp rt ruby s samp script search section
    select slot small source span strong style sub summary sup table tbody td template textarea
    tfoot th thead time title tr track u ul var video wbr center font big tt strike
    svg math path g circle rect line polyline polygon ellipse text tspan defs use symbol
    mi mn mo ms mrow msup msub mfrac msqrt mroot mtext mtable mtr mtd semantics annotation"""
ELEMENTS = frozenset(_NAMES.split())


def is_real_tag(raw: str) -> bool:
    """True for comments, declarations and tags naming an HTML element (or a custom `a-b` one)."""
    if raw.startswith(("<!", "<?")):
        return True
    m = _TAG_NAME.match(raw)
    if not m:
        return False
    name = m.group(1).lower()
    return name in ELEMENTS or "-" in name


def safe_url(url: str) -> bool:
    """True for a URL the sanitiser keeps as it is: relative, or http(s) or mailto."""
    if url.startswith("//") or any(ch.isspace() or ord(ch) < 32 for ch in url):
        return False
    scheme = _SCHEME.match(url)
    return scheme is None or scheme.group(1).lower() in SAFE_SCHEMES


def _render_inline(
    self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict[str, Any]
) -> str:
    raw = tokens[idx].content
    if is_real_tag(raw):
        if raw not in _TASK_BOXES:
            env[RAW] = True
        return raw
    return html.escape(raw, quote=False)


def _render_block(
    self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict[str, Any]
) -> str:
    raw = tokens[idx].content
    if is_real_tag(raw.lstrip()):
        env[RAW] = True
        return raw
    return "<p>" + html.escape(raw.strip(), quote=False) + "</p>\n"


def _url_rule(md: MarkdownIt, kind: str, attr: str) -> Any:
    """The render rule of `kind` (`link_open`, `image`), marking the body raw when the
    token's `attr` URL is not one the sanitiser would keep as it is."""
    default = md.renderer.rules.get(kind)  # type: ignore[attr-defined]

    def render(
        self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict[str, Any]
    ) -> str:
        url = tokens[idx].attrGet(attr)
        if not isinstance(url, str) or not safe_url(url):
            env[RAW] = True
        if default is None:
            return str(self.renderToken(tokens, idx, options, env))
        return str(default(tokens, idx, options, env))

    return render


def _demote_pseudo_blocks(state: StateCore) -> None:
    """An HTML block opened by a pseudo-tag is prose: parse it as a paragraph instead."""
    out: list[Token] = []
    for token in state.tokens:
        if token.type != "html_block" or is_real_tag(token.content.lstrip()):
            out.append(token)
            continue
        level = token.level
        opener = Token("paragraph_open", "p", 1, map=token.map, level=level, block=True)
        inline = Token("inline", "", 0, map=token.map, level=level + 1, children=[])
        inline.content = token.content.strip()
        closer = Token("paragraph_close", "p", -1, level=level, block=True)
        out.extend((opener, inline, closer))
    state.tokens = out


def htmltags_plugin(md: MarkdownIt) -> None:
    """Render unknown pseudo-tags such as `<bos>` or `<T>` as escaped text."""
    md.core.ruler.before("inline", "pseudo_html_blocks", _demote_pseudo_blocks)
    md.add_render_rule("html_inline", _render_inline)
    md.add_render_rule("html_block", _render_block)
    md.add_render_rule("link_open", _url_rule(md, "link_open", "href"))
    md.add_render_rule("image", _url_rule(md, "image", "src"))
