"""Inlining kgraph's own figure SVGs so `currentColor` text and axes follow the theme."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from pathlib import Path

_MARKER = re.compile(r"<img\b[^<>]*\bdata-figure-svg=\"([^\"]*)\"[^<>]*>")
_ALT = re.compile(r'\balt="([^"]*)"')
_PROLOG = re.compile(r"<\?xml.*?\?>|<!DOCTYPE.*?>|<!--.*?-->|<metadata>.*?</metadata>", re.DOTALL)
_UNSAFE = re.compile(r"<script|<foreignObject|\son\w+\s*=|javascript:", re.IGNORECASE)
_SVG_ID = re.compile(r'\bid="([^"]*)"')
_SVG_REF = re.compile(r'(href="#|url\(#)([^")]*)')
_SVG_OPEN = re.compile(r"<svg\b")
# Matplotlib's white legend frame would hide currentColor text on the dark theme.
_WHITE_FILL = re.compile(r"fill:\s*#(?:fff|ffffff)\b", re.IGNORECASE)
# A scatter of a few hundred thousand points is an SVG of tens of megabytes: inlined, it
# would make its page (and every page embedding it) as big. Larger figures stay an
# `<img>` of their file, which the browser loads apart (in its own colours).
INLINE_MAX_BYTES = 1_000_000


class FigureSvgs:
    """Reads each figure SVG once per render and inlines it with ids unique on the page."""

    def __init__(self, copies: Mapping[str, Path]) -> None:
        self.copies = copies
        self._text: dict[str, str | None] = {}

    def load(self, rel: str) -> str | None:
        """The cleaned SVG markup of a registered figure, or None if unsafe, unreadable or
        over `INLINE_MAX_BYTES`."""
        if rel not in self._text:
            self._text[rel] = None
            src = self.copies.get(rel)
            if src is not None and rel.startswith("_figures/") and rel.endswith(".svg"):
                try:
                    too_big = src.stat().st_size > INLINE_MAX_BYTES
                    text = "" if too_big else src.read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError):
                    text = ""
                text = _PROLOG.sub("", text).strip()
                if text.startswith("<svg") and not _UNSAFE.search(text):
                    self._text[rel] = _WHITE_FILL.sub("fill: var(--bg, #fff)", text)
        return self._text[rel]

    def inline(self, fragment: str, page_prefix: str = "f") -> str:
        """Replace each figure `<img data-figure-svg>` by the SVG itself (the img stays if not)."""
        if "data-figure-svg" not in fragment:
            return fragment
        count = 0

        def swap(match: re.Match[str]) -> str:
            nonlocal count
            svg = self.load(html.unescape(match.group(1)))
            if svg is None:
                return match.group(0)
            count += 1
            prefix = f"{page_prefix}{count}-"
            svg = _SVG_ID.sub(lambda m: f'id="{prefix}{m.group(1)}"', svg)
            svg = _SVG_REF.sub(lambda m: m.group(1) + prefix + m.group(2), svg)
            alt = _ALT.search(match.group(0))
            label = alt.group(1) if alt else ""
            svg = _SVG_OPEN.sub('<svg aria-hidden="true" focusable="false"', svg, count=1)
            return f'<div class="figure-svg" role="img" aria-label="{label}">{svg}</div>'

        return _MARKER.sub(swap, fragment)
