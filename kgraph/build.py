"""`kgraph build`: read → link → execute → render → write → index, with a report.

Each stage is a function of its own module; this file only sequences them, times them
and decides what can be skipped.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import shutil
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kgraph.config import CONFIG_NAME, Config, load_config
from kgraph.gcpause import keep_for_good, keep_until_exit
from kgraph.graph.build import ConceptGraph, build_graph
from kgraph.incremental import (
    PageState,
    Signatures,
    global_key,
    load_state,
    pages_to_render,
    resolver_key,
    save_state,
    signatures,
    state_file,
)
from kgraph.lock import BuildLocked, CacheUnusable, build_lock
from kgraph.problems import Problem, problem
from kgraph.site.output import SiteOutput
from kgraph.vault.load import PARALLEL_MIN_FILES, ParsedFile, VaultData, load_vault

if TYPE_CHECKING:
    from kgraph.earlygraph import EarlyGraph
    from kgraph.preview import Preview
    from kgraph.site.parallel import EarlyPart
    from kgraph.site.search import IndexRun
    from kgraph.statefile import PendingState


@dataclass
class BuildResult:
    """What one build did: the graph, the counts and the problems (the report's source)."""

    config: Config
    graph: ConceptGraph | None = None
    problems: list[Problem] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    notes: int = 0
    cells: dict[str, int] = field(default_factory=lambda: {"executed": 0, "cached": 0, "failed": 0})
    pages: dict[str, int] = field(
        default_factory=lambda: {"written": 0, "unchanged": 0, "removed": 0, "rendered": 0}
    )
    figures: list[dict[str, str]] = field(default_factory=list)
    changed_pages: list[str] = field(default_factory=list)
    fast: bool = False  # applied to the last build in memory (kgraph.hot)
    # Cache files a detached process is still writing, with the mtime they will have.
    pending_caches: dict[Path, int] = field(default_factory=dict, repr=False)
    on_stage: Callable[[str], None] | None = field(default=None, repr=False)
    _counts: tuple[Counter[Any], Counter[Any]] | None = field(default=None, repr=False)

    def overlay(self) -> list[dict[str, Any]]:
        """Problems worth interrupting a reader for in `serve`: errors and failed cells."""
        shown = {"cell-error", "cell-timeout", "bad-frontmatter", "template-error"}
        return [
            p.to_json()
            for p in sorted(set(self.problems), key=_order)
            if p.severity == "error" or p.code in shown
        ]

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        if self.on_stage is not None:
            self.on_stage(name)
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = round(time.perf_counter() - start, 4)

    def count_graph(self) -> tuple[Counter[Any], Counter[Any]]:
        """Concepts by kind and edges by relation (kept: the command line counts them while
        the search index is built, and reports them after)."""
        if self._counts is None:
            g = self.graph.graph if self.graph else None
            kinds: Counter[Any] = Counter()
            edges: Counter[Any] = Counter()
            if g is not None:
                # From the adjacency dicts (each edge's key dict once): networkx's edge
                # view makes a tuple per edge, twice the time at 100,000 edges.
                kinds.update(d.get("kind") for d in g._node.values())
                keydicts = chain.from_iterable(nbrs.values() for nbrs in g._succ.values())
                edges.update(chain.from_iterable(keydicts))
            self._counts = (kinds, edges)
        return self._counts

    def report(self) -> dict[str, Any]:
        kinds, edges = self.count_graph()
        return {
            "notes": self.notes,
            "concepts": kinds.get("note", 0),
            "stubs": kinds.get("stub", 0),
            "edges": dict(sorted(edges.items())),
            "cells": self.cells,
            "pages": self.pages,
            "warnings": [p.to_json() for p in sorted(set(self.problems), key=_order)],
            "figures": self.figures,
            "timings": self.timings,
        }


STAGES = ("read", "link", "execute", "render", "write")


@contextmanager
def stage_progress(enabled: bool) -> Iterator[Callable[[str], None] | None]:
    """A progress bar over the build's stages on a terminal (rich); nothing elsewhere."""
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]kgraph[/bold] {task.description:<8}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} stages"),
        TimeElapsedColumn(),
        transient=True,
    ) as progress:
        task = progress.add_task("starting", total=len(STAGES))

        def on_stage(name: str) -> None:
            done = STAGES.index(name) if name in STAGES else 0
            progress.update(task, description=name, completed=done)

        yield on_stage


def _order(p: Problem) -> tuple[str, int, str, str]:
    return (p.file, p.line, p.code, p.message)


def _digest_list(items: list[str]) -> str:
    import hashlib

    return hashlib.blake2b("\n".join(items).encode(), digest_size=16).hexdigest()


def _since(
    old: PageState, links: str, data: VaultData
) -> tuple[Signatures, dict[str, tuple[Any, ...]]] | None:
    """What signatures may start from: the last build's, when links resolve as they did
    then and the notes it saw of every file changed since are at hand; else None."""
    if not old.resolver_key or old.resolver_key != links:
        return None
    replaced: dict[str, tuple[Any, ...]] = {}
    for rel, item in data.parsed.items():
        seen = old.digests.get(rel)
        if seen == item.digest:
            continue
        before = data.replaced.get(rel)
        if seen is None or before is None or before.digest != seen:
            return None  # e.g. a build that stopped after reading moved the cache on
        replaced[rel] = before.notes
    return Signatures(old.face, old.full, old.figures, old.names), replaced


def _edited_keys(cg: ConceptGraph, data: VaultData, changed: set[Path]) -> frozenset[str]:
    """The concepts of the notes in the files a build was told changed."""
    keys: set[str] = set()
    for path in changed:
        try:
            rel = path.resolve().relative_to(data.root).as_posix()
        except (ValueError, OSError):
            continue
        item = data.parsed.get(rel)
        for note in item.notes if item is not None else ():
            keys.add(cg.concept_of(note))
    return frozenset(keys)


def _edited_since(
    cg: ConceptGraph, data: VaultData, digests: Mapping[str, str], old: Mapping[str, str]
) -> frozenset[str]:
    """The concepts of the notes in files whose digest differs from the last build's."""
    keys: set[str] = set()
    for rel, digest in digests.items():
        if old.get(rel) != digest:
            item = data.parsed.get(rel)
            keys.update(cg.concept_of(note) for note in (item.notes if item else ()))
    return frozenset(keys)


def attachment_copies(cg: ConceptGraph, data: VaultData) -> dict[str, Path]:
    """Every vault file a note links or embeds, at its place in the output."""
    from kgraph.site.context import safe_slug_path

    copies: dict[str, Path] = {}
    if len(data.files) == len(data.note_files):
        return copies  # a vault of notes only
    for note in data.notes:
        for link in note.links:
            name = link.target.rsplit("/", 1)[-1]
            if "." not in name or name.lower().endswith((".md", ".markdown")):
                continue  # only a name with another extension can be an attachment
            res = cg.resolver.resolve(link, note.path)
            if res.via == "attachment" and res.file:
                copies["_files/" + safe_slug_path(res.file)] = data.root / res.file
    return copies


class SearchIndexer:
    """Rebuilds the search index in a thread, so a page reload never waits for it.

    Requests made while it runs collapse into one more run. The new index is built
    beside the site and moved into place under `lock`, which `publish` also takes while
    it carries the current index into the next site.
    """

    def __init__(self, source: Path, out: Path) -> None:
        self.source = source
        self.out = out
        self.lock = threading.Lock()
        self.problems: list[Problem] = []
        self._wanted = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._stopping = False
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def request(self) -> None:
        self._idle.clear()
        self._wanted.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until no indexing is pending (for tests and benchmarks)."""
        return self._idle.wait(timeout)

    def stop(self) -> None:
        self._stopping = True
        self._wanted.set()
        self._thread.join(10)

    def _loop(self) -> None:
        from kgraph.site.search import build_search_index

        while True:
            self._wanted.wait()
            if self._stopping:
                return
            self._wanted.clear()
            fresh = self.out.parent / f".{self.out.name}.pagefind-new"
            # Shards whose sources did not change are carried over from the live index.
            self.problems = build_search_index(
                self.source, fresh, previous=self.out / "pagefind", dirty=set(), background=True
            )
            with self.lock:
                if fresh.is_dir() and self.out.is_dir():
                    old = self.out.parent / f".{self.out.name}.pagefind-old"
                    shutil.rmtree(old, ignore_errors=True)
                    if (self.out / "pagefind").exists():
                        os.replace(self.out / "pagefind", old)
                    os.replace(fresh, self.out / "pagefind")
                    shutil.rmtree(old, ignore_errors=True)
            if not self._wanted.is_set():
                self._idle.set()


class Builder:
    """Runs builds of one vault; keeps parsed notes and the cell pool between builds (serve)."""

    def __init__(self, config: Config, config_problems: list[Problem] | None = None) -> None:
        self.config = config
        self.config_problems = list(config_problems or [])
        self.parsed: dict[str, ParsedFile] | None = None
        self._owner: dict[str, str] = {}
        self._state: PageState | None = None
        self._rendered = 0
        # With an indexer (serve), search is rebuilt in the background after each publish.
        self.indexer: SearchIndexer | None = None
        self._snapshot_due: ConceptGraph | None = None
        self._cell_problems: list[Problem] = []
        self._indexing: IndexRun | None = None  # the command line's, once sources are written
        self._early_graph: EarlyGraph | None = None  # the global graph, laid out meanwhile
        self.graph_kept = False  # the last build took the last graph with the same edges
        self._renderer: Any = None  # the last full render's SiteRenderer
        self._last: Any = None  # the last full build, for fast edits (kgraph.hot)
        self.fast_edits = False  # keep the last build in memory and apply edits to it
        # The vault's fingerprint taken before this build read it (the snapshot's key).
        self.vault_key: str | None = None
        self._frozen = False  # gc.freeze() holds the last full build (fast edits)
        self._settings: tuple[Path, Path, bool, int | None, str | None] | None = None
        self._dirty = False  # state not yet saved (serve saves it when it stops)
        self.on_stage: Callable[[str], None] | None = None  # told each stage as it starts
        # serve: told the pages of the edited notes, published ahead of the rest of a build
        self.early: Callable[[list[str]], None] | None = None

    @property
    def search_dir(self) -> Path:
        """The search sources: the indexed part of every page, mirroring the site's paths."""
        return state_file(self.config.cache_dir, self.config.vault).with_suffix(".search")

    @classmethod
    def for_vault(
        cls,
        vault: Path,
        out: Path,
        *,
        execute: bool = True,
        jobs: int | None = None,
        base_url: str | None = None,
    ) -> Builder:
        config, problems = load_config(vault, out, execute=execute, jobs=jobs, base_url=base_url)
        builder = cls(config, problems)
        builder._settings = (vault, out, execute, jobs, base_url)
        return builder

    def reload_config(self) -> None:
        """Read `kgraph.yaml` again (serve, after it changed); the next build is a full one."""
        if self._settings is None:
            return
        vault, out, execute, jobs, base_url = self._settings
        self.config, self.config_problems = load_config(
            vault, out, execute=execute, jobs=jobs, base_url=base_url
        )
        self._last = None

    def watch_paths(self) -> list[Path]:
        paths = [self.config.vault]
        if self.config.templates is not None and self.config.templates.is_dir():
            paths.append(self.config.templates)
        return paths

    def close(self) -> None:
        """Release long-lived resources (worker processes, the search indexer)."""
        if self._frozen:
            gc.unfreeze()
            self._frozen = False
        if self.indexer is not None:
            self.indexer.stop()
        if self._snapshot_due is not None:
            self._save_snapshot(self._snapshot_due)
            self._snapshot_due = None
        if self._dirty and self._state is not None and self.parsed is not None:
            from kgraph.vault.load import save_parse_cache

            save_state(state_file(self.config.cache_dir, self.config.vault), self._state)
            save_parse_cache(self.config.cache_dir, self.config.vault, self.parsed)
            self._dirty = False

    @property
    def _one_off(self) -> bool:
        """A command-line build: no server around it, nothing kept for later edits."""
        return self.indexer is None and not self.fast_edits

    def build(self, changed: set[Path] | None = None) -> BuildResult:
        """Run every stage; problems are collected, never raised.

        `changed` names the files that changed since the last build (serve): an edit of a
        note's prose is then applied to the last build in memory instead (kgraph.hot).
        """
        if changed and any(p.name == CONFIG_NAME for p in changed):
            self.reload_config()
        preview: Preview | None = None
        if changed and self._last is not None:
            fast = self._hot(changed)
            if fast is not None:
                return fast
            if self.early is not None:
                from kgraph.preview import start_preview

                # The edited page from the last build in memory, on the other core.
                preview = start_preview(self._last, self.config, changed, self.early)
        self._last = None
        try:
            return self._full_build(changed, preview)
        finally:
            if preview is not None:
                preview.wait()
            if self._indexing is not None:  # a build that failed after its sources
                self._indexing.finish()
                self._indexing = None
            if self._early_graph is not None:
                self._early_graph.cancel()
                self._early_graph = None

    def _full_build(self, changed: set[Path] | None, preview: Preview | None) -> BuildResult:
        if self._frozen:
            gc.unfreeze()  # the last build's objects may be collected again
            self._frozen = False
        config = self.config
        vault_key, self.vault_key = self.vault_key, None
        if vault_key is None and self.indexer is None:
            from kgraph.snapshot import fingerprint, settings_key

            vault_key = fingerprint(config.vault, config.ignore, settings_key(config))
        result = BuildResult(
            config=config, problems=list(self.config_problems), on_stage=self.on_stage
        )
        if self._one_off:
            result.problems.extend(_unsaved_last_time(config))
        self._early_graph = self._start_early_graph()
        with result.stage("read"):
            data = load_vault(
                config.vault,
                ignore=config.ignore,
                cache_dir=config.cache_dir,
                jobs=config.jobs,
                exclude_dirs=(config.out, config.cache_dir),
                previous=self.parsed,
                # serve keeps its state in memory and saves it once, when it stops
                write_cache=self.indexer is None,
                defer_cache=self.indexer is None,
                # it renders what it reads without reading it again; a builder that keeps its
                # renderer for later edits (serve, tests) must not keep old bodies
                compile_bodies=self._one_off,
            )
        self.parsed = data.parsed
        result.notes = len(data.notes)
        result.problems.extend(data.problems)
        # Note file -> digest: what the kept graph and the page state were made from.
        digests = {rel: item.digest for rel, item in data.parsed.items()}
        with result.stage("link"):
            cg = None
            new_edges = False
            if self._one_off:
                from kgraph.graph.kept import kept_file, load_kept

                where = kept_file(config.cache_dir, config.vault)
                cg, problems, new_edges = load_kept(
                    where, data.notes, data.files, digests, data.replaced
                )
                result.problems.extend(problems)
                # Relinked with other edges: the global graph is started early (not when
                # only a link's line or sentence changed, as prose written above it does).
                self.graph_kept = cg is not None and not new_edges
            if (early_graph := self._early_graph) is not None:
                # Relinked with new edges, as it will be over there, from a few files read
                # again (read about as fast there): the build will take its graph page.
                if cg is not None and new_edges and data.reparsed < PARALLEL_MIN_FILES:
                    from kgraph.earlygraph import vault_digest

                    early_graph.expect(vault_digest(data.files, digests))
                else:
                    early_graph.cancel()
                    self._early_graph = None
            if cg is None:
                cg = build_graph(data.notes, data.files)
            keep_for_good()
        linked_problems = len(cg.problems)
        result.graph = cg
        result.problems.extend(cg.problems)

        with result.stage("execute"):
            cells = self._execute(cg, result)

        with result.stage("render"):
            if preview is not None:
                preview.wait()  # its pages are written before this build writes any
            site, keep, state = self._render(cg, data, digests, cells, result, changed or set())
        result.problems.extend(site.problems)

        from kgraph.publish import publish

        # The command line's search index has been building since the sources were written.
        indexing, self._indexing = self._indexing, None
        pending: PendingState | None = None
        with result.stage("write"):
            if indexing is not None:
                from kgraph.statefile import PendingState

                # Meanwhile, on this core: the report's counts.
                result.count_graph()
                # The page state is written after this process exits (`kgraph.statefile`):
                # the old one goes before the site it describes is replaced.
                pending = PendingState(state_file(config.cache_dir, config.vault))
                pending.drop_old()
                try:
                    stats = publish(
                        config.out,
                        site.files,
                        site.copies,
                        keep,
                        before_swap=indexing.install,
                    )
                except BaseException:
                    pending.release()
                    raise
                finally:
                    indexing.finish()
                result.problems.extend(indexing.problems)
            else:
                assert self.indexer is not None
                stats = publish(
                    config.out,
                    site.files,
                    site.copies,
                    keep,
                    generated_lock=self.indexer.lock,
                    atomic=False,
                )
                if stats.changed or not (config.out / "pagefind").is_dir():
                    self.indexer.request()
        result.pages = {
            "written": stats.written,
            "unchanged": stats.unchanged,
            "removed": stats.removed,
            "rendered": self._rendered,
        }
        result.changed_pages = [p for p in stats.changed if p.endswith(".html")]
        self._collect_figures(result, site.copies, cells)
        # Work nobody waits for, done by one detached process (forking a process that
        # holds a 10,000-note vault takes 40-60 ms: once is enough).
        later: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []
        if stats.written or stats.removed or result.cells["executed"]:
            if self.indexer is None:
                # Keyed by the vault as it was before this build read it, so a note
                # saved meanwhile makes the snapshot stale, never wrongly current.
                from kgraph.background import yielding

                # Last, at the lowest priority: it only serves queries, and may still
                # run as the next build starts (which then starts no early process: the
                # saving lock is held until the end, see `earlygraph`).
                later.append((yielding, (self._save_snapshot, cg, vault_key)))
            else:
                self._snapshot_due = cg  # serve saves it once, when it stops
        self._state = state
        if self.indexer is None:
            # Cache files written after the site is in place, with an mtime chosen now,
            # so the no-op record can name them already.
            stamp = time.time_ns()
            assert pending is not None  # taken before publishing: a CLI build indexes
            result.pending_caches = {pending.path: stamp}
            if data.unsaved:
                from kgraph.vault.load import save_buckets

                result.pending_caches.update(dict.fromkeys(data.unsaved, stamp))
                # First: the next build needs it to skip digesting every concept again.
                later.insert(0, (save_buckets, (data.unsaved, stamp)))
            if self._one_off:
                from kgraph.graph.kept import kept_file, save_kept

                # Next: the next build links from it (the snapshot is only for queries).
                where = kept_file(config.cache_dir, config.vault)
                graph_facts = (where, cg, linked_problems, data.notes, data.files, digests)
                later.insert(1 if data.unsaved else 0, (save_kept, graph_facts))
                if data.compiled:
                    from kgraph.bodystore import save as save_bodies
                    from kgraph.bodystore import store_file

                    # Then the bodies this build compiled, for the pages later edits
                    # render again around them.
                    bodies = (store_file(config.cache_dir, config.vault), data.compiled, data.notes)
                    later.insert(2 if data.unsaved else 1, (save_bodies, bodies))
            from kgraph.background import detached

            try:
                # The page state first: the next build may be waiting for it.
                calls = (pending, state, stamp, saving_lock(config), later, failures_file(config))
                detached(_write_and_save, *calls, keep_fd=pending.fd)
            finally:
                pending.release()  # this process's hold; the writer keeps its own
        else:
            self._dirty = True
        if self.fast_edits:
            self._remember(result, data, cells, state, site.problems, stats)
            # Fast edits allocate little; a full collection over the whole vault in the
            # middle of one would cost more than the edit itself.
            gc.freeze()
            self._frozen = True
        return result

    def _remember(
        self,
        result: BuildResult,
        data: VaultData,
        cells: dict[str, Any],
        state: PageState,
        site_problems: tuple[Problem, ...],
        stats: Any,
    ) -> None:
        """Keep what a fast edit needs of this full build (serve only)."""
        from kgraph.hot import LastBuild

        assert result.graph is not None
        on_pages = {p for found in state.problems.values() for p in found}
        self._last = LastBuild(
            data=data,
            cg=result.graph,
            cells=cells,
            renderer=self._renderer,
            state=state,
            cell_problems=list(self._cell_problems),
            site_problems=set(site_problems) - on_pages,
            cells_counts=dict(result.cells),
            figures=list(result.figures),
            pages_total=stats.written + stats.unchanged,
        )
        # Render one page and throw it away: templates, parser and lexer get compiled
        # now (forked workers did it for themselves), not in the first edit.
        from kgraph.site.render import render_site

        sample = next((k for k, c in result.graph.concepts.items() if c.kind == "note"), None)
        if sample is not None:
            render_site(
                result.graph,
                self.config,
                cells=cells,
                only=frozenset([sample]),
                index_pages=False,
                renderer=self._renderer,
            )
            _ = self._renderer.tag_names

    def _hot(self, changed: set[Path]) -> BuildResult | None:
        """A fast edit (kgraph.hot) as a build result, or None when a full build is needed."""
        from kgraph.hot import try_hot_edit
        from kgraph.site.search import update_sources

        last = self._last
        started = time.perf_counter()
        edit = try_hot_edit(last, self.config, changed, self.config.out)
        if edit is None:
            return None
        result = BuildResult(
            config=self.config,
            graph=last.cg,
            problems=[*self.config_problems, *edit.problems],
            notes=len(last.data.notes),
            on_stage=self.on_stage,
            fast=True,
        )
        counts = last.cells_counts
        result.cells = {
            "executed": 0,
            "cached": counts["executed"] + counts["cached"],
            "failed": counts["failed"],
        }
        result.pages = {
            "written": edit.written,
            "unchanged": last.pages_total - edit.written,
            "removed": 0,
            "rendered": edit.rendered,
        }
        result.figures = list(last.figures)
        result.changed_pages = edit.changed_pages
        result.timings = dict(edit.timings)
        if edit.changed_pages:
            update_sources(self.search_dir, edit.files, last.state.owners, gone=())
            if self.indexer is not None:
                self.indexer.request()
        self._snapshot_due = last.cg
        self._dirty = True
        result.timings["total"] = round(time.perf_counter() - started, 4)
        return result

    def _start_early_graph(self) -> EarlyGraph | None:
        """The process laying out the global graph of a command-line edit from the start
        (`kgraph.earlygraph`), when the last build's site, kept graph and record say it
        may pay."""
        config = self.config
        if not self._one_off or config.jobs <= 1 or sys.platform != "linux":
            return None
        from kgraph.background import busy
        from kgraph.earlygraph import EarlyGraph, worth_starting
        from kgraph.graph.kept import kept_file
        from kgraph.noop import record_file
        from kgraph.publish import MARKER

        kept = kept_file(config.cache_dir, config.vault)
        if not ((config.out / MARKER).is_file() and kept.is_file()):
            return None
        if busy(saving_lock(config)):
            # The last build's caches are still being written: the kept graph may be
            # the one before it (then both sides link anew), and that writing already
            # takes the other core (2-3 s at 10,000 notes, mostly the query snapshot).
            return None
        if not worth_starting(record_file(config)):
            return None
        try:
            return EarlyGraph(config, kept)
        except OSError:  # no fork: the graph is laid out in its turn
            return None

    def _render(
        self,
        cg: ConceptGraph,
        data: VaultData,
        digests: dict[str, str],
        cells: dict[str, Any],
        result: BuildResult,
        changed: set[Path],
    ) -> tuple[SiteOutput, list[str], PageState]:
        """Render what changed since the last build; return output, kept pages, new state.

        With an `early` listener, the pages of the notes in `changed` come first."""
        from kgraph.publish import MARKER

        config = self.config
        from kgraph.site.render import site_renderer

        self._renderer = renderer = site_renderer(cg, config, cells=cells, compiled=data.compiled)
        early: EarlyPart | None = self._early_graph
        self._early_graph = None
        if early is not None and cells:
            early.cancel()  # laid out without the figures of the cells
            early = None
        if (
            early is None
            and not self.graph_kept
            and config.jobs > 1
            and sys.platform == "linux"
            and (config.out / MARKER).is_file()  # else a full render: see `fresh` below
        ):
            from kgraph.site.parallel import PARALLEL_MIN_PAGES, EarlyPart

            if len(cg.concepts) >= PARALLEL_MIN_PAGES:
                # Linked anew: a link probably changed, and with it the global graph. Its
                # layout starts now, on the other core, while the page state is read and
                # the pages are decided.
                with contextlib.suppress(OSError):  # no fork: it is rendered in its turn
                    early = EarlyPart(cg, config, cells, renderer, frozenset({"graph"}))
        try:
            old = self._state
            if old is None:
                from kgraph.statefile import await_state

                where = state_file(config.cache_dir, config.vault)
                await_state(where)  # the last build's, if its writer is still at it
                old, problems = load_state(where)
                result.problems.extend(problems)
            attachments = sorted(set(data.files) - set(data.note_files))
            new_global = global_key(config, executed=bool(cells)) + ":" + _digest_list(attachments)
            fresh = (
                old.global_key != new_global
                or not (config.out / MARKER).is_file()
                or not self.search_dir.is_dir()
            )
            if fresh and early is not None:
                early.cancel()  # everything is rendered, the global graph in its turn
                early = None
            links = resolver_key(cg, data.notes, data.files)
            return self._render_decided(
                cg, data, digests, cells, result, changed, old, new_global, fresh, links, early
            )
        finally:
            if early is not None:
                early.cancel()

    def _render_decided(
        self,
        cg: ConceptGraph,
        data: VaultData,
        digests: dict[str, str],
        cells: dict[str, Any],
        result: BuildResult,
        changed: set[Path],
        old: PageState,
        new_global: str,
        fresh: bool,
        links: str,
        early: EarlyPart | None,
    ) -> tuple[SiteOutput, list[str], PageState]:
        from kgraph.site.parallel import render_parallel
        from kgraph.site.render import INDEX_PARTS
        from kgraph.site.search import HeadStart, IndexRun, SourceWriter

        config = self.config
        renderer = self._renderer
        assert renderer is not None
        found: list[Signatures] = []
        indexes: frozenset[str]
        if fresh:
            todo, indexes = None, INDEX_PARTS  # no previous site (or search sources) to keep
        else:
            found.append(signatures(cg, digests, cells, since=_since(old, links, data)))
            todo, indexes = pages_to_render(
                old,
                new_global,
                found[0],
                cg,
                local_now=renderer.local_digest,
                nodes_now=renderer.local_nodes,
            )
        if early is not None and not indexes & early.parts:
            early.cancel()  # no link changed after all: free its core for the pages
        if todo and self._one_off:
            self._fetch_bodies(cg, data, todo)
        # The renderer's page assignment: assigning again costs a tenth of a second.
        owners = {page: key for key, page in self._renderer.ctx.pages.items()}
        gone = set(old.owners) - set(owners) if todo is not None else None
        sources = SourceWriter(self.search_dir, owners, gone)
        indexed: list[set[int]] = []  # the shards an index run was started for
        heads: list[HeadStart] = []

        def head_start(head: SiteOutput) -> None:
            # The edited notes' pages are in: their shards are indexed while the other
            # pages the edit reaches render (their asides change, rarely their articles).
            if sources.dirty:
                digests_now = sources.shard_digests(sources.dirty)
                heads.append(HeadStart(self.search_dir, config.out, digests_now, sources.count))

        def index_sources() -> None:
            # The command line indexes while the global graph (started early) is still
            # laid out: a second of a link edit at 10,000 notes.
            indexed.append(set(sources.finish()))
            if self.indexer is None:
                head = heads.pop() if heads else None
                self._indexing = IndexRun(self.search_dir, config.out, indexed[-1], head)

        # What the build decided with lives until it ends: out of the collector's sight,
        # a full collection in the middle of rendering would scan all of it again.
        keep_for_good()
        stage = None
        if fresh and self._one_off:
            from kgraph.publish import MARKER, rendering_folder

            if not (config.out / MARKER).exists():
                # Nothing published to compare with: workers write the new site directly.
                stage = rendering_folder(config.out)
        first: frozenset[str] = frozenset()
        on_first: Callable[[SiteOutput], None] | None = None
        if todo is not None and self.early is not None:
            first, on_first = _edited_keys(cg, data, changed), self._publish_early
        elif todo is not None and self.indexer is None:
            first, on_first = _edited_since(cg, data, digests, old.digests), head_start
        try:
            site = render_parallel(
                cg,
                config,
                cells=cells,
                only=todo,
                jobs=config.jobs,
                index_pages=bool(indexes),
                index_parts=indexes,
                renderer=self._renderer,
                # Search sources are written, and a full render's signatures computed (for
                # the next build only), while the workers render.
                on_files=sources.add,
                meanwhile=lambda: found.append(signatures(cg, digests, cells)) if fresh else None,
                first=first,
                on_first=on_first,
                stage=stage,
                early=early,
                on_pages_done=index_sources,
            )
        except BaseException:
            for head in heads:  # not handed to an index run: the build failed
                head.finish()
            raise
        if not indexed:
            index_sources()
        elif late := sources.finish() - indexed[0]:
            # Index pages with a searchable article (a changed template): index again.
            if self._indexing is not None:
                self._indexing.finish()
            indexed.append(indexed[0] | late)
            if self.indexer is None:
                self._indexing = IndexRun(self.search_dir, config.out, indexed[-1])
        sigs = found[0]
        state = PageState(
            global_key=new_global,
            face=sigs.face,
            full=sigs.full,
            figures=sigs.figures,
            names=sigs.names,
            resolver_key=links,
            digests=digests,
            stubs=frozenset(k for k, c in cg.concepts.items() if c.kind == "stub"),
        )
        keep: list[str] = []
        # Index parts not rendered again keep their files (a part rendered again may have
        # dropped some: a tag no note has any more).
        state.extra = {
            part: files
            for part, files in old.extra.items()
            if part in INDEX_PARTS and part not in indexes
        }
        state.extra.update(site.index_files)
        for part, files in state.extra.items():
            if part not in indexes:
                keep.extend(files)
        extra_problems: list[Problem] = []
        for page, key in owners.items():
            state.owners[page] = key
            if page in site.dependencies:
                state.shows[page] = site.dependencies[page]
                state.problems[page] = site.page_problems.get(page, ())
                if page in site.local_graphs:
                    state.local[page] = site.local_graphs[page]
            elif old.owners.get(page) == key and page in old.shows:
                keep.append(page)
                state.shows[page] = old.shows[page]
                state.problems[page] = old.problems.get(page, ())
                if page in old.local:
                    state.local[page] = old.local[page]
                extra_problems.extend(state.problems[page])
        copies = {**attachment_copies(cg, data), **site.copies}
        site = SiteOutput(
            files=site.files,
            copies=copies,
            problems=tuple(sorted({*site.problems, *extra_problems})),
            dependencies=site.dependencies,
            page_problems=site.page_problems,
        )
        self._rendered = len(site.dependencies)
        return site, keep, state

    def _fetch_bodies(self, cg: ConceptGraph, data: VaultData, todo: Iterable[str]) -> None:
        """Give the renderer the stored templates of the bodies on the pages to render
        that this build did not compile while reading (`kgraph.bodystore`). Only a
        one-off build's renderer takes them: it renders this vault state once."""
        from kgraph.bodystore import fetch, store_file

        renderer = self._renderer
        assert renderer is not None
        have = renderer.ctx.compiled
        notes = [
            note
            for key in todo
            if (concept := cg.concepts.get(key)) is not None
            for note in concept.notes
            if (note.path, note.body_line) not in have
        ]
        if notes:
            found = fetch(store_file(self.config.cache_dir, self.config.vault), notes)
            if found:
                renderer.ctx.compiled = {**have, **found}

    def _publish_early(self, head: SiteOutput) -> None:
        """Write the edited notes' pages in place before the other pages a link edit
        changes are rendered, and tell serve: the page being edited reloads first."""
        from kgraph.publish import update_files

        written = update_files(self.config.out, head.files, head.copies)
        pages = [p for p in written if p.endswith(".html")]
        if pages and self.early is not None:
            self.early(pages)

    def _save_snapshot(self, cg: ConceptGraph, key: str | None = None) -> None:
        """Let `kgraph query` answer from this build's graph, figures included."""
        from kgraph.snapshot import fingerprint, settings_key, write_snapshot

        config = self.config
        if key is None:
            key = fingerprint(config.vault, config.ignore, settings_key(config))
        write_snapshot(config.cache_dir, config.vault, key, cg)

    def _execute(self, cg: ConceptGraph, result: BuildResult) -> dict[str, Any]:
        from kgraph.figures import attach_figures

        outcome = attach_figures(
            cg,
            vault=self.config.vault,
            cache_dir=self.config.cache_dir,
            execute=self.config.execute,
            jobs=self.config.jobs,
            timeout=self.config.cell_timeout,
            memory_mb=self.config.cell_memory_mb,
        )
        self._owner = outcome.owner
        self._cell_problems = list(outcome.problems)
        result.cells = outcome.counts
        result.problems.extend(outcome.problems)
        return outcome.results

    def _collect_figures(
        self, result: BuildResult, copies: dict[str, Path], cells: dict[str, Any]
    ) -> None:
        where = {src: rel for rel, src in copies.items()}
        for note_id, cell_results in sorted(cells.items()):
            concept = self._owner.get(note_id, "")
            for cell in cell_results:
                for fig in cell.figures:
                    result.figures.append(
                        {
                            "concept": concept,
                            "label": fig.label,
                            "svg": where.get(fig.svg, ""),
                            "data": where.get(fig.data, ""),
                        }
                    )


def _write_and_save(
    pending: PendingState,
    state: PageState,
    stamp: int,
    lock: Path,
    later: list[tuple[Callable[..., Any], tuple[Any, ...]]],
    failures: Path,
) -> None:
    """The detached writer's work: the page state, then the other caches in order,
    holding the saving lock (`each_holding`). What fails is recorded for the next build
    to report (`failures_file`)."""
    from kgraph.background import each_holding, record_failure

    try:
        pending.write(state, stamp)
    except Exception as exc:  # no state: the next build renders every page
        record_failure(failures, "the page state", exc)
    each_holding(lock, later, failures)


def saving_lock(config: Config) -> Path:
    """Held by the detached process writing a command-line build's caches."""
    from kgraph.cache import vault_id

    return config.cache_dir / f"saving-{vault_id(config.vault)}.lock"


def _unsaved_last_time(config: Config) -> list[Problem]:
    """What the last command-line build's detached writer failed to save: this build
    does that work again (a missing page state, say, means every page is rendered)."""
    from kgraph.background import take_failures

    where = failures_file(config)
    return [
        problem(where.name, 0, "cache-unsaved", f"the last build's writer failed: {line}")
        for line in take_failures(where)
    ]


def failures_file(config: Config) -> Path:
    """Where the detached writer of a command-line build records what it failed to save."""
    from kgraph.cache import vault_id

    return config.cache_dir / f"unsaved-{vault_id(config.vault)}.txt"


def build(
    vault: Path,
    out: Path,
    *,
    execute: bool = True,
    strict: bool = False,
    jobs: int | None = None,
    report_path: Path | None = None,
    base_url: str | None = None,
    quiet: bool = False,
) -> int:
    """The `kgraph build` verb: exit 0 on success, 1 on errors (or warnings with strict)."""
    config, config_problems = load_config(vault, out, execute=execute, jobs=jobs, base_url=base_url)
    started = time.perf_counter()
    from kgraph import noop
    from kgraph.publish import NotASite, check_output

    try:
        check_output(config.out)  # before any work: refuse a folder we must not replace
        with build_lock(config.cache_dir):
            key, vault_key = noop.inputs_key(config)  # before reading: edits change it
            same = noop.unchanged_report(config, key)
            if same is None:
                builder = Builder(config, config_problems)
                builder.vault_key = vault_key
                with stage_progress(enabled=not quiet and sys.stdout.isatty()) as on_stage:
                    builder.on_stage = on_stage
                    result = builder.build()
                keep_until_exit(builder, result)
    except (BuildLocked, CacheUnusable, NotASite) as exc:
        print(f"kgraph: error: {exc}", file=sys.stderr)
        return 1
    if same is not None:
        report = same
        result = BuildResult(config=config, problems=[Problem(**w) for w in report["warnings"]])
        report["timings"] = {"total": round(time.perf_counter() - started, 4)}
    else:
        result.timings["total"] = round(time.perf_counter() - started, 4)
        report = result.report()
        noop.remember(config, key, report, pending=result.pending_caches)
    unwritten = False
    if report_path is not None:
        try:
            report_path.parent.mkdir(parents=True, exist_ok=True)
            text = json.dumps(report, indent=2, ensure_ascii=False) + "\n"
            report_path.write_text(text, encoding="utf-8")
        except OSError as exc:  # the site is built; the report asked for is not
            why = exc.strerror or exc
            print(f"kgraph: error: cannot write the report {report_path}: {why}", file=sys.stderr)
            unwritten = True
    from kgraph.summary import print_summary

    print_summary(result, report, vault_arg=str(vault), quiet=quiet)
    bad = {"error", "warning"} if strict else {"error"}
    return 1 if unwritten or any(p.severity in bad for p in result.problems) else 0
