"""Linking again only the concepts whose notes' links changed, in a kept graph.

An edit that adds, drops or moves links, and changes nothing else linking reads from a
note (path, title, names, tags, date, headings, block ids), changes only the out-edges of
the edited notes' concepts and the link problems of their files. `relink` redoes exactly
that in the graph the last build linked, in a few milliseconds instead of the 1.4 s of
linking a 10,000-note vault again, and the result equals linking again (tests hold it so):

- a relinked concept's out-edges are made as linking makes them: its notes in vault
  order, their links in order, the first link to a target giving the edge's line;
- networkx keeps each node's in-edges in the order they were added, which for linking is
  the order of each source's first note linking there. Every target that gained or lost
  a source has its in-edges put back in that order (an edge records the path and line of
  its first link, so the note is found without resolving anything again).

It gives up (returns False, the graph untouched) when the edit adds or drops a stub
concept, when a relinked concept has notes in files the edit did not touch (merged
duplicates), or when links to figures are involved: those change more than these edges.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Collection, Sequence
from typing import Any

from kgraph.graph.build import ConceptGraph, _add_link
from kgraph.graph.keys import fold
from kgraph.vault.note import Note


def name_facts(note: Note) -> tuple[Any, ...]:
    """What linking reads from a note besides its own links (`kept.graph_facts` without
    them): other notes' links resolve and check anchors against these."""
    return (
        note.path,
        note.index,
        note.line,
        note.title,
        note.titled,
        note.aliases,
        note.tags,
        note.date,
        note.headings,
        note.block_ids,
    )


def links_to_figures(notes: Sequence[Note]) -> bool:
    """Whether any of `notes` links to a figure (the cells stage adds those edges)."""
    return any(
        link.subpath and fold(link.subpath).startswith("fig-") for n in notes for link in n.links
    )


def relink(cg: ConceptGraph, notes: Sequence[Note], files: Collection[str]) -> bool:
    """Link the notes of `files` again in `cg`, whose other notes are linked as `notes`
    are; False (and `cg` untouched) when that needs linking everything again."""
    keys: set[str] = set()
    in_file: dict[str, list[Note]] = {}
    starts: dict[str, list[tuple[int, int]]] = {}  # path -> (first line, vault position)
    for position, note in enumerate(notes):
        in_file.setdefault(note.path, []).append(note)
        starts.setdefault(note.path, []).append((note.line, position))
        if note.path in files:
            keys.add(cg.concept_of(note))
    edited = [n for n in notes if n.path in files]
    if any(cg.concept_of(n) in keys for n in notes if n.path not in files):
        return False  # a concept merged from several files: its edges span them
    if links_to_figures(edited) or any(ref.source in keys for ref in cg.figure_refs):
        return False

    # The edited notes' edges and problems, as `build_graph` makes them.
    scratch = ConceptGraph(
        graph=cg.graph, concepts=dict(cg.concepts), resolver=cg.resolver, problems=[]
    )
    edges: dict[tuple[str, str, str], dict[str, Any]] = {}
    for note in edited:
        key = cg.concept_of(note)
        for link in note.links:
            _add_link(scratch, note, key, link, in_file, edges)
    if len(scratch.concepts) != len(cg.concepts):
        return False  # a new stub
    succ, pred = cg.graph._succ, cg.graph._pred
    gaining = {v for _, v, _ in edges}
    for key in keys:
        for v in succ[key]:
            stays = v in gaining or any(w not in keys for w in pred[v])
            if cg.concepts[v].kind == "stub" and not stays:
                return False  # a stub nobody wants any more

    touched: set[str] = set()
    for key in keys:
        for v in succ[key]:
            del pred[v][key]
            touched.add(v)
        succ[key].clear()
    for (u, v, rel), attrs in edges.items():
        keydict = succ[u].get(v)
        if keydict is None:
            keydict = cg.graph.edge_key_dict_factory()
            succ[u][v] = keydict
            pred[v][u] = keydict
            touched.add(v)
        keydict[rel] = attrs

    def first_note(path: str, line: int) -> int:
        found = starts[path]
        return found[max(0, bisect_right(found, (line, len(notes))) - 1)][1]

    def first(v: str, w: str) -> int:
        """The vault position of `w`'s first note linking to `v`."""
        return min(first_note(a["path"], a["line"]) for a in pred[v][w].values())

    for v in touched:
        sources = pred[v]
        names = list(sources)
        # The others are in linking order already: each relinked source is put in its
        # place by bisection (a hub has thousands of sources).
        order = [w for w in names if w not in keys]
        for w in names:
            if w in keys:
                at = first(v, w)
                order.insert(bisect_left(order, at, key=lambda x: first(v, x)), w)
        if order != names:
            ordered = [(w, sources[w]) for w in order]
            sources.clear()
            sources.update(ordered)
    if any(cg.concepts[v].kind == "stub" for v in touched):
        _order_stubs(cg, notes, in_file, lambda v: min(first(v, w) for w in pred[v]))

    cg.problems[:] = [
        p for p in cg.problems if p.file not in files or p.code == "duplicate-concept"
    ]
    cg.problems.extend(scratch.problems)
    cg._names = None
    return True


def _order_stubs(
    cg: ConceptGraph,
    notes: Sequence[Note],
    in_file: dict[str, list[Note]],
    first: Callable[[str], int],
) -> None:
    """Put the stub concepts (after the notes' concepts) in the order linking creates
    them: by the first note wanting each (`first`), then by that note's links."""
    stubs = [k for k, c in cg.concepts.items() if c.kind == "stub"]
    at = {v: first(v) for v in stubs}
    by_note: dict[int, list[str]] = {}
    for v in stubs:
        by_note.setdefault(at[v], []).append(v)
    within: dict[str, int] = {}
    for position, wanted in by_note.items():
        if len(wanted) > 1:
            # Several stubs first wanted by one note: replay its links for their order.
            note = notes[position]
            key = cg.concept_of(note)
            scratch = ConceptGraph(
                graph=cg.graph, concepts=dict(cg.concepts), resolver=cg.resolver, problems=[]
            )
            edges: dict[tuple[str, str, str], dict[str, Any]] = {}
            for link in note.links:
                _add_link(scratch, note, key, link, in_file, edges)
            seen = list(dict.fromkeys(v for _, v, _ in edges))
            within.update((v, seen.index(v)) for v in wanted)
    order = sorted(stubs, key=lambda v: (at[v], within.get(v, 0)))
    if order != stubs:
        moved = [(v, cg.concepts.pop(v)) for v in order]
        cg.concepts.update(moved)
