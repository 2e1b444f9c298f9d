"""Cutting a heading section or a `^block` out of a note body, for transclusion."""

from __future__ import annotations

import re

from kgraph.vault.note import Note

_SEP = re.compile(r"[#|^:%\[\]\s]+")


def _norm(text: str) -> str:
    return _SEP.sub(" ", text).strip().casefold()


def section_source(note: Note, subpath: str) -> tuple[str, int] | None:
    """The heading named by `subpath` and its text, up to the next heading as high or higher."""
    wanted = _norm(subpath.split("#")[-1])
    lines = note.body.split("\n")
    for i, heading in enumerate(note.headings):
        if _norm(heading.text) != wanted and heading.anchor != subpath.split("#")[-1]:
            continue
        start = heading.line - note.body_line
        end = len(lines)
        for later in note.headings[i + 1 :]:
            if later.level <= heading.level:
                end = later.line - note.body_line
                break
        if 0 <= start < len(lines):
            return "\n".join(lines[start:end]), heading.line
    return None


def block_source(note: Note, block_id: str) -> tuple[str, int] | None:
    """The paragraph or list that carries `^block_id`, without the marker."""
    marker = re.compile(r"(?:^|\s)\^" + re.escape(block_id) + r"\s*$")
    lines = note.body.split("\n")
    for i, line in enumerate(lines):
        if not marker.search(line):
            continue
        if line.strip() == "^" + block_id:
            # A marker on its own line names the block just above it.
            end = i
            while end > 0 and not lines[end - 1].strip():
                end -= 1
            start = end
            while start > 0 and lines[start - 1].strip():
                start -= 1
        else:
            start, end = i, i + 1
            while start > 0 and lines[start - 1].strip():
                start -= 1
        chunk = lines[start:end] if end > start else []
        if line.strip() != "^" + block_id:
            chunk = [*lines[start:i], marker.sub("", line)]
        return "\n".join(chunk), note.body_line + start
    return None
