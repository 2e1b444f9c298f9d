"""Note bodies: one configured markdown-it parser, the facts it finds, and the HTML it renders.

`parse_body` and `render_body` share one token stream per body (a small cache), so a page
costs one parse. Anchors: headings get `heading_anchor(text)`, blocks `block-<id>`.
"""

from __future__ import annotations

import gc
import html
import os
import re
import unicodedata
from collections.abc import MutableMapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from mdit_py_plugins.deflist import deflist_plugin
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.tasklists import tasklists_plugin

from kgraph.problems import Problem
from kgraph.vault.hooks import RenderHooks
from kgraph.vault.note import Cell, Heading, Link
from kgraph.vault.syntax.blockids import block_anchor, blockids_plugin
from kgraph.vault.syntax.callouts import callouts_plugin
from kgraph.vault.syntax.cells import cells_plugin
from kgraph.vault.syntax.comments import comments_plugin
from kgraph.vault.syntax.highlights import highlights_plugin
from kgraph.vault.syntax.htmltags import RAW, htmltags_plugin
from kgraph.vault.syntax.math import MATH_TOKENS, math_plugin
from kgraph.vault.syntax.relations import relation_at, relation_spans
from kgraph.vault.syntax.scan import add_problem
from kgraph.vault.syntax.tags import tags_plugin
from kgraph.vault.syntax.wikilinks import is_external, wikilinks_plugin

__all__ = [
    "ParsedBody",
    "RenderedBody",
    "anchor_for_subpath",
    "block_anchor",
    "heading_anchor",
    "make_markdown",
    "parse_body",
    "render_body",
]

_SENTENCE_END = re.compile(r"[.!?]\s|\n")
_CONTEXT_MAX = 200


@dataclass(frozen=True)
class ParsedBody:
    """What the graph needs from a body: links, tags, headings, block ids, cells, problems."""

    links: tuple[Link, ...]
    tags: tuple[str, ...]
    headings: tuple[Heading, ...]
    block_ids: tuple[str, ...]
    cells: tuple[Cell, ...]
    problems: tuple[Problem, ...]


@dataclass(frozen=True)
class RenderedBody:
    html: str
    toc: tuple[Heading, ...]
    raw: bool = True  # holds raw HTML or an unsafe URL: sanitise before publishing


def heading_anchor(text: str, seen: dict[str, int] | None = None) -> str:
    """Slug of a heading (lowercase words joined by `-`); `seen` makes it unique per page."""
    text = unicodedata.normalize("NFC", text).casefold()
    slug = "-".join(re.findall(r"[^\W_]+(?:[_'’][^\W_]+)*", text)).replace("'", "")
    slug = slug.replace("’", "") or "section"
    if seen is None:
        return slug
    count = seen.get(slug, 0)
    seen[slug] = count + 1
    return slug if count == 0 else f"{slug}-{count}"


def anchor_for_subpath(subpath: str) -> str:
    """Element id a link subpath points at: `H1#H2` -> anchor of H2, `^id` -> block anchor."""
    last = subpath.rsplit("#", 1)[-1].strip()
    if last.startswith("^"):
        return block_anchor(last)
    return heading_anchor(last)


@lru_cache(maxsize=1)
def make_markdown() -> MarkdownIt:
    """The configured parser (built once per process)."""
    md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    footnote_plugin(md)
    tasklists_plugin(md)
    deflist_plugin(md)
    math_plugin(md)
    comments_plugin(md)
    wikilinks_plugin(md)
    tags_plugin(md)
    highlights_plugin(md)
    callouts_plugin(md)
    blockids_plugin(md)
    cells_plugin(md)
    htmltags_plugin(md)
    md.core.ruler.push("kg_unnest_links", _unnest_links)
    md.core.ruler.push("kg_collect", _collect)
    return md


def _unnest_links(state: StateCore) -> None:
    """An autolink inside a link's text (`[<https://a>](b)`) stays its text: markdown-it
    nests the two anchors, which HTML cannot hold (a browser or the sanitiser would
    split the outer link), and the link-to-note fold would pair the wrong ends."""
    for block in state.tokens:
        children = block.children
        if block.type != "inline" or not children:
            continue
        depth, kept = 0, []
        for child in children:
            if child.type == "link_open":
                depth += 1
                if depth > 1:
                    continue
            elif child.type == "link_close":
                depth -= 1
                if depth > 0:
                    continue
            kept.append(child)
        if len(kept) != len(children):
            block.children = kept


# ---- collecting facts from the token stream -------------------------------------------


@dataclass
class _Found:
    links: list[Link]
    tags: dict[str, None]
    headings: list[Heading]


def _collect(state: StateCore) -> None:
    env = state.env
    found = _Found([], {}, [])
    env["kg_found"] = found
    seen: dict[str, int] = {}
    body_line = int(env.get("kg_body_line", 1))
    tokens = state.tokens
    for i, token in enumerate(tokens):
        if token.type != "inline" or token.children is None:
            continue
        first = token.map[0] if token.map else 0
        in_heading = i > 0 and tokens[i - 1].type == "heading_open"
        plain = _walk_inline(token, env, found, body_line + first, in_heading)
        if i > 0 and tokens[i - 1].type == "paragraph_open" and _only_embed(token):
            # an embed alone in its paragraph is a block of its own, not text in a <p>
            tokens[i - 1].hidden = tokens[i + 1].hidden = True
            token.children[0].meta["alone"] = True
        if i > 0 and tokens[i - 1].type == "heading_open":
            opener = tokens[i - 1]
            anchor = heading_anchor(plain, seen)
            if opener.attrGet("id") is None:
                opener.attrSet("id", anchor)
            level = int(opener.tag[1:]) if opener.tag[1:].isdigit() else 1
            text = " ".join(plain.split())
            found.headings.append(Heading(level, text, anchor, body_line + first))


def _only_embed(inline: Token) -> bool:
    children = inline.children or []
    return (
        len(children) == 1
        and children[0].type == "wikilink"
        and bool(children[0].meta.get("link"))
        and children[0].meta["link"].embed
    )


def _walk_inline(
    inline: Token, env: MutableMapping[str, Any], found: _Found, line0: int, in_heading: bool
) -> str:
    """Finish link tokens of one inline block; return its plain text for contexts/headings."""
    content = inline.content
    spans = relation_spans(content)
    children = _collapse_markdown_links(inline.children or [])
    inline.children = children
    parts: list[str] = []
    size = 0
    last_pos, line = 0, line0
    pending: list[tuple[int, int, dict[str, Any]]] = []  # (child index, plain offset, fields)
    for idx, child in enumerate(children):
        pos = child.meta.get("pos") if child.meta else None
        if pos is not None and pos >= last_pos:
            line += content.count("\n", last_pos, pos)
            last_pos = pos
        if child.meta and pos is not None:
            child.meta["line"] = line
        kind = child.type
        text = ""
        if kind in ("text", "code_inline") or kind in MATH_TOKENS:
            text = child.content
        elif kind in ("softbreak", "hardbreak"):
            text = "\n"
        elif kind == "tag":
            if not in_heading:  # a `#word` in a heading is heading text (PARSING.md P1 27)
                found.tags.setdefault(child.meta["tag"], None)
            text = "#" + child.content
        elif kind in ("wikilink", "kg_mdlink", "image"):
            fields = _link_fields(child, env, line - int(env.get("kg_body_line", 1)))
            if fields is not None:
                fields["line"] = line
                rel = relation_at(spans, pos) if pos is not None else None
                if not fields["embed"]:
                    fields["relation"] = rel or "links_to"
                pending.append((idx, size, fields))
            text = child.meta.get("text", "") if child.meta else ""
        if text:
            parts.append(text)
            size += len(text)
    plain = "".join(parts)
    for idx, offset, fields in pending:
        link = Link(context=_context(plain, offset), **fields)
        children[idx].meta["link"] = link
        found.links.append(link)
    return plain


def _link_fields(child: Token, env: MutableMapping[str, Any], offset: int) -> dict[str, Any] | None:
    """Link fields for a wikilink / Markdown link / image token, or None if it is no link."""
    meta = child.meta
    if child.type == "wikilink":
        target, subpath, display = meta["target"], meta["subpath"], meta["display"]
        raw = child.content
        if not target and not subpath:
            add_problem(env, offset, "empty-link", f"empty link {raw}")
            meta["text"] = raw
            return None
        if is_external(target):
            add_problem(env, offset, "external-wikilink", f"{raw} is treated as an external URL")
            url = target + ("#" + subpath if subpath else "")
            meta["external"] = url
            meta["text"] = display or url
            return None
        if display == "":
            add_problem(env, offset, "empty-link", f"empty display text in {raw}")
            display = None
        embed = bool(meta["embed"])
        if target and subpath:
            shown = f"{target} > {subpath.replace('#', ' > ')}"
        else:
            shown = target or subpath.lstrip("^")
        meta["text"] = shown if embed else display or shown
        return {
            "target": target,
            "subpath": subpath or None,
            "display": display,
            "embed": embed,
            "kind": "wikilink",
            "relation": "embeds" if embed else "links_to",
        }
    href = child.attrGet("href" if child.type == "kg_mdlink" else "src")
    if not isinstance(href, str) or not href or href.startswith(("#", "//")) or is_external(href):
        return None
    path, _, fragment = unquote(href).partition("#")
    embed = child.type == "image"
    if embed:
        child.meta = child.meta or {}
        child.meta["text"] = child.content
        child.type = "wikilink"
    shown = str(child.meta.get("text", "")).strip() if child.meta else ""
    return {
        "target": path,
        "subpath": fragment or None,
        "display": shown or None,  # the link text, or an image's alt text (a size, for Obsidian)
        "embed": embed,
        "kind": "markdown",
        "relation": "embeds" if embed else "links_to",
    }


def _collapse_markdown_links(children: list[Token]) -> list[Token]:
    """Fold `link_open … link_close` to a note into one `kg_mdlink` token holding its text."""
    if not any(c.type == "link_open" for c in children):
        return children
    out: list[Token] = []
    i = 0
    while i < len(children):
        child = children[i]
        href = child.attrGet("href") if child.type == "link_open" else None
        if (
            isinstance(href, str)
            and href
            and not href.startswith(("#", "//"))
            and not is_external(href)
        ):
            j = i + 1
            while j < len(children) and children[j].type != "link_close":
                j += 1
            inner = children[i + 1 : j]
            token = Token("kg_mdlink", "a", 0, meta={**(child.meta or {})}, children=inner)
            token.attrs = dict(child.attrs)
            token.meta["text"] = "".join(t.content for t in inner if t.type == "text")
            out.append(token)
            i = j + 1
            continue
        out.append(child)
        i += 1
    return out


def _context(plain: str, offset: int) -> str:
    """The sentence of `plain` around `offset`, at most about 200 characters."""
    lo = max(0, offset - _CONTEXT_MAX // 2)
    hi = min(len(plain), offset + _CONTEXT_MAX // 2)
    start = lo
    for m in _SENTENCE_END.finditer(plain, lo, offset):
        start = m.end()
    stop = _SENTENCE_END.search(plain, offset, hi)
    end = stop.start() + 1 if stop else hi
    # a window cut mid-sentence should not also cut a word
    if start == lo and lo > 0 and " " in plain[lo:offset]:
        start = plain.index(" ", lo, offset) + 1
    if end == hi and hi < len(plain) and " " in plain[offset:hi]:
        end = plain.rindex(" ", offset, hi)
    return " ".join(plain[start:end].split())


# ---- public entry points --------------------------------------------------------------


@lru_cache(maxsize=16)
def _parse(body: str, path: str, body_line: int) -> tuple[list[Token], dict[str, Any]]:
    env: dict[str, Any] = {"kg_path": path, "kg_body_line": body_line}
    collecting = gc.isenabled()
    # tokens form no cycles; pausing the cycle collector keeps huge notes linear
    gc.disable()
    try:
        tokens = make_markdown().parse(body, env)
    except Exception as exc:  # a parser bug must not lose the note: fall back to escaped text
        add_problem(env, 0, "markdown-error", f"could not parse body: {exc!r}")
        fallback = Token("html_block", "", 0, content=f"<pre>{html.escape(body)}</pre>\n")
        tokens = [fallback]
    finally:
        if collecting:
            gc.enable()
    env.pop("_kg_find", None)
    return tokens, env


def parse_body(
    body: str, *, path: str, body_line: int, compiled: dict[Any, Any] | None = None
) -> ParsedBody:
    """Links, tags, headings, block ids, cells and problems of one note body.

    With `compiled`, a body the fast renderer handles is compiled instead of scanned, and
    its `fastrender.Template` kept there under `(path, body_line)`: a build renders it
    later without reading it again."""
    if compiled is not None and not os.environ.get("KGRAPH_NO_FASTRENDER"):
        from kgraph.vault.fastrender import Template, compile_body

        done = compile_body(body, body_line)
        if done is not None:
            compiled[(path, body_line)] = Template.of(done)
            return done.parsed()
    if not os.environ.get("KGRAPH_NO_FASTSCAN"):
        # most notes use a plain subset that a linear scan reads identically, much faster
        from kgraph.vault.fastscan import fast_parse_body

        fast = fast_parse_body(body, path=path, body_line=body_line)
        if fast is not None:
            return fast
    _, env = _parse(body, path, body_line)
    found: _Found | None = env.get("kg_found")
    links = tuple(found.links) if found else ()
    return ParsedBody(
        links=links,
        tags=tuple(found.tags) if found else (),
        headings=tuple(found.headings) if found else (),
        block_ids=tuple(dict.fromkeys(env.get("kg_block_ids", []))),
        cells=tuple(env.get("kg_cells", [])),
        problems=tuple(env.get("kg_problems", [])),
    )


def render_body(body: str, hooks: RenderHooks, *, path: str, body_line: int) -> RenderedBody:
    """HTML of one note body, with links, embeds, math and cells rendered through `hooks`."""
    if not os.environ.get("KGRAPH_NO_FASTRENDER"):
        # most notes use a plain subset that one pass renders identically, much faster
        from kgraph.vault.fastrender import fast_render_body

        fast = fast_render_body(body, hooks, path=path, body_line=body_line)
        if fast is not None:
            return fast
    tokens, env = _parse(body, path, body_line)
    render_env = {**env, "hooks": hooks, RAW: False}
    md = make_markdown()
    out = md.renderer.render(tokens, md.options, render_env)
    found: _Found | None = env.get("kg_found")
    toc = tuple(found.headings) if found else ()
    return RenderedBody(html=out, toc=toc, raw=bool(render_env[RAW]) or not _balanced(tokens))


def _balanced(tokens: list[Token]) -> bool:
    """True when every block token that opens an element is closed in order. A plugin can
    leave closers behind (the footnote plugin, on a definition nested in another): such
    markup goes through the sanitiser, which repairs it."""
    stack: list[str] = []
    for token in tokens:
        if token.nesting == 1:
            stack.append(token.tag)
        elif token.nesting == -1 and (not stack or stack.pop() != token.tag):
            return False
    return not stack
