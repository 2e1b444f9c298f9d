"""The RenderHooks the site gives the Markdown renderer: links, embeds, math and cells."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

from kgraph.site.context import FigureInfo, SiteContext
from kgraph.site.excerpt import block_source, section_source
from kgraph.site.math import math_html
from kgraph.site.model import note_id
from kgraph.site.rewrite import prefix_ids
from kgraph.site.urls import relative_url
from kgraph.vault.note import Cell, Heading, Link, Note

MAX_EMBED_DEPTH = 3
_IMAGE_EXT = {"avif", "bmp", "gif", "jpeg", "jpg", "png", "svg", "webp"}
_AUDIO_EXT = {"flac", "m4a", "mp3", "ogg", "wav"}
_VIDEO_EXT = {"webm", "3gp", "mkv", "mov", "mp4", "ogv"}
_SIZE = re.compile(r"^\s*(\d+)(?:\s*x\s*(\d+))?\s*$")
_EXTERNAL = re.compile(r"^(https?:|mailto:)", re.IGNORECASE)
_FORMATTER = HtmlFormatter(nowrap=True)


@cache
def _python_lexer() -> PythonLexer:
    return PythonLexer()  # compiling its rules takes a tenth of a second: only when used


@dataclass(frozen=True)
class RenderedNote:
    html: str
    toc: tuple[Heading, ...]
    shows: frozenset[str]  # concept keys whose titles or content this body shows
    raw: bool = True  # holds raw HTML from a note (its own or embedded): sanitise it


def _render_body() -> Callable[..., Any] | None:
    try:
        from kgraph.vault.markdown import render_body
    except ImportError:  # the renderer is optional while the reader is being built
        return None
    return render_body


def anchor_for(subpath: str) -> str:
    """Element id for a subpath, as the Markdown renderer assigns ids."""
    try:
        from kgraph.vault.markdown import anchor_for_subpath
    except ImportError:
        last = subpath.split("#")[-1]
        return last if last.startswith("^") else re.sub(r"[^\w-]+", "-", last.casefold()).strip("-")
    return str(anchor_for_subpath(subpath))


def highlight_python(code: str) -> str:
    return highlight(code, _python_lexer(), _FORMATTER)


def figure_html(ctx: SiteContext, fig: FigureInfo, page: str, *, anchor: bool) -> str:
    """A figure block: the copied SVG as an image, caption, downloads, stale marker."""
    return ctx.env.get_template("partials/figure.html").render(
        fig=fig,
        anchor=anchor,
        svg_url=relative_url(page, fig.svg),
        data_url=relative_url(page, fig.data),
    )


class SiteHooks:
    """Hooks for one note rendered onto one page (`page` is that page's output path)."""

    def __init__(
        self, ctx: SiteContext, key: str, note: Note, page: str, depth: int, stack: tuple[str, ...]
    ) -> None:
        self.ctx = ctx
        self.key = key
        self.note = note
        self.page = page
        self.depth = depth
        self.stack = stack
        self.shows: set[str] = set()
        self.raw = False  # set when an embedded body holds raw HTML

    def _resolve(self, link: Link) -> Any:
        try:
            return self.ctx.cg.resolver.resolve(link, self.note.path)
        except Exception:  # a resolver bug must not take the page down
            return None

    def _target(self, link: Link) -> tuple[str | None, str, str | None]:
        """(href, css class, target key) for a link."""
        res = self._resolve(link)
        via = getattr(res, "via", "unresolved") if res is not None else "unresolved"
        key = getattr(res, "key", None) if res is not None else None
        subpath = (getattr(res, "subpath", None) if res is not None else None) or link.subpath
        if via == "external" or _EXTERNAL.match(link.target):
            return link.target if _EXTERNAL.match(link.target) else None, "external", None
        if via == "self" or (not link.target and subpath):
            return ("#" + anchor_for(subpath) if subpath else "#"), "internal self", None
        if via == "attachment" and getattr(res, "file", None):
            return relative_url(self.page, self.ctx.attachment(res.file)), "attachment", None
        if key is None:
            key = self.ctx.stub_key(link.target)
            if key is None:
                return None, "internal unresolved", None
        target_page, frag = self.ctx.node_page(key)
        if target_page is None:
            return None, "internal unresolved", None
        self.shows.add(key)
        concept = self.ctx.cg.concepts.get(key)
        cls = "internal stub" if concept is not None and concept.kind == "stub" else "internal"
        if subpath and frag is None:
            frag = subpath if subpath in self.ctx.figures.get(key, {}) else anchor_for(subpath)
            if frag not in self.ctx.anchors(key, anchor_for):
                frag = None  # a missing heading or block: land on the note itself
        return relative_url(self.page, target_page, frag), cls, key

    def link(self, link: Link, text_html: str) -> str:
        href, cls, _ = self._target(link)
        if href is None:
            return f'<span class="{cls}">{text_html}</span>'
        return f'<a class="{cls}" href="{html.escape(href, quote=True)}">{text_html}</a>'

    def embed(self, link: Link) -> str:
        res = self._resolve(link)
        via = getattr(res, "via", "unresolved") if res is not None else "unresolved"
        if via == "attachment" and getattr(res, "file", None):
            return self._attachment(res.file, link)
        key = getattr(res, "key", None) if res is not None else None
        subpath = (getattr(res, "subpath", None) if res is not None else None) or link.subpath
        if key is None and via == "self":
            key = self.key
        if key is None:
            href, cls, _ = self._target(link)
            text = html.escape(link.display or link.target)
            if href is None:
                return f'<span class="embed-missing {cls}">{text}</span>'
            return f'<a class="embed-missing {cls}" href="{html.escape(href)}">{text}</a>'
        figs = self.ctx.figures.get(key, {})
        if subpath and subpath in figs:
            self.shows.add(key)
            return figure_html(self.ctx, figs[subpath], self.page, anchor=False)
        if subpath and subpath.startswith("fig-") and self.ctx.executed:
            # The build reports missing-figure once, from the graph; here only the markup.
            return (
                f'<p class="figure-missing">Missing figure <code>{html.escape(subpath)}</code></p>'
            )
        return self._transclude(key, subpath, link)

    def _attachment(self, file: str, link: Link) -> str:
        url = html.escape(relative_url(self.page, self.ctx.attachment(file)), quote=True)
        ext = file.rsplit(".", 1)[-1].lower() if "." in file else ""
        name = html.escape(file.rsplit("/", 1)[-1])
        if ext in _IMAGE_EXT:
            size = _SIZE.match(link.display or "")
            dims = ""
            if size:
                dims = f' width="{size.group(1)}"' + (
                    f' height="{size.group(2)}"' if size.group(2) else ""
                )
            alt = name if size or not link.display else html.escape(link.display)
            return f'<img class="embed-image" src="{url}" alt="{alt}"{dims} loading="lazy">'
        if ext in _AUDIO_EXT:
            return f'<audio class="embed-audio" controls src="{url}"></audio>'
        if ext in _VIDEO_EXT:
            return f'<video class="embed-video" controls src="{url}"></video>'
        return f'<a class="attachment" href="{url}">{name}</a>'

    def _transclude(self, key: str, subpath: str | None, link: Link) -> str:
        concept = self.ctx.cg.concepts.get(key)
        page, _ = self.ctx.node_page(key)
        href, cls, _ = self._target(link)
        title = html.escape(concept.title if concept is not None else key)
        head = f'<a class="{cls}" href="{html.escape(href or "#")}">{title}</a>'
        marker = f"{key}#{subpath or ''}"
        if marker in self.stack or self.depth >= MAX_EMBED_DEPTH:
            if marker in self.stack:
                self.ctx.warn(self.note.path, link.line, "embed-cycle", f"embed cycle via {key!r}")
            return f'<p class="transclusion-stop">{head}</p>'
        if concept is None or not concept.notes or page is None:
            return f'<p class="transclusion-stub">{head}</p>'
        target = concept.notes[0]
        source: tuple[str, int] | None = (target.body, target.body_line)
        if subpath:
            pick = block_source if subpath.startswith("^") else section_source
            source = pick(target, subpath[1:] if subpath.startswith("^") else subpath)
            if source is None:
                self.ctx.warn(
                    self.note.path, link.line, "missing-embed", f"no {subpath!r} in {key!r}"
                )
                return f'<p class="transclusion-missing">{head}</p>'
        rendered = render_note(
            self.ctx, key, target, self.page, depth=self.depth + 1,
            stack=(*self.stack, marker), source=source,
        )  # fmt: skip
        self.shows.add(key)
        self.shows.update(rendered.shows)
        self.raw = self.raw or rendered.raw
        # Embedded ids get a per-page prefix so they never clash with the host's own.
        body = prefix_ids(rendered.html, f"t{self.ctx.next_embed(self.page)}-")
        return (
            f'<div class="transclusion" data-embed="{html.escape(key, quote=True)}">'
            f'<div class="transclusion-head">{head}</div>{body}</div>'
        )

    def math(self, latex: str, display: bool, line: int) -> str:
        out, ok = math_html(latex, display)
        if line <= 0 and not ok:
            line = self._formula_line(latex)
        if not ok:
            short = latex.strip().replace("\n", " ")[:60]
            self.ctx.warn(self.note.path, line, "math-error", f"cannot convert formula: {short}")
        return out

    def _formula_line(self, latex: str) -> int:
        """Line of an inline formula that arrived without one: its delimited source first."""
        body = self.note.body
        for probe in (f"${latex}$", f"\\({latex}\\)", latex):
            at = body.find(probe)
            if at >= 0:
                return self.note.body_line + body[:at].count("\n")
        return self.note.body_line

    def cell(self, cell: Cell) -> str:
        result = self.ctx.cell_result(note_id(self.note), cell.index)
        options = dict(cell.options)
        if result is not None:
            options.update(result.options)
        figures = []
        if result is not None:
            figs = self.ctx.figures.get(self.key, {})
            for k, fig in enumerate(result.figures):
                info = figs.get(fig.label or f"fig-{result.index}-{k}")
                if info is not None:
                    figures.append(figure_html(self.ctx, info, self.page, anchor=self.depth == 0))
        # Without a result the code is all there is to show, whatever `echo` says.
        echo = result is None or options.get("echo", True) not in (False, "false", "False")
        label = str(cell.options.get("label") or "")
        # Links to a figure not drawn in this build still land on the cell that makes it.
        anchor = label if self.depth == 0 and label and not figures else ""
        return self.ctx.env.get_template("partials/cell.html").render(
            anchor=anchor,
            cell=cell,
            result=result,
            executed=self.ctx.executed,
            echo=echo,
            code_html=highlight_python(cell.code),
            figures=figures,
            provenance=sorted(
                (str(k), str(v)) for k, v in (result.provenance if result else {}).items()
            ),
            file=self.note.path,
        )


def _fallback_render(body: str) -> tuple[str, tuple[Heading, ...]]:
    paras = [p for p in body.split("\n\n") if p.strip()]
    return "".join(f"<p>{html.escape(p)}</p>" for p in paras), ()


def render_note(
    ctx: SiteContext,
    key: str,
    note: Note,
    page: str,
    *,
    depth: int = 0,
    stack: tuple[str, ...] = (),
    source: tuple[str, int] | None = None,
) -> RenderedNote:
    """Render a note body (or a piece of it) for `page`, with links relative to that page."""
    hooks = SiteHooks(ctx, key, note, page, depth, stack or (f"{key}#",))
    body, line = source or (note.body, note.body_line)
    renderer = _render_body()
    template = ctx.compiled.get((note.path, line)) if source is None else None
    raw = True
    if renderer is None:
        text, toc = _fallback_render(body)
    else:
        try:
            rendered = template.fill(hooks, note) if template is not None else None
            if rendered is None:
                rendered = renderer(body, hooks, path=note.path, body_line=line)
            text, toc = rendered.html, tuple(rendered.toc)
            raw = rendered.raw or hooks.raw
        except Exception as exc:  # a renderer crash on one note must not lose the site
            ctx.warn(note.path, line, "render-error", f"cannot render: {exc}")
            text, toc = _fallback_render(body)
    return RenderedNote(html=text, toc=toc, shows=frozenset(hooks.shows), raw=raw)
