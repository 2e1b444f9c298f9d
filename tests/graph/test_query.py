from __future__ import annotations

import json

import pytest
from graphnotes import graph_of, make_note

from kgraph.graph import query as q
from kgraph.graph.build import ConceptGraph, add_figure
from kgraph.vault.note import Link


@pytest.fixture
def cg() -> ConceptGraph:
    notes = [
        make_note(
            "alpha.md",
            title="Alpha",
            aliases=["First"],
            tags=["topic/sub", "x"],
            date="2024-01-02T00:00:00Z",
            links=[Link("beta", 3), Link("gamma", 4, relation="see_also")],
        ),
        make_note("beta.md", links=[Link("Ghost", 2)]),
        make_note("gamma.md", links=[Link("beta", 2, relation="preceding")]),
        make_note("lonely.md", tags=["topic"]),
        make_note("topical.md", tags=["topics"], links=["delta"]),
        make_note("delta.md"),
    ]
    graph = graph_of(notes)
    add_figure(graph, "alpha", "fig-one", "First figure")
    return graph


def test_show(cg: ConceptGraph) -> None:
    shown = q.show(cg, "FIRST")
    assert shown["key"] == "alpha" and shown["kind"] == "note"
    assert shown["aliases"] == ["First"] and shown["tags"] == ["topic/sub", "x"]
    assert shown["notes"] == [
        {"path": "alpha.md", "line": 1, "title": "Alpha", "date": "2024-01-02T00:00:00Z"}
    ]
    assert shown["out"] == [
        {"relation": "links_to", "target": "beta"},
        {"relation": "see_also", "target": "gamma"},
    ]
    assert shown["in"] == []
    assert shown["figures"] == [
        {"key": "alpha#fig-one", "label": "fig-one", "caption": "First figure"}
    ]
    json.dumps(shown)
    assert q.show(cg, "ghost")["kind"] == "stub"


def test_unknown_concept_has_suggestions(cg: ConceptGraph) -> None:
    with pytest.raises(q.UnknownConcept) as info:
        q.show(cg, "Alphx")
    assert info.value.name == "Alphx"
    assert "Alpha" in info.value.suggestions
    with pytest.raises(LookupError):
        q.backlinks(cg, "nothing-here-at-all")


def test_neighbors_directions_relations_depth(cg: ConceptGraph) -> None:
    rows = q.neighbors(cg, "beta")
    assert [(r["key"], r["relation"], r["direction"], r["depth"]) for r in rows] == [
        ("alpha", "links_to", "in", 1),
        ("gamma", "preceding", "in", 1),
        ("ghost", "links_to", "out", 1),
    ]
    out = q.neighbors(cg, "alpha", direction="out", depth=2)
    assert [(r["key"], r["depth"]) for r in out] == [
        ("alpha#fig-one", 1),
        ("beta", 1),
        ("gamma", 1),
        ("ghost", 2),
    ]
    assert [r["key"] for r in q.neighbors(cg, "alpha", relation="see-also")] == ["gamma"]
    with pytest.raises(ValueError):
        q.neighbors(cg, "alpha", direction="sideways")


def test_backlinks(cg: ConceptGraph) -> None:
    rows = q.backlinks(cg, "Beta")
    assert [(r["key"], r["relation"], r["direction"]) for r in rows] == [
        ("alpha", "links_to", "in"),
        ("gamma", "preceding", "in"),
    ]


def test_path_directed_and_undirected(cg: ConceptGraph) -> None:
    assert q.path(cg, "alpha", "ghost") == {
        "path": ["alpha", "beta", "ghost"],
        "relations": ["links_to", "links_to"],
        "directed": True,
    }
    back = q.path(cg, "ghost", "gamma")
    assert back["path"] == ["ghost", "beta", "gamma"] and back["directed"] is False
    assert back["relations"] == ["~links_to", "~preceding"]
    assert q.path(cg, "alpha", "lonely") == {"path": [], "relations": [], "directed": False}


def test_tag_matches_nested_not_prefix(cg: ConceptGraph) -> None:
    assert [r["key"] for r in q.tag(cg, "#Topic")] == ["alpha", "lonely"]
    assert [r["key"] for r in q.tag(cg, "topic/sub")] == ["alpha"]
    assert q.tag(cg, "nope") == []


def test_orphans_unresolved_hubs_relations(cg: ConceptGraph) -> None:
    assert [r["key"] for r in q.orphans(cg)] == ["lonely"]
    assert q.unresolved(cg) == [{"key": "ghost", "title": "Ghost", "wanted_by": ["beta"]}]
    hubs = q.hubs(cg, top=2)
    assert [(h["key"], h["score"]) for h in hubs] == [("beta", 3), ("alpha", 2)]
    assert q.relations(cg) == {"has_figure": 1, "links_to": 3, "preceding": 1, "see_also": 1}


def test_figures(cg: ConceptGraph) -> None:
    assert q.figures(cg) == [
        {
            "key": "alpha#fig-one",
            "concept": "alpha",
            "label": "fig-one",
            "caption": "First figure",
            "title": "First figure",
        }
    ]


def test_format_text_for_every_verb(cg: ConceptGraph) -> None:
    show = q.format_text("show", q.show(cg, "alpha"))
    assert show.splitlines()[0] == "Alpha (note)"
    assert "  -> see_also gamma" in show.splitlines()
    assert (
        q.format_text("path", q.path(cg, "alpha", "ghost"))
        == "alpha -links_to-> beta -links_to-> ghost"
    )
    assert q.format_text("path", q.path(cg, "alpha", "lonely")) == "no path"
    assert q.format_text("backlinks", q.backlinks(cg, "gamma")) == "<- see_also  Alpha"
    assert q.format_text("unresolved", q.unresolved(cg)) == "Ghost  wanted by beta"
    assert q.format_text("relations", {"links_to": 3}) == "links_to  3"
    assert q.format_text("hubs", q.hubs(cg, top=1)) == "beta  3"
    assert q.format_text("figures", q.figures(cg)) == "alpha#fig-one  First figure"
    assert q.format_text("orphans", []) == "(none)"
    assert q.format_text("orphans", [{"key": "a/index", "title": "index"}]) == "index [a/index]"
