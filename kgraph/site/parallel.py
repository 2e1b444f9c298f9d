"""Render concept pages in several processes; the parent renders the index pages meanwhile.

Workers are forked after the graph is built, so they share it copy-on-write instead of
receiving it through a pipe; each returns its pages' bytes, dependencies and problems.
"""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import replace
from pathlib import Path
from typing import Any

from kgraph.config import Config
from kgraph.site.output import PackedFiles, SiteOutput, StagedFiles
from kgraph.site.render import INDEX_PARTS, SiteRenderer, render_site

# Below this many pages a process pool costs more than it saves.
PARALLEL_MIN_PAGES = 400
# Chunks take 1/(jobs * CHUNK_SHARE) of the pages left, and at least MIN_CHUNK pages.
CHUNK_SHARE = 4
MIN_CHUNK = 40

_shared: tuple[Any, Config, Any, SiteRenderer | None, Path | None] | None = None


def _render_chunk(keys: frozenset[str]) -> SiteOutput:
    assert _shared is not None
    cg, config, cells, renderer, stage = _shared
    out = render_site(cg, config, cells=cells, only=keys, index_pages=False, renderer=renderer)
    if stage is not None:
        return replace(out, files=StagedFiles(stage, StagedFiles.write(stage, out.files)))
    return replace(out, files=PackedFiles(PackedFiles.pack(out.files)))


def _indexes(
    cg: Any,
    config: Config,
    cells: Mapping[str, Sequence[Any]] | None,
    renderer: SiteRenderer | None,
    parts: frozenset[str],
) -> SiteOutput:
    """The index pages of `parts` only."""
    return render_site(
        cg,
        config,
        cells=cells,
        only=frozenset(),
        index_pages=True,
        renderer=renderer,
        index_parts=parts,
    )


def _render_indexes(parts: frozenset[str]) -> SiteOutput:
    assert _shared is not None
    cg, config, cells, renderer, _ = _shared
    out = _indexes(cg, config, cells, renderer, parts)
    return replace(out, files=PackedFiles(PackedFiles.pack(out.files)))


def _send_indexes(writer: Any, parts: frozenset[str]) -> None:
    try:
        writer.send(_render_indexes(parts))
    finally:
        writer.close()


class EarlyPart:
    """Index pages rendered in a forked process while the build still decides what else
    to render: the global graph, which any changed link needs again, takes 1.5-2 s at
    10,000 concepts and would otherwise start only once that is decided. `result`
    waits for the pages; `cancel` stops the process when they are not needed."""

    def __init__(
        self,
        cg: Any,
        config: Config,
        cells: Mapping[str, Sequence[Any]] | None,
        renderer: SiteRenderer,
        parts: frozenset[str],
    ) -> None:
        global _shared
        _shared = (cg, config, cells, renderer, None)
        try:
            self._start(parts, _send_indexes, parts)
        finally:
            _shared = None

    def _start(self, parts: frozenset[str], target: Callable[..., None], *args: Any) -> None:
        """Fork `target(writer, *args)`, which sends its result down the pipe's `writer`."""
        self.parts = parts
        ctx = multiprocessing.get_context("fork")
        self._reader, writer = ctx.Pipe(duplex=False)
        try:
            self._process = ctx.Process(target=target, args=(writer, *args), daemon=True)
            self._process.start()
        finally:
            writer.close()
        self._done = False

    def _received(self) -> Any:
        """What the process sent (None if it sent nothing), once it is stopped."""
        try:
            got = self._reader.recv()
        except (EOFError, OSError):
            got = None
        self.cancel()
        return got

    def result(self) -> SiteOutput | None:
        """The rendered parts, or None if the process failed (render them here then)."""
        out = self._received()
        return out if isinstance(out, SiteOutput) else None

    def cancel(self) -> None:
        if self._done:
            return
        self._done = True
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()
        self._reader.close()


def render_parallel(
    cg: Any,
    config: Config,
    *,
    cells: Mapping[str, Sequence[Any]] | None,
    only: frozenset[str] | None = None,
    jobs: int = 1,
    index_pages: bool = True,
    renderer: SiteRenderer | None = None,
    on_files: Callable[[Mapping[str, bytes]], None] | None = None,
    meanwhile: Callable[[], None] | None = None,
    first: frozenset[str] = frozenset(),
    on_first: Callable[[SiteOutput], None] | None = None,
    stage: Path | None = None,
    index_parts: frozenset[str] = INDEX_PARTS,
    early: EarlyPart | None = None,
    on_pages_done: Callable[[], None] | None = None,
) -> SiteOutput:
    """Same result as `render_site(cg, config, cells=cells, only=only, index_pages=...,
    index_parts=...)`, on `jobs` processes. Forked workers inherit `renderer`'s shared
    state instead of computing it again.

    `on_files` is given every batch of rendered files as it arrives, and `meanwhile` is
    run once: both in this process while the workers still render, when there are any.
    The pages of `first` (the notes just edited) are rendered before any other, in this
    process, and handed to `on_first` before the rest is started.

    With `stage`, workers write their pages into that folder and return only their names
    (`StagedFiles`); pages rendered here are written there when merged. The index parts
    `early` renders are taken from it (the caller cancels it when none is wanted).
    `on_pages_done` is called when only index parts are still to come (`early`'s, or a
    few pages' index workers'), before waiting for them (it may not be called at all):
    the search index can start then, as index parts hold no searchable article (one
    that does is handed to `on_files` afterwards)."""
    if on_first is not None and first:
        wanted = first if only is None else first & only
        if wanted:
            head = render_site(
                cg, config, cells=cells, only=wanted, index_pages=False, renderer=renderer
            )
            if on_files is not None:
                on_files(head.files)
            on_first(head)
            rest = render_parallel(
                cg,
                config,
                cells=cells,
                only=frozenset(only if only is not None else _page_keys(cg)) - wanted,
                jobs=jobs,
                index_pages=index_pages,
                renderer=renderer,
                on_files=on_files,
                meanwhile=meanwhile,
                stage=stage,
                index_parts=index_parts,
                early=early,
                on_pages_done=on_pages_done,
            )
            return merge([head, rest], stage)

    if early is not None and index_pages and index_parts & early.parts:
        rest_parts = index_parts - early.parts
        told: list[bool] = []

        def pages_done() -> None:
            told.append(True)
            if on_pages_done is not None:
                on_pages_done()

        rest = render_parallel(
            cg,
            config,
            cells=cells,
            only=only,
            jobs=jobs,
            index_pages=bool(rest_parts),
            renderer=renderer,
            on_files=on_files,
            meanwhile=meanwhile,
            stage=stage,
            index_parts=rest_parts,
            on_pages_done=pages_done,
        )
        if not told:
            pages_done()
        got = early.result()
        if got is None:  # its process failed: render those parts here
            got = _indexes(cg, config, cells, renderer, index_parts & early.parts)
        if on_files is not None:
            on_files(got.files)
        return merge([rest, got], stage)

    def alone(out: SiteOutput) -> SiteOutput:
        if meanwhile is not None:
            meanwhile()
        if on_files is not None:
            on_files(out.files)
        return out

    keys = sorted(_page_keys(cg))
    if only is not None:
        keys = [k for k in keys if k in only]
    few = len(keys) < PARALLEL_MIN_PAGES
    if (
        jobs <= 1
        or sys.platform != "linux"
        or (few and (not index_pages or not index_parts or len(cg.concepts) < PARALLEL_MIN_PAGES))
    ):
        return alone(
            render_site(
                cg,
                config,
                cells=cells,
                only=only,
                index_pages=index_pages,
                renderer=renderer,
                index_parts=index_parts,
            )
        )
    global _shared
    if few:
        # A few pages of a large vault (an edit that changed links): the global layout
        # costs more than those pages and the other index pages together, so it alone
        # goes to a worker. The rest is rendered here after the pages: a second worker
        # would compete for the same two cores, and copy the pages of the graph it
        # touches (a fifth of a second more, all told, at 10,000 notes).
        graph_part = index_parts & {"graph"}
        pool = None
        if graph_part:
            _shared = (cg, config, cells, renderer, None)
            ctx = multiprocessing.get_context("fork")
            pool = ProcessPoolExecutor(max_workers=1, mp_context=ctx)
        try:
            layout = pool.submit(_render_indexes, graph_part) if pool is not None else None
            here = render_site(
                cg, config, cells=cells, only=frozenset(keys), index_pages=False, renderer=renderer
            )
            if on_files is not None:
                on_files(here.files)
            if on_pages_done is not None:
                # The pages are in: the search index may start while the index pages are
                # still rendered (index parts hold no searchable article).
                on_pages_done()
            parts = [here, _indexes(cg, config, cells, renderer, index_parts - graph_part)]
            if layout is not None:
                parts.append(layout.result())
            if on_files is not None:
                for part in parts[1:]:
                    on_files(part.files)
            if meanwhile is not None:
                meanwhile()
            return merge(parts)
        finally:
            if pool is not None:
                pool.shutdown()
            _shared = None
    _shared = (cg, config, cells, renderer, stage)
    chunks = [frozenset(chunk) for chunk in guided_chunks(keys, jobs)]
    try:
        ctx = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
            futures = [pool.submit(_render_chunk, chunk) for chunk in chunks]
            index = render_site(
                cg,
                config,
                cells=cells,
                only=frozenset(),
                index_pages=index_pages,
                renderer=renderer,
                index_parts=index_parts,
            )
            if meanwhile is not None:
                meanwhile()
            parts = [index]
            # Each batch is taken as it finishes, so its files are handled while the
            # workers render the rest; merge sorts, so the order taken does not matter.
            if on_files is not None:
                on_files(index.files)
            for future in as_completed(futures):
                part = future.result()
                if on_files is not None:
                    on_files(part.files)
                parts.append(part)
    finally:
        _shared = None
    return merge(parts, stage)


def guided_chunks(keys: Sequence[str], jobs: int, least: int = MIN_CHUNK) -> list[list[str]]:
    """`keys` cut in order into chunks that shrink as the work left does (a share of
    what is left per chunk, never under `least`): big chunks keep the per-chunk cost
    low, and small last ones let the workers finish together. Even chunks left one
    worker alone for a chunk's time (about a second at 10,000 pages) at the end."""
    chunks: list[list[str]] = []
    at = 0
    while at < len(keys):
        size = max(least, -(-(len(keys) - at) // (jobs * CHUNK_SHARE)))
        chunks.append(list(keys[at : at + size]))
        at += size
    return chunks


def _page_keys(cg: Any) -> list[str]:
    """The concepts with a page of their own (figures live on their concept's page)."""
    return [k for k, c in cg.concepts.items() if c.kind != "figure"]


def merge(parts: Sequence[SiteOutput], stage: Path | None = None) -> SiteOutput:
    """One SiteOutput from several renders of disjoint page sets (written into `stage`,
    when given, instead of held packed)."""
    packed: dict[str, bytes] = {}
    staged: list[str] = []
    copies: dict[str, Any] = {}
    deps: dict[str, frozenset[str]] = {}
    page_problems: dict[str, tuple[Any, ...]] = {}
    index_files: dict[str, frozenset[str]] = {}
    local_graphs: dict[str, str] = {}
    problems: set[Any] = set()
    for part in parts:
        index_files.update(part.index_files)
        local_graphs.update(part.local_graphs)
        if isinstance(part.files, StagedFiles):
            staged.extend(part.files)
        elif stage is not None:
            staged.extend(StagedFiles.write(stage, part.files))
        elif isinstance(part.files, PackedFiles):
            packed.update(part.files.packed)
        else:
            packed.update(PackedFiles.pack(part.files))
        copies.update(part.copies)
        deps.update(part.dependencies)
        page_problems.update(part.page_problems)
        problems.update(part.problems)
    files: Mapping[str, bytes]
    if stage is not None:
        files = StagedFiles(stage, staged)
    else:
        files = PackedFiles(dict(sorted(packed.items())))
    return SiteOutput(
        files=files,
        copies=dict(sorted(copies.items())),
        problems=tuple(sorted(problems)),
        dependencies=deps,
        page_problems=page_problems,
        index_files=dict(sorted(index_files.items())),
        local_graphs=local_graphs,
    )
