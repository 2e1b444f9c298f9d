"""Inline `#tags`: Unicode letters, digits, `_ - /`, at least one non-digit."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

from kgraph.vault.taglimits import within_limits

# ASCII punctuation other than `- / _`, plus general and CJK punctuation, ends a tag
_TAG = re.compile(r"#([^\s!-,.:-@\[-^`{-~\u2000-\u206f\u3000-\u303f\uff01-\uff0f]+)")
_BEFORE = frozenset(" \t\n(*")


def tag_name(text: str) -> str | None:
    """The folded tag name for `text` (without `#`), or None if it is not a valid tag."""
    name = text.rstrip("/")
    if not name or name.isdigit() or not re.search(r"[^\d/]", name):
        return None
    return name.casefold() if within_limits(name) else None


def _tag(state: StateInline, silent: bool) -> bool:
    pos = state.pos
    if state.src[pos] != "#" or (pos > 0 and state.src[pos - 1] not in _BEFORE):
        return False
    m = _TAG.match(state.src, pos, state.posMax)
    if not m:
        return False
    name = tag_name(m.group(1))
    if name is None:
        return False
    raw = m.group(1).rstrip("/")
    if not silent:
        token = state.push("tag", "", 0)
        token.content = raw
        token.meta = {"pos": pos, "tag": name}
    state.pos = pos + 1 + len(raw)
    return True


def _render_tag(
    self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict[str, Any]
) -> str:
    token = tokens[idx]
    tag = token.meta["tag"].replace("&", "&amp;").replace('"', "&quot;")
    text = token.content.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f'<span class="tag" data-tag="{tag}">#{text}</span>'


def tags_plugin(md: MarkdownIt) -> None:
    """Register the inline tag rule and its renderer."""
    md.inline.ruler.before("link", "tag", _tag)
    md.add_render_rule("tag", _render_tag)
