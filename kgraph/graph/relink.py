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

Stub concepts that come or go are added or removed, every stub keeps the place and
name linking gives it (the first link wanting it decides both), and slugs are assigned
again when stubs came or went. It gives up (returns None, the graph untouched) when a
relinked concept has notes in files the edit did not touch (merged duplicates), or when
links to figures are involved: those change more than these edges.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from kgraph.graph.build import (
    ConceptGraph,
    _add_link,
    _assign_slugs,
    _bulk_edges,
    _node_attrs,
)
from kgraph.graph.keys import fold
from kgraph.vault.note import Note


def name_facts(note: Note) -> tuple[Any, ...]:
    """What linking reads from a note besides its own links (`kept.graph_facts` without
    them): other notes' links resolve and check anchors against these. Headings count by
    their text (anchors are checked against it), not their line: prose written above
    a heading moves it without changing the graph."""
    return (
        note.path,
        note.index,
        note.line,
        note.title,
        note.titled,
        note.aliases,
        note.tags,
        note.date,
        tuple(h.text for h in note.headings),
        note.block_ids,
    )


def links_to_figures(notes: Sequence[Note]) -> bool:
    """Whether any of `notes` links to a figure (the cells stage adds those edges)."""
    return any(
        link.subpath and fold(link.subpath).startswith("fig-") for n in notes for link in n.links
    )


@dataclass(frozen=True)
class Relinked:
    """What `relink` did: `edges_changed` when an edge or a stub came or went (not just
    a link's line or sentence: then the global graph, for one, is as it was)."""

    edges_changed: bool


def relink(cg: ConceptGraph, notes: Sequence[Note], files: Collection[str]) -> Relinked | None:
    """Link the notes of `files` again in `cg`, whose other notes are linked as `notes`
    are; None (and `cg` untouched) when that needs linking everything again."""
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
        return None  # a concept merged from several files: its edges span them
    if links_to_figures(edited) or any(ref.source in keys for ref in cg.figure_refs):
        return None

    # The edited notes' edges and problems, as `build_graph` makes them.
    scratch = ConceptGraph(
        graph=cg.graph, concepts=dict(cg.concepts), resolver=cg.resolver, problems=[]
    )
    edges: dict[tuple[str, str, str], dict[str, Any]] = {}
    for note in edited:
        key = cg.concept_of(note)
        for link in note.links:
            _add_link(scratch, note, key, link, in_file, edges)
    graph = cg.graph
    succ, pred = graph._succ, graph._pred
    new_stubs = {k: c for k, c in scratch.concepts.items() if k not in cg.concepts}
    gaining = {v for _, v, _ in edges}
    gone_stubs = {
        v
        for key in keys
        for v in succ[key]
        if cg.concepts[v].kind == "stub" and v not in gaining and all(w in keys for w in pred[v])
    }

    before = {(key, v, rel) for key in keys for v, keydict in succ[key].items() for rel in keydict}
    changed = bool(new_stubs or gone_stubs) or before != edges.keys()
    touched: set[str] = set()
    for key in keys:
        for v in succ[key]:
            del pred[v][key]
            touched.add(v)
        succ[key].clear()
    for v in gone_stubs:  # nobody wants it any more
        del cg.concepts[v]
        graph.remove_node(v)
    touched -= gone_stubs
    for v, concept in new_stubs.items():  # in its place once its slug is known
        cg.concepts[v] = concept
        graph._node[v] = {}
        succ[v] = graph.adjlist_inner_dict_factory()
        pred[v] = graph.adjlist_inner_dict_factory()
    _bulk_edges(graph, edges)  # every relinked concept's out-edges were taken out
    touched |= gaining

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
    stubs = {v for v in touched if cg.concepts[v].kind == "stub"}
    if stubs:
        _settle_stubs(cg, notes, in_file, lambda v: min(first(v, w) for w in pred[v]), stubs)
    if new_stubs or gone_stubs:
        _settle_slugs(cg, set(new_stubs))

    cg.problems[:] = [
        p for p in cg.problems if p.file not in files or p.code == "duplicate-concept"
    ]
    cg.problems.extend(scratch.problems)
    cg._names = None
    return Relinked(edges_changed=changed)


def _settle_stubs(
    cg: ConceptGraph,
    notes: Sequence[Note],
    in_file: dict[str, list[Note]],
    first: Callable[[str], int],
    touched: set[str],
) -> None:
    """Stub concepts (after the notes' concepts) in the order linking creates them, by
    the first note wanting each (`first`), then by that note's links; and the `touched`
    ones named as their first link writes them ([[Foo]] or [[foo]]). The notes that
    decide are linked again on their own, without any stub, to see what they create."""
    stubs = [k for k, c in cg.concepts.items() if c.kind == "stub"]
    at = {v: first(v) for v in stubs}
    by_note: dict[int, list[str]] = {}
    for v in stubs:
        by_note.setdefault(at[v], []).append(v)
    base = {k: c for k, c in cg.concepts.items() if c.kind != "stub"}
    within: dict[str, int] = {}
    for position in sorted(
        {at[v] for v in touched} | {p for p, w in by_note.items() if len(w) > 1}
    ):
        note = notes[position]
        scratch = ConceptGraph(
            graph=cg.graph, concepts=dict(base), resolver=cg.resolver, problems=[]
        )
        for link in note.links:
            _add_link(scratch, note, cg.concept_of(note), link, in_file, {})
        made = [k for k in scratch.concepts if k not in base]
        for v in by_note[position]:
            within[v] = made.index(v) if v in made else len(made)
            title = scratch.concepts[v].title if v in made else cg.concepts[v].title
            if v in touched and cg.concepts[v].title != title:
                cg.concepts[v].title = title
                cg.graph._node[v]["title"] = title
    order = sorted(stubs, key=lambda v: (at[v], within.get(v, 0)))
    if order != stubs:
        moved = [(v, cg.concepts.pop(v)) for v in order]
        cg.concepts.update(moved)


def _settle_slugs(cg: ConceptGraph, new: set[str]) -> None:
    """Slugs assigned again over every concept (a stub that came or went can move a
    colliding name's `-2`), the new stubs' node data, and the nodes in key order, as
    `build_graph` adds them."""
    graph = cg.graph
    before = {k: c.slug for k, c in cg.concepts.items()}
    _assign_slugs(cg.concepts)
    for key, concept in cg.concepts.items():
        if key in new:
            graph._node[key].update(_node_attrs(concept))
        elif concept.slug != before[key]:
            graph._node[key]["slug"] = concept.slug
    if new:
        for found in (graph._node, graph._succ, graph._pred):
            ordered = sorted(found.items())
            found.clear()
            found.update(ordered)
