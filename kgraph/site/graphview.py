"""Graph pictures: a small local-neighbourhood SVG per page and one global layout per build."""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable, Iterable
from functools import cache
from typing import TYPE_CHECKING

import networkx as nx

from kgraph.gcpause import paused_gc

if TYPE_CHECKING:
    import numpy as np

LOCAL_RING1 = 16
LOCAL_RING2 = 24
LOCAL_EDGES = 80


class Neighbourhoods:
    """Undirected views of the concept graph around one node, each computed on first use.

    Nothing is computed for the whole graph up front, so rendering a single page of a
    large vault costs only its own neighbourhood.
    """

    def __init__(self, graph: nx.MultiDiGraph, keep: Iterable[str]) -> None:
        self.keep = set(keep)
        self._succ = graph._succ
        self._keep_all = self.keep.issuperset(graph._succ)
        self._pred = graph._pred
        self._memo: dict[
            str, tuple[list[str], list[tuple[str, str]], list[tuple[str, str, str]]]
        ] = {}
        self._adj: dict[str, set[str]] = {}
        self._ordered: dict[str, list[str]] = {}
        self._first: dict[str, dict[str, str]] = {}
        # Per node: its kind and its escaped full and short titles, for every page's SVG.
        self.labels: dict[str, tuple[str, str, str]] = {}

    def adj(self, node: str) -> set[str]:
        """Kept nodes joined to `node` by an edge either way (no self-loops)."""
        found = self._adj.get(node)
        if found is None:
            succ = self._succ.get(node)
            if succ is None or node not in self.keep:
                found = set()
            else:
                # Set operations on the adjacency dicts' keys: no Python step per
                # neighbour (deciding the pages a hub's new link changes takes the
                # neighbours of thousands of pages).
                found = succ.keys() | self._pred[node].keys()
                found.discard(node)
                if not self._keep_all:
                    found &= self.keep
            self._adj[node] = found
        return found

    def ordered(self, node: str) -> list[str]:
        """`adj(node)` sorted, kept: a hub's thousands of neighbours are sorted once, not
        once per page that shows the hub."""
        found = self._ordered.get(node)
        if found is None:
            found = self._ordered[node] = sorted(self.adj(node))
        return found

    def first_relations(self, node: str) -> dict[str, str]:
        """Kept target -> the first relation of `node`'s edges to it (no self-loops)."""
        found = self._first.get(node)
        if found is None:
            succ = self._succ.get(node)
            if succ is None or node not in self.keep:
                found = {}
            else:
                keep, keep_all = self.keep, self._keep_all
                found = {
                    v: str(next(iter(keydict)))
                    for v, keydict in succ.items()
                    if keydict and v != node and (keep_all or v in keep)
                }
            self._first[node] = found
        return found

    def rings(self, key: str) -> tuple[list[str], list[tuple[str, str]]]:
        """The nodes of `local(key)` without its edges: (ring 1, ring 2 (node, parent))."""
        ring1 = self.ordered(key)[:LOCAL_RING1]
        seen = {key, *ring1}
        ring2: list[tuple[str, str]] = []
        for parent in ring1:
            if len(ring2) >= LOCAL_RING2:
                break  # before sorting the neighbours of parents that add nothing
            for other in self.ordered(parent):
                if len(ring2) >= LOCAL_RING2:
                    break
                if other not in seen:
                    seen.add(other)
                    ring2.append((other, parent))
        return ring1, ring2

    def local(
        self, key: str
    ) -> tuple[list[str], list[tuple[str, str]], list[tuple[str, str, str]]]:
        """(ring-1 nodes, ring-2 (node, parent) pairs, edges (u, v, relation)) around `key`."""
        if key in self._memo:
            return self._memo[key]
        ring1, ring2 = self.rings(key)
        inner = {key, *ring1}
        seen = inner | {node for node, _ in ring2}
        # One line per pair, and none between two outer nodes: the picture stays legible.
        # Each (u, v) comes up once (u inner, or u outer and v inner), so no pair repeats.
        # The set intersections run in C over the smaller side: a hub's thousands of
        # edges are walked once (`first_relations`, kept), not once per page.
        found: list[tuple[str, str, str]] = []
        for u in inner:
            first = self.first_relations(u)
            found += [(u, v, first[v]) for v in first.keys() & seen]
        for u, _parent in ring2:
            first = self.first_relations(u)
            found += [(u, v, first[v]) for v in first.keys() & inner]
        found.sort()
        edges = found[:LOCAL_EDGES]
        self._memo[key] = (ring1, ring2, edges)
        return self._memo[key]


@cache
def _ring1(count: int) -> tuple[tuple[float, float, str], ...]:
    """(x, y, "x y") of `count` neighbours on the inner ring (pages with as many share it)."""
    out = []
    for i in range(count):
        angle = 2 * math.pi * i / max(count, 1) - math.pi / 2
        out.append(_placed(round(110 * math.cos(angle), 1), round(110 * math.sin(angle), 1)))
    return tuple(out)


@cache
def _ring2(count: int) -> tuple[tuple[float, float, str], ...]:
    """The same for `count` outer nodes, set between the inner ones."""
    out = []
    for i in range(count):
        angle = 2 * math.pi * (i + 0.5) / max(count, 1) - math.pi / 2
        out.append(_placed(round(200 * math.cos(angle), 1), round(200 * math.sin(angle), 1)))
    return tuple(out)


def _placed(x: float, y: float) -> tuple[float, float, str]:
    return (x, y, f"{x:g} {y:g}")


def _edge_paths(edges: list[tuple[str, str, str]], pos: dict[str, tuple[float, float, str]]) -> str:
    """One `<path>` per relation: a page's graph stays a few kilobytes even around hubs."""
    segments: dict[str, list[str]] = {}
    for u, v, rel in edges:
        segments.setdefault(rel, []).append(f"M{pos[u][2]}L{pos[v][2]}")
    out = []
    for rel in sorted(segments):
        name = html.escape(rel)
        out.append(
            f'<path class="edge rel-{name}" d="{"".join(segments[rel])}">'
            f"<title>{name.replace('_', ' ')}</title></path>"
        )
    return "".join(out)


def _short(text: str, limit: int = 22) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def local_graph_svg(
    key: str,
    hood: Neighbourhoods,
    title: Callable[[str], str],
    href: Callable[[str], str | None],
    kind: Callable[[str], str],
) -> str:
    """An inline SVG of the neighbourhood: centre, neighbours, their neighbours; nodes link."""
    ring1, ring2, edges = hood.local(key)
    pos: dict[str, tuple[float, float, str]] = {key: _placed(0.0, 0.0)}
    pos.update(zip(ring1, _ring1(len(ring1)), strict=True))
    pos.update(zip((node for node, _ in ring2), _ring2(len(ring2)), strict=True))
    out = [
        '<svg class="local-graph" viewBox="-260 -240 520 480" role="group" '
        f'aria-label="Neighbourhood of {html.escape(title(key))}">'
    ]
    out.append(_edge_paths(edges, pos))
    outer = {node for node, _ in ring2}
    labels = hood.labels
    for i, (node, (x, y, _)) in enumerate(pos.items()):
        known = labels.get(node)
        if known is None:
            name = title(node)
            known = (html.escape(kind(node)), html.escape(name), html.escape(_short(name, 18)))
            labels[node] = known
        node_kind, full, label = known
        cls = f"node kind-{node_kind}" + (" current" if node == key else "")
        cls += " outer" if node in outer else ""
        # Neighbours' labels alternate above and below their node so that they overlap less.
        ty = y - 11 if i % 2 == 0 and node != key else y + 20
        shape = (
            f"<title>{full}</title>"
            f'<circle cx="{x}" cy="{y}" r="{9 if node == key else 6}"></circle>'
            f'<text x="{x}" y="{ty}">{label}</text>'
        )
        link = href(node)
        if link and node != key:
            out.append(f'<a class="{cls}" href="{html.escape(link, quote=True)}">{shape}</a>')
        else:
            out.append(f'<g class="{cls}">{shape}</g>')
    out.append("</svg>")
    return "".join(out)


# Rows of the repulsion terms worked out at once: 1024 x 64 doubles a buffer (fastest
# measured on a 2-core machine with a 1 MB cache per core; 256 and 2048 were slower).
_LAYOUT_BLOCK = 1024


def _force_layout(n: int, edges: np.ndarray, seed: int, iterations: int) -> np.ndarray:
    import numpy as np  # only the global graph needs it: a one-page render does not pay

    # Fruchterman-Reingold with repulsion estimated from a random sample: O(n * sample) a
    # step. Memory traffic, not arithmetic, is what a step costs, so the n x sample
    # repulsion terms are worked out a block of rows at a time in buffers that stay in
    # the CPU's cache (a third of the time of whole-array passes at 10,000 nodes). Each
    # row's sum is the one a whole-array pass gives: the positions do not change.
    rng = np.random.default_rng(seed)
    pos = rng.random((n, 2))
    x, y = np.ascontiguousarray(pos[:, 0]), np.ascontiguousarray(pos[:, 1])
    src, dst = np.ascontiguousarray(edges[:, 0]), np.ascontiguousarray(edges[:, 1])
    k = 1.0 / math.sqrt(n)
    temp = 0.1
    sample = min(n, 64)
    rows = min(n, _LAYOUT_BLOCK)
    # The repulsion terms in single precision: half the memory traffic, a quarter less
    # time at 10,000 nodes; a sampled estimate needs no more digits. Positions and the
    # rest stay double.
    f32 = np.float32
    dx_buf, dy_buf, w_buf, t_buf = (np.empty((rows, sample), dtype=f32) for _ in range(4))
    fx32, fy32 = np.empty(n, dtype=f32), np.empty(n, dtype=f32)
    kk, floor = f32(k * k), f32(1e-6)
    for _ in range(iterations):
        picks = rng.choice(n, size=sample, replace=False)
        x32, y32 = x.astype(f32), y.astype(f32)
        px, py = x32[picks][None, :], y32[picks][None, :]
        for lo in range(0, n, rows):
            hi = min(n, lo + rows)
            m = hi - lo
            dx, dy, weight, tmp = dx_buf[:m], dy_buf[:m], w_buf[:m], t_buf[:m]
            np.subtract(x32[lo:hi, None], px, out=dx)
            np.subtract(y32[lo:hi, None], py, out=dy)
            # weight = (k*k) / max(dx*dx + dy*dy, 1e-6)
            np.multiply(dx, dx, out=weight)
            np.multiply(dy, dy, out=tmp)
            weight += tmp
            np.maximum(weight, floor, out=weight)
            np.divide(kk, weight, out=weight)
            dx *= weight
            dy *= weight
            dx.sum(axis=1, out=fx32[lo:hi])
            dy.sum(axis=1, out=fy32[lo:hi])
        fx = fx32.astype(np.float64) * (n / sample)
        fy = fy32.astype(np.float64) * (n / sample)
        if len(edges):
            ex, ey = x[src] - x[dst], y[src] - y[dst]
            length = np.sqrt(ex**2 + ey**2)
            ex, ey = ex * length / k, ey * length / k
            fx -= np.bincount(src, weights=ex, minlength=n)
            fx += np.bincount(dst, weights=ex, minlength=n)
            fy -= np.bincount(src, weights=ey, minlength=n)
            fy += np.bincount(dst, weights=ey, minlength=n)
        length = np.maximum(np.sqrt(fx**2 + fy**2), 1e-9)
        limit = np.minimum(length, temp)
        x += fx / length * limit
        y += fy / length * limit
        temp *= 0.95
    return np.stack([x, y], axis=1)


def _edge_rows(graph: nx.MultiDiGraph, index: dict[str, int]) -> tuple[list[str], np.ndarray]:
    """Every relation name in the graph, sorted, and a (source, target, relation number)
    row for each edge between two indexed nodes (no self-loops), in no particular order:
    one pass over networkx's adjacency, into a flat list (a third of the time of a set
    of tuples at 10,000 nodes: `_sorted_rows` makes the rows distinct anyway)."""
    import numpy as np

    numbers: dict[str, int] = {}  # relation -> number in order of first sight
    flat: list[int] = []
    for u, nbrs in graph._succ.items():
        iu = index.get(u)
        for v, keydict in nbrs.items():
            iv = index.get(v) if iu is not None and v != u else None
            for rel in keydict:
                name = str(rel)
                number = numbers.get(name)
                if number is None:
                    number = numbers[name] = len(numbers)
                if iv is not None:
                    flat += (iu, iv, number)  # type: ignore[arg-type]
    names = sorted(numbers)
    rank = np.empty(len(names), dtype=np.int64)
    for i, name in enumerate(names):
        rank[numbers[name]] = i
    rows = np.array(flat, dtype=np.int64).reshape(-1, 3)
    rows[:, 2] = rank[rows[:, 2]]
    return names, rows


def global_layout(
    nodes: list[str], graph: nx.MultiDiGraph, seed: int = 7
) -> dict[str, tuple[float, float]]:
    """Positions in a 1000x1000 box, computed once per build, deterministic for a given graph."""
    index = {key: i for i, key in enumerate(nodes)}
    _, rows = _edge_rows(graph, index)
    return _layout(nodes, _sorted_rows(rows[:, :2]), seed)


def _sorted_rows(rows: np.ndarray) -> np.ndarray:
    """The distinct rows of a non-negative integer array in ascending order, as
    `sorted(set(...))` of tuples would give them. Each row is read as one number in a
    mixed radix, so a plain sort does it: a tenth of the time of sorting 100,000 tuples
    (or of `np.unique(axis=0)`)."""
    import numpy as np

    if not len(rows):
        return rows
    bases = [int(column.max()) + 1 for column in rows.T]
    if math.prod(bases) >= 1 << 62 or int(rows.min()) < 0:
        return np.unique(rows, axis=0)
    keys = np.zeros(len(rows), dtype=np.int64)
    for column, base in zip(rows.T, bases, strict=True):
        keys = keys * base + column
    keys = np.unique(keys)
    out = np.empty((len(keys), rows.shape[1]), dtype=np.int64)
    for i in range(rows.shape[1] - 1, -1, -1):
        keys, out[:, i] = np.divmod(keys, bases[i])
    return out


def _layout(nodes: list[str], pairs: np.ndarray, seed: int) -> dict[str, tuple[float, float]]:
    """Positions of `nodes` linked by `pairs` (distinct (source, target) index rows, in
    ascending order)."""
    import numpy as np

    if not nodes:
        return {}
    arr = _force_layout(len(nodes), pairs.reshape(-1, 2), seed, 60)
    lo, hi = arr.min(axis=0), arr.max(axis=0)
    scale = np.where(hi - lo > 0, hi - lo, 1.0)
    arr = (arr - lo) / scale * 1000.0
    # Python floats, rounded as Python rounds them.
    xy = arr.tolist()
    return {key: (round(x, 1), round(y, 1)) for key, (x, y) in zip(nodes, xy, strict=True)}


def global_graph_js(
    nodes: list[str],
    graph: nx.MultiDiGraph,
    title: Callable[[str], str],
    href: Callable[[str], str | None],
    kind: Callable[[str], str],
) -> str:
    """The global graph as a script assigning `window.KGRAPH_GRAPH` (loads on file:// too)."""
    index = {key: i for i, key in enumerate(nodes)}
    with paused_gc():  # half a million small acyclic objects at 10,000 nodes
        relations, rows = _edge_rows(graph, index)
        # (source, target, relation) rows, distinct, ascending: the edges as the page lists them.
        rows = _sorted_rows(rows)
        pos = _layout(nodes, _sorted_rows(rows[:, :2]), 7)
        data = {
            "relations": relations,
            "nodes": [[*pos[k], title(k), href(k) or "", kind(k)] for k in nodes],
            "edges": rows.tolist(),
        }
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    # `</` inside a string must not end the script element.
    return "window.KGRAPH_GRAPH=" + text.replace("</", "<\\/") + ";\n"
