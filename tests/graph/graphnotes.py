"""Build Note and Link objects directly, without the reader (imported by the graph tests)."""

from __future__ import annotations

from collections.abc import Sequence

from kgraph.graph.build import ConceptGraph, build_graph
from kgraph.vault.note import Link, Note


def stem(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[0] if "." in name else name


def make_note(
    path: str,
    title: str | None = None,
    links: Sequence[Link | str] = (),
    aliases: Sequence[str] = (),
    tags: Sequence[str] = (),
    date: str | None = None,
    index: int = 0,
    line: int = 1,
) -> Note:
    """A Note as the reader would produce it; plain strings become `links_to` links on line 2+."""
    made = tuple(
        link if isinstance(link, Link) else Link(target=link, line=line + 1 + i)
        for i, link in enumerate(links)
    )
    return Note(
        path=path,
        index=index,
        line=line,
        title=title if title is not None else stem(path),
        titled=title is not None,
        body="",
        body_line=line,
        aliases=tuple(aliases),
        tags=tuple(tags),
        date=date,
        links=made,
    )


def graph_of(notes: Sequence[Note], extra_files: Sequence[str] = ()) -> ConceptGraph:
    """Build a graph whose file list is every note path plus `extra_files`."""
    files = list(dict.fromkeys([n.path for n in notes] + list(extra_files)))
    return build_graph(notes, files)
