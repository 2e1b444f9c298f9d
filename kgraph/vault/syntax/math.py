"""All math (`$..$`, `$$..$$`, `\\(..\\)`, `\\[..\\]`) as tokens rendered by one hook call."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.dollarmath.index import math_block_dollar
from mdit_py_plugins.texmath import texmath_plugin

from kgraph.vault.syntax.scan import find_from, hooks_of
from kgraph.vault.syntax.wikilinks import located

INLINE_MATH = ("math_inline", "math_inline_double")
DISPLAY_MATH = ("math_block", "math_block_label", "math_block_eqno", "math_inline_double")
MATH_TOKENS = frozenset(INLINE_MATH + DISPLAY_MATH)


def _interrupting(
    rule: Callable[[StateBlock, int, int, bool], bool],
) -> Callable[[StateBlock, int, int, bool], bool]:
    """Let a `$$` block end a paragraph; the wrapped rule ignores `silent`, so undo its push."""

    def wrapped(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
        if not silent:
            return rule(state, start_line, end_line, False)
        count, line = len(state.tokens), state.line
        ok = rule(state, start_line, end_line, False)
        del state.tokens[count:]
        state.line = line
        return ok

    return wrapped


def _brackets(state: StateInline, silent: bool) -> bool:
    """`\\( .. \\)` inline and `\\[ .. \\]` display math inside a paragraph (linear scan)."""
    pos = state.pos
    src = state.src
    if not src.startswith(("\\(", "\\["), pos):
        return False
    closer = "\\)" if src[pos + 1] == "(" else "\\]"
    close = find_from(state.env, src, closer, pos + 2)
    if close < 0 or close + 2 > state.posMax or close == pos + 2:
        return False
    if not silent:
        kind = "math_inline" if closer == "\\)" else "math_inline_double"
        token = state.push(kind, "math", 0)
        token.content = src[pos + 2 : close]
        token.markup = src[pos : pos + 2]
    state.pos = close + 2
    return True


def _render_math(
    self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict[str, Any]
) -> str:
    token = tokens[idx]
    hooks = hooks_of(env)
    display = token.type in DISPLAY_MATH
    line = int(token.meta.get("line", 0)) if token.meta else 0
    if not line and token.map:
        line = int(env.get("kg_body_line", 1)) + token.map[0]
    html = str(hooks.math(token.content.strip(), display, line))
    return html + "\n" if token.block else html


def math_plugin(md: MarkdownIt) -> None:
    """Register dollarmath and texmath (brackets) with one renderer for every math token."""
    dollarmath_plugin(md, allow_space=False, allow_digits=False, allow_blank_lines=False)
    texmath_plugin(md, delimiters="brackets")
    block = _interrupting(math_block_dollar(True, None, False))
    md.block.ruler.at(
        "math_block", block, {"alt": ["paragraph", "reference", "blockquote", "list"]}
    )
    # texmath's inline rule re-slices the source at every `\\(`: use the linear one instead
    rules = md.inline.ruler.__rules__
    rules[:] = [r for r in rules if "make_inline_func" not in getattr(r.fn, "__qualname__", "")]
    md.inline.ruler.before("escape", "math_brackets", _brackets)
    for rule in md.inline.ruler.__rules__:
        if rule.name.startswith("math_"):
            rule.fn = located(rule.fn)
    md.inline.ruler.__cache__ = None
    for name in MATH_TOKENS:
        md.add_render_rule(name, _render_math)
