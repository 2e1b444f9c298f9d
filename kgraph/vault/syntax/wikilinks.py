"""Wikilinks `[[target#sub|shown]]` and embeds `![[...]]` as one inline rule."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

from kgraph.vault.syntax.fences import code_lines
from kgraph.vault.syntax.htmltags import RAW, safe_url
from kgraph.vault.syntax.scan import find_from, hooks_of

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://|(?:mailto|tel|data|javascript):", re.IGNORECASE)
_WIKI_IN_LINE = re.compile(r"\[\[(?:[^\]\n]|\](?!\]))*\]\]")
_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def split_inner(inner: str) -> tuple[str, str | None, str | None]:
    """Split `linkpath#subpath|display` (a `\\|` counts as the display pipe)."""
    inner = inner.replace("\\|", "|")
    display: str | None = None
    if "|" in inner:
        inner, display = inner.split("|", 1)
        display = display.strip()
    subpath: str | None = None
    if "#" in inner:
        inner, subpath = inner.split("#", 1)
        subpath = subpath.strip()
    return inner.strip(), subpath, display


def is_external(target: str) -> bool:
    """True for URLs such as `https://x` or `mailto:a` (a note may be named `Re:Zero`)."""
    return _URL.match(target) is not None


def _wikilink(state: StateInline, silent: bool) -> bool:
    src, pos = state.src, state.pos
    embed = src.startswith("![[", pos)
    start = pos + 1 if embed else pos
    if not src.startswith("[[", start):
        return False
    close = find_from(state.env, src, "]]", start + 2)
    if close < 0 or close + 2 > state.posMax:
        return False
    inner = src[start + 2 : close]
    # a link never spans lines, and `[[a [[b]]` links only b
    if "\n" in inner or "[[" in inner:
        return False
    if not silent:
        token = state.push("wikilink", "", 0)
        target, subpath, display = split_inner(inner)
        token.content = src[pos : close + 2]
        token.meta = {
            "pos": pos,
            "target": target,
            "subpath": subpath,
            "display": display,
            "embed": embed,
        }
    state.pos = close + 2
    return True


def _protect_table_pipes(state: StateCore) -> None:
    """Escape `|` inside wikilinks on table-like lines so the table rule keeps them whole."""
    src = state.src
    if "[[" not in src or "|" not in src:
        return
    lines = src.split("\n")
    changed = False
    for i, line, in_code in code_lines(list(lines)):
        if in_code or "[[" not in line or "|" not in line:
            continue
        outside = _WIKI_IN_LINE.sub("", line)
        if "|" not in outside:
            continue
        lines[i] = _WIKI_IN_LINE.sub(lambda w: _UNESCAPED_PIPE.sub(r"\\|", w.group(0)), line)
        changed = True
    if changed:
        state.src = "\n".join(lines)


def located(fn: Callable[[StateInline, bool], bool]) -> Callable[[StateInline, bool], bool]:
    """Wrap an inline rule so the first token it pushes remembers its source offset."""

    def rule(state: StateInline, silent: bool) -> bool:
        count, pos = len(state.tokens), state.pos
        ok = fn(state, silent)
        if ok and not silent and len(state.tokens) > count:
            first = state.tokens[count]
            first.meta = {**(first.meta or {}), "pos": pos}
        return ok

    return rule


def _render_wikilink(
    self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict[str, Any]
) -> str:
    token = tokens[idx]
    link = token.meta.get("link")
    hooks = hooks_of(env)
    if link is None:
        external = token.meta.get("external")
        if external:
            if not safe_url(external):
                env[RAW] = True  # the site sanitises this body
            text = _esc(token.meta["text"])
            return f'<a class="external" href="{_esc(external)}">{text}</a>'
        return _esc(token.content)
    if link.embed:
        if not token.meta.get("alone"):
            env[RAW] = True  # a block inside a paragraph: the sanitiser repairs the nesting
        return str(hooks.embed(link))
    if token.children:
        text_html = self.renderInline(token.children, options, env)
    else:
        text_html = _esc(token.meta.get("text", link.target))
    return str(hooks.link(link, text_html))


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def wikilinks_plugin(md: MarkdownIt) -> None:
    """Register `[[...]]`/`![[...]]`, table-pipe protection and located Markdown links."""
    md.inline.ruler.before("link", "wikilink", _wikilink)
    md.core.ruler.before("block", "wikilink_table_pipes", _protect_table_pipes)
    for rule in md.inline.ruler.__rules__:
        if rule.name in ("link", "image"):
            rule.fn = located(rule.fn)
    md.inline.ruler.__cache__ = None
    md.add_render_rule("wikilink", _render_wikilink)
    md.add_render_rule("kg_mdlink", _render_wikilink)
