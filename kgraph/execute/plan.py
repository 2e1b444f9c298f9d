"""Before running anything: each cell's interpreted options, vault modules and cache key."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kgraph.execute.keys import ModuleFinder, cell_key, depends_digests, runtime_versions
from kgraph.execute.options import CellOptions, interpret_options
from kgraph.execute.results import NoteCells
from kgraph.vault.note import Cell


@dataclass(frozen=True)
class CellPlan:
    cell: Cell
    options: CellOptions
    key: str
    label_base: str  # explicit label, or fig-<stem>-<cell index>
    modules: dict[str, str]  # vault modules this cell's namespace may use: path -> sha256
    depends: dict[str, str]

    @property
    def source_offset(self) -> int:
        """Source line of the cell's code line 1, minus one (one `#|` line per option)."""
        return self.cell.line + len(self.cell.options)

    def labels(self, count: int) -> list[str]:
        """Labels for `count` figures from this cell."""
        if self.options.label and count == 1:
            return [self.options.label]
        return [f"{self.label_base}-{n}" for n in range(1, count + 1)]


@dataclass(frozen=True)
class NotePlan:
    note: NoteCells
    cells: tuple[CellPlan, ...]
    versions: dict[str, str]


def slug(text: str) -> str:
    """Lower-case ASCII words joined by hyphens (for default figure labels)."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-") or "note"


def _stem(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[0] if "." in name else name


def plan_note(
    note: NoteCells, vault: Path, finder: ModuleFinder, versions: dict[str, str] | None = None
) -> NotePlan:
    """Keys for every cell of a note: each covers the cells before it, not the prose."""
    versions = versions if versions is not None else runtime_versions()
    stem = slug(_stem(note.path))
    earlier: list[tuple[str, bool]] = []
    modules: dict[str, str] = {}
    depends: dict[str, str] = {}
    plans = []
    for cell in note.cells:
        options = interpret_options(cell.options)
        earlier.append((cell.code, options.eval))
        if options.eval:
            modules.update(finder.modules(cell.code))
        depends.update(depends_digests(vault, options.depends))
        label_base = options.label or f"fig-{stem}-{cell.index}"
        material_options: dict[str, Any] = options.as_dict()
        key = cell_key(
            codes=[f"{int(ev)}:{code}" for code, ev in earlier],
            options=material_options,
            params=note.params,
            modules=dict(sorted(modules.items())),
            depends=dict(sorted(depends.items())),
            label_base=label_base,
            versions=versions,
        )
        plans.append(
            CellPlan(cell, options, key, label_base, dict(sorted(modules.items())), dict(depends))
        )
    return NotePlan(note, tuple(plans), versions)
