"""Every internal href/src of a built site resolves to a file, and to an id for a fragment."""

from __future__ import annotations

import posixpath
from pathlib import Path
from urllib.parse import unquote, urlsplit

from sitehtml import Page

from kgraph.site.output import SiteOutput


def test_internal_links_resolve(basic_site: tuple[Path, SiteOutput]) -> None:
    out = basic_site[0]
    pages = {p.relative_to(out).as_posix(): Page(p.read_text("utf-8")) for p in out.rglob("*.html")}
    checked = 0
    broken: list[str] = []
    for rel, parsed in pages.items():
        if rel in ("404.html", "search/index.html"):
            continue  # absolute base and pagefind's bundle, checked elsewhere
        for _tag, url in parsed.refs:
            parts = urlsplit(url)
            if parts.scheme or parts.netloc:
                continue
            target = rel if not parts.path else posixpath.normpath(
                posixpath.join(posixpath.dirname(rel), unquote(parts.path))
            )  # fmt: skip
            checked += 1
            if target.startswith("..") or not (out / target).is_file():
                broken.append(f"{rel}: {url}")
            elif (
                parts.fragment
                and target.endswith(".html")
                and parts.fragment not in pages[target].ids
            ):
                broken.append(f"{rel}: {url} (no id)")
    assert checked > 100
    assert broken == []
