from __future__ import annotations

import csv
import json
from html import escape
from pathlib import Path

import networkx as nx
import pytest
from graphnotes import graph_of, make_note
from hypothesis import given, settings
from hypothesis import strategies as st

from kgraph.graph.build import ConceptGraph, add_figure
from kgraph.graph.export import export_graph, flat_value, xml_text
from kgraph.vault.note import Link


@pytest.fixture
def cg() -> ConceptGraph:
    notes = [
        make_note(
            "a.md",
            title="Ä title",
            tags=["t1", "t2/x"],
            aliases=["A1"],
            date="2024-01-01T00:00:00Z",
            links=[
                Link("b", 2, subpath="Sec"),
                Link("b", 3, relation="see_also"),
                Link("nowhere", 4),
            ],
        ),
        make_note("b.md", links=[Link("Ä title", 2, relation="preceding")]),
    ]
    graph = graph_of(notes)
    add_figure(graph, "b", "fig-x", "Cap", svg="x.svg")
    return graph


def expected_nodes(cg: ConceptGraph) -> dict[str, dict[str, object]]:
    return {
        n: {k: flat_value(v) for k, v in a.items() if v is not None}
        for n, a in cg.graph.nodes(data=True)
    }


def expected_edges(cg: ConceptGraph) -> set[tuple[str, str, str]]:
    return set(cg.graph.edges(keys=True))


def test_flat_value() -> None:
    assert flat_value(["a", "b"]) == "a;b"
    assert flat_value([]) == ""
    assert flat_value({"b": 1, "a": 2}) == '{"a": 2, "b": 1}'
    assert flat_value(3) == 3 and flat_value(True) is True and flat_value(None) is None


def test_graphml_round_trip(cg: ConceptGraph, tmp_path: Path) -> None:
    out = tmp_path / "g.graphml"
    assert export_graph(cg, "graphml", out) == [out]
    back = nx.read_graphml(out, force_multigraph=True)
    assert dict(back.nodes(data=True)) == expected_nodes(cg)
    assert set(back.edges(keys=True)) == expected_edges(cg)
    edge = back.edges["ä title", "b", "links_to"]
    assert (edge["relation"], edge["line"], edge["subpath"], edge["count"]) == (
        "links_to",
        2,
        "Sec",
        1,
    )
    assert "subpath" not in back.edges["ä title", "b", "see_also"]  # None dropped


def test_gexf_round_trip(cg: ConceptGraph, tmp_path: Path) -> None:
    out = tmp_path / "g.gexf"
    export_graph(cg, "gexf", out)
    back = nx.read_gexf(out)
    assert set(back.nodes) == set(cg.graph.nodes)
    # GEXF keeps a node `label`; figures' label attribute becomes that label.
    for node, attrs in expected_nodes(cg).items():
        got = dict(back.nodes[node])
        got.pop("label", None)
        attrs = {k: v for k, v in attrs.items() if k != "label"}
        assert got == attrs, node
    keys = {(s, t, d["relation"]) for s, t, d in back.edges(data=True)}
    assert keys == expected_edges(cg)


def test_json_round_trip(cg: ConceptGraph, tmp_path: Path) -> None:
    out = tmp_path / "g.json"
    export_graph(cg, "json", out)
    data = json.loads(out.read_text(encoding="utf-8"))
    back = nx.node_link_graph(data, edges="edges")
    assert isinstance(back, nx.MultiDiGraph)
    assert dict(back.nodes(data=True)) == dict(cg.graph.nodes(data=True))
    assert set(back.edges(keys=True)) == expected_edges(cg)
    assert back.nodes["ä title"]["tags"] == ["t1", "t2/x"]


def test_csv_pair(cg: ConceptGraph, tmp_path: Path) -> None:
    written = export_graph(cg, "csv", tmp_path / "graph.csv")
    assert [p.name for p in written] == ["graph.nodes.csv", "graph.edges.csv"]
    with written[0].open(encoding="utf-8", newline="") as handle:
        nodes = list(csv.DictReader(handle))
    with written[1].open(encoding="utf-8", newline="") as handle:
        edges = list(csv.DictReader(handle))
    assert len(nodes) == cg.graph.number_of_nodes() == 4
    assert len(edges) == cg.graph.number_of_edges() == 5
    row = next(n for n in nodes if n["key"] == "ä title")
    assert (row["title"], row["tags"], row["kind"]) == ("Ä title", "t1;t2/x", "note")
    assert {(e["source"], e["target"], e["relation"]) for e in edges} == expected_edges(cg)


def test_unknown_format(cg: ConceptGraph, tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        export_graph(cg, "dot", tmp_path / "g.dot")


@pytest.mark.parametrize("fmt", ["graphml", "gexf"])
def test_xml_exports_hold_titles_with_control_characters(fmt: str, tmp_path: Path) -> None:
    notes = [
        make_note("a.md", title="Bell\x07 one", links=[Link("Esc\x1b two", 2)]),
        make_note("b.md", title="Bell\x08 one"),  # differs from a's title in that character
    ]
    out = tmp_path / f"g.{fmt}"
    export_graph(graph_of(notes), fmt, out)
    back = nx.read_graphml(out) if fmt == "graphml" else nx.read_gexf(out)
    assert set(back.nodes) == {"bell\\x07 one", "bell\\x08 one", "esc\\x1b two"}
    assert back.has_edge("bell\\x07 one", "esc\\x1b two")


@given(st.text(max_size=30))
@settings(max_examples=200, deadline=None)
def test_xml_text_is_well_formed_and_keeps_texts_apart(text: str) -> None:
    import xml.etree.ElementTree as ET

    fitted = xml_text(text)
    root = ET.fromstring(f"<a>{escape(fitted)}</a>")
    assert (root.text or "") == fitted.replace("\r\n", "\n").replace("\r", "\n")  # XML line ends
    if "\\" not in text:  # an escape is told apart from the text it replaced
        assert xml_text(text + "\x01") != xml_text(text + "\x02")
        assert fitted == text or any(not ch.isprintable() for ch in text)
