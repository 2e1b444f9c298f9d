"""How the Markdown renderer asks the site for what only the graph knows.

The syntax plugins render wikilinks, embeds, math and cells by calling the object passed
as `env["hooks"]` to `MarkdownIt.render`/`renderer.render`. Without one, `PlainHooks`
renders something sensible on its own (used by tests and by `kgraph check`).
"""

from __future__ import annotations

import html
from typing import Protocol

from kgraph.vault.note import Cell, Link


class RenderHooks(Protocol):
    def link(self, link: Link, text_html: str) -> str:
        """HTML for a wikilink or a Markdown link to a note; `text_html` is already escaped."""
        ...

    def embed(self, link: Link) -> str:
        """HTML for `![[...]]`: a transcluded note, section, block, image or figure."""
        ...

    def math(self, latex: str, display: bool, line: int) -> str:
        """HTML for a formula (the site renders MathML)."""
        ...

    def cell(self, cell: Cell) -> str:
        """HTML for an executable cell: its code, output and figures."""
        ...


class PlainHooks:
    """Rendering with no graph behind it: links point at `target.html`, math stays source."""

    def link(self, link: Link, text_html: str) -> str:
        href = html.escape(link.target + ".html" if link.target else "", quote=True)
        if link.subpath:
            href += "#" + html.escape(link.subpath, quote=True)
        return f'<a class="internal" href="{href}">{text_html}</a>'

    def embed(self, link: Link) -> str:
        return f'<div class="embed" data-target="{html.escape(link.target, quote=True)}"></div>'

    def math(self, latex: str, display: bool, line: int) -> str:
        tag = "div" if display else "span"
        cls = "math display" if display else "math inline"
        return f'<{tag} class="{cls}">{html.escape(latex)}</{tag}>'

    def cell(self, cell: Cell) -> str:
        return f'<pre class="cell"><code>{html.escape(cell.code)}</code></pre>'
