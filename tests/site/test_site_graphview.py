"""Local neighbourhood pictures, the global layout, and relative URLs."""

from __future__ import annotations

import posixpath
import random

import networkx as nx
from hypothesis import given
from hypothesis import strategies as st

from kgraph.site.graphview import Neighbourhoods, global_layout, local_graph_svg
from kgraph.site.render import degrees
from kgraph.site.urls import relative_url


def _random_graph(n: int, seed: int = 1) -> nx.MultiDiGraph:
    rng = random.Random(seed)
    g = nx.MultiDiGraph()
    g.add_nodes_from(f"n{i}" for i in range(n))
    for _ in range(3 * n):
        g.add_edge(f"n{rng.randrange(n)}", f"n{rng.randrange(n)}", key="links_to")
    return g


def test_local_graph_links_neighbours_and_styles_edges() -> None:
    g = nx.MultiDiGraph()
    g.add_edge("a", "b", key="see_also")
    g.add_edge("c", "a", key="links_to")
    g.add_edge("c", "d", key="links_to")
    g.add_edge("x", "y", key="links_to")
    hood = Neighbourhoods(g, ["a", "b", "c", "d", "x", "y"])
    svg = local_graph_svg("a", hood, str.upper, lambda k: f"../{k}/index.html", lambda k: "note")
    # One path per relation, one segment per drawn edge: a-b, c-a, c-d.
    assert svg.count('<path class="edge rel-see_also"') == 1
    assert svg.count('<path class="edge rel-links_to"') == 1
    assert svg.count("M") - svg.count("<title>M") == 3
    assert 'href="../b/index.html"' in svg and 'href="../d/index.html"' in svg
    assert "../x/" not in svg and 'href="../a/index.html"' not in svg
    assert '<g class="node kind-note current">' in svg


def test_global_layout_is_deterministic_and_in_the_box() -> None:
    g = _random_graph(300)
    nodes = sorted(g.nodes)
    first = global_layout(nodes, g)
    assert first == global_layout(nodes, g)
    xs = [p[0] for p in first.values()]
    ys = [p[1] for p in first.values()]
    assert min(xs) == 0.0 and max(xs) == 1000.0 and min(ys) == 0.0 and max(ys) == 1000.0
    assert len(set(first.values())) > 290


def test_global_layout_of_ten_thousand_nodes() -> None:
    g = _random_graph(10_000)
    pos = global_layout(sorted(g.nodes), g)
    assert len(pos) == 10_000
    assert all(0.0 <= x <= 1000.0 and 0.0 <= y <= 1000.0 for x, y in pos.values())


_SEG = st.sampled_from(["a", "b", "tags", "x-y", "_files"])
_PATH = st.lists(_SEG, max_size=3).map(lambda parts: "/".join([*parts, "index.html"]))


@given(_PATH, _PATH)
def test_relative_url_matches_relpath(src: str, dst: str) -> None:
    expected = posixpath.relpath(dst, posixpath.dirname(src) or ".")
    assert relative_url(src, dst) == expected
    assert posixpath.normpath(posixpath.join(posixpath.dirname(src), expected)) == dst
    assert relative_url(src, dst, "f") == ("#f" if src == dst else expected + "#f")


def test_local_graph_names_every_node_and_marks_the_outer_ring() -> None:
    g = nx.MultiDiGraph()
    g.add_edge("a", "b", key="links_to")
    g.add_edge("b", "c", key="links_to")
    hood = Neighbourhoods(g, ["a", "b", "c"])
    long_title = {"a": "A", "b": "B", "c": "A very long concept title indeed"}
    svg = local_graph_svg("a", hood, long_title.__getitem__, lambda k: f"../{k}/", lambda k: "note")
    assert '<a class="node kind-note outer" href="../c/">' in svg
    assert "<title>A very long concept title indeed</title>" in svg
    assert ">A very long conce…</text>" in svg  # shortened label, full name in <title>
    assert '<a class="node kind-note" href="../b/">' in svg


@given(
    st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40), st.integers(0, 3)), max_size=200)
    | st.lists(st.tuples(st.integers(0, 2**40), st.integers(0, 2**30), st.integers(0, 3)))
)
def test_sorted_rows_are_the_distinct_rows_in_tuple_order(rows: list[tuple[int, int, int]]) -> None:
    import numpy as np

    from kgraph.site.graphview import _sorted_rows

    got = _sorted_rows(np.array(rows, dtype=np.int64).reshape(-1, 3))
    assert [tuple(r) for r in got.tolist()] == sorted(set(rows))


@given(
    st.lists(
        st.tuples(st.integers(0, 12), st.integers(0, 12), st.sampled_from(["a", "b", "see_also"])),
        max_size=60,
    )
)
def test_global_graph_data_lists_every_edge_between_nodes_once_in_order(
    edges: list[tuple[int, int, str]],
) -> None:
    import json

    from kgraph.site.graphview import global_graph_js

    g = nx.MultiDiGraph()
    nodes = [f"n{i:02d}" for i in range(10)]  # n10-n12 are in the graph without a page
    g.add_nodes_from(f"n{i:02d}" for i in range(13))
    for u, v, rel in edges:
        g.add_edge(f"n{u:02d}", f"n{v:02d}", key=rel)
    script = global_graph_js(nodes, g, str.upper, lambda k: k + "/", lambda k: "note")
    data = json.loads(script.removeprefix("window.KGRAPH_GRAPH=").removesuffix(";\n"))
    assert data["relations"] == sorted({rel for _, _, rel in edges})
    index = {rel: i for i, rel in enumerate(data["relations"])}
    want = sorted({(u, v, index[rel]) for u, v, rel in edges if u != v and u < 10 and v < 10})
    assert [tuple(e) for e in data["edges"]] == want
    assert [n[2:] for n in data["nodes"]] == [[k.upper(), k + "/", "note"] for k in nodes]
    assert all(0 <= n[0] <= 1000 and 0 <= n[1] <= 1000 for n in data["nodes"])


def _reference_local(
    g: nx.MultiDiGraph, keep: set[str], key: str
) -> tuple[list[str], list[tuple[str, str]], list[tuple[str, str, str]]]:
    """The local picture as its definition reads, walking every edge."""

    def adj(node: str) -> list[str]:
        if node not in keep:
            return []
        both = set(g.successors(node)) | set(g.predecessors(node))
        return sorted(v for v in both if v != node and v in keep)

    ring1 = adj(key)[:16]
    seen = {key, *ring1}
    ring2: list[tuple[str, str]] = []
    for parent in ring1:
        for other in adj(parent):
            if len(ring2) < 24 and other not in seen:
                seen.add(other)
                ring2.append((other, parent))
    inner = {key, *ring1}
    outer = {node for node, _ in ring2}
    first: dict[tuple[str, str], str] = {}
    for u, v, rel in g.edges(keys=True):
        drawn = (u in inner and v in inner | outer) or (u in outer and v in inner)
        if drawn and u != v and u in keep and v in keep and (u, v) not in first:
            first[(u, v)] = rel
    edges = sorted((u, v, rel) for (u, v), rel in first.items())[:80]
    return ring1, ring2, edges


def _edge_lists(
    last: int, relations: list[str], most: int
) -> st.SearchStrategy[list[tuple[int, int, str]]]:
    """Edges (source, target, relation) between nodes 0..last, self-loops and repeats
    included."""
    node = st.integers(0, last)
    return st.lists(st.tuples(node, node, st.sampled_from(relations)), max_size=most)


@given(
    _edge_lists(30, ["links_to", "see_also", "following"], 300),
    st.sets(st.integers(0, 30), max_size=6),
    st.integers(0, 30),
)
def test_local_neighbourhood_matches_its_definition(
    edges: list[tuple[int, int, str]], dropped: set[int], centre: int
) -> None:
    # Dense graphs with self-loops, repeated relations and unkept nodes: a hub's edges
    # outnumber the nodes it is compared with, which takes the other side of the
    # set intersection.
    g = nx.MultiDiGraph()
    g.add_nodes_from(f"n{i:02d}" for i in range(31))
    for u, v, rel in edges:
        g.add_edge(f"n{u:02d}", f"n{v:02d}", key=rel)
    keep = {f"n{i:02d}" for i in range(31) if i not in dropped}
    key = f"n{centre:02d}"
    assert Neighbourhoods(g, keep).local(key) == _reference_local(g, keep, key)


@given(
    _edge_lists(12, ["links_to", "see_also", "embeds"], 120),
    st.sets(st.integers(0, 15), max_size=16),
)
def test_degrees_count_as_networkx_does(edges: list[tuple[int, int, str]], asked: set[int]) -> None:
    # Self-loops, parallel edges of several relations, and keys the graph lacks (13-15).
    g = nx.MultiDiGraph()
    g.add_nodes_from(f"n{i:02d}" for i in range(13))
    for u, v, rel in edges:
        g.add_edge(f"n{u:02d}", f"n{v:02d}", key=rel)
    keys = [f"n{i:02d}" for i in sorted(asked)]
    expected = {k: g.degree(k) if k in g else 0 for k in keys}
    assert degrees(g, keys) == expected
