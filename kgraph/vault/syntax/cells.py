"""Fenced code: `{python}` cells with `#|` options, and Pygments highlighting for the rest."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import yaml
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from kgraph.vault.note import Cell
from kgraph.vault.syntax.scan import add_problem, hooks_of
from kgraph.vault.yamlsize import may_alias, too_big

_OPTION = re.compile(r"#\|\s*([\w.-]+)\s*:\s*(.*)")
_FORMATTER = HtmlFormatter(nowrap=True)


def parse_options(code: str) -> tuple[dict[str, Any], str]:
    """Split leading `#| key: value` lines off `code`; values are YAML scalars or lists."""
    options: dict[str, Any] = {}
    lines = code.split("\n")
    n = 0
    while n < len(lines):
        m = _OPTION.fullmatch(lines[n].strip())
        if not m:
            break
        options[m.group(1)] = _yaml_value(m.group(2).strip())
        n += 1
    return options, "\n".join(lines[n:])


def _yaml_value(text: str) -> Any:
    """The option's value as YAML, or its text if that is not YAML (or expands without end)."""
    try:
        value = yaml.safe_load(text) if text else None
    except (yaml.YAMLError, RecursionError, ValueError, OverflowError):
        return text
    return text if may_alias(text) and too_big(value) else value


def _is_cell(info: str, options: dict[str, Any]) -> bool:
    lang = info.split(None, 1)[0] if info.strip() else ""
    if lang in ("{python}", "{python3}"):
        return True
    return lang == "python" and options.get("exec") is True


def _closed(lines: list[str], token: Token) -> bool:
    """Whether a fence token ends with a closing fence line in the source."""
    if not token.map:
        return True
    last = token.map[1] - 1
    if last <= token.map[0] or last >= len(lines):
        return False
    text = lines[last].lstrip(" \t>").strip()
    mark = token.markup
    return text.startswith(mark) and set(text) == {mark[0]}


def _cells(state: StateCore) -> None:
    cells: list[Cell] = state.env.setdefault("kg_cells", [])
    lines: list[str] | None = None
    for token in state.tokens:
        if token.type != "fence":
            continue
        if lines is None:
            lines = state.src.split("\n")
        if not _closed(lines, token):
            line = token.map[0] if token.map else 0
            add_problem(state.env, line, "unclosed-fence", "code fence never closed")
        if not token.info.strip().startswith(("{python", "python")):
            continue
        options, code = parse_options(token.content)
        if not _is_cell(token.info, options):
            continue
        line = int(state.env.get("kg_body_line", 1)) + (token.map[0] if token.map else 0)
        cell = Cell(index=len(cells), code=code, options=options, line=line)
        cells.append(cell)
        token.meta = {**(token.meta or {}), "cell": cell}


@lru_cache(maxsize=128)
def _lexer(lang: str) -> Lexer | None:
    try:
        return get_lexer_by_name(lang)
    except ClassNotFound:
        return None


def highlight_code(code: str, lang: str) -> str:
    """Pygments HTML for `code` (class-based), or escaped text when the language is unknown."""
    lexer = _lexer(lang) if lang else None
    body = highlight(code, lexer, _FORMATTER) if lexer else html.escape(code)
    cls = f' class="language-{html.escape(lang, quote=True)}"' if lang else ""
    return f'<pre class="highlight"><code{cls}>{body}</code></pre>\n'


def _render_fence(
    self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict[str, Any]
) -> str:
    token = tokens[idx]
    cell = token.meta.get("cell") if token.meta else None
    if cell is not None:
        hooks = hooks_of(env)
        return str(hooks.cell(cell)) + "\n"
    lang = token.info.strip().split(None, 1)[0] if token.info.strip() else ""
    return highlight_code(token.content, lang.strip("{}"))


def cells_plugin(md: MarkdownIt) -> None:
    """Find cells after block parsing; render cells via hooks and other fences via Pygments."""
    md.core.ruler.after("block", "cells", _cells)
    md.add_render_rule("fence", _render_fence)
