"""Queries over a ConceptGraph: plain functions returning JSON-able values (DESIGN §7 shapes).

Concept arguments accept any name, title, alias, slug or path, case-insensitively; an unknown
name raises `UnknownConcept` carrying suggestions. Every result is sorted deterministically.
`has_figure` edges are structure, not links: orphans and hubs ignore them.
"""

from __future__ import annotations

from collections import Counter, deque
from itertools import pairwise
from typing import Any

import networkx as nx

from kgraph.graph.build import ConceptGraph
from kgraph.graph.keys import concept_key
from kgraph.graph.text import format_text

_STRUCTURE = {"has_figure"}


class UnknownConcept(LookupError):
    """No concept has this name; `.suggestions` lists close titles and aliases."""

    def __init__(self, name: str, suggestions: list[str]) -> None:
        hint = f" (did you mean: {', '.join(suggestions)})" if suggestions else ""
        super().__init__(f"unknown concept {name!r}{hint}")
        self.name = name
        self.suggestions = suggestions


def _key(cg: ConceptGraph, name: str) -> str:
    key = cg.lookup(name)
    if key is None or key not in cg.graph:
        raise UnknownConcept(name, cg.suggest(name))
    return key


def _link_degrees(graph: nx.MultiDiGraph) -> Counter[str]:
    """Edges in plus out of every node (one per neighbour and relation), structure excluded."""
    degrees: Counter[str] = Counter()
    for source, target, relation in graph.edges(keys=True):
        if relation not in _STRUCTURE:
            degrees[source] += 1
            degrees[target] += 1
    return degrees


def _title(cg: ConceptGraph, key: str) -> str:
    return str(cg.graph.nodes[key].get("title", key))


def show(cg: ConceptGraph, name: str) -> dict[str, Any]:
    """Everything known about one concept."""
    key = _key(cg, name)
    attrs = cg.graph.nodes[key]
    concept = cg.concepts.get(key)
    notes = [
        {"path": n.path, "line": n.line, "title": n.title, "date": n.date}
        for n in (concept.notes if concept else [])
    ]
    out = [
        {"relation": r, "target": t}
        for r, t in sorted(
            (r, t) for _, t, r in cg.graph.out_edges(key, keys=True) if r not in _STRUCTURE
        )
    ]
    incoming = [
        {"relation": r, "source": s}
        for r, s in sorted(
            (r, s) for s, _, r in cg.graph.in_edges(key, keys=True) if r not in _STRUCTURE
        )
    ]
    figures = sorted(
        (
            {
                "key": f,
                "label": str(cg.graph.nodes[f].get("label", "")),
                "caption": str(cg.graph.nodes[f].get("caption", "")),
            }
            for _, f, r in cg.graph.out_edges(key, keys=True)
            if r == "has_figure"
        ),
        key=lambda d: d["key"],
    )
    return {
        "key": key,
        "title": attrs.get("title", key),
        "kind": attrs.get("kind", "note"),
        "aliases": list(attrs.get("aliases", [])),
        "tags": list(attrs.get("tags", [])),
        "notes": notes,
        "out": out,
        "in": incoming,
        "figures": figures,
    }


def neighbors(
    cg: ConceptGraph,
    name: str,
    relation: str | None = None,
    direction: str = "both",
    depth: int = 1,
) -> list[dict[str, Any]]:
    """Concepts reachable within `depth` steps; each listed at the depth it is first reached."""
    if direction not in {"in", "out", "both"}:
        raise ValueError(f"direction must be in, out or both, not {direction!r}")
    start = _key(cg, name)
    wanted = relation.replace("-", "_").casefold() if relation else None
    seen = {start: 0}
    found: set[tuple[int, str, str, str]] = set()
    queue = deque([start])
    while queue:
        node = queue.popleft()
        level = seen[node] + 1
        if level > depth:
            continue
        steps: list[tuple[str, str, str]] = []
        if direction in {"out", "both"}:
            steps += [(t, r, "out") for _, t, r in cg.graph.out_edges(node, keys=True)]
        if direction in {"in", "both"}:
            steps += [(s, r, "in") for s, _, r in cg.graph.in_edges(node, keys=True)]
        for other, rel, way in sorted(steps):
            if wanted is not None and rel != wanted:
                continue
            if other == start or seen.get(other, level) < level:
                continue
            found.add((level, other, rel, way))
            if other not in seen:
                seen[other] = level
                queue.append(other)
    return [
        {"key": k, "title": _title(cg, k), "relation": r, "direction": w, "depth": d}
        for d, k, r, w in sorted(found)
    ]


def backlinks(cg: ConceptGraph, name: str) -> list[dict[str, Any]]:
    """Concepts that link to this one, with the relation they use."""
    key = _key(cg, name)
    rows = {(s, r) for s, _, r in cg.graph.in_edges(key, keys=True) if r not in _STRUCTURE}
    return [
        {"key": s, "title": _title(cg, s), "relation": r, "direction": "in"}
        for s, r in sorted(rows)
    ]


def path(cg: ConceptGraph, a: str, b: str) -> dict[str, Any]:
    """Shortest directed path from a to b; if none, the shortest path ignoring direction.

    Steps walked against an edge's direction show as `~relation`; ties follow graph order.
    """
    source, target = _key(cg, a), _key(cg, b)
    directed = True
    try:
        nodes = nx.shortest_path(cg.graph, source, target)
    except nx.NetworkXNoPath:
        directed = False
        try:
            nodes = nx.shortest_path(cg.graph.to_undirected(as_view=True), source, target)
        except nx.NetworkXNoPath:
            return {"path": [], "relations": [], "directed": False}
    relations = []
    for u, v in pairwise(nodes):
        forward = sorted(cg.graph[u][v]) if cg.graph.has_edge(u, v) else []
        # An undirected step walks an edge backwards; mark it so the reader can tell.
        relations.append(forward[0] if forward else "~" + sorted(cg.graph[v][u])[0])
    return {"path": nodes, "relations": relations, "directed": directed}


def tag(cg: ConceptGraph, name: str) -> list[dict[str, Any]]:
    """Concepts carrying a tag or any tag nested under it (`a` matches `a/b`)."""
    wanted = concept_key(name).lstrip("#").strip("/")
    rows = []
    for key, attrs in cg.graph.nodes(data=True):
        tags = [concept_key(t).lstrip("#") for t in attrs.get("tags", [])]
        matching = sorted(t for t in tags if t == wanted or t.startswith(wanted + "/"))
        if matching:
            rows.append({"key": key, "title": _title(cg, key), "tags": matching})
    return sorted(rows, key=lambda r: r["key"])


def orphans(cg: ConceptGraph) -> list[dict[str, Any]]:
    """Note concepts with no link in or out (figures' `has_figure` edges do not count)."""
    rows = []
    degrees = _link_degrees(cg.graph)
    for key, attrs in cg.graph.nodes(data=True):
        if attrs.get("kind") == "note" and degrees[key] == 0:
            rows.append({"key": key, "title": _title(cg, key)})
    return sorted(rows, key=lambda r: r["key"])


def unresolved(cg: ConceptGraph) -> list[dict[str, Any]]:
    """Stub concepts and who wants them."""
    rows = []
    for key, attrs in cg.graph.nodes(data=True):
        if attrs.get("kind") == "stub":
            wanted_by = sorted(cg.graph.pred[key])
            rows.append({"key": key, "title": _title(cg, key), "wanted_by": wanted_by})
    return sorted(rows, key=lambda r: r["key"])


def hubs(cg: ConceptGraph, top: int = 10) -> list[dict[str, Any]]:
    """Most connected concepts; score = distinct (neighbour, relation) edges in + out."""
    rows = []
    degrees = _link_degrees(cg.graph)
    for key, attrs in cg.graph.nodes(data=True):
        if attrs.get("kind") == "figure":
            continue
        score = degrees[key]
        if score:
            rows.append({"key": key, "title": _title(cg, key), "score": score})
    rows.sort(key=lambda r: (-r["score"], r["key"]))
    return rows[: max(top, 0)]


def relations(cg: ConceptGraph) -> dict[str, int]:
    """Number of edges per relation."""
    counts: dict[str, int] = {}
    for _, _, rel in cg.graph.edges(keys=True):
        counts[rel] = counts.get(rel, 0) + 1
    return dict(sorted(counts.items()))


def figures(cg: ConceptGraph) -> list[dict[str, Any]]:
    """Every figure node with its concept, label and caption."""
    rows = []
    for key, attrs in cg.graph.nodes(data=True):
        if attrs.get("kind") == "figure":
            rows.append(
                {
                    "key": key,
                    "concept": attrs.get("concept", key.split("#", 1)[0]),
                    "label": attrs.get("label", ""),
                    "caption": attrs.get("caption", ""),
                    "title": _title(cg, key),
                }
            )
    return sorted(rows, key=lambda r: r["key"])


__all__ = [
    "UnknownConcept",
    "backlinks",
    "figures",
    "format_text",
    "hubs",
    "neighbors",
    "orphans",
    "path",
    "relations",
    "show",
    "tag",
    "unresolved",
]
