"""The values execution hands to the graph and the site."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kgraph.problems import Problem
from kgraph.vault.note import Cell


@dataclass(frozen=True)
class NoteCells:
    """One note's cells: the unit of isolation (one namespace, cells in order)."""

    note_id: str  # "path/to/note.md#0": the path and the note's index in its file
    path: str  # vault-relative source path, for file:line
    cells: tuple[Cell, ...]
    params: dict[str, Any]  # the note's frontmatter `params`


@dataclass(frozen=True)
class FigureResult:
    label: str  # `#| label:`; several figures: label-1, label-2 ...; none: fig-<stem>-<cell>-<n>
    caption: str
    svg: Path  # absolute path of the SVG in the cache
    data: Path  # absolute path of the JSON data file in the cache
    number: int  # 1-based figure number within the note


@dataclass(frozen=True)
class CellResult:
    """What one cell produced (or the last good output, marked stale, after a failure)."""

    note_id: str
    index: int
    line: int  # line of the cell's opening fence in the source file
    key: str  # cache key (hex)
    status: str  # "ok" | "error" | "timeout" | "skipped"
    cached: bool  # served from the cache without running
    stale: bool  # figures/stdout are the last good result, kept after a later failure
    stdout: str
    error: str | None
    figures: tuple[FigureResult, ...]
    options: dict[str, Any]
    provenance: dict[str, Any]


@dataclass(frozen=True)
class ExecutionReport:
    results: dict[str, tuple[CellResult, ...]]  # note_id -> results in cell order
    executed: int
    cached: int
    failed: int
    problems: tuple[Problem, ...]

    def result(self, note_id: str, index: int) -> CellResult | None:
        """The result of cell `index` of a note, if that note was run."""
        for item in self.results.get(note_id, ()):
            if item.index == index:
                return item
        return None
