"""RawNote → Note: frontmatter and body parsed, merged into one value."""

from __future__ import annotations

from typing import Any

from kgraph.problems import Problem
from kgraph.vault.frontmatter import parse_frontmatter
from kgraph.vault.markdown import parse_body
from kgraph.vault.note import Note, RawNote
from kgraph.vault.source import read_notes


def parse_note(raw: RawNote, compiled: dict[Any, Any] | None = None) -> tuple[Note, list[Problem]]:
    """Parse one note; bad input becomes problems, never an exception. `compiled`: see
    `parse_body`."""
    fm = parse_frontmatter(raw)
    body = parse_body(raw.body, path=raw.path, body_line=raw.body_line, compiled=compiled)
    stem = raw.path.rsplit("/", 1)[-1]
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    tags = tuple(dict.fromkeys((*fm.tags, *body.tags)))
    note = Note(
        path=raw.path,
        index=raw.index,
        line=raw.line,
        title=fm.title or stem,
        titled=bool(fm.title),
        body=raw.body,
        body_line=raw.body_line,
        frontmatter=fm.data,
        aliases=fm.aliases,
        tags=tags,
        date=fm.date,
        params=fm.params,
        links=(*fm.links, *body.links),
        headings=body.headings,
        block_ids=body.block_ids,
        cells=body.cells,
        draft=fm.draft,
    )
    return note, [*fm.problems, *body.problems]


def parse_file(
    data: bytes, path: str, compiled: dict[Any, Any] | None = None
) -> tuple[list[Note], list[Problem]]:
    """Decode, split and parse every note of one source file."""
    raws, problems = read_notes(data, path)
    notes: list[Note] = []
    for raw in raws:
        note, found = parse_note(raw, compiled)
        notes.append(note)
        problems.extend(found)
    return notes, problems
