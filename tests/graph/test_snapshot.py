"""The query snapshot's stripped copy: same nodes, edges and orders as the graph it copies,
without context sentences, note bodies or links, and sharing nothing it could change."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kgraph import snapshot
from kgraph.graph.build import ConceptGraph
from kgraph.graph.resolve import Resolver
from kgraph.snapshot import (
    _stripped,
    _without_context,
    fingerprint,
    read_snapshot,
    write_snapshot,
)
from kgraph.vault.note import Heading, Link, Note

NODES = st.sampled_from(["a", "b", "c", "d", "e"])
RELATIONS = st.sampled_from(["links_to", "see_also", "preceding"])
EDGES = st.lists(
    st.tuples(NODES, NODES, RELATIONS, st.integers(1, 9), st.text(max_size=8)), max_size=30
)


def graph_of(edges: list[tuple[str, str, str, int, str]]) -> nx.MultiDiGraph:
    graph: nx.MultiDiGraph = nx.MultiDiGraph(name="g")
    for u, v, rel, line, context in edges:
        graph.add_node(u, title=u.upper())
        graph.add_node(v, title=v.upper())
        graph.add_edge(u, v, key=rel, relation=rel, line=line, context=context)
    return graph


def expected(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """The copy the way networkx would make it: edge by edge, then context dropped."""
    copy = graph.copy()
    for _, _, attrs in copy.edges(data=True):
        attrs.pop("context", None)
    return copy


@given(EDGES)
@settings(max_examples=200)
def test_copy_equals_graph_without_context(edges: list[tuple[str, str, str, int, str]]) -> None:
    graph = graph_of(edges)
    copy = _without_context(graph)
    want = expected(graph)
    assert copy.graph == want.graph
    assert list(copy.nodes(data=True)) == list(want.nodes(data=True))
    assert list(copy.edges(keys=True, data=True)) == list(want.edges(keys=True, data=True))
    # Orders matter to whoever iterates: successors, predecessors and keys as in the original.
    for node in graph:
        assert list(copy.successors(node)) == list(graph.successors(node))
        assert list(copy.predecessors(node)) == list(graph.predecessors(node))
        for other in graph.successors(node):
            assert list(copy[node][other]) == list(graph[node][other])
            # One key dict per pair, seen from both ends, as `add_edge` makes it.
            assert copy._succ[node][other] is copy._pred[other][node]
    assert all("context" not in a for _, _, a in copy.edges(data=True))
    assert nx.utils.edges_equal(copy.edges(keys=True), graph.edges(keys=True))


def test_copy_shares_nothing_with_the_graph() -> None:
    graph = graph_of([("a", "b", "links_to", 3, "a links b")])
    copy = _without_context(graph)
    copy["a"]["b"]["links_to"]["line"] = 99
    copy.add_edge("b", "a", key="links_to")
    want = {"relation": "links_to", "line": 3, "context": "a links b"}
    assert graph["a"]["b"]["links_to"] == want
    assert not graph.has_edge("b", "a")


def note() -> Note:
    return Note(
        path="dir/x.md",
        index=0,
        line=1,
        title="X",
        titled=True,
        body="long body",
        body_line=4,
        frontmatter={"title": "X", "tags": ["t"]},
        aliases=("Ex",),
        tags=("t",),
        date="2024-01-01T00:00:00+00:00",
        params={"tau": 20},
        links=(Link("Y", 5),),
        headings=(Heading(1, "H", "h", 6),),
        block_ids=("b1",),
        draft=True,
    )


def test_stripped_note_keeps_what_queries_show() -> None:
    original = note()
    stripped = _stripped(original)
    want = dataclasses.replace(
        original, body="", links=(), cells=(), headings=(), block_ids=(), frontmatter={}
    )
    assert stripped == want
    assert original.body == "long body" and original.links, "the original is untouched"
    assert stripped.frontmatter is not original.frontmatter


def test_snapshot_round_trip(tmp_path: Path) -> None:
    from kgraph.graph.build import Concept

    graph = graph_of([("x", "y", "links_to", 5, "see Y")])
    concepts = {
        "x": Concept(key="x", title="X", kind="note", notes=[note()], slug="x", aliases=("Ex",)),
        "y": Concept(key="y", title="Y", kind="stub", notes=[], slug="y"),
    }
    cg = ConceptGraph(graph=graph, concepts=concepts, resolver=Resolver([], []), problems=[])
    write_snapshot(tmp_path, tmp_path / "vault", "key-1", cg)
    assert read_snapshot(tmp_path, tmp_path / "vault", "key-2") is None
    back = read_snapshot(tmp_path, tmp_path / "vault", "key-1")
    assert back is not None
    assert list(back.graph.edges(keys=True, data=True)) == [
        ("x", "y", "links_to", {"relation": "links_to", "line": 5})
    ]
    assert back.concepts["x"].notes[0].body == ""
    assert back.concepts["x"].notes[0].params == {"tau": 20}
    assert back.lookup("ex") == "x" and back.lookup("dir/x") == "x"
    assert graph["x"]["y"]["links_to"]["context"] == "see Y", "the build's graph keeps it"


def _linked_vault(tmp_path: Path, loops: bool) -> tuple[Path, Path]:
    """A vault with links out of it, and (`loops`) two in `sub` back to the vault."""
    vault, outside = tmp_path / "vault", tmp_path / "outside"
    (vault / "sub").mkdir(parents=True)
    outside.mkdir()
    (vault / "a.md").write_text("[[b]]\n")
    (vault / "sub" / "b.md").write_text("b\n")
    (outside / "secret.md").write_text("secret\n")
    if loops:
        (vault / "sub" / "up").symlink_to(vault, target_is_directory=True)
        (vault / "sub" / "up2").symlink_to(vault, target_is_directory=True)
    (vault / "escape").symlink_to(outside, target_is_directory=True)
    (vault / "escape.md").symlink_to(outside / "secret.md")
    return vault, outside


def test_fingerprint_lists_each_real_folder_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    vault, _ = _linked_vault(tmp_path, loops=True)
    listed: list[str] = []
    real_scandir = os.scandir

    def counting(path: str) -> Any:
        listed.append(path)
        if len(listed) > 50:  # the walk that doubled at every level never ended
            raise AssertionError("the fingerprint walks in circles")
        return real_scandir(path)

    monkeypatch.setattr(snapshot.os, "scandir", counting)
    first = fingerprint(vault, (), "s")
    assert sorted(os.path.realpath(p) for p in listed) == sorted(
        [os.path.realpath(vault), os.path.realpath(vault / "sub")]
    )
    assert fingerprint(vault, (), "s") == first
    (vault / "sub" / "b.md").write_text("b, longer\n")
    assert fingerprint(vault, (), "s") != first


@pytest.mark.timeout(60)  # it never ended before the limit
def test_fingerprint_reads_nothing_a_link_out_of_the_vault_points_to(tmp_path: Path) -> None:
    vault, outside = _linked_vault(tmp_path, loops=False)
    first = fingerprint(vault, (), "s")
    (outside / "secret.md").write_text("a secret that grew\n")
    (outside / "more.md").write_text("more\n")
    assert fingerprint(vault, (), "s") == first
    # The link itself still counts: pointing it elsewhere is a change.
    (vault / "escape.md").unlink()
    (vault / "escape.md").symlink_to(outside / "more.md")
    assert fingerprint(vault, (), "s") != first
