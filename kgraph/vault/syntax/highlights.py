"""`==highlight==` rendered as `<mark>`."""

from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline

from kgraph.vault.syntax.scan import find_from


def _highlight(state: StateInline, silent: bool) -> bool:
    src, pos = state.src, state.pos
    if not src.startswith("==", pos) or src.startswith("===", pos):
        return False
    if pos + 2 >= state.posMax or src[pos + 2].isspace():
        return False
    close = find_from(state.env, src, "==", pos + 2)
    if close < 0 or close + 2 > state.posMax or src[close - 1].isspace():
        return False
    if not silent:
        state.push("mark_open", "mark", 1).markup = "=="
        old_max = state.posMax
        state.pos, state.posMax = pos + 2, close
        state.md.inline.tokenize(state)
        state.posMax = old_max
        state.push("mark_close", "mark", -1).markup = "=="
    state.pos = close + 2
    return True


def highlights_plugin(md: MarkdownIt) -> None:
    """Register the `==mark==` inline rule (default renderer emits `<mark>`)."""
    md.inline.ruler.before("emphasis", "kg_mark", _highlight)
