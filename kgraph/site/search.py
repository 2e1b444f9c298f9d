"""Full-text search with pagefind, indexed from a small copy of what pages show.

Only each concept page's article (the element marked `data-pagefind-body`) is indexed.
The build keeps that part of every page, without inline SVG, in a search-source folder
in the cache, rewriting only the pages it rendered; pagefind then reads those small
files instead of the whole site, which is several times faster. The files mirror the
site's paths, so the search results link to the real pages.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

from kgraph.problems import Problem, problem

_ARTICLE = re.compile(rb"<article\b[^>]*\bdata-pagefind-body\b.*?</article>", re.S)
_SVG = re.compile(rb"<svg\b.*?</svg>", re.S)
_LANG = re.compile(rb'<html\b[^>]*\blang="([^"]*)"')


def search_source(page: bytes) -> bytes | None:
    """The indexed part of a page as a tiny HTML document, or None if nothing is indexed."""
    found = _ARTICLE.search(page)
    if found is None:
        return None
    lang = _LANG.search(page)
    article = _SVG.sub(b"", found.group(0))
    code = lang.group(1) if lang else b"en"
    return b'<!DOCTYPE html><html lang="' + code + b'"><body>' + article + b"</body></html>"


def update_sources(
    source_dir: Path,
    rendered: Mapping[str, bytes],
    pages: Iterable[str],
    gone: Iterable[str] | None = None,
) -> None:
    """Write the search sources of `rendered` pages; drop those of pages that no longer exist.

    `gone` names the pages removed since the last build; without it every source file is
    checked against `pages`.
    """
    keep = set(pages)
    for rel, data in rendered.items():
        if not rel.endswith(".html"):
            continue
        text = search_source(data)
        dest = source_dir / rel
        if text is None:
            dest.unlink(missing_ok=True)
            continue
        if dest.is_file() and dest.read_bytes() == text:
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(dest.name + ".tmp")
        tmp.write_bytes(text)
        os.replace(tmp, dest)
    if gone is not None:
        for rel in gone:
            if rel not in keep:
                (source_dir / rel).unlink(missing_ok=True)
    elif source_dir.is_dir():
        for path in sorted(source_dir.rglob("*.html")):
            if path.relative_to(source_dir).as_posix() not in keep:
                path.unlink()


def build_search_index(site: Path, output: Path | None = None) -> list[Problem]:
    """Index the pages under `site` with pagefind into `output` (default `site/pagefind`)."""
    cmd = [sys.executable, "-m", "pagefind", "--site", str(site), "--silent"]
    if output is not None:
        shutil.rmtree(output, ignore_errors=True)
        cmd += ["--output-path", str(output)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return [problem("", 0, "search-index", f"pagefind did not run: {exc}")]
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return [problem("", 0, "search-index", f"pagefind failed: {detail[0]}")]
    return []
