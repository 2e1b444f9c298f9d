"""Which pages a build must render again, decided from content signatures.

Every concept gets two signatures: its face (what other pages show of it: title, slug,
kind, names, tags, dates, which edges go in and out) and its full signature (the face
plus its edges' lines and context sentences, its notes' content and its cells' results). Each page
records the concepts it showed. A page is rendered again when its own concept's full
signature changed, when a concept it showed changed its face, when a concept it
transcludes changed at all, when templates, assets, settings or kgraph itself changed,
or when it is new.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kgraph import __version__
from kgraph.cache import CacheError, read_pickle, vault_id, write_pickle
from kgraph.config import Config
from kgraph.digest import value_digest
from kgraph.gcpause import paused_gc
from kgraph.graph.build import ConceptGraph
from kgraph.problems import Problem, problem
from kgraph.vault.note import Note

CACHE_KIND = "pages-v9"  # bump when PageState changes shape, or its digests


@dataclass
class PageState:
    """What the previous build rendered: per page its concept, what it showed, its problems."""

    global_key: str = ""
    face: dict[str, str] = field(default_factory=dict)
    full: dict[str, str] = field(default_factory=dict)
    figures: dict[str, str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    local: dict[str, str] = field(default_factory=dict)  # page -> its local graph's digest
    # Per part of the index pages (render.INDEX_PARTS): its files and shipped assets,
    # kept while that part is not rendered again.
    extra: dict[str, frozenset[str]] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)  # page path -> concept key
    shows: dict[str, frozenset[str]] = field(default_factory=dict)
    problems: dict[str, tuple[Problem, ...]] = field(default_factory=dict)
    resolver_key: str = ""  # what every link's resolution depended on (`resolver_key`)
    digests: dict[str, str] = field(default_factory=dict)  # note file -> digest it saw
    stubs: frozenset[str] = frozenset()  # the stub concepts (none known: none assumed)


def _tree_digest(root: Path | None) -> list[tuple[str, str]]:
    if root is None or not root.is_dir():
        return []
    out = []
    for path in sorted(root.rglob("*")):
        if path.is_file():
            digest = hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()
            out.append((path.relative_to(root).as_posix(), digest))
    return out


def global_key(config: Config, executed: bool) -> str:
    """Digest of what every page depends on: kgraph, settings, templates and assets."""
    from kgraph.site.render import ASSETS
    from kgraph.site.templates import template_root

    return value_digest(
        [
            __version__,
            config.title,
            config.base_url,
            config.lang,
            executed,
            json.dumps(config.extra, sort_keys=True, default=str),
            _tree_digest(template_root()),
            _tree_digest(config.templates),
            _tree_digest(ASSETS),
        ]
    )


@dataclass(frozen=True)
class Signatures:
    """Per concept: `face` covers what other pages show of it (title, names, edges with
    their contexts, figures); `full` adds its own content (notes and cell results);
    `names` is the part of the face that lists show (title, kind, slug, tags, dates)."""

    face: dict[str, str]
    full: dict[str, str]
    figures: dict[str, str]  # only of concepts with cells: what the figures index shows
    names: dict[str, str] = field(default_factory=dict)


def resolver_key(cg: ConceptGraph, notes: Iterable[Note], files: Iterable[str]) -> str:
    """Digest of everything link resolution, concept keys and slugs depend on: every
    file's path, every note's place, title, stem and aliases, every concept's key,
    kind, title and slug; stubs aside. Links to a note not written yet come and go
    with edits, and no link resolves to a stub: `signatures` digests again the stubs
    that came or went and those the edited notes' links reach (the only ones whose
    title, taken from the first link wanting them, can change). Only a stub whose slug
    is not its name's own (`(N0)` and `N0` both slugify to `n0`) counts: which of them
    takes the plain slug moves the other's."""
    from kgraph.graph.keys import slugify

    places = [(n.path, n.index, n.title, n.titled, n.stem, n.aliases) for n in notes]
    concepts = [(k, c.kind, c.title, c.slug) for k, c in cg.concepts.items() if c.kind != "stub"]
    moved = [
        (k, c.slug) for k, c in cg.concepts.items() if c.kind == "stub" and c.slug != slugify(k)
    ]
    return value_digest([sorted(files), places, concepts, moved])


def signatures(
    cg: ConceptGraph,
    file_digests: Mapping[str, str],
    cells: Mapping[str, Any],
    *,
    since: tuple[Signatures, Mapping[str, Sequence[Note]]] | None = None,
) -> Signatures:
    """Digests of every concept, split into what neighbours show and what only it shows.

    With `since` (the last build's signatures, and the notes it had of each file parsed
    again since), only concepts those files can have changed are digested again; the
    caller vouches that link resolution is unchanged (same `resolver_key`). A concept's
    signature covers only itself and its own edges, and every edge comes from a note:
    so only the concepts of the edited files, the concepts their links reach (before
    and after), concepts with cells and concepts that came or went can differ.
    """
    face: dict[str, str] = {}
    full: dict[str, str] = {}
    figures: dict[str, str] = {}
    names: dict[str, str] = {}
    keys: Iterable[str] = cg.concepts
    if since is not None:
        old, replaced = since
        dirty = _touched(cg, old, replaced, cells)
        face = {k: v for k, v in old.face.items() if k in cg.concepts and k not in dirty}
        full = {k: v for k, v in old.full.items() if k in face}
        figures = {k: v for k, v in old.figures.items() if k in face}
        names = {k: v for k, v in old.names.items() if k in face}
        keys = [k for k in cg.concepts if k not in face]
    for key in keys:
        face[key], full[key], figs, names[key] = concept_signature(cg, key, file_digests, cells)
        if figs is not None:
            figures[key] = figs
    return Signatures(face, full, figures, names)


def _touched(
    cg: ConceptGraph,
    old: Signatures,
    replaced: Mapping[str, Sequence[Note]],
    cells: Mapping[str, Any],
) -> set[str]:
    """Concepts whose signature may differ from `old` (a superset is always safe)."""
    from kgraph.graph.build import stub_name
    from kgraph.graph.keys import concept_key

    graph = cg.graph
    dirty = set(cg.concepts) ^ set(old.full)
    # Same resolver key: the same notes sit at the same places, under the same keys.
    own = {cg.concept_of(n) for found in replaced.values() for n in found}
    dirty |= own
    for note in (n for found in replaced.values() for n in found):
        for link in note.links:  # where the last build's version of the file linked
            res = cg.resolver.resolve(link, note.path)
            if res.key is not None:
                dirty.add(res.key)
            dirty.add(concept_key(stub_name(link.target)) or link.target)
            dirty.add(concept_key(link.target.strip()))
    for key in own:
        if key in graph:
            dirty.update(graph._succ[key])  # where the files link now
    for key, concept in cg.concepts.items():
        if concept.kind == "figure" or any(f"{n.path}#{n.index}" in cells for n in concept.notes):
            dirty.add(key)
    return dirty


def concept_signature(
    cg: ConceptGraph, key: str, file_digests: Mapping[str, str], cells: Mapping[str, Any]
) -> tuple[str, str, str | None, str]:
    """(face, full, figures or None, names) of one concept; see `Signatures`."""
    graph = cg.graph
    concept = cg.concepts[key]
    # networkx's adjacency dicts directly: its edge views cost more than the hashing.
    # An edge is keyed by its relation, so (neighbour, relation) orders the edges alone.
    ends: list[list[tuple[str, str]]] = [[], []]  # (neighbour, relation): out, in
    details: list[list[tuple[Any, ...]]] = [[], []]  # (line, subpath, context) of each
    if key in graph:
        for side, adjacency in enumerate((graph._succ[key], graph._pred[key])):
            shown, detail = ends[side], details[side]
            for other in sorted(adjacency):
                keydict = adjacency[other]
                for rel in sorted(keydict) if len(keydict) > 1 else keydict:
                    d = keydict[rel]
                    shown.append((other, rel))
                    detail.append((d.get("line"), d.get("subpath"), d.get("context")))
    dates = sorted(n.date or "" for n in concept.notes)
    # Other pages show a concept's edges (local graphs, counts) but not their lines or
    # context sentences: those only its own page and its neighbours' pages show.
    names = value_digest(
        [key, concept.title, concept.kind, concept.slug, concept.aliases, concept.tags, dates]
    )
    face = value_digest([names, *ends])
    notes = [
        (n.path, n.index, file_digests.get(n.path, ""), n.title, n.date) for n in concept.notes
    ]
    runs = []
    for n in concept.notes:
        for r in cells.get(f"{n.path}#{n.index}", ()):
            figs = [(f.label, f.caption, f.number, str(f.svg)) for f in r.figures]
            runs.append((r.index, r.key, r.status, r.stale, r.stdout, r.error, figs))
    full = value_digest([face, *details, notes, runs])
    return face, full, (value_digest(runs) if runs else None), names


def embedders(cg: ConceptGraph, targets: Iterable[str], depth: int = 3) -> set[str]:
    """Concepts whose pages transclude one of `targets`, through at most `depth` embeds."""
    graph = cg.graph
    found: set[str] = set()
    frontier = {t for t in targets if t in graph}
    for _ in range(depth):
        nxt = set()
        for node in frontier:
            for u, _, rel in graph.in_edges(node, keys=True):
                if rel == "embeds" and u not in found:
                    nxt.add(u)
        found |= nxt
        frontier = nxt
    return found


def home_key(keys: Iterable[str]) -> str | None:
    """The concept the home page shows the body of, if any."""
    from kgraph.site.render import HOME_KEYS

    present = set(keys)
    return next((k for k in HOME_KEYS if k in present), None)


def pages_to_render(
    old: PageState,
    new_global: str,
    new: Signatures,
    cg: ConceptGraph,
    local_now: Callable[[str], str] | None = None,
    nodes_now: Callable[[str], set[str]] | None = None,
) -> tuple[frozenset[str] | None, frozenset[str]]:
    """Concept keys whose pages must be rendered (None: all), and which parts of the index
    pages (render.INDEX_PARTS) must be, since they show nothing else of a concept: those
    that show edges when some concept's face changed, the lists when some concept's
    names or figures changed (the tag pages not for a stub's), the home page when the
    home note changed.

    A page shows other concepts' names, and their links only through its local graph.
    So a page whose shown concepts changed their links but not their names is rendered
    again only when `local_now(key)`, the digest of the local graph it would draw now,
    differs from the one it drew (a hub's new link would otherwise render again every
    page that shows the hub). `nodes_now(key)`, the concepts that graph would draw,
    answers the common case without drawing its edges."""
    from kgraph.site.render import INDEX_PARTS

    if not old.global_key or old.global_key != new_global:
        return None, INDEX_PARTS
    gone = set(old.full) - set(new.full)
    dirty_face = {k for k, sig in new.face.items() if old.face.get(k) != sig} | gone
    dirty_full = {k for k, sig in new.full.items() if old.full.get(k) != sig} | gone
    dirty_names = {k for k, sig in new.names.items() if old.names.get(k) != sig} | gone
    embedding = embedders(cg, dirty_full) if dirty_full else set()
    home = home_key(new.full)
    indexes: set[str] = set()
    if dirty_face:
        indexes |= {"graph", "linked"}
    if dirty_names:  # (a changed name changes the face too)
        indexes.add("listed")
    # A stub has no tags and no figures: one coming, going or renamed (a link to a note
    # not written yet) leaves the tag pages alone; a note turned stub (deleted, still
    # wanted) or a stub turned note does not.
    if old.figures != new.figures or any(
        not (k in old.stubs or k not in old.full)
        or (k in cg.concepts and cg.concepts[k].kind != "stub")
        for k in dirty_names
    ):
        indexes.add("tagged")
    if home is not None and (home in dirty_full or home in embedding):
        indexes.add("linked")
    rendered_before = set(old.owners.values())
    todo = {k for k in new.full if k in dirty_full or k not in rendered_before}
    for page, owner in old.owners.items():
        if owner not in new.full or owner in todo:
            continue
        shown = old.shows.get(page, frozenset())
        if owner in embedding or _shows_a_change(
            page, owner, shown, dirty_face, dirty_names, old.local, local_now, nodes_now, cg
        ):
            todo.add(owner)
    return frozenset(todo), frozenset(indexes)


def _shows_a_change(
    page: str,
    owner: str,
    shown: frozenset[str],
    dirty_face: set[str],
    dirty_names: set[str],
    drawn: Mapping[str, str],
    local_now: Callable[[str], str] | None,
    nodes_now: Callable[[str], set[str]] | None,
    cg: ConceptGraph,
) -> bool:
    """Whether `page` (of concept `owner`, not changed itself) may look different."""
    hit = shown & dirty_face
    if not hit:
        return False
    if local_now is None or not shown.isdisjoint(dirty_names) or page not in drawn:
        return True
    # Only links of concepts it shows changed, so only its local graph can differ. Its
    # own links did not change, so neither did its inner ring; the outer ring is drawn
    # from the inner ring's neighbours, and edges are drawn between the rings. So with
    # no changed concept among its neighbours, the picture changes only if an edge
    # between two concepts it shows changed: then both ends changed their faces.
    if len(hit) == 1:
        if not _near(cg, owner, dirty_face):
            return False
        # One changed concept it shows, a neighbour (a hub, often): its links to concepts
        # the page does not show are not drawn, and one the outer ring now takes from it
        # is a concept the page did not show. Links it lost to concepts the page did not
        # show were beyond what the outer ring took (it takes every one not shown yet).
        if nodes_now is not None and nodes_now(owner) <= shown:
            return False
    return local_now(owner) != drawn[page]  # is the local graph it would draw new?


def _near(cg: ConceptGraph, key: str, among: set[str]) -> bool:
    """Whether an edge joins `key` to one of `among` (looked up from the smaller side)."""
    succ, pred = cg.graph._succ.get(key, {}), cg.graph._pred.get(key, {})
    if len(among) < len(succ) + len(pred):
        return any(c in succ or c in pred for c in among)
    return any(c in among for c in succ) or any(c in among for c in pred)


def state_file(cache_dir: Path, vault: Path) -> Path:
    return cache_dir / f"pages-{vault_id(vault)}.pickle"


def load_state(path: Path) -> tuple[PageState, list[Problem]]:
    """The previous build's page state; an untrusted file is reported and ignored."""
    try:
        with paused_gc():  # tens of thousands of acyclic objects, kept to the end
            value = read_pickle(path, CACHE_KIND)
    except FileNotFoundError:
        return PageState(), []
    except (CacheError, OSError) as exc:
        return PageState(), [problem(path.name, 0, "cache-corrupt", f"ignored and rebuilt: {exc}")]
    if not isinstance(value, PageState):
        return PageState(), [problem(path.name, 0, "cache-corrupt", "ignored: wrong shape")]
    return value, []


def save_state(path: Path, state: PageState) -> None:
    write_pickle(path, CACHE_KIND, state)
