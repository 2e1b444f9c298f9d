"""Obsidian comments `%% ... %%`: inline or across lines, never rendered."""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline

from kgraph.vault.syntax.fences import code_lines
from kgraph.vault.syntax.scan import find_from

_FENCE = re.compile(r"[ \t>]*(`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"(`+)[^`]*?\1")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def _comment_inline(state: StateInline, silent: bool) -> bool:
    pos = state.pos
    if not state.src.startswith("%%", pos):
        return False
    close = find_from(state.env, state.src, "%%", pos + 2)
    if close < 0 or close + 2 > state.posMax:
        return False
    if not silent:
        token = state.push("kg_comment", "", 0)
        token.content = state.src[pos + 2 : close]
        token.meta = {"pos": pos}
    state.pos = close + 2
    return True


def _comment_block(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    if state.sCount[start_line] - state.blkIndent >= 4:
        return False
    begin = state.bMarks[start_line] + state.tShift[start_line]
    first_end = state.eMarks[start_line]
    if not state.src.startswith("%%", begin):
        return False
    rest = state.src[begin + 2 : first_end]
    line = start_line
    if "%%" in rest:
        # `%% a %% more` is an inline comment inside a paragraph
        if rest[rest.index("%%") + 2 :].strip():
            return False
    else:
        line += 1
        # an unclosed comment hides the rest of the note, as in Obsidian
        while line < end_line:
            text = state.src[state.bMarks[line] : state.eMarks[line]]
            if "%%" in text:
                if text[text.index("%%") + 2 :].strip():
                    return False
                break
            line += 1
        line = min(line, end_line - 1)
    if silent:
        return True
    token = state.push("kg_comment", "", 0)
    token.block = True
    token.content = state.src[begin : state.eMarks[line]]
    token.map = [start_line, line + 1]
    state.line = line + 1
    return True


def _blank_spanning_comments(state: StateCore) -> None:
    """Blank out `text %% ... %%` comments that cross a blank line, keeping every newline.

    Comments that own whole lines and comments inside one paragraph are left to the block
    and inline rules; only these would otherwise leak their middle paragraphs.
    """
    src = state.src
    if "%%" not in src:
        return
    marks = _comment_marks(src)
    pieces: list[str] = []
    last = 0
    for i in range(0, len(marks) - 1, 2):
        (start, line_start, _), (close, _, line_end) = marks[i], marks[i + 1]
        end = close + 2
        inside = src[start:end]
        # the block rule takes comments that own their first and last lines
        owns_lines = not src[line_start:start].strip() and not src[end:line_end].strip()
        if owns_lines or not _BLANK_LINE.search(inside):
            continue
        pieces.append(src[last:start])
        pieces.append("\n" * inside.count("\n"))
        last = end
    if pieces:
        pieces.append(src[last:])
        state.src = "".join(pieces)


def _comment_marks(src: str) -> list[tuple[int, int, int]]:
    """(offset, line start, line end) of each `%%` outside fenced code and backtick spans."""
    marks: list[tuple[int, int, int]] = []
    offset = 0
    for _, line, in_code in code_lines(src.split("\n"), _FENCE):
        if not in_code and "%%" in line:
            # drop backtick spans so `%%` in inline code is not a marker
            visible = _CODE_SPAN.sub(lambda c: " " * len(c.group(0)), line)
            pos = visible.find("%%")
            while pos >= 0:
                marks.append((offset + pos, offset, offset + len(line)))
                pos = visible.find("%%", pos + 2)
        offset += len(line) + 1
    return marks


def comments_plugin(md: MarkdownIt) -> None:
    """Register block and inline `%%` comments; both render as nothing."""
    md.core.ruler.before("block", "kg_comment_spans", _blank_spanning_comments)
    md.block.ruler.before(
        "fence", "kg_comment", _comment_block, {"alt": ["paragraph", "reference", "list"]}
    )
    md.inline.ruler.before("escape", "kg_comment", _comment_inline)
    md.add_render_rule("kg_comment", lambda *args: "")
