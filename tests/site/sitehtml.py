"""A small HTML scanner for tests: links, ids and elements of a built page."""

from __future__ import annotations

import posixpath
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit


class Page(HTMLParser):
    """Collects ids, href/src attributes and (tag, attrs) of every element."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.refs: list[tuple[str, str]] = []
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        self.elements.append((tag, values))
        if "id" in values:
            self.ids.add(values["id"])
        for name in ("href", "src"):
            if name in values:
                self.refs.append((tag, values[name]))

    def find(self, tag: str, cls: str | None = None) -> list[dict[str, str]]:
        return [
            a for t, a in self.elements
            if t == tag and (cls is None or cls in a.get("class", "").split())
        ]  # fmt: skip


VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
     "track", "wbr"}
)  # fmt: skip


class Balance(HTMLParser):
    """Checks that start and end tags nest and that no id repeats on a page."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.ids: list[str] = []
        self.feed(text)
        self.close()
        self.errors.extend(f"unclosed <{t}>" for t in self.stack)
        seen: set[str] = set()
        for i in self.ids:
            if i in seen:
                self.errors.append(f"duplicate id {i!r}")
            seen.add(i)

    def _id(self, attrs: list[tuple[str, str | None]]) -> None:
        self.ids.extend(v or "" for k, v in attrs if k == "id")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._id(attrs)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._id(attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            self.errors.append(f"end tag for void <{tag}>")
        elif not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else ''}>")
            if tag in self.stack:
                del self.stack[len(self.stack) - 1 - self.stack[::-1].index(tag) :]
        else:
            self.stack.pop()


def broken_links(out: Path) -> tuple[int, list[str]]:
    """(links checked, broken ones) over every page of a written site except search and 404."""
    pages = {p.relative_to(out).as_posix(): Page(p.read_text("utf-8")) for p in out.rglob("*.html")}
    checked = 0
    broken: list[str] = []
    for rel, parsed in pages.items():
        if rel in ("404.html", "search/index.html") or rel.startswith("pagefind/"):
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
    return checked, broken
