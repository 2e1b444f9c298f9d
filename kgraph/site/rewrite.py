"""Rewrites of rendered body HTML: unique element ids and inline tags as links."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable

_TAG = re.compile(r"<[a-zA-Z][^<>]*>")
_TAG_WITH_ID = re.compile(r'<[a-zA-Z][^<>]*\sid="[^<>]*>')  # the start tags worth a look
_ID_ATTR = re.compile(r'(\sid=")([^"]*)(")')
_LOCAL_HREF = re.compile(r'(\shref="#)([^"]*)(")')
_INLINE_TAG = re.compile(r'<span class="tag" data-tag="([^"]*)">(.*?)</span>', re.DOTALL)

# Ids the page chrome uses around note bodies; a heading may not take them.
PAGE_IDS = frozenset({"main", "site-search-q", "search", "global-graph"})


def element_ids(fragment: str) -> list[str]:
    """Every id="..." value in start tags, in document order."""
    if 'id="' not in fragment:
        return []
    return [m.group(2) for tag in _TAG_WITH_ID.findall(fragment) for m in _ID_ATTR.finditer(tag)]


def _rename(fragment: str, mapping: dict[str, str]) -> str:
    """Apply `mapping` to ids and to `#fragment` links inside start tags."""
    if not mapping:
        return fragment

    def tag(match: re.Match[str]) -> str:
        text = match.group(0)
        text = _ID_ATTR.sub(
            lambda m: m.group(1) + mapping.get(m.group(2), m.group(2)) + m.group(3), text
        )
        return _LOCAL_HREF.sub(
            lambda m: m.group(1) + mapping.get(m.group(2), m.group(2)) + m.group(3), text
        )

    return _TAG.sub(tag, fragment)


def prefix_ids(fragment: str, prefix: str) -> str:
    """Prefix every id in a transcluded fragment, and the in-fragment links to them."""
    return _rename(fragment, {i: prefix + i for i in element_ids(fragment)})


def dedupe_ids(fragment: str, taken: set[str]) -> tuple[str, dict[str, str]]:
    """Rename ids already in `taken` (first come keeps its id); `taken` grows; returns the map."""
    mapping: dict[str, str] = {}
    for old in element_ids(fragment):
        if old not in taken:
            taken.add(old)
            continue
        n = 2
        while f"{old}-{n}" in taken:
            n += 1
        mapping.setdefault(old, f"{old}-{n}")
        taken.add(f"{old}-{n}")
    return _rename(fragment, mapping), mapping


def link_tags(fragment: str, url_for: Callable[[str], str | None]) -> str:
    """Turn the renderer's inline `<span class="tag">` into a link to the tag's page."""
    if 'class="tag"' not in fragment:
        return fragment

    def link(match: re.Match[str]) -> str:
        url = url_for(html.unescape(match.group(1)))
        if url is None:
            return match.group(0)
        href = html.escape(url, quote=True)
        return f'<a class="tag" href="{href}" data-tag="{match.group(1)}">{match.group(2)}</a>'

    return _INLINE_TAG.sub(link, fragment)


def duplicates(ids: Iterable[str]) -> list[str]:
    """Ids that occur more than once, sorted."""
    seen: set[str] = set()
    twice: set[str] = set()
    for i in ids:
        (twice if i in seen else seen).add(i)
    return sorted(twice)
