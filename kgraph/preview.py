"""The dev server's first answer to an edit that needs a full build: the edited page.

A save that adds, removes or retargets links, or changes a note's headings, tags or
date, changes other pages too (backlinks, local graphs, the global graph, anchors
others link to, tag and A-Z pages), so it takes a full build, and linking a large vault
alone takes over a second. The edited page itself only needs its own new edges. A forked child
takes the last build in memory, swaps in the edited notes and their edges (and the stubs
new links want), renders their pages, writes the ones that changed and reports them; the
parent announces them and runs the full build meanwhile on the other core. The child
works on a copy-on-write image, so the parent's last build stays untouched whatever it
does.

The full build renders those pages again before writing anything else: when it agrees
(the usual case) the files stay as the child wrote them and are not announced twice;
when it does not, it rewrites them and they reload once more. It waits for the child
before writing, so a late child can never overwrite the full build's pages.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kgraph.config import Config
from kgraph.graph.build import Concept, _bulk_edges, _node_attrs, _unique
from kgraph.graph.keys import slugify
from kgraph.hot import EditPlan, LastBuild, _edges_of, _name, plan_edit
from kgraph.site.context import page_slug
from kgraph.site.urls import page_path

# The child renders a page or two; past this, something is wrong and it is stopped.
CHILD_TIMEOUT = 30.0


class Preview:
    """A forked render of the edited pages; `wait` before writing the site again."""

    def __init__(self, pid: int, reader: int, announce: Callable[[list[str]], None]) -> None:
        self.pid = pid
        self._reader = reader
        self._announce = announce
        self._thread = threading.Thread(target=self._listen, name="kgraph-preview", daemon=True)
        self._thread.start()

    def _listen(self) -> None:
        chunks: list[bytes] = []
        try:
            # The child closes its end once its pages are written, before it exits: the
            # exit itself (unmapping the server's gigabyte image) takes tens of ms.
            with contextlib.suppress(OSError):
                while chunk := os.read(self._reader, 1 << 16):
                    chunks.append(chunk)
            os.close(self._reader)
            try:
                pages = json.loads(b"".join(chunks) or b"[]")
            except ValueError:
                pages = None  # the child died mid-report: the full build writes and announces
            if isinstance(pages, list) and pages:
                self._announce([str(p) for p in pages])
        finally:
            with contextlib.suppress(ChildProcessError):  # reaped already
                os.waitpid(self.pid, 0)

    def wait(self, timeout: float = CHILD_TIMEOUT) -> None:
        """Return once the child has exited and its pages were announced."""
        self._thread.join(timeout)
        if self._thread.is_alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            self._thread.join()


def start_preview(
    last: LastBuild,
    config: Config,
    changed: set[Path],
    announce: Callable[[list[str]], None],
) -> Preview | None:
    """Fork a child that writes the edited notes' pages (and the pages of stubs their
    new links want) as the full build will; None when the edit is not one it can show:
    new or removed files, a changed title, alias or draft flag, cells."""
    if sys.platform != "linux":
        return None
    plan = plan_edit(last, config, changed, same=_name)
    if plan is None or not plan.swaps:
        return None
    notes_now = plan.notes_by_file(last)
    edges: dict[tuple[str, str, str], dict[str, Any]] = {}
    stubs: dict[str, Concept] = {}
    for _old, new, key in plan.swaps:
        found, _problems, wanted = _edges_of(last.cg, notes_now, new, key)
        edges.update(found)
        stubs.update(wanted)
    stub_pages = _stub_pages(last, stubs)
    if stub_pages is None:
        return None
    reader, writer = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(reader)
        os.close(writer)
        return None
    if pid == 0:  # pragma: no cover - runs in the child, which leaves with os._exit
        os.close(reader)
        try:
            pages = _render_edited(last, config, plan, edges, stubs, stub_pages)
            os.write(writer, json.dumps(pages).encode())
            os.close(writer)  # the parent announces now, not after this image is torn down
        finally:
            os._exit(0)
    os.close(writer)
    return Preview(pid, reader, announce)


def _stub_pages(last: LastBuild, stubs: dict[str, Concept]) -> dict[str, str] | None:
    """Give each new stub its slug and return its page, as a full build would assign
    them; None when one would take a slug or page another concept holds, since numbering
    the collision could then move that concept's page too."""
    if not stubs:
        return {}
    slugs = {concept.slug for concept in last.cg.concepts.values()}
    used = set(last.renderer.ctx.pages.values())
    pages: dict[str, str] = {}
    for key in sorted(stubs):
        slug = slugify(key)
        page = page_path(page_slug(key, slug))
        if slug in slugs or page in used or key in last.cg.graph:
            return None
        stubs[key].slug = slug
        slugs.add(slug)
        used.add(page)
        pages[key] = page
    return pages


def _render_edited(
    last: LastBuild,
    config: Config,
    plan: EditPlan,
    edges: dict[tuple[str, str, str], dict[str, Any]],
    stubs: dict[str, Concept],
    stub_pages: dict[str, str],
) -> list[str]:
    """In the child: put the new notes, stubs and edges into the last build, render and
    write the edited pages and the new stubs' pages; return the pages written."""
    gc.disable()  # a short life: a collection would only copy the parent's pages
    from kgraph.publish import update_files
    from kgraph.site.graphview import Neighbourhoods
    from kgraph.site.render import render_site

    cg = last.cg
    graph = cg.graph
    site = last.renderer
    keys = {key for _old, _new, key in plan.swaps}
    for _old, new, key in plan.swaps:
        concept = cg.concepts[key]
        concept.notes[0] = new
        concept.tags = _unique(new.tags)  # as linking gives a one-note concept
        graph.nodes[key].update(_node_attrs(concept))
        site.ctx._anchors.pop(key, None)  # its headings and block ids may be new
    for cached in ("tags", "tag_names", "dates"):
        site.__dict__.pop(cached, None)  # computed again, with the edited notes' tags
    for key, page in stub_pages.items():
        concept = stubs[key]
        cg.concepts[key] = concept
        graph.add_node(key, **_node_attrs(concept))
        site.ctx.pages[key] = page
        site._targets.pop(key, None)  # it may have been looked up as a node without a page
    for key in keys:
        for target in graph._succ[key]:
            del graph._pred[target][key]
        graph._succ[key].clear()
    _bulk_edges(graph, edges)
    site.hood = Neighbourhoods(graph, site.ctx.pages)  # its memo holds the old edges
    copies_before = set(site.ctx.copies)
    output = render_site(
        cg,
        config,
        cells=last.cells,
        only=frozenset(keys | set(stub_pages)),
        index_pages=False,
        renderer=site,
    )
    copies = {rel: src for rel, src in site.ctx.copies.items() if rel not in copies_before}
    written = update_files(config.out, output.files, copies)
    return [p for p in written if p.endswith(".html")]
