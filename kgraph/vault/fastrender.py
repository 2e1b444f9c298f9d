"""A linear renderer that gives `render_body`'s HTML for ordinary notes.

markdown-it-py builds a token stream, then renders it. For the plain Markdown most notes use
(paragraphs, ATX headings, tight lists, fences, `$$` blocks, rules, and inline wikilinks,
Markdown links to notes, math, tags, code and strong text) one pass over the lines writes
the same HTML and calls the same hooks with the same arguments, several times faster.
`fast_render_body` returns None for anything outside that subset and the caller runs
markdown-it. It reads the source as the fast scanner does (`fastscan`, held to the parser
by a differential test); its HTML is held to the renderer the same way.

The pass compiles (`compile_body`): static HTML with the hook calls left open, plus the
facts parsing finds. A build compiles each body while reading it and keeps a small
`Template`, so its page is filled in later without reading the body again.
"""

from __future__ import annotations

import html
import zlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from markdown_it.common.utils import escapeHtml
from mdit_py_plugins.dollarmath.index import DOLLAR_EQNO_REV

from kgraph.vault.fastscan import (
    _BAD_PERCENT,
    _BEFORE,
    _ENTITY,
    _MD_LINK,
    _ORDERED,
    _SPECIAL,
    _TAG,
    _WIKI_TOKEN,
    _code_span,
    _context_at,
    _dollar_close,
    _is_delimiter_row,
    _kind,
    _relation_spans,
    _rewrites_pipes,
    _slug,
    _split,
    _strong_spans,
    _unsafe_body,
    _Unsure,
)
from kgraph.vault.hooks import RenderHooks
from kgraph.vault.markdown import ParsedBody, RenderedBody, make_markdown
from kgraph.vault.note import Cell, Heading, Link, Note
from kgraph.vault.syntax.blockids import _AT_END
from kgraph.vault.syntax.cells import _is_cell, highlight_code, parse_options
from kgraph.vault.syntax.relations import relation_at
from kgraph.vault.syntax.tags import tag_name
from kgraph.vault.syntax.wikilinks import is_external

__all__ = ["Compiled", "Template", "compile_body", "fast_render_body", "fill"]

_CLOSE = {"ul": "</li>\n</ul>\n", "ol": "</li>\n</ol>\n"}


# A compiled body: static HTML and the hook calls between, in document order.
#   ("link", Link, escaped text) -> hooks.link(...)
#   ("math", latex, display, line) -> hooks.math(...)
#   ("cell", Cell) -> hooks.cell(...)
Part = str | tuple[Any, ...]


@dataclass(frozen=True)
class Compiled:
    """A body read once: its HTML with the hook calls left open, and what parsing it
    finds (`ParsedBody`'s facts), so a build that reads a note renders it later without
    reading it again."""

    parts: tuple[Part, ...]
    headings: tuple[Heading, ...]
    links: tuple[Link, ...]
    tags: tuple[str, ...]
    cells: tuple[Cell, ...]

    def parsed(self) -> ParsedBody:
        return ParsedBody(self.links, self.tags, self.headings, (), self.cells, ())


class _Page:
    """Output and per-body state of one compile."""

    __slots__ = ("body_line", "cells", "headings", "links", "out", "seen", "tags")

    def __init__(self, body_line: int) -> None:
        self.body_line = body_line
        self.out: list[Part] = []
        self.headings: list[Heading] = []
        self.links: list[Link] = []
        self.tags: dict[str, None] = {}
        self.seen: dict[str, int] = {}
        self.cells: list[Cell] = []


def fast_render_body(
    body: str, hooks: RenderHooks, *, path: str, body_line: int
) -> RenderedBody | None:
    """`render_body`'s result for a body in the handled subset, else None.

    `path` is unused: a body whose parse reports a problem is left to markdown-it.
    """
    compiled = compile_body(body, body_line)
    return None if compiled is None else fill(compiled, hooks)


def compile_body(body: str, body_line: int) -> Compiled | None:
    """The body compiled, if it is in the handled subset; else None."""
    if _unsafe_body(body) or _rewrites_pipes(body):
        return None
    page = _Page(body_line)
    try:
        _blocks(body.split("\n"), page)
    except _Unsure:
        return None
    parts: list[Part] = []
    for part in page.out:  # runs of static HTML joined: fewer parts to keep and walk
        if isinstance(part, str) and parts and isinstance(parts[-1], str):
            parts[-1] += part
        else:
            parts.append(part)
    return Compiled(
        tuple(parts),
        tuple(page.headings),
        tuple(page.links),
        tuple(page.tags),
        tuple(page.cells),
    )


@dataclass(frozen=True)
class Template:
    """A compiled body kept between reading and rendering, small: its static HTML pieces
    zlib-packed (joined by NUL, which no handled body holds) and the hook calls between
    them, naming the note's own links and cells by position. A build keeps one per note
    in the process its render workers fork from, so its size counts three times."""

    packed: bytes
    calls: tuple[tuple[Any, ...], ...]  # ("link", i, text), ("math", ...), ("cell", i)

    @staticmethod
    def of(compiled: Compiled) -> Template:
        statics = [""]
        calls: list[tuple[Any, ...]] = []
        links = cells = 0
        for part in compiled.parts:
            if isinstance(part, str):
                statics[-1] += part
                continue
            if part[0] == "link":
                calls.append(("link", links, part[2]))
                links += 1
            elif part[0] == "cell":
                calls.append(("cell", cells))
                cells += 1
            else:
                calls.append(part)
            statics.append("")
        packed = zlib.compress("\0".join(statics).encode("utf-8", "surrogatepass"), 1)
        return Template(packed, tuple(calls))

    def fill(self, hooks: RenderHooks, note: Note) -> RenderedBody | None:
        """The body's HTML for `note` (the note it was compiled from), or None if the
        note does not match it."""
        statics = zlib.decompress(self.packed).decode("utf-8", "surrogatepass").split("\0")
        wanted = sum(1 for call in self.calls if call[0] == "link")
        # the body's links are the last of the note's (frontmatter links come first)
        links = note.links[len(note.links) - wanted :] if wanted else ()
        if len(statics) != len(self.calls) + 1 or len(links) != wanted:
            return None
        out = [statics[0]]
        for call, static in zip(self.calls, statics[1:], strict=True):
            if call[0] == "link":
                out.append(str(hooks.link(links[call[1]], call[2])))
            elif call[0] == "math":
                out.append(str(hooks.math(call[1], call[2], call[3])))
            else:
                out.append(str(hooks.cell(note.cells[call[1]])))
            out.append(static)
        return RenderedBody(html="".join(out), toc=note.headings, raw=False)


def fill(compiled: Compiled, hooks: RenderHooks) -> RenderedBody:
    """The body's HTML: the compiled parts with each hook call made, in document order."""
    out: list[str] = []
    for part in compiled.parts:
        if isinstance(part, str):
            out.append(part)
        elif part[0] == "link":
            out.append(str(hooks.link(part[1], part[2])))
        elif part[0] == "math":
            out.append(str(hooks.math(part[1], part[2], part[3])))
        else:
            out.append(str(hooks.cell(part[1])))
    return RenderedBody(html="".join(out), toc=compiled.headings, raw=False)


# ---- blocks ---------------------------------------------------------------------------


def _marker(text: str, kind: str) -> str:
    """What must match for two list items to share a list: the bullet or the delimiter."""
    if kind == "bullet":
        return text[0]
    m = _ORDERED.match(text)
    assert m is not None
    return m.group(0)[-1]


def _blocks(lines: list[str], page: _Page) -> None:
    """Walk the lines once: paragraphs, headings, rules, fences, `$$` blocks, tight lists."""
    out = page.out
    para: list[str] | None = None  # the open paragraph's lines
    p_start = 0
    # the open list ("ul"/"ol" or None), the marker its items share, its items' content
    # column, and whether a blank line followed its last item
    tag: str | None = None
    marker = ""
    column = 0
    blank = False
    k = 0
    total = len(lines)
    while k < total:
        line = lines[k]
        if not line or not line.strip(" "):
            if para is not None:
                _paragraph(para, p_start, tag is not None, page)
                para = None
            blank = tag is not None
            k += 1
            continue
        if tag is None and line[0].isalpha():
            # the common case, prose at the left margin outside a list
            if para is None:
                para, p_start = [line], k
            else:
                para.append(line)
            k += 1
            continue
        if _is_delimiter_row(line):
            raise _Unsure  # a table, or a paragraph line the table rule may claim
        indent = len(line) - len(line.lstrip(" "))
        text = line[indent:]
        kind = _kind(text)
        if tag is not None:
            if kind in ("bullet", "ordered") and indent < column:
                if indent > 3:
                    raise _Unsure
                if _marker(text, kind) == marker:
                    if blank:
                        raise _Unsure  # a blank line between items makes the list loose
                    if para is not None:
                        _paragraph(para, p_start, True, page)
                    out.append("</li>\n")
                    column, first = _item(text, indent, kind, False, page)
                    para, p_start = [first], k
                    k += 1
                    continue
            elif blank:
                if indent >= column:
                    raise _Unsure  # a second block inside the item
            elif para is not None and (kind == "text" or indent - column >= 4):
                # the item's paragraph goes on, indented or lazily; indentation past the
                # item's column stays (a code span spanning lines keeps it)
                para.append(line[min(column, indent) :])
                k += 1
                continue
            elif indent >= column or kind == "hr":
                raise _Unsure  # a block nested in the item, or a setext underline
            # this line ends the list
            if para is not None:
                _paragraph(para, p_start, True, page)
                para = None
            out.append(_CLOSE[tag])
            tag = None
        if para is not None:
            if indent >= 4 or kind == "text":
                para.append(line)
                k += 1
                continue
            if kind == "hr":
                raise _Unsure  # `---` under a paragraph line makes a setext heading
            if kind == "ordered":
                m = _ORDERED.match(text)
                if m is None or int(m.group(1)) != 1:
                    raise _Unsure  # only a list starting at 1 may interrupt a paragraph
            _paragraph(para, p_start, False, page)
            para = None
        if indent >= 4:
            raise _Unsure  # an indented code block
        if kind == "text":
            para, p_start = [text], k
            k += 1
        elif kind == "heading":
            _heading(text, k, page)
            k += 1
        elif kind == "hr":
            out.append("<hr />\n")
            k += 1
        elif kind in ("fence", "math"):
            if k + 1 < total and _is_delimiter_row(lines[k + 1]):
                raise _Unsure  # the table rule runs first and would claim the opening line
            if kind == "fence":
                k = _fence(lines, k, indent, page)
            else:
                k = _math_block(lines, k, text, page)
        else:
            tag = "ul" if kind == "bullet" else "ol"
            marker = _marker(text, kind)
            column, first = _item(text, indent, kind, True, page)
            para, p_start, blank = [first], k, False
            k += 1
    if para is not None:
        _paragraph(para, p_start, tag is not None, page)
    if tag is not None:
        out.append(_CLOSE[tag])


def _item(text: str, indent: int, kind: str, opens: bool, page: _Page) -> tuple[int, str]:
    """Open a list item (and its list when `opens`); return its content column and text."""
    mark = text.split(" ", 1)[0]
    rest = text[len(mark) :]
    spaces = len(rest) - len(rest.lstrip(" "))
    rest = rest[spaces:]
    # wide markers let deeper lines continue the paragraph: leave them to markdown-it
    if not rest or len(mark) + spaces > 4 or _kind(rest) != "text":
        raise _Unsure
    if rest.startswith("[") and not rest.startswith("[["):
        raise _Unsure  # a task-list checkbox
    if opens:
        if kind == "bullet":
            page.out.append("<ul>\n<li>")
        else:
            start = int(mark[:-1])
            page.out.append("<ol>\n<li>" if start == 1 else f'<ol start="{start}">\n<li>')
    else:
        page.out.append("<li>")
    return indent + len(mark) + spaces, rest


def _heading(text: str, k: int, page: _Page) -> None:
    level = len(text) - len(text.lstrip("#"))
    content = text[level:].strip(" ")
    if not content or any(c in content for c in "\\`*_[]<>&$#%=~!^|"):
        raise _Unsure
    slug = _slug(content)
    # the numbering `heading_anchor(text, seen)` applies to repeated slugs
    count = page.seen.get(slug, 0)
    page.seen[slug] = count + 1
    anchor = slug if count == 0 else f"{slug}-{count}"
    page.headings.append(Heading(level, " ".join(content.split()), anchor, page.body_line + k))
    page.out.append(f'<h{level} id="{escapeHtml(anchor)}">{escapeHtml(content)}</h{level}>\n')


def _fence(lines: list[str], k: int, indent: int, page: _Page) -> int:
    """Render a fenced block starting at line `k` at the top level; return the next line."""
    text = lines[k][indent:]
    char = text[0]
    size = len(text) - len(text.lstrip(char))
    info = text[size:].strip()
    if (char == "`" and "`" in info) or "\\" in info or "&" in info:
        raise _Unsure
    body: list[str] = []
    j = k + 1
    while j < len(lines):
        line = lines[j]
        lead = len(line) - len(line.lstrip(" "))
        rest = line[lead:]
        if lead < 4 and rest.startswith(char * size) and not rest.rstrip(" ").strip(char):
            break
        body.append(line[min(indent, lead) :] + "\n")
        j += 1
    else:
        raise _Unsure  # an unclosed fence is reported by the parser
    code = "".join(body)
    if info.startswith(("{python", "python")):
        options, source = parse_options(code)
        if _is_cell(info, options):
            cell = Cell(len(page.cells), source, options, page.body_line + k)
            page.cells.append(cell)
            page.out.append(("cell", cell))
            page.out.append("\n")
            return j + 1
    lang = info.split(None, 1)[0] if info else ""
    page.out.append(highlight_code(code, lang.strip("{}")))
    return j + 1


def _math_block(lines: list[str], k: int, text: str, page: _Page) -> int:
    """Render a `$$` block starting at line `k` as dollarmath reads it; return the next line."""
    if text.startswith("$$$"):
        raise _Unsure
    opening = text.strip()
    if len(opening) > 3:
        if opening.endswith("$$") and "$$" not in opening[2:-2]:
            _display(opening[2:-2], k, page)
            return k + 1
        raise _Unsure  # an equation label, or a `$$` mid-line
    for j in range(k + 1, len(lines)):
        line = lines[j].strip()
        if line.endswith("$$"):
            # the source from after the opening `$$` to before the closing one
            closing = lines[j].rstrip()[:-2]
            _display("\n".join([text[2:], *lines[k + 1 : j], closing]), k, page)
            return j + 1
        if not line or DOLLAR_EQNO_REV.match(lines[j][::-1]):
            raise _Unsure  # a blank line ends no block; `$$ (1)` is a label
    raise _Unsure


def _display(latex: str, k: int, page: _Page) -> None:
    page.out.append(("math", latex.strip(), True, page.body_line + k))
    page.out.append("\n")


def _paragraph(lines: list[str], start: int, in_item: bool, page: _Page) -> None:
    """A paragraph, or the text of a tight list item (whose `<p>` markdown-it hides)."""
    content = "\n".join(lines).strip()
    caret = content.rfind("^")
    if caret >= content.rfind("\n") + 1 and _AT_END.search(content, content.rfind("\n") + 1):
        raise _Unsure  # a block id
    if not in_item:
        page.out.append("<p>")
    _inline(content, page.body_line + start, page)
    if not in_item:
        page.out.append("</p>\n")


# ---- inline ---------------------------------------------------------------------------


def _inline(src: str, line0: int, page: _Page) -> None:
    """Compile one paragraph's inline content, in the configured inline rules' reading."""
    strong = _strong_spans(src) if "*" in src else set()
    spans = _relation_spans(src) if ":" in src else []
    out: list[Part] = []  # HTML pieces; a link's piece is filled once its context is known
    parts: list[str] = []  # the plain text, as `_walk_inline` builds it for link contexts
    size = 0
    text_tail = False  # whether the last piece is plain text (it may lose trailing spaces)
    # (piece index, plain offset, Link arguments before the context, escaped text)
    links: list[tuple[int, int, tuple[str, int, str, str | None, str | None, bool, str], str]]
    links = []
    opened = False  # inside `**`
    line, counted = line0, 0
    pos = 0
    n = len(src)
    search = _SPECIAL.search
    while pos < n:
        m = search(src, pos)
        if m is None:
            chunk = src[pos:]
            parts.append(chunk)
            out.append(escapeHtml(chunk))
            size += n - pos
            break
        at = m.start()
        if at > pos:
            chunk = src[pos:at]
            parts.append(chunk)
            out.append(escapeHtml(chunk))
            size += at - pos
            text_tail = True
        pos = at
        ch = src[at]
        if ch == "\n":
            brk = "\n"
            if text_tail and parts[-1].endswith(" "):
                kept = parts[-1].rstrip(" ")
                trimmed = len(parts[-1]) - len(kept)
                if trimmed >= 2:
                    brk = "<br />\n"
                size -= trimmed
                parts[-1] = kept
                out[-1] = out[-1][: len(out[-1]) - trimmed]
            parts.append("\n")
            out.append(brk)
            size += 1
            pos += 1
            while pos < n and src[pos] == " ":
                pos += 1
            text_tail = False
            continue
        token_text: str | None = None
        piece: Part = ""
        if ch == "[" or (ch == "!" and src.startswith("![[", pos)):
            if ch == "!":
                raise _Unsure  # an embed
            line += src.count("\n", counted, pos)
            counted = pos
            wm = _WIKI_TOKEN.match(src, pos)
            if wm is not None:
                target, subpath, display, external, shown = _split(wm.group(1))
                if not target or external or display == "":
                    raise _Unsure  # empty or external: the parser reports a problem
                relation = (relation_at(spans, pos) if spans else None) or "links_to"
                token_text = display or shown
                links.append(
                    (
                        len(out),
                        size,
                        (target, line, relation, subpath, display, False, "wikilink"),
                        html.escape(token_text, quote=True),
                    )
                )
                pos = wm.end()
            elif src.startswith("[[", pos):
                raise _Unsure
            else:
                mm = _MD_LINK.match(src, pos)
                if mm is None or _BAD_PERCENT.search(mm.group(2)):
                    raise _Unsure
                href = make_markdown().normalizeLink(mm.group(2))
                if href.startswith(("#", "//")) or is_external(href):
                    raise _Unsure  # an ordinary link, rendered with URL checks
                label = mm.group(1)
                target, _, fragment = unquote(href).partition("#")
                # text right before the link takes its position, and then it has no relation
                located = not text_tail
                relation = (relation_at(spans, pos) if located else None) or "links_to"
                fields = (target, line, relation, fragment or None, label.strip() or None)
                links.append((len(out), size, (*fields, False, "markdown"), escapeHtml(label)))
                token_text = label
                pos = mm.end()
            out.append("")  # the link's slot
        elif ch == "#":
            if pos == 0 or src[pos - 1] in _BEFORE:
                tm = _TAG.match(src, pos)
                if tm:
                    name = tag_name(tm.group(1))
                    if name is not None:
                        raw = tm.group(1).rstrip("/")
                        token_text = "#" + raw
                        pos += len(token_text)
                        piece = f'<span class="tag" data-tag="{_attr(name)}">#{_text(raw)}</span>'
                        page.tags.setdefault(name, None)
        elif ch == "$":
            end = _dollar_close(src, pos)
            if end >= 0:
                token_text = src[pos + 1 : end]
                piece = ("math", token_text.strip(), False, _math_line(src, pos, line0, text_tail))
                pos = end + 1
        elif ch == "\\":
            close = src.find("\\)", pos + 2) if src.startswith("\\(", pos) else -1
            if close < 0 or close == pos + 2:
                raise _Unsure
            token_text = src[pos + 2 : close]
            piece = ("math", token_text.strip(), False, _math_line(src, pos, line0, text_tail))
            pos = close + 2
        elif ch == "`":
            pos, token_text = _code_span(src, pos)
            piece = f"<code>{escapeHtml(token_text)}</code>"
        elif ch == "*":
            if pos not in strong:
                raise _Unsure
            out.append("</strong>" if opened else "<strong>")
            opened = not opened
            pos += 2
            text_tail = False
            continue
        elif (
            ch in "_<"
            or src.startswith(("~~", "==", "^[", "!["), pos)
            or (ch == "&" and _ENTITY.match(src, pos))
        ):
            raise _Unsure
        if token_text is None:
            parts.append(ch)
            out.append(escapeHtml(ch))
            size += 1
            pos += 1
            text_tail = True
            continue
        if piece:
            out.append(piece)
        if token_text:
            parts.append(token_text)
            size += len(token_text)
        text_tail = False
    if links:
        plain = "".join(parts)
        simple = not ("\n" in plain or "!" in plain or "?" in plain or "  " in plain)
        for slot, offset, args, text in links:
            link = Link(*args, _context_at(plain, offset, simple))  # type: ignore[arg-type]
            out[slot] = ("link", link, text)
            page.links.append(link)
    page.out.extend(out)


def _math_line(src: str, pos: int, line0: int, text_tail: bool) -> int:
    """The line markdown-it gives an inline formula: 0 when text comes right before it.

    Its rule records a position on the first token it pushes, and pending text is pushed
    first; the site's hook finds such a formula's line itself when it needs it.
    """
    return 0 if text_tail else line0 + src.count("\n", 0, pos)


def _attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;")


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
