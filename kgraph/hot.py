"""The dev server's fast path: an edit to a note's prose, applied to the last build in memory.

Most saves change a note's body and nothing any other page shows of it: same title,
names, tags, dates, headings and links. Such an edit needs no vault scan, no re-linking
and no other page: the file is parsed again, its notes are swapped into the graph, its
page (and the pages transcluding it) rendered with the renderer kept from the last build,
and the changed files written in place. Anything more (a new or removed file, a changed
link, title, heading or cell, a template) returns None and the caller runs a full build,
which gives the same site; tests compare both.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kgraph.config import CONFIG_NAME, Config
from kgraph.graph.build import Concept, ConceptGraph, _add_link
from kgraph.graph.keys import fold
from kgraph.incremental import PageState, concept_signature, embedders, home_key
from kgraph.problems import Problem
from kgraph.site.render import SiteRenderer
from kgraph.vault.files import unseen
from kgraph.vault.load import ParsedFile, VaultData, _parse_one
from kgraph.vault.note import Note


@dataclass
class LastBuild:
    """What a full build leaves in memory for fast edits."""

    data: VaultData
    cg: ConceptGraph
    cells: dict[str, Any]
    renderer: SiteRenderer
    state: PageState
    cell_problems: list[Problem]
    site_problems: set[Problem]  # index pages' problems (concept pages' are in `state`)
    cells_counts: dict[str, int]
    figures: list[dict[str, str]]
    pages_total: int
    in_file: dict[str, list[Note]] = field(default_factory=dict)
    position: dict[tuple[str, int], int] = field(default_factory=dict)
    files: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.files = set(self.data.files)
        for i, note in enumerate(self.data.notes):
            self.in_file.setdefault(note.path, []).append(note)
            self.position[(note.path, note.index)] = i


@dataclass(frozen=True)
class HotEdit:
    """What a fast edit did, for the build report."""

    problems: list[Problem]
    files: Mapping[str, bytes]  # the pages rendered again
    changed_pages: list[str]
    written: int
    rendered: int
    timings: dict[str, float]


def _identity(note: Note) -> tuple[Any, ...]:
    # Everything of a note that other pages, the graph or the cells depend on, except links.
    return (
        note.path,
        note.index,
        note.title,
        note.titled,
        note.aliases,
        note.tags,
        note.date,
        note.draft,
        note.params,
        tuple((h.level, h.text, h.anchor) for h in note.headings),
        note.block_ids,
    )


def _name(note: Note) -> tuple[Any, ...]:
    # What decides a note's concept, its page and whether it has one.
    return (note.path, note.index, note.title, note.titled, note.aliases, note.draft)


def _plain(notes: Iterable[Note]) -> bool:
    """No cells and no links to figures: nothing the cells stage added to the graph."""
    for note in notes:
        if note.cells:
            return False
        if any(link.subpath and fold(link.subpath).startswith("fig-") for link in note.links):
            return False
    return True


def _edges_of(
    cg: ConceptGraph, in_file: dict[str, list[Note]], note: Note, key: str
) -> tuple[dict[tuple[str, str, str], dict[str, Any]], list[Problem], dict[str, Concept]]:
    """The out-edges and link problems `note` gives its concept, and the stub concepts
    its links want that the graph does not have yet."""
    scratch = ConceptGraph(
        graph=cg.graph, concepts=dict(cg.concepts), resolver=cg.resolver, problems=[]
    )
    edges: dict[tuple[str, str, str], dict[str, Any]] = {}
    for link in note.links:
        _add_link(scratch, note, key, link, in_file, edges)
    stubs = {k: c for k, c in scratch.concepts.items() if k not in cg.concepts}
    return edges, scratch.problems, stubs


def _current_edges(cg: ConceptGraph, key: str) -> dict[tuple[str, str, str], dict[str, Any]]:
    return {
        (key, v, rel): data for _, v, rel, data in cg.graph.out_edges(key, keys=True, data=True)
    }


@dataclass(frozen=True)
class EditPlan:
    """The files a save changed, parsed again, and their notes paired with the old ones."""

    items: dict[str, ParsedFile]
    swaps: list[tuple[Note, Note, str]]  # (old note, new note, concept key)

    def edited_notes(self) -> dict[str, list[Note]]:
        """The edited files' notes as they are now."""
        return {rel: list(item.notes) for rel, item in self.items.items()}

    def notes_by_file(self, last: LastBuild) -> dict[str, list[Note]]:
        """Every file's notes as they are now (links resolve against the edited notes)."""
        return {**last.in_file, **self.edited_notes()}


def plan_edit(
    last: LastBuild, config: Config, changed: set[Path], same: Callable[[Note], Any] = _identity
) -> EditPlan | None:
    """Pair the edited notes with the last build's when the save changed only what `same`
    leaves out (by default bodies and links: same files, titles, names, tags, headings;
    no cells), else None."""
    root = last.data.root
    rels: list[str] = []
    templates = config.templates.resolve() if config.templates is not None else None
    for path in changed:
        try:
            rel = path.resolve().relative_to(root).as_posix()
        except ValueError:
            return None  # a template or anything outside the vault
        if rel == CONFIG_NAME or (templates and path.resolve().is_relative_to(templates)):
            return None
        if rel in last.data.parsed:
            if not path.is_file():
                return None  # a note removed
            rels.append(rel)
        elif rel in last.files or (path.exists() and not unseen(rel, config.ignore)):
            return None  # an attachment, a new file
        # else a file no build would read: an editor's swap or backup file, come and gone

    items: dict[str, ParsedFile] = {}
    for rel in rels:
        item = _parse_one(str(root), rel)
        if item.digest != last.data.parsed[rel].digest:
            items[rel] = item
    cg = last.cg
    swaps: list[tuple[Note, Note, str]] = []
    for rel, item in items.items():
        old_notes = last.in_file.get(rel, [])
        if len(old_notes) != len(item.notes) or not _plain([*old_notes, *item.notes]):
            return None
        for old, new in zip(old_notes, item.notes, strict=True):
            if same(old) != same(new):
                return None
            key = cg.concept_of(old)
            concept = cg.concepts[key]
            if len(concept.notes) != 1 or concept.notes[0] is not old:
                return None  # merged duplicates: edge order spans files
            swaps.append((old, new, key))
    return EditPlan(items, swaps)


def try_hot_edit(
    last: LastBuild, config: Config, changed: set[Path], publish_to: Path
) -> HotEdit | None:
    """Apply an edit of note prose to `last` and write the pages it changes, or return None
    (nothing touched) when the edit needs a full build."""
    started = time.perf_counter()
    edit = plan_edit(last, config, changed)
    if edit is None:
        return None
    items, plan = edit.items, edit.swaps
    cg = last.cg
    link_problems: dict[str, list[Problem]] = {rel: [] for rel in items}
    in_file = edit.edited_notes()
    in_file_now = {**last.in_file, **in_file}  # anchors resolve against the edited notes
    # Edges may change their line or context sentence, which only the pages at both
    # ends show; a changed set of edges changes what other pages show.
    retouched: dict[tuple[str, str, str], dict[str, Any]] = {}
    for _old, new, key in plan:
        edges, problems, stubs = _edges_of(cg, in_file_now, new, key)
        current = _current_edges(cg, key)
        if stubs or edges.keys() != current.keys():
            return None
        retouched.update((e, attrs) for e, attrs in edges.items() if attrs != current[e])
        link_problems[new.path].extend(problems)
    dirty = {key for _old, _new, key in plan} | {v for _, v, _ in retouched}
    keys = dirty | embedders(cg, dirty)
    if home_key(cg.concepts) in keys:
        return None  # the home page shows that body too: leave it to a full build
    parsed_at = time.perf_counter()

    # The edit qualifies: swap the notes in. Their faces (what other pages show) are
    # unchanged by construction; their full signatures change with the file digests.
    last.in_file.update(in_file)
    data = last.data
    for old, new, key in plan:
        data.notes[last.position[(old.path, old.index)]] = new
        cg.concepts[key].notes[0] = new
    for rel, item in items.items():
        data.parsed[rel] = item
    data.problems[:] = [p for p in data.problems if p.file not in items]
    for item in items.values():
        data.problems.extend(item.problems)
    for (u, v, rel), attrs in retouched.items():
        data_of = cg.graph.succ[u][v][rel]
        data_of.clear()
        data_of.update(attrs)  # in place: networkx keeps its edge order
    cg.problems[:] = [p for p in cg.problems if p.file not in items]
    for found in link_problems.values():
        cg.problems.extend(found)
    digests = {rel: item.digest for rel, item in items.items()}
    for key in dirty:
        for note in cg.concepts[key].notes:
            digests[note.path] = data.parsed[note.path].digest
    state = last.state
    for key in dirty:
        _face, state.full[key], _figs, _names = concept_signature(cg, key, digests, last.cells)
    for rel, item in items.items():
        state.digests[rel] = item.digest  # the notes these signatures saw
    site = last.renderer
    from kgraph.site.render import render_site

    copies_before = set(site.ctx.copies)
    output = render_site(
        cg, config, cells=last.cells, only=frozenset(keys), index_pages=False, renderer=site
    )
    rendered_at = time.perf_counter()
    new_copies = {rel: src for rel, src in site.ctx.copies.items() if rel not in copies_before}
    from kgraph.publish import update_files

    written = update_files(publish_to, output.files, new_copies)
    for page, shows in output.dependencies.items():
        state.shows[page] = shows
        state.problems[page] = output.page_problems.get(page, ())
    state.local.update(output.local_graphs)
    problems = [
        *data.problems,
        *cg.problems,
        *last.cell_problems,
        *last.site_problems,
        *(p for found in state.problems.values() for p in found),
    ]
    return HotEdit(
        problems=problems,
        files=output.files,
        changed_pages=[p for p in written if p.endswith(".html")],
        written=len(written),
        rendered=len(output.files),
        timings={
            "read": round(parsed_at - started, 4),
            "render": round(rendered_at - parsed_at, 4),
            "write": round(time.perf_counter() - rendered_at, 4),
        },
    )
