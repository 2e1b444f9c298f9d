"""A small HTML scanner for tests: links, ids and elements of a built page."""

from __future__ import annotations

from html.parser import HTMLParser


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
