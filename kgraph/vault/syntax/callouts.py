"""Callouts: a blockquote whose first line is `[!type]` with optional fold and title."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

_HEAD = re.compile(r"\[!([^\]\s]+)\]([+-]?)[ \t]*(.*)")
ALIASES = {
    "summary": "abstract",
    "tldr": "abstract",
    "hint": "tip",
    "important": "tip",
    "check": "success",
    "done": "success",
    "help": "question",
    "faq": "question",
    "caution": "warning",
    "attention": "warning",
    "fail": "failure",
    "missing": "failure",
    "error": "danger",
    "cite": "quote",
}
KNOWN = frozenset(
    [
        "note",
        "abstract",
        "info",
        "todo",
        "tip",
        "success",
        "question",
        "warning",
        "failure",
        "danger",
        "bug",
        "example",
        "quote",
    ]
)


def callout_type(name: str) -> str:
    """Canonical callout type: aliases mapped, unknown types become `note`."""
    low = name.casefold()
    low = ALIASES.get(low, low)
    return low if low in KNOWN else "note"


def _callouts(state: StateCore) -> None:
    tokens = state.tokens
    stack: list[Token] = []
    out: list[Token] = []
    for i, token in enumerate(tokens):
        out.append(token)
        if token.type == "blockquote_open":
            stack.append(token)
            if i + 3 < len(tokens) and tokens[i + 1].type == "paragraph_open":
                _convert(token, tokens[i + 1 : i + 4], out)
        elif token.type == "blockquote_close" and stack:
            opener = stack.pop()
            if opener.type == "callout_open":
                token.type = "callout_close"
                token.meta = dict(opener.meta)
    state.tokens = out


def _convert(opener: Token, para: list[Token], out: list[Token]) -> None:
    inline = para[1]
    first, _, rest = inline.content.partition("\n")
    m = _HEAD.fullmatch(first.strip())
    if not m:
        return
    name, fold, title = m.group(1), m.group(2), m.group(3).strip()
    opener.type = "callout_open"
    opener.meta = {"type": callout_type(name), "fold": fold}
    line = opener.map[0] if opener.map else 0
    title_inline = Token("inline", "", 0)
    title_inline.content = title or name[:1].upper() + name[1:].lower()
    title_inline.map = [line, line + 1]
    title_inline.children = []
    out.append(Token("callout_title_open", "", 1, meta=dict(opener.meta)))
    out.append(title_inline)
    out.append(Token("callout_title_close", "", -1, meta=dict(opener.meta)))
    inline.content = rest
    if inline.map:
        inline.map = [inline.map[0] + 1, inline.map[1]]
    if not rest.strip():
        para[0].hidden = para[2].hidden = True


def _render_open(
    self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict[str, Any]
) -> str:
    meta = tokens[idx].meta
    kind = html.escape(meta["type"])
    if meta["fold"]:
        opened = " open" if meta["fold"] == "+" else ""
        return f'<details class="callout" data-callout="{kind}"{opened}>\n'
    return f'<div class="callout" data-callout="{kind}">\n'


def _render_title_open(
    self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict[str, Any]
) -> str:
    fold = tokens[idx].meta["fold"]
    return '<summary class="callout-title">' if fold else '<div class="callout-title">'


def _render_title_close(
    self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict[str, Any]
) -> str:
    fold = tokens[idx].meta["fold"]
    end = "</summary>" if fold else "</div>"
    return end + '\n<div class="callout-content">\n'


def _render_close(
    self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict[str, Any]
) -> str:
    return "</div>\n</details>\n" if tokens[idx].meta["fold"] else "</div>\n</div>\n"


def callouts_plugin(md: MarkdownIt) -> None:
    """Turn `> [!type]` blockquotes into callout tokens before inline parsing."""
    md.core.ruler.before("inline", "callouts", _callouts)
    md.add_render_rule("callout_open", _render_open)
    md.add_render_rule("callout_title_open", _render_title_open)
    md.add_render_rule("callout_title_close", _render_title_close)
    md.add_render_rule("callout_close", _render_close)
