"""A linear, line-based scanner that gives `parse_body`'s answer for ordinary notes.

`fast_parse_body` handles the plain subset of Markdown most notes use and returns None for
anything it cannot reproduce exactly; the caller then runs the full markdown-it parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import unquote

from mdit_py_plugins.dollarmath.index import DOLLAR_EQNO_REV

from kgraph.problems import Problem, problem
from kgraph.vault.markdown import (
    _CONTEXT_MAX,
    _SENTENCE_END,
    ParsedBody,
    heading_anchor,
    make_markdown,
)
from kgraph.vault.note import Cell, Heading, Link, LinkKind
from kgraph.vault.syntax.blockids import _AT_END
from kgraph.vault.syntax.cells import _is_cell, parse_options
from kgraph.vault.syntax.relations import relation_at, relation_spans
from kgraph.vault.syntax.tags import _BEFORE, _TAG, tag_name
from kgraph.vault.syntax.wikilinks import _WIKI_IN_LINE, is_external, split_inner

__all__ = ["fast_parse_body"]

# characters or sequences whose handling differs enough that the full parser must decide
_ODD_SPACE = re.compile(
    r"[\r\0\t\x0b\x0c\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
)
_ODD_ASCII = ("\r", "\0", "\t", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f", "%%", "\\[")
_SPECIAL = re.compile(r"[\n!#$&*\[\\`_<~=^]")
_HEADING_UNSAFE = re.compile(r"[\\`*_\[\]<>&$#%=~!^|]")
_ORDERED = re.compile(r"(\d{1,9})[.)](?= |$)")
_HR = re.compile(r"-{3,} *")
_SETEXT_OR_RULE = re.compile(r"(?:[-=*_] *)+")
_ENTITY = re.compile(r"&(?:#|[A-Za-z0-9]+;)")
_MD_LINK = re.compile(r"\[([^\[\]\\`*_$<>&!#\n=~^%]*)\]\(([A-Za-z0-9._/~#%-]+)\)")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_HALF = _CONTEXT_MAX // 2
# a wikilink whose inner text holds no bracket or newline: `find("]]")` ends it right here
_WIKI_TOKEN = re.compile(r"\[\[([^\[\]\n]*)\]\]")
_STRONG = re.compile(r"\*\*(?=[^\s*])([^*\n]*?[^\s*])\*\*")


class _Unsure(Exception):
    """Raised deep inside the scan when the input leaves the handled subset."""


@dataclass
class _Scan:
    """Facts gathered while scanning one body."""

    path: str
    body_line: int
    links: list[Link] = field(default_factory=list)
    tags: dict[str, None] = field(default_factory=dict)
    headings: list[Heading] = field(default_factory=list)
    block_ids: list[str] = field(default_factory=list)
    cells: list[Cell] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    seen: dict[str, int] = field(default_factory=dict)


def fast_parse_body(body: str, *, path: str, body_line: int) -> ParsedBody | None:
    """`parse_body`'s result for a body in the handled subset, else None."""
    if _unsafe_body(body) or _rewrites_pipes(body):
        return None
    scan = _Scan(path, body_line)
    try:
        _scan_blocks(body.split("\n"), scan)
    except _Unsure:
        return None
    return ParsedBody(
        links=tuple(scan.links),
        tags=tuple(scan.tags),
        headings=tuple(scan.headings),
        block_ids=tuple(dict.fromkeys(scan.block_ids)),
        cells=tuple(scan.cells),
        problems=tuple(scan.problems),
    )


def _unsafe_body(body: str) -> bool:
    """Control characters, Unicode spaces, `%%` comments or `\\[` display math anywhere."""
    # substring tests are far faster than a regex scan for the common ASCII body
    if any(odd in body for odd in _ODD_ASCII):
        return True
    return not body.isascii() and _ODD_SPACE.search(body) is not None


# ---- blocks ---------------------------------------------------------------------------


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _is_delimiter_row(line: str) -> bool:
    """A line that could turn the paragraph above it into a table."""
    if "|" not in line and ":" not in line:
        return False
    stripped = line.strip(" ")
    return "-" in stripped and set(stripped) <= set("|:- ")


def _rewrites_pipes(body: str) -> bool:
    """Whether the table pre-pass would escape a pipe inside some wikilink."""
    if "[[" not in body or "|" not in body:
        return False
    for line in body.split("\n"):
        if "[[" in line and "|" in line and "|" in _WIKI_IN_LINE.sub("", line):
            return True
    return False


def _kind(text: str) -> str:
    """Block kind of a line's text after its indentation (or of a list item's first line)."""
    first = text[0]
    if first in "`~" and text.startswith(("```", "~~~")):
        return "fence"
    if first == "$" and text.startswith("$$"):
        return "math"
    if first == "#":
        level = len(text) - len(text.lstrip("#"))
        return "heading" if level <= 6 and text[level : level + 1] in ("", " ") else "text"
    if first in "<>:~|[" and (first in "<>:~" or text.startswith("[^")):
        raise _Unsure
    if first in "-=*_" and _SETEXT_OR_RULE.fullmatch(text):
        if _HR.fullmatch(text):
            return "hr"
        raise _Unsure
    if first in "-*+":
        if len(text) == 1 or text[1] == " ":
            return "bullet"
        return "text"
    if first.isdigit() and _ORDERED.match(text):
        return "ordered"
    return "text"


def _scan_blocks(lines: list[str], scan: _Scan) -> None:
    """Walk the lines once, tracking open list items, and hand paragraphs to the inline scan."""
    items: list[int] = []  # content columns of the open list items
    # the open paragraph: its lines (None when there is none), first line, container column
    para: list[str] | None = None
    p_start = p_indent = 0
    p_list = False
    k = 0
    total = len(lines)
    while k < total:
        line = lines[k]
        if not line:
            if para is not None:
                _paragraph(para, p_start, p_list, scan)
                para = None
            k += 1
            continue
        first = line[0]
        if first.isalpha():
            # the common case, a line of prose at the left margin, needs no further checks
            if para is not None:
                para.append(line)
            else:
                items.clear()
                para, p_start, p_indent, p_list = [line], k, 0, False
            k += 1
            continue
        if first == "#":
            level = len(line) - len(line.lstrip("#"))
            if level <= 6 and line[level : level + 1] == " ":
                # an ATX heading at the left margin ends any paragraph and list
                if para is not None:
                    _paragraph(para, p_start, p_list, scan)
                    para = None
                items.clear()
                _heading(line, k, scan)
                k += 1
                continue
        if first == "-" and line[1:2] == " " and line[2:3].isalpha():
            # a top-level bullet item of prose: closes any paragraph and any list item
            if para is not None:
                _paragraph(para, p_start, p_list, scan)
            items.clear()
            items.append(2)
            para, p_start, p_indent, p_list = [line[2:]], k, 2, True
            k += 1
            continue
        if not line.strip(" "):
            if para is not None:
                _paragraph(para, p_start, p_list, scan)
                para = None
            k += 1
            continue
        if _is_delimiter_row(line):
            raise _Unsure
        indent = len(line) - len(line.lstrip(" "))
        text = line[indent:]
        kind = _kind(text)
        if para is not None:
            if indent - p_indent >= 4:
                kind = "text"
            if kind == "hr":
                raise _Unsure  # `---` under a paragraph line makes a setext heading
            if kind == "text":
                para.append(line[min(p_indent, indent) :])
                k += 1
                continue
            if kind == "ordered" and indent >= p_indent:
                # only `1.` may interrupt a paragraph; other numbers continue it
                m = _ORDERED.match(text)
                if m is None or int(m.group(1)) != 1:
                    raise _Unsure
            _paragraph(para, p_start, p_list, scan)
            para = None
        while items and indent < items[-1]:
            items.pop()
        container = items[-1] if items else 0
        if indent - container >= 4:
            raise _Unsure
        if kind == "text":
            para, p_start, p_indent, p_list = [text], k, container, bool(items)
            k += 1
        elif kind == "heading":
            if items:
                raise _Unsure
            _heading(text, k, scan)
            k += 1
        elif kind == "hr":
            k += 1
        elif kind in ("fence", "math"):
            if k + 1 < total and _is_delimiter_row(lines[k + 1]):
                raise _Unsure  # the table rule runs first and would claim the opening line
            if kind == "fence":
                k = _fence(lines, k, indent, container, scan)
            else:
                k = _math_block(lines, k, text)
        else:
            marker = text.split(" ", 1)[0]
            rest = text[len(marker) :]
            spaces = len(rest) - len(rest.lstrip(" "))
            rest = rest[spaces:]
            # wide markers let deeper lines continue the paragraph: leave them to markdown-it
            if not rest or len(marker) + spaces > 4 or _kind(rest) != "text":
                raise _Unsure
            if rest.startswith("[") and not rest.startswith("[["):
                raise _Unsure  # a task-list checkbox changes the item's text
            items.append(indent + len(marker) + spaces)
            para, p_start, p_indent, p_list = [rest], k, items[-1], True
            k += 1
    if para is not None:
        _paragraph(para, p_start, p_list, scan)


def _heading(text: str, k: int, scan: _Scan) -> None:
    level = len(text) - len(text.lstrip("#"))
    content = text[level:].strip(" ")
    if not content or _HEADING_UNSAFE.search(content):
        raise _Unsure
    slug = _slug(content)
    # the numbering `heading_anchor(text, seen)` applies to repeated slugs
    count = scan.seen.get(slug, 0)
    scan.seen[slug] = count + 1
    anchor = slug if count == 0 else f"{slug}-{count}"
    scan.headings.append(Heading(level, " ".join(content.split()), anchor, scan.body_line + k))


@lru_cache(maxsize=65536)
def _slug(text: str) -> str:
    return heading_anchor(text)


def _fence(lines: list[str], k: int, indent: int, container: int, scan: _Scan) -> int:
    """Skip a fenced block starting at line `k`; record it as a cell if it is one."""
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
        lead = _indent(line)
        blank = not line.strip(" ")
        if not blank and lead < container:
            raise _Unsure
        rest = line[lead:]
        if (
            not blank
            and lead - container < 4
            and rest.startswith(char * size)
            and not rest.rstrip(" ").strip(char)
        ):
            break
        body.append(line[min(indent, lead) :] + "\n")
        j += 1
    else:
        raise _Unsure
    if info.startswith(("{python", "python")):
        options, code = parse_options("".join(body))
        if _is_cell(info, options):
            cell = Cell(len(scan.cells), code, options, scan.body_line + k)
            scan.cells.append(cell)
    return j + 1


def _math_block(lines: list[str], k: int, text: str) -> int:
    """Skip a `$$` block starting at line `k` exactly as the dollarmath block rule would."""
    if text.startswith("$$$"):
        raise _Unsure
    opening = text.strip()
    if len(opening) > 3:
        if opening.endswith("$$"):
            return k + 1
        if "$$" in text[2:] or DOLLAR_EQNO_REV.match(text[::-1]):
            raise _Unsure
    for j in range(k + 1, len(lines)):
        line = lines[j].lstrip(" ")
        if line.strip().endswith("$$"):
            return j + 1
        if not line.strip() or DOLLAR_EQNO_REV.match(line[::-1]):
            raise _Unsure
    raise _Unsure


def _paragraph(lines: list[str], start: int, in_list: bool, scan: _Scan) -> None:
    """Strip a trailing block id, then scan the inline content if it may hold links or tags."""
    content = "\n".join(lines).strip()
    caret = content.rfind("^")
    cut = content.rfind("\n") + 1
    # a block id is the last `^` of the last line, followed only by id characters
    if caret >= cut and (caret == cut or content[caret - 1] in " \t"):
        m = _AT_END.search(content, cut)
        if m:
            if m.start() == 0 and cut == 0 and in_list:
                raise _Unsure
            scan.block_ids.append(m.group(1))
            content = content[: m.start()].rstrip()
    # without `[` or `#` a paragraph holds no link, embed or tag, whatever else it has
    if "[" in content or "#" in content:
        _inline(content, scan.body_line + start, scan)


# ---- inline ---------------------------------------------------------------------------


# (offset in the plain text, Link arguments before the context)
_Pending = tuple[int, tuple[str, int, str, str | None, str | None, bool, LinkKind]]


def _strong_spans(src: str) -> set[int]:
    """Offsets of `**` runs that certainly pair up as strong emphasis, or raise."""
    marks: set[int] = set()
    for m in _STRONG.finditer(src):
        start, end = m.start(), m.end()
        before = src[start - 1] if start else " "
        after = src[end] if end < len(src) else " "
        closes_cleanly = after in " \n" or (after in ":.,;!?)" and m.group(1)[-1].isalnum())
        if before not in " \n" or not closes_cleanly:
            raise _Unsure
        marks.update((start, end - 2))
    if src.count("*") != 2 * len(marks):
        raise _Unsure
    return marks


def _inline(src: str, line0: int, scan: _Scan) -> None:
    """Scan one paragraph's inline content the way the configured inline rules would."""
    strong = _strong_spans(src) if "*" in src else set()
    spans = _relation_spans(src) if ":" in src else []
    parts: list[str] = []
    size = 0
    text_tail = False  # whether the last part is plain text (it may lose trailing spaces)
    pending: list[_Pending] = []
    multiline = "\n" in src
    line = line0
    counted = 0
    pos = 0
    n = len(src)
    search = _SPECIAL.search
    while pos < n:
        m = search(src, pos)
        if m is None:
            parts.append(src[pos:])
            size += n - pos
            break
        at = m.start()
        if at > pos:
            parts.append(src[pos:at])
            size += at - pos
            text_tail = True
        pos = at
        ch = src[at]
        token_text: str | None = None
        if ch == "\n":
            if text_tail and parts[-1].endswith(" "):
                kept = parts[-1].rstrip(" ")
                size -= len(parts[-1]) - len(kept)
                parts[-1] = kept
            parts.append("\n")
            size += 1
            pos += 1
            while pos < n and src[pos] == " ":
                pos += 1
            text_tail = False
            continue
        if ch == "[" or (ch == "!" and src.startswith("![[", pos)):
            if multiline:
                line += src.count("\n", counted, pos)
                counted = pos
            wm = _WIKI_TOKEN.match(src, pos) if ch == "[" else None
            if wm is not None:
                target, subpath, display, external, shown = _split(wm.group(1))
            if wm is not None and target and not external and display != "":
                # the ordinary link: no problem to report, not an embed
                relation = (relation_at(spans, pos) if spans else None) or "links_to"
                pending.append(
                    (size, (target, line, relation, subpath, display, False, "wikilink"))
                )
                token_text = display or shown
                pos = wm.end()
            elif src.startswith("[[", pos) or ch == "!":
                pos, token_text = _wikilink(src, pos, line, spans, size, pending, scan)
            else:
                located = not text_tail
                pos, token_text = _markdown_link(src, pos, line, spans, located, size, pending)
        elif ch == "#":
            tag = None
            if pos == 0 or src[pos - 1] in _BEFORE:
                tm = _TAG.match(src, pos)
                if tm:
                    name = tag_name(tm.group(1))
                    if name is not None:
                        tag = (name, tm.group(1).rstrip("/"))
            if tag is not None:
                scan.tags.setdefault(tag[0], None)
                token_text = "#" + tag[1]
                pos += len(token_text)
        elif ch == "$":
            end = _dollar_close(src, pos)
            if end >= 0:
                token_text = src[pos + 1 : end]
                pos = end + 1
        elif ch == "\\":
            close = src.find("\\)", pos + 2) if src.startswith("\\(", pos) else -1
            if close < 0 or close == pos + 2:
                raise _Unsure
            token_text = src[pos + 2 : close]
            pos = close + 2
        elif ch == "`":
            pos, token_text = _code_span(src, pos)
        elif ch == "*":
            if pos not in strong:
                raise _Unsure
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
            size += 1
            pos += 1
            text_tail = True
            continue
        if token_text:
            parts.append(token_text)
            size += len(token_text)
        text_tail = False
    if pending:
        plain = "".join(parts)
        simple = not ("\n" in plain or "!" in plain or "?" in plain or "  " in plain)
        for offset, args in pending:
            scan.links.append(Link(*args, _context_at(plain, offset, simple)))


def _context_at(plain: str, offset: int, simple: bool = False) -> str:
    """`markdown._context(plain, offset)` via bounded substring searches.

    `plain` holds no whitespace but spaces and newlines; `simple` says it also holds no
    newline, `!`, `?` or double space, so `. ` is the only sentence end.
    """
    lo = max(0, offset - _HALF)
    hi = min(len(plain), offset + _HALF)
    if simple:
        at = plain.rfind(". ", lo, offset)
        start = at + 2 if at >= 0 else lo
        at = plain.find(". ", offset, hi)
        end = at + 1 if at >= 0 else hi
    else:
        # a sentence end is `[.!?]` + space or newline, or a newline
        start = max(lo, plain.rfind("\n", lo, offset) + 1)
        for mark in (". ", "! ", "? "):
            at = plain.rfind(mark, lo, offset)
            if at + 2 > start and at >= 0:
                start = at + 2
        stop = _SENTENCE_END.search(plain, offset, hi)
        end = stop.start() + 1 if stop else hi
    if start == lo and lo > 0:
        space = plain.find(" ", lo, offset)
        if space >= 0:
            start = space + 1
    if end == hi and hi < len(plain):
        space = plain.rfind(" ", offset, hi)
        if space >= 0:
            end = space
    text = plain[start:end]
    if not simple and ("  " in text or "\n" in text):
        return " ".join(text.split())
    return text.strip(" ")


def _dollar_close(src: str, pos: int) -> int:
    """Index of the `$` closing inline math opened at `pos`, or -1 (dollarmath's rule)."""
    # the body holds no whitespace but space and newline, so those are all `isWhiteSpace` sees
    if pos + 1 >= len(src) or src[pos + 1] in " \n":
        return -1
    before = src[pos - 1]
    if before.isdigit() or (before == "\\" and _escaped(src, pos)):
        return -1
    start = pos + 1
    while True:
        end = src.find("$", start)
        if end < 0:
            return -1
        if src[end - 1] != "\\" or not _escaped(src, end):
            break
        start = end + 1
    if src[end - 1] in " \n":
        return -1
    if end + 1 < len(src) and src[end + 1].isdigit():
        return -1
    return end if end > pos + 1 else -1


def _escaped(src: str, back_pos: int) -> bool:
    # mirrors dollarmath, including its wrap-around read of src[-1] at the start
    slashes = 0
    while back_pos >= 0:
        back_pos -= 1
        if src[back_pos] == "\\":
            slashes += 1
        else:
            break
    return slashes % 2 == 1


def _code_span(src: str, pos: int) -> tuple[int, str]:
    end = pos
    while end < len(src) and src[end] == "`":
        end += 1
    size = end - pos
    look = end
    while True:
        start = src.find("`", look)
        if start < 0:
            raise _Unsure
        look = start
        while look < len(src) and src[look] == "`":
            look += 1
        if look - start == size:
            break
    content = src[end:start].replace("\n", " ")
    if content.startswith(" ") and content.endswith(" ") and content.strip(" "):
        content = content[1:-1]
    return look, content


def _wikilink(
    src: str,
    pos: int,
    line: int,
    spans: list[tuple[int, int, str]],
    offset: int,
    pending: list[_Pending],
    scan: _Scan,
) -> tuple[int, str]:
    embed = src[pos] == "!"
    start = pos + 1 if embed else pos
    close = src.find("]]", start + 2)
    if close < 0:
        raise _Unsure
    inner = src[start + 2 : close]
    if "\n" in inner or "[[" in inner:
        raise _Unsure
    raw = src[pos : close + 2]
    target, subpath, display, external, shown = _split(inner)
    end = close + 2
    if not target and not subpath:
        _problem(scan, line, "empty-link", f"empty link {raw}")
        return end, raw
    if external:
        _problem(scan, line, "external-wikilink", f"{raw} is treated as an external URL")
        url = target + ("#" + subpath if subpath else "")
        return end, display or url
    if display == "":
        _problem(scan, line, "empty-link", f"empty display text in {raw}")
        display = None
    relation = "embeds" if embed else relation_at(spans, pos) or "links_to"
    pending.append((offset, (target, line, relation, subpath or None, display, embed, "wikilink")))
    return end, shown if embed else display or shown


# relation lines such as `See also: [[Hub]]` recur across notes
_relation_spans = lru_cache(maxsize=16384)(relation_spans)


@lru_cache(maxsize=65536)
def _split(inner: str) -> tuple[str, str | None, str | None, bool, str]:
    """`split_inner`, whether the target is a URL, and the text shown without a display.

    Cached: hub links recur in many notes.
    """
    target, subpath, display = split_inner(inner)
    if target and subpath:
        shown = f"{target} > {subpath.replace('#', ' > ')}"
    else:
        shown = target or (subpath or "").lstrip("^")
    return target, subpath or None, display, is_external(target), shown


def _markdown_link(
    src: str,
    pos: int,
    line: int,
    spans: list[tuple[int, int, str]],
    located: bool,
    offset: int,
    pending: list[_Pending],
) -> tuple[int, str]:
    """A `[text](note.md)` link; `located` says whether markdown-it records its position.

    Text right before the link takes the position instead, and the link then gets no relation.
    """
    m = _MD_LINK.match(src, pos)
    if m is None or _BAD_PERCENT.search(m.group(2)):
        raise _Unsure
    label = m.group(1)
    href = make_markdown().normalizeLink(m.group(2))
    if href.startswith(("#", "//")) or is_external(href):
        return m.end(), label
    target, _, fragment = unquote(href).partition("#")
    relation = (relation_at(spans, pos) if located else None) or "links_to"
    shown = label.strip() or None
    pending.append((offset, (target, line, relation, fragment or None, shown, False, "markdown")))
    return m.end(), label


def _problem(scan: _Scan, line: int, code: str, message: str) -> None:
    scan.problems.append(problem(scan.path, line, code, message))
