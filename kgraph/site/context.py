"""Everything one site render knows once: page paths, figures, attachments, problems."""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from kgraph.config import Config
from kgraph.graph.keys import concept_key
from kgraph.problems import Problem, problem
from kgraph.site.model import CellResultLike, ConceptGraphLike, note_id
from kgraph.site.urls import RESERVED, clean_segment, page_path, safe_slug


@dataclass(frozen=True)
class FigureInfo:
    """A figure as the site shows it: where its copied files live and what it is called."""

    concept: str
    label: str
    caption: str
    number: int
    svg: str  # output-relative path of the copied SVG
    data: str  # output-relative path of the copied JSON data
    stale: bool
    error: str | None


def page_slug(key: str, slug: str) -> str:
    """A concept's page slug before collisions are numbered: safe, never a reserved name."""
    found = safe_slug(slug or key, fallback="concept")
    return "c-" + found if found.split("/")[0] in RESERVED else found


def assign_pages(cg: ConceptGraphLike) -> dict[str, str]:
    """Output path of each concept page (figures have none), unique and inside the site."""
    pages: dict[str, str] = {}
    used: set[str] = set()
    for key in sorted(cg.concepts):
        concept = cg.concepts[key]
        if concept.kind == "figure":
            continue
        slug = page_slug(key, concept.slug)
        base, n = slug, 1
        while slug in used:
            n += 1
            slug = f"{base}-{n}"
        used.add(slug)
        pages[key] = page_path(slug)
    return pages


class SiteContext:
    """Shared, precomputed state of one render; pages and hooks read from it."""

    def __init__(
        self,
        cg: ConceptGraphLike,
        config: Config,
        env: jinja2.Environment,
        cells: Mapping[str, Sequence[CellResultLike]] | None,
    ) -> None:
        self.cg = cg
        self.config = config
        self.env = env
        self.executed = cells is not None
        self.cells: dict[str, dict[int, CellResultLike]] = {
            nid: {r.index: r for r in results} for nid, results in (cells or {}).items()
        }
        self.pages = assign_pages(cg)
        self.note_concept: dict[str, str] = {}
        for key, concept in cg.concepts.items():
            for note in concept.notes:
                self.note_concept[note_id(note)] = key
        self.copies: dict[str, Path] = {}
        self.problems: list[Problem] = []
        self.figures: dict[str, dict[str, FigureInfo]] = {}
        self._embeds: dict[str, int] = {}
        self._anchors: dict[str, frozenset[str]] = {}
        # bodies compiled while read, by (path, body line): see `site_renderer`
        self.compiled: Mapping[Any, Any] = {}
        self._collect_figures()

    def anchors(self, key: str, anchor_of: Callable[[str], str]) -> frozenset[str]:
        """Ids a concept page has for headings, blocks, cells and figures (cached)."""
        found = self._anchors.get(key)
        if found is None:
            concept = self.cg.concepts.get(key)
            ids: set[str] = set(self.figures.get(key, {}))
            for note in concept.notes if concept is not None else ():
                ids.update(h.anchor for h in note.headings)
                ids.update(anchor_of("^" + b) for b in note.block_ids)
                ids.update(
                    str(c.options.get("label")) for c in note.cells if c.options.get("label")
                )
            found = self._anchors[key] = frozenset(ids)
        return found

    def new_page(self, page: str) -> None:
        """Forget what an earlier render of `page` numbered (a reused context renders again)."""
        self._embeds.pop(page, None)

    def next_embed(self, page: str) -> int:
        """A running number of transclusions on `page` (for unique id prefixes)."""
        self._embeds[page] = self._embeds.get(page, 0) + 1
        return self._embeds[page]

    def warn(self, file: str, line: int, code: str, message: str) -> None:
        self.problems.append(problem(file, line, code, message))

    def _collect_figures(self) -> None:
        for nid in sorted(self.cells):
            key = self.note_concept.get(nid)
            if key is None or key not in self.pages:
                continue
            folder = "_figures/" + self.pages[key].rsplit("/", 1)[0]
            for index in sorted(self.cells[nid]):
                result = self.cells[nid][index]
                for k, fig in enumerate(result.figures):
                    label = fig.label or f"fig-{result.index}-{k}"
                    name = clean_segment(label) or f"figure-{index}-{k}"
                    svg_rel = f"{folder}/{name}.svg"
                    data_rel = f"{folder}/{name}.json"
                    self.copies[svg_rel] = Path(fig.svg)
                    self.copies[data_rel] = Path(fig.data)
                    info = FigureInfo(
                        concept=key,
                        label=label,
                        caption=fig.caption or "",
                        number=int(fig.number),
                        svg=svg_rel,
                        data=data_rel,
                        stale=bool(result.stale),
                        error=result.error,
                    )
                    self.figures.setdefault(key, {}).setdefault(label, info)

    def attachment(self, file: str) -> str:
        """Register a vault file for copying; return its output-relative path."""
        rel = "_files/" + safe_slug_path(file)
        self.copies[rel] = self.config.vault / file
        return rel

    def stub_key(self, target: str) -> str | None:
        """The stub concept an unresolved target became, if the graph made one."""
        for name in (target, posixpath.basename(target)):
            key = concept_key(name)
            if key in self.pages:
                return key
        return None

    def cell_result(self, nid: str, index: int) -> CellResultLike | None:
        return self.cells.get(nid, {}).get(index)

    def node_page(self, node: str) -> tuple[str | None, str | None]:
        """Page and fragment for any graph node; a figure lands on its concept's page."""
        if node in self.pages:
            return self.pages[node], None
        data: Any = self.cg.graph.nodes.get(node, {})
        for pred in sorted(self.cg.graph.predecessors(node)) if node in self.cg.graph else []:
            if pred in self.pages and self.cg.graph.has_edge(pred, node, key="has_figure"):
                label = data.get("label") or node.rsplit("#", 1)[-1]
                return self.pages[pred], str(label)
        return None, None


def safe_slug_path(file: str) -> str:
    """A vault file path made safe for the output folder, keeping its extension."""
    folder, _, name = file.replace("\\", "/").rpartition("/")
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    clean_name = (clean_segment(stem) or "file") + ("." + clean_segment(ext) if ext else "")
    clean_folder = safe_slug(folder, fallback="") if folder else ""
    return f"{clean_folder}/{clean_name}" if clean_folder else clean_name
