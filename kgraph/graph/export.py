"""Write the concept graph as GraphML, GEXF, node-link JSON or a pair of CSV files.

GraphML/GEXF and CSV hold only strings, ints, floats and bools: None values are dropped,
lists are joined with `;` (`tags: ["a", "b"]` → `"a;b"`), mappings become JSON text.
JSON keeps lists as lists. CSV: `out` names the nodes file; `<stem>.nodes.csv` and
`<stem>.edges.csv` are written beside it (`graph.csv` → `graph.nodes.csv`, `graph.edges.csv`).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import networkx as nx

from kgraph.graph.build import ConceptGraph

FORMATS = ("graphml", "gexf", "json", "csv")
NODE_COLUMNS = ("key", "title", "kind", "slug", "tags", "aliases", "dates", "paths")
EDGE_COLUMNS = ("source", "target", "relation", "count", "path", "line", "subpath", "context")


def flat_value(value: Any) -> str | int | float | bool | None:
    """A value GraphML/GEXF/CSV readers accept (None stays None, to be dropped)."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value) if isinstance(value, set | frozenset) else value
        return ";".join(str(v) for v in items)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def json_value(value: Any) -> Any:
    """A JSON-safe copy of an attribute value."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(json_value(v) for v in value)
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    return str(value)


def flat_graph(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """A copy with flat attribute values and no None values."""
    flat: nx.MultiDiGraph = nx.MultiDiGraph()
    for node, attrs in graph.nodes(data=True):
        values = {k: flat_value(v) for k, v in attrs.items()}
        flat.add_node(node, **{k: v for k, v in values.items() if v is not None})
    for source, target, key, attrs in graph.edges(keys=True, data=True):
        values = {k: flat_value(v) for k, v in attrs.items()}
        flat.add_edge(source, target, key=key, **{k: v for k, v in values.items() if v is not None})
    return flat


def export_graph(cg: ConceptGraph, fmt: str, out: Path) -> list[Path]:
    """Write the graph in `fmt` and return the files written."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "graphml":
        nx.write_graphml(flat_graph(cg.graph), out)
        return [out]
    if fmt == "gexf":
        nx.write_gexf(flat_graph(cg.graph), out)
        return [out]
    if fmt == "json":
        safe: nx.MultiDiGraph = nx.MultiDiGraph()
        for node, attrs in cg.graph.nodes(data=True):
            safe.add_node(node, **{k: json_value(v) for k, v in attrs.items()})
        for s, t, k, attrs in cg.graph.edges(keys=True, data=True):
            safe.add_edge(s, t, key=k, **{a: json_value(v) for a, v in attrs.items()})
        try:
            data = nx.node_link_data(safe, edges="edges")
        except TypeError:  # networkx < 3.4 names the keyword `link`
            data = nx.node_link_data(safe, link="edges")
        out.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        return [out]
    return _write_csv(cg.graph, out)


def _write_csv(graph: nx.MultiDiGraph, out: Path) -> list[Path]:
    stem = out.name.removesuffix(".csv").removesuffix(".nodes")
    nodes_path = out.with_name(f"{stem}.nodes.csv")
    edges_path = out.with_name(f"{stem}.edges.csv")
    with nodes_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(NODE_COLUMNS)
        for node, attrs in graph.nodes(data=True):
            row = [node, *(attrs.get(c) for c in NODE_COLUMNS[1:])]
            writer.writerow(["" if v is None else flat_value(v) for v in row])
    with edges_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(EDGE_COLUMNS)
        for source, target, key, attrs in graph.edges(keys=True, data=True):
            row = [source, target, key, *(attrs.get(c) for c in EDGE_COLUMNS[3:])]
            writer.writerow(["" if v is None else flat_value(v) for v in row])
    return [nodes_path, edges_path]
