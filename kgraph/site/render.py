"""Pages from the concept graph: concept pages, indexes, tags, figures, graph, search, 404."""

from __future__ import annotations

import heapq
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2

from kgraph.config import Config
from kgraph.digest import value_digest
from kgraph.problems import Problem, problem
from kgraph.site.codestyle import pygments_css
from kgraph.site.context import FigureInfo, SiteContext
from kgraph.site.figsvg import FigureSvgs
from kgraph.site.graphview import Neighbourhoods, global_graph_js, local_graph_svg
from kgraph.site.hooks import RenderedNote, render_note
from kgraph.site.model import CellResultLike, ConceptGraphLike
from kgraph.site.output import SiteOutput
from kgraph.site.rewrite import PAGE_IDS, dedupe_ids, link_tags
from kgraph.site.sanitize import sanitize_html
from kgraph.site.templates import make_environment
from kgraph.site.urls import clean_segment, page_path, relative_url, root_prefix

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["SiteOutput", "render_site"]

ASSETS = Path(__file__).parent / "assets"
TOC_MIN_HEADINGS = 4
FIGURE_TITLE_MAX = 60
HOME_KEYS = ("index", "home")
# The index pages, in parts a build renders again separately: "linked" (home, with its
# hubs, and the wanted page) and "graph" (the global graph) show edges; "listed" (A-Z,
# every concept, stubs too) and "tagged" (tags and figures: no stub has either) show
# only names, tags, dates and figures; "static" (search, 404, the shared CSS and
# scripts) shows nothing of the vault.
INDEX_PARTS = frozenset({"graph", "linked", "listed", "tagged", "static"})
_LABELS = {
    "links_to": "Links to",
    "embeds": "Embeds",
    "see_also": "See also",
    "has_figure": "Figures",
}
_INVERSE_LABELS = {"links_to": "Backlinks", "embeds": "Embedded in", "see_also": "Seen also from"}
_FIG_REF = re.compile(r"@(fig-[\w-]+)")
_TAG_SPLIT = re.compile(r"(<[^>]*>)")


def relation_label(rel: str) -> str:
    return _LABELS.get(rel, rel.replace("_", " ").capitalize())


@dataclass(frozen=True)
class Entry:
    """A linked concept in a list: its title, URL, CSS class and an optional context sentence."""

    key: str
    title: str
    url: str
    cls: str = "internal"
    context: str = ""


@dataclass
class _Page:
    path: str
    template: str
    values: dict[str, Any] = field(default_factory=dict)
    shows: frozenset[str] = frozenset()
    local: str = ""  # a concept page's `SiteRenderer.local_digest`


class SiteRenderer:
    """Renders every page of a site; precomputes what pages share once."""

    def __init__(self, ctx: SiteContext) -> None:
        self.ctx = ctx
        self.cg = ctx.cg
        self.graph = ctx.cg.graph
        self.hood = Neighbourhoods(self.graph, ctx.pages)
        self.svgs = FigureSvgs(ctx.copies)
        # Per node: (page, fragment, class, title) as lists link it, or None (no page).
        self._targets: dict[str, tuple[str, str | None, str, str] | None] = {}

    # What only some pages need is computed on first use: a single page stays cheap.
    @cached_property
    def tags(self) -> dict[str, list[str]]:
        """Every tag and tag prefix, with the concepts carrying it, by title."""
        return self._collect_tags()

    @cached_property
    def by_title(self) -> list[str]:
        """Every page's concept in A-Z order (title case-folded, then key): sorted once
        for A-Z, wanted, the tag pages and the hubs' ties."""
        return sorted(self.ctx.pages, key=lambda k: (self.title(k).casefold(), k))

    @cached_property
    def title_rank(self) -> dict[str, int]:
        """Each page's concept -> its place in `by_title`."""
        return {key: rank for rank, key in enumerate(self.by_title)}

    @cached_property
    def tag_names(self) -> frozenset[str]:
        """The names of `tags` alone, without sorting members (what tag links need)."""
        return frozenset(
            name
            for key, concept in self.cg.concepts.items()
            if concept.tags and key in self.ctx.pages
            for tag in concept.tags
            for name in _tag_prefixes(tag)
        )

    @cached_property
    def dates(self) -> dict[str, str]:
        return {
            key: max((n.date for n in c.notes if n.date), default="")
            for key, c in self.cg.concepts.items()
        }

    # -- helpers ---------------------------------------------------------------
    def title(self, key: str) -> str:
        concept = self.cg.concepts.get(key)
        if concept is not None:
            return str(concept.title)
        return str(self.graph.nodes[key].get("title", key)) if key in self.graph else key

    def kind(self, key: str) -> str:
        concept = self.cg.concepts.get(key)
        if concept is not None:
            return str(concept.kind)
        return str(self.graph.nodes[key].get("kind", "note")) if key in self.graph else "stub"

    def entry(self, page: str, key: str, context: str = "") -> Entry | None:
        if key in self._targets:
            known = self._targets[key]
        else:
            known = self._targets[key] = self._target(key)
        if known is None:
            return None
        target, frag, cls, title = known
        return Entry(key, title, relative_url(page, target, frag), cls, context)

    def _target(self, key: str) -> tuple[str, str | None, str, str] | None:
        target, frag = self.ctx.node_page(key)
        if target is None:
            return None
        kind = self.kind(key)
        cls = "internal stub" if kind == "stub" else "internal"
        title = self.title(key)
        if kind == "figure" and len(title) > FIGURE_TITLE_MAX:
            title = title[: FIGURE_TITLE_MAX - 1].rstrip() + "…"  # a caption can be a paragraph
        return target, frag, cls, title

    def tag_path(self, tag: str) -> str:
        parts = [clean_segment(p) or "tag" for p in tag.split("/") if p]
        return page_path("tags/" + "/".join(parts or ["tag"]))

    def _collect_tags(self) -> dict[str, list[str]]:
        tags: dict[str, set[str]] = defaultdict(set)
        for key, concept in self.cg.concepts.items():
            if key not in self.ctx.pages:
                continue
            for tag in concept.tags:
                for name in _tag_prefixes(tag):
                    tags[name].add(key)
        rank = self.title_rank
        return {t: sorted(keys, key=rank.__getitem__) for t, keys in tags.items()}

    def tag_url(self, page: str, tag: str) -> str | None:
        tag = tag.strip("#/ ")
        return relative_url(page, self.tag_path(tag)) if tag in self.tag_names else None

    def finish_body(
        self, rendered: RenderedNote, page: str, taken: set[str], svg_prefix: str
    ) -> tuple[str, dict[str, str]]:
        """Sanitise a rendered body, link its tags, make its ids unique, inline figures.

        A body without raw HTML or unsafe URLs is markup our renderers escaped and skips
        the sanitiser (a fifth of a page's render time); tests hold that the sanitiser
        would keep such a body as it is."""
        clean = sanitize_html(rendered.html) if rendered.raw else rendered.html
        clean = clean.replace("<p></p>", "")
        clean = link_tags(clean, lambda t: self.tag_url(page, t))
        clean, renamed = dedupe_ids(clean, taken)
        return self.svgs.inline(clean, svg_prefix), renamed

    # -- concept pages ---------------------------------------------------------
    def relations(
        self, key: str, page: str
    ) -> tuple[list[tuple[str, list[Entry]]], list[Entry], list[Entry]]:
        """(groups of (label, entries), previous, next) for a concept page."""
        groups: dict[str, list[Entry]] = defaultdict(list)
        prev: list[Entry] = []
        nxt: list[Entry] = []
        seen: set[tuple[str, str]] = set()
        if key not in self.graph:
            return [], [], []
        # networkx's adjacency directly (its edge views cost more than the rest), sorted
        # stably by (relation, source, target, line) as before.
        out = [
            (str(rel), key, v, int(d.get("line") or 0), rel, d)
            for v, keydict in self.graph._succ[key].items()
            for rel, d in keydict.items()
        ]
        ins = [
            (str(rel), u, key, int(d.get("line") or 0), rel, d)
            for u, keydict in self.graph._pred[key].items()
            for rel, d in keydict.items()
        ]
        out.sort(key=_edge_order)
        ins.sort(key=_edge_order)
        for _, _, v, _, rel, _data in out:
            entry = self.entry(page, v)
            if entry is None or v == key or (rel, v) in seen:
                continue
            seen.add((rel, v))
            if rel == "preceding":
                prev.append(entry)
            elif rel == "following":
                nxt.append(entry)
            else:
                groups[relation_label(str(rel))].append(entry)
        for _, u, _, _, rel, data in ins:
            context = str(data.get("context") or "") if rel == "links_to" else ""
            entry = self.entry(page, u, context)
            if entry is None or u == key or ("in:" + str(rel), u) in seen:
                continue
            seen.add(("in:" + str(rel), u))
            if rel == "following" and all(e.key != u for e in prev):
                prev.append(entry)
            elif rel == "preceding" and all(e.key != u for e in nxt):
                nxt.append(entry)
            elif rel in ("preceding", "following"):
                continue
            else:
                label = _INVERSE_LABELS.get(str(rel), f"{relation_label(str(rel))} (incoming)")
                groups[label].append(entry)
        order = ["See also", "Links to", "Embeds", "Figures", "Embedded in", "Backlinks"]
        ranked = sorted(
            groups.items(), key=lambda kv: (order.index(kv[0]) if kv[0] in order else 2.5, kv[0])
        )
        return ranked, prev, nxt

    def concept_page(self, key: str) -> _Page:
        concept = self.cg.concepts[key]
        page = self.ctx.pages[key]
        shows: set[str] = {key}
        sections = []
        taken = set(PAGE_IDS) | {f"note-{i}" for i in range(len(concept.notes))}
        for i, note in enumerate(concept.notes):
            rendered = render_note(self.ctx, key, note, page)
            shows |= rendered.shows
            body, renamed = self.finish_body(rendered, page, taken, f"f{i}-")
            body = _figure_refs(body, self.ctx.figures.get(key, {}))
            toc = tuple(h._replace(anchor=renamed.get(h.anchor, h.anchor)) for h in rendered.toc)
            sections.append(
                {
                    "index": i,
                    "note": note,
                    "html": body,
                    "toc": toc if len(toc) >= TOC_MIN_HEADINGS else (),
                }
            )
        groups, prev, nxt = self.relations(key, page)
        for _, entries in groups:
            shows.update(e.key for e in entries)
        shows.update(e.key for e in (*prev, *nxt))
        ring1, ring2, local_edges = self.hood.local(key)
        shows.update(ring1)
        shows.update(n for n, _ in ring2)
        svg = local_graph_svg(
            key,
            self.hood,
            self.title,
            lambda k: relative_url(page, self.ctx.pages[k]) if k in self.ctx.pages else None,
            self.kind,
        )
        wanted_by = []
        if concept.kind == "stub":
            wanted_by = [
                e for u in sorted(set(self.graph.predecessors(key))) if (e := self.entry(page, u))
            ]
        values = {
            "concept": concept,
            "tags": [
                (t, relative_url(page, self.tag_path(t)))
                for t in sorted({str(t).strip("#/ ") for t in concept.tags} - {""})
            ],
            "dates": sorted({n.date for n in concept.notes if n.date}, reverse=True),
            "sources": sorted({n.path for n in concept.notes}),
            "sections": sections,
            "groups": groups,
            "prev": prev,
            "next": nxt,
            "local_graph": svg,
            "wanted_by": wanted_by,
        }
        local = _local_digest(ring1, ring2, local_edges)
        return _Page(page, "concept.html", values, frozenset(shows), local)

    def local_nodes(self, key: str) -> set[str]:
        """The concepts the local graph of `key`'s page draws (without its edges)."""
        ring1, ring2 = self.hood.rings(key)
        return {key, *ring1, *(node for node, _ in ring2)}

    def local_digest(self, key: str) -> str:
        """A digest of the local graph `key`'s page draws: besides the names of the
        concepts it shows, all that page shows of other concepts' links."""
        return _local_digest(*self.hood.local(key))

    # -- index pages -----------------------------------------------------------
    def all_page(self) -> _Page:
        page = page_path("all")
        letters: dict[str, list[Entry]] = defaultdict(list)
        for key in self.by_title:
            entry = self.entry(page, key)
            if entry is not None:
                first = entry.title[:1].upper()
                letters[first if first.isalpha() else "#"].append(entry)
        return _Page(
            page, "all.html", {"letters": sorted(letters.items())}, frozenset(self.ctx.pages)
        )

    def hubs(self, top: int = 12) -> list[str]:
        degree = degrees(self.graph, self.ctx.pages)
        rank = self.title_rank
        return heapq.nsmallest(top, degree, key=lambda k: (-degree[k], rank[k]))

    def home_page(self) -> _Page:
        page = "index.html"
        home_key = next(
            (k for k in HOME_KEYS if k in self.ctx.pages and self.kind(k) == "note"), None
        )
        kinds = {k: self.kind(k) for k in self.ctx.pages}
        counts = Counter(kinds.values())
        values: dict[str, Any] = {
            "home": None,
            "hubs": [],
            "recent": [],
            "count": counts["note"],
            "wanted": counts["stub"],
        }
        shows: set[str] = set()
        if home_key is not None:
            concept = self.cg.concepts[home_key]
            rendered = render_note(self.ctx, home_key, concept.notes[0], page)
            body, _ = self.finish_body(rendered, page, set(PAGE_IDS), "f")
            values["home"] = {"concept": concept, "html": body}
            shows |= rendered.shows | {home_key}
        hubs = [e for k in self.hubs() if (e := self.entry(page, k))]
        dates = self.dates
        # The twelve newest, without sorting every note by title first:
        # the home page is rendered again whenever a concept comes or goes.
        recent_keys = heapq.nlargest(
            12,
            (k for k, kind in kinds.items() if kind != "stub" and dates.get(k)),
            key=lambda k: (dates[k], k),
        )
        values["hubs"] = hubs
        values["recent"] = [
            (self.dates[k][:10], e) for k in recent_keys if (e := self.entry(page, k))
        ]
        shows.update(e.key for e in hubs)
        shows.update(recent_keys)
        return _Page(page, "index.html", values, frozenset(shows))

    def tag_pages(self) -> list[_Page]:
        pages = []
        index = page_path("tags")
        tops = sorted(t for t in self.tags if "/" not in t and len(self.tags[t]) > 1)
        tree = [self._tag_tree(index, t) for t in tops]
        hidden = len([t for t in self.tags if "/" not in t]) - len(tops)
        pages.append(_Page(index, "tags.html", {"tree": tree, "hidden": hidden}, frozenset()))
        for tag in sorted(self.tags):
            page = self.tag_path(tag)
            children = sorted(t for t in self.tags if t.rpartition("/")[0] == tag)
            entries = [e for k in self.tags[tag] if (e := self.entry(page, k))]
            parents = []
            parts = tag.split("/")
            for i in range(1, len(parts)):
                parent = "/".join(parts[:i])
                parents.append((parent, relative_url(page, self.tag_path(parent))))
            values = {
                "tag": tag,
                "parents": parents,
                "children": [
                    (c, relative_url(page, self.tag_path(c)), len(self.tags[c])) for c in children
                ],
                "entries": entries,
            }
            pages.append(_Page(page, "tag.html", values, frozenset(self.tags[tag])))
        return pages

    def _tag_tree(self, page: str, tag: str) -> dict[str, Any]:
        children = sorted(t for t in self.tags if t.rpartition("/")[0] == tag)
        return {
            "tag": tag,
            "url": relative_url(page, self.tag_path(tag)),
            "count": len(self.tags[tag]),
            "children": [self._tag_tree(page, c) for c in children],
        }

    def wanted_page(self) -> _Page:
        page = page_path("wanted")
        rows = []
        for key in self.by_title:
            if self.kind(key) != "stub":
                continue
            stub = self.entry(page, key)
            wanters = (
                [e for u in sorted(set(self.graph.predecessors(key))) if (e := self.entry(page, u))]
                if key in self.graph
                else []
            )
            if stub is not None:
                rows.append((stub, wanters))
        shows = {s.key for s, _ in rows} | {w.key for _, ws in rows for w in ws}
        return _Page(page, "wanted.html", {"rows": rows}, frozenset(shows))

    def figures_page(self) -> _Page:
        page = page_path("figures")
        rows = []
        for key in sorted(self.ctx.figures, key=lambda k: (self.title(k).casefold(), k)):
            for fig in sorted(self.ctx.figures[key].values(), key=lambda f: (f.number, f.label)):
                rows.append(
                    {
                        "fig": fig,
                        "svg_url": relative_url(page, fig.svg),
                        "data_url": relative_url(page, fig.data),
                        "concept": self.entry(page, key),
                        "url": relative_url(page, self.ctx.pages[key], fig.label),
                    }
                )
        return _Page(page, "figures.html", {"rows": rows}, frozenset(self.ctx.figures))

    def graph_page(self) -> tuple[_Page, bytes]:
        page = page_path("graph")
        nodes = sorted(self.ctx.pages)
        script = global_graph_js(
            nodes,
            self.graph,
            self.title,
            lambda k: relative_url(page, self.ctx.pages[k]),
            self.kind,
        )
        return _Page(page, "graph.html", {"count": len(nodes)}, frozenset(nodes)), script.encode()


def degrees(graph: nx.MultiDiGraph, keys: Iterable[str]) -> dict[str, int]:
    """Each key's degree as networkx counts it (every edge once per end, a self-loop
    twice), 0 for a key not in the graph.

    Counted from the adjacency dicts: networkx's degree view walks every edge in
    Python, 0.3 s at 10,000 notes, and the home page is rendered again whenever a link
    changes. One pass over the successors counts both ends of each edge (the
    predecessors hold the same edges again): a quarter less than reading both."""
    degree = dict.fromkeys(keys, 0)
    for node, nbrs in graph._succ.items():
        out = 0
        for nbr, edges in nbrs.items():
            out += len(edges)
            if nbr in degree:
                degree[nbr] += len(edges)
        if node in degree:
            degree[node] += out
    return degree


def _local_digest(ring1: Any, ring2: Any, edges: Any) -> str:
    return value_digest((ring1, ring2, edges), size=12)


def _tag_prefixes(tag: object) -> list[str]:
    """`a/b/c` -> `a`, `a/b`, `a/b/c` (a nested tag is filed under each of its parents)."""
    clean = str(tag).strip("#/ ")
    if not clean:
        return []
    parts = clean.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]


def _edge_order(edge: tuple[Any, ...]) -> tuple[Any, ...]:
    return edge[:4]  # (relation, source, target, line)


def _figure_refs(body: str, figures: Mapping[str, FigureInfo]) -> str:
    """Turn `@fig-label` in text (not in code or tags) into a "Figure N" link."""
    if "@fig-" not in body or not figures:
        return body
    out: list[str] = []
    in_code = 0
    for part in _TAG_SPLIT.split(body):
        if part.startswith("<"):
            name = part[1:].split()[0].rstrip(">").lower() if len(part) > 2 else ""
            if name in ("code", "pre", "a"):
                in_code += 1
            elif name in ("/code", "/pre", "/a"):
                in_code = max(0, in_code - 1)
            out.append(part)
        elif in_code:
            out.append(part)
        else:
            out.append(
                _FIG_REF.sub(
                    lambda m: _fig_link(m, figures),
                    part,
                )
            )
    return "".join(out)


def _fig_link(match: re.Match[str], figures: Mapping[str, FigureInfo]) -> str:
    label = match.group(1)
    if label not in figures:
        return match.group(0)
    return f'<a class="fig-ref" href="#{label}">Figure {figures[label].number}</a>'


def _common(config: Config, path: str) -> dict[str, Any]:
    base = config.base_url.rstrip("/") + "/"
    # The 404 page is served at any depth, so only an absolute base can reach the assets.
    root = base if path == "404.html" else root_prefix(path)
    canonical_path = path[: -len("index.html")] if path.endswith("index.html") else path
    return {
        "site_title": config.title,
        "lang": config.lang,
        "root": root,
        "asset": root + "_kgraph/",
        "canonical": base + canonical_path if base.startswith(("http://", "https://")) else "",
        "path": path,
    }


def _render(env: jinja2.Environment, config: Config, page: _Page, ctx: SiteContext) -> bytes:
    try:
        template = env.get_template(page.template)
        return template.render(**_common(config, page.path), **page.values).encode()
    except jinja2.TemplateError as exc:
        ctx.problems.append(
            problem(page.template, getattr(exc, "lineno", 0) or 0, "template-error", str(exc))
        )
        return b""


def site_renderer(
    cg: ConceptGraphLike,
    config: Config,
    *,
    cells: Mapping[str, Sequence[CellResultLike]] | None = None,
    compiled: Mapping[Any, Any] | None = None,
) -> SiteRenderer:
    """What every page of one site shares, computed once (reusable while the graph is).

    `compiled`: note bodies compiled while they were read (`VaultData.compiled`), which
    are then rendered without being read again."""
    env = make_environment(config.templates, config.cache_dir)
    ctx = SiteContext(cg, config, env, cells)
    ctx.compiled = compiled or {}
    return SiteRenderer(ctx)


def render_site(
    cg: ConceptGraphLike,
    config: Config,
    *,
    cells: Mapping[str, Sequence[CellResultLike]] | None = None,
    only: frozenset[str] | None = None,
    index_pages: bool = True,
    renderer: SiteRenderer | None = None,
    index_parts: frozenset[str] = INDEX_PARTS,
) -> SiteOutput:
    """Render every page (or, with `only`, just those concept pages) into memory.

    `index_pages=False` leaves out home, indexes, graph, search, 404 and assets, for
    renders split over several processes; `index_parts` renders only those parts of them
    (see `INDEX_PARTS`). A `renderer` made by `site_renderer` for this graph is reused
    instead of computing its shared state again.
    """
    site = renderer if renderer is not None else site_renderer(cg, config, cells=cells)
    ctx = site.ctx
    env = ctx.env
    first_problem = len(ctx.problems)
    files: dict[str, bytes] = {}
    deps: dict[str, frozenset[str]] = {}

    page_problems: dict[str, tuple[Problem, ...]] = {}
    local_graphs: dict[str, str] = {}

    def emit(page: _Page) -> None:
        files[page.path] = _render(env, config, page, ctx)
        deps[page.path] = page.shows
        if page.local:
            local_graphs[page.path] = page.local

    # A chunk's few keys are sorted rather than every page's (workers render many chunks).
    pages = ctx.pages
    for key in sorted(pages) if only is None else sorted(k for k in only if k in pages):
        ctx.new_page(pages[key])
        before = len(ctx.problems)
        page = site.concept_page(key)
        emit(page)
        page_problems[page.path] = tuple(ctx.problems[before:])
    parts = index_parts if index_pages else frozenset()
    made: dict[str, frozenset[str]] = {}
    for part in sorted(parts):
        before_files = set(files)
        copied: list[str] = []
        if part == "linked":
            ctx.new_page("index.html")
            emit(site.home_page())
            emit(site.wanted_page())
        elif part == "listed":
            emit(site.all_page())
        elif part == "tagged":
            for tag_page in site.tag_pages():
                emit(tag_page)
            emit(site.figures_page())
        elif part == "graph":
            graph_page, script = site.graph_page()
            emit(graph_page)
            files["graph/graph-data.js"] = script
        elif part == "static":
            emit(_Page(page_path("search"), "search.html"))
            emit(_Page("404.html", "404.html"))
            files["_kgraph/pygments.css"] = pygments_css().encode()
            for asset in sorted(ASSETS.rglob("*")):
                if asset.is_file():
                    rel = "_kgraph/" + asset.relative_to(ASSETS).as_posix()
                    ctx.copies[rel] = asset
                    copied.append(rel)
        made[part] = frozenset(set(files) - before_files) | frozenset(copied)
    problems = tuple(sorted(set(ctx.problems[first_problem:])))
    return SiteOutput(
        files=files,
        copies=dict(sorted(ctx.copies.items())),
        problems=problems,
        dependencies=deps,
        page_problems=page_problems,
        index_files=made,
        local_graphs=local_graphs,
    )
