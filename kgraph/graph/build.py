"""Notes → concept graph: merge notes into concepts, resolve links, add typed edges.

- Concept identity is decided in `keys.assign_keys`; notes sharing a key merge (one
  `duplicate-concept` info per extra note), ordered newest first, undated last, then file order.
- Every unresolved target becomes a stub concept with an `unresolved-link` warning at each
  link. The stub is named by the target's last path part as first written, without `.md`, so
  `[[dir/X]]`, `[[x.md]]` and `[[X]]` want one stub (creating `X` anywhere satisfies all),
  unless a real note already has that key; a target leaving the vault makes no stub.
- One edge per (source, target, relation): repeats bump `count` and keep the first line.
- No self-loops: in-page anchors and a note linking its own concept add no edge.
- In-page anchors, external URLs and attachments add no concept edge.
- A `#Heading` (chains `#A#B`: every part) or `#^block` subpath that the target note lacks
  gives `missing-anchor`; the link still lands on the note. `fig-…` subpaths are figures.
- Links with a `fig-…` subpath are remembered; `link_figure_embeds` adds edges to figure
  nodes once the cells stage has called `add_figure`. The edge to the concept stays.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import networkx as nx

from kgraph.gcpause import paused_gc
from kgraph.graph.keys import concept_key, fold, loose_key, slugify
from kgraph.graph.resolve import Resolver
from kgraph.problems import Problem, problem
from kgraph.vault.note import Link, Note


@dataclass
class Concept:
    """What one or more notes are about (or a stub wanted by links, or a figure)."""

    key: str
    title: str
    kind: str  # note | stub | figure
    notes: list[Note]
    slug: str
    aliases: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class FigureRef:
    """A link whose subpath names a figure of the target concept."""

    source: str
    target: str
    label: str
    relation: str
    path: str
    line: int


@dataclass
class ConceptGraph:
    """The networkx graph plus the concepts, resolver and problems it was built with."""

    graph: nx.MultiDiGraph
    concepts: dict[str, Concept]
    resolver: Resolver
    problems: list[Problem]
    figure_refs: list[FigureRef] = field(default_factory=list)
    _names: dict[str, str] | None = field(default=None, repr=False)

    def lookup(self, name: str) -> str | None:
        """Concept key for a name, title, alias, key, slug or file stem/path, any case."""
        if self._names is None:
            self._names = self._name_index()
        text = name.strip()
        for candidate in (concept_key(text), fold(text).removesuffix(".md")):
            if candidate in self._names:
                return self._names[candidate]
        return self._names.get("\0loose\0" + loose_key(text))

    def suggest(self, name: str, n: int = 5) -> list[str]:
        """Titles and aliases close to `name`, best first ("did you mean")."""
        by_folded: dict[str, str] = {}
        for concept in sorted(self.concepts.values(), key=lambda c: c.key):
            for shown in (concept.title, *concept.aliases):
                by_folded.setdefault(concept_key(shown), shown)
        close = difflib.get_close_matches(concept_key(name), list(by_folded), n=n, cutoff=0.5)
        return [by_folded[c] for c in close]

    def concept_of(self, note: Note) -> str:
        """Key of the concept a note belongs to."""
        return self.resolver.key_of(note)

    def _name_index(self) -> dict[str, str]:
        # Stronger names go in last and win: loose < stem < path < alias < slug < title < key.
        names: dict[str, str] = {}
        ordered = sorted(self.concepts.values(), key=lambda c: c.key, reverse=True)
        for concept in ordered:
            for alias in (concept.title, *concept.aliases, concept.key):
                names["\0loose\0" + loose_key(alias)] = concept.key
        for concept in ordered:
            for note in concept.notes:
                names[fold(note.stem)] = concept.key
        for concept in ordered:
            for note in concept.notes:
                names[fold(note.path).removesuffix(".md")] = concept.key
        for concept in ordered:
            for alias in concept.aliases:
                names[concept_key(alias)] = concept.key
        for concept in ordered:
            names[concept.slug] = concept.key
        for concept in ordered:
            names[concept_key(concept.title)] = concept.key
        for concept in ordered:
            names[concept.key] = concept.key
        return names


def _date_value(date: str | None) -> float | None:
    if not date:
        return None
    try:
        parsed = datetime.fromisoformat(date)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _newest_first(notes: list[tuple[int, Note]]) -> list[Note]:
    def order(item: tuple[int, Note]) -> tuple[int, float, int]:
        value = _date_value(item[1].date)
        return (1, 0.0, item[0]) if value is None else (0, -value, item[0])

    return [note for _, note in sorted(notes, key=order)]


def _unique(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


def build_graph(notes: Sequence[Note], files: Sequence[str]) -> ConceptGraph:
    """Build the concept graph of a vault; `files` lists every vault file incl. attachments."""
    with paused_gc():
        return _build_graph(notes, files)


def _build_graph(notes: Sequence[Note], files: Sequence[str]) -> ConceptGraph:
    resolver = Resolver(notes, files)
    problems: list[Problem] = []
    grouped: dict[str, list[tuple[int, Note]]] = {}
    for position, (note, key) in enumerate(zip(notes, resolver.note_keys, strict=True)):
        members = grouped.setdefault(key, [])
        if members:
            first = members[0][1]
            problems.append(
                problem(
                    note.path,
                    note.line,
                    "duplicate-concept",
                    f"merged into concept {key!r} with {first.path}:{first.line}",
                )
            )
        members.append((position, note))
    concepts: dict[str, Concept] = {}
    for key, members in grouped.items():
        ordered = _newest_first(members)
        titled = next((n for n in ordered if n.titled), ordered[0])
        concepts[key] = Concept(
            key=key,
            title=titled.title or titled.stem,
            kind="note",
            notes=ordered,
            slug="",
            aliases=_unique([a for n in ordered for a in n.aliases]),
            tags=_unique([t for n in ordered for t in n.tags]),
        )
    graph: nx.MultiDiGraph = nx.MultiDiGraph()
    cg = ConceptGraph(graph=graph, concepts=concepts, resolver=resolver, problems=problems)
    in_file: dict[str, list[Note]] = {}
    for note in notes:
        in_file.setdefault(note.path, []).append(note)
    edges: dict[tuple[str, str, str], dict[str, Any]] = {}
    memo = resolver.memo
    for note, source in zip(notes, resolver.note_keys, strict=True):
        for link in note.links:
            # Most links are bare wikilinks without a subpath that another note already
            # resolved: `Resolver.resolve` and `_add_link` below, inlined for that case
            # (a third of linking 140,000 links).
            target = link.target
            found = (
                memo.get((target, link.kind, None, ""))
                if link.subpath is None and "/" not in target and link.kind != "markdown"
                else None
            )
            if found is None or found.via == "unresolved" or target.lstrip().startswith("."):
                _add_link(cg, note, source, link, in_file, edges)
                continue
            landed = found.key
            if landed is None or landed == source:
                continue
            edge = edges.get((source, landed, link.relation))
            if edge is not None:
                edge["count"] += 1
                continue
            edges[(source, landed, link.relation)] = {
                "relation": link.relation,
                "count": 1,
                "path": note.path,
                "line": link.line,
                "subpath": None,
                "context": link.context,
            }
    _assign_slugs(concepts)
    graph.add_nodes_from((key, _node_attrs(concepts[key])) for key in sorted(concepts))
    _bulk_edges(graph, edges)
    return cg


def _bulk_edges(graph: nx.MultiDiGraph, edges: dict[tuple[str, str, str], dict[str, Any]]) -> None:
    """Insert edges straight into networkx's adjacency dicts (the layout `add_edge` builds).

    Every endpoint is already a node; networkx's per-edge checks otherwise take most of
    the time of linking a 100k-link vault.
    """
    succ, pred = graph._succ, graph._pred
    for (u, v, rel), attrs in edges.items():
        keydict = succ[u].get(v)
        if keydict is None:
            keydict = graph.edge_key_dict_factory()
            succ[u][v] = keydict
            pred[v][u] = keydict
        keydict[rel] = attrs


def _add_link(
    cg: ConceptGraph,
    note: Note,
    source: str,
    link: Link,
    in_file: dict[str, list[Note]],
    edges: dict[tuple[str, str, str], dict[str, Any]],
) -> None:
    res = cg.resolver.resolve(link, note.path)
    cg.problems.extend(res.problems)
    if link.subpath and res.file is not None and res.via != "attachment":
        targets = [note] if res.via == "self" else in_file.get(res.file, [])
        if targets and not has_anchor(targets, link.subpath):
            shown = f"{link.target}#{link.subpath}"
            cg.problems.append(
                problem(note.path, link.line, "missing-anchor", f"no anchor for [[{shown}]]")
            )
    target = res.key
    if res.via == "unresolved":
        if any(p.code == "unsafe-path" for p in res.problems):
            return
        if is_attachment_name(link.target):
            # A missing image or PDF is a broken file reference, not a wanted concept.
            code = "missing-embed" if link.embed else "unresolved-link"
            cg.problems.append(problem(note.path, link.line, code, f"no file {link.target!r}"))
            return
        name = stub_name(link.target)
        target = concept_key(name) or link.target
        if target in cg.concepts and cg.concepts[target].kind != "stub":
            # `[[elsewhere/X]]` must not land on an existing X it did not resolve to.
            name = link.target.strip()
            target = concept_key(name)
        cg.problems.append(
            problem(note.path, link.line, "unresolved-link", f"no note for [[{link.target}]]")
        )
        if target not in cg.concepts:
            cg.concepts[target] = Concept(key=target, title=name, kind="stub", notes=[], slug="")
    if target is None or target == source:
        return
    if link.subpath and fold(link.subpath).startswith("fig-"):
        ref = FigureRef(source, target, link.subpath, link.relation, note.path, link.line)
        cg.figure_refs.append(ref)
    found = edges.get((source, target, link.relation))
    if found is not None:
        found["count"] += 1
        return
    edges[(source, target, link.relation)] = {
        "relation": link.relation,
        "count": 1,
        "path": note.path,
        "line": link.line,
        "subpath": link.subpath,
        "context": link.context,
    }


_ANCHOR_NOISE = re.compile(r"[#|^:%\[\]\s]+")


def anchor_key(text: str) -> str:
    """Heading text or subpath part, compared case-insensitively without `# | ^ : % [ ]`."""
    return _ANCHOR_NOISE.sub(" ", text).strip().casefold()


def has_anchor(notes: Sequence[Note], subpath: str) -> bool:
    """Whether one of `notes` has the heading chain, block id or figure label `subpath` names."""
    wanted = subpath.strip()
    if fold(wanted).startswith("fig-") or "=" in wanted:
        return True  # figures are checked by link_figure_embeds; `page=3` is a viewer option
    if wanted.startswith("^"):
        block = wanted[1:].strip().casefold()
        return any(block == b.lstrip("^").casefold() for n in notes for b in n.block_ids)
    parts = [anchor_key(p) for p in wanted.split("#") if anchor_key(p)]
    headings = {anchor_key(h.text) for n in notes for h in n.headings}
    return all(p in headings for p in parts)


# Obsidian's accepted attachment formats (PARSING.md §1.4), besides notes.
ATTACHMENT_EXTENSIONS = frozenset(
    [
        "base",
        "canvas",
        "avif",
        "bmp",
        "gif",
        "jpeg",
        "jpg",
        "png",
        "svg",
        "webp",
        "flac",
        "m4a",
        "mp3",
        "ogg",
        "wav",
        "webm",
        "3gp",
        "mkv",
        "mov",
        "mp4",
        "ogv",
        "pdf",
    ]
)


def is_attachment_name(target: str) -> bool:
    """Whether a link target names a non-note file by its extension."""
    name = target.rsplit("/", 1)[-1]
    return "." in name and name.rsplit(".", 1)[1].casefold() in ATTACHMENT_EXTENSIONS


def stub_name(target: str) -> str:
    """Name of the note a link wants: its last path part as written, without `.md`."""
    name = target.strip().rstrip("/").rsplit("/", 1)[-1].strip()
    return name[:-3] if name.lower().endswith(".md") and len(name) > 3 else name or target


def _add_edge(
    graph: nx.MultiDiGraph, source: str, target: str, relation: str, **attrs: Any
) -> None:
    if graph.has_edge(source, target, key=relation):
        graph.edges[source, target, relation]["count"] += 1
        return
    graph.add_edge(source, target, key=relation, relation=relation, count=1, **attrs)


def _assign_slugs(concepts: dict[str, Concept]) -> None:
    taken: set[str] = set()
    for key in sorted(concepts):
        base = slugify(key)
        slug, n = base, 1
        while slug in taken:
            n += 1
            slug = f"{base}-{n}"
        taken.add(slug)
        concepts[key].slug = slug


def _node_attrs(concept: Concept) -> dict[str, Any]:
    return {
        "title": concept.title,
        "kind": concept.kind,
        "tags": list(concept.tags),
        "aliases": list(concept.aliases),
        "dates": [n.date for n in concept.notes if n.date],
        "paths": list(dict.fromkeys(n.path for n in concept.notes)),
        "slug": concept.slug,
    }


def add_figure(cg: ConceptGraph, concept: str, label: str, caption: str, **attrs: Any) -> str:
    """Add figure node `concept#label` with a `has_figure` edge from its concept; return its key."""
    key = f"{concept}#{fold(label)}"
    owner = cg.concepts.get(concept)
    slug = f"{owner.slug if owner else slugify(concept)}-{slugify(label)}"
    cg.concepts[key] = Concept(key=key, title=caption or label, kind="figure", notes=[], slug=slug)
    cg.graph.add_node(
        key,
        title=caption or label,
        kind="figure",
        tags=[],
        aliases=[],
        dates=[],
        paths=list(cg.graph.nodes[concept]["paths"]) if concept in cg.graph else [],
        slug=slug,
        label=label,
        caption=caption,
        concept=concept,
        **attrs,
    )
    if not cg.graph.has_edge(concept, key, key="has_figure"):
        cg.graph.add_edge(concept, key, key="has_figure", relation="has_figure", count=1)
    cg._names = None
    return key


def link_figure_embeds(cg: ConceptGraph) -> list[Problem]:
    """Add edges from linking concepts to figure nodes; `missing-figure` for unknown labels."""
    found: list[Problem] = []
    for ref in cg.figure_refs:
        figure = f"{ref.target}#{fold(ref.label)}"
        if figure in cg.graph:
            if not cg.graph.has_edge(ref.source, figure, key=ref.relation):
                _add_edge(cg.graph, ref.source, figure, ref.relation, path=ref.path, line=ref.line)
        else:
            found.append(
                problem(ref.path, ref.line, "missing-figure", f"{ref.target} has no {ref.label}")
            )
    cg.problems.extend(found)
    return found
