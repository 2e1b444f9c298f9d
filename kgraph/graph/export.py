"""Write the concept graph as GraphML, GEXF, node-link JSON or a pair of CSV files.

GraphML/GEXF and CSV hold only strings, ints, floats and bools: None values are dropped,
lists are joined with `;` (`tags: ["a", "b"]` → `"a;b"`), mappings become JSON text.
JSON keeps lists as lists. CSV: `out` names the nodes file; `<stem>.nodes.csv` and
`<stem>.edges.csv` are written beside it (`graph.csv` → `graph.nodes.csv`, `graph.edges.csv`).
"""

from __future__ import annotations

import csv
import json
import re
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


# What XML 1.0 cannot hold at all, not even as a character reference: most C0 controls,
# lone surrogates, U+FFFE and U+FFFF.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """`text` with each character XML cannot hold written as `\\xNN` (or `\\uNNNN`):
    a title with a control character in it still gives a well-formed file, and two
    such titles stay two nodes."""
    return _NOT_XML.sub(_escaped, text)


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 256 else f"\\u{code:04x}"


def flat_graph(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """A copy for GraphML/GEXF: flat attribute values, no None values, and every string
    (nodes and keys included) fit for XML."""

    def fit(value: Any) -> Any:
        return xml_text(value) if isinstance(value, str) else value

    flat: nx.MultiDiGraph = nx.MultiDiGraph()
    for node, attrs in graph.nodes(data=True):
        values = {k: fit(flat_value(v)) for k, v in attrs.items()}
        flat.add_node(fit(node), **{k: v for k, v in values.items() if v is not None})
    for source, target, key, attrs in graph.edges(keys=True, data=True):
        values = {k: fit(flat_value(v)) for k, v in attrs.items()}
        kept = {k: v for k, v in values.items() if v is not None}
        flat.add_edge(fit(source), fit(target), key=fit(key), **kept)
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
