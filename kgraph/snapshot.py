"""A saved copy of a vault's concept graph, for answering queries without re-reading notes.

The snapshot is keyed by a fingerprint of the vault: every file's path, size and mtime,
and the settings. When nothing changed, `kgraph query` unpickles the graph and answers
(about a second for 10,000 notes); otherwise it reads the vault and saves a new one.
Note bodies and link context sentences are left out: no query prints them (exports
read the whole vault instead).
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import os
from pathlib import Path
from typing import Any

import networkx as nx

from kgraph.cache import CacheError, read_pickle, vault_id, write_pickle
from kgraph.config import Config
from kgraph.gcpause import paused_gc
from kgraph.graph.build import Concept, ConceptGraph
from kgraph.graph.resolve import Resolver
from kgraph.problems import Problem
from kgraph.vault.files import inside
from kgraph.vault.note import Note

CACHE_KIND = "graph-v4"


def fingerprint(root: Path, ignore: tuple[str, ...], settings: str) -> str:
    """Digest of the path, size and mtime of every file under the vault, and the settings.

    It walks more than discovery does (ignored files count too), which can only make a
    snapshot expire early, never live too long; dot-folders such as the cache are skipped.
    Links are followed as discovery follows them: each real folder once, and none that
    leaves the vault. Two links back to a parent folder would otherwise double the walk
    at every level until the path got too long (a build that never ended).
    """
    h = hashlib.blake2b(f"{settings}\n{sorted(ignore)}".encode(), digest_size=16)
    real_root = os.path.realpath(root)
    stack = [str(root)]
    base = len(str(root)) + 1
    visited: set[tuple[int, int]] = set()
    while stack:
        folder = stack.pop()
        try:
            info = os.stat(folder)
            if (info.st_dev, info.st_ino) in visited:
                continue
            visited.add((info.st_dev, info.st_ino))
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                # A link out of the vault counts as the link itself: nothing outside is read.
                leaves = entry.is_symlink() and not inside(os.path.realpath(entry.path), real_root)
                if not leaves and entry.is_dir():
                    stack.append(entry.path)
                    continue
                st = entry.stat(follow_symlinks=not leaves)
            except OSError:
                continue
            line = f"{entry.path[base:]}\0{st.st_size}\0{st.st_mtime_ns}\n"
            h.update(line.encode("utf-8", "surrogateescape"))  # a name need not be UTF-8
    return h.hexdigest()


def _file(cache_dir: Path, root: Path) -> Path:
    return cache_dir / f"graph-{vault_id(root)}.pickle"


def read_snapshot(cache_dir: Path, root: Path, key: str) -> ConceptGraph | None:
    """The saved graph if it was made from exactly this vault state, else None."""
    try:
        with paused_gc():  # a million small objects, no garbage cycles among them
            saved_key, graph, concepts, problems, names = read_pickle(
                _file(cache_dir, root), CACHE_KIND
            )
    except (FileNotFoundError, CacheError, OSError, ValueError, TypeError):
        return None
    # The graph lives as long as the query: keep the collector from scanning it later.
    gc.freeze()
    if saved_key != key:
        return None
    cg = ConceptGraph(graph=graph, concepts=concepts, resolver=Resolver([], []), problems=problems)
    cg._names = names
    return cg


def write_snapshot(cache_dir: Path, root: Path, key: str, cg: ConceptGraph) -> None:
    """Save the graph with note bodies and links stripped (queries show neither)."""
    with paused_gc():  # the copies are acyclic; a collection would rescan the whole graph
        payload = _stripped_graph(key, cg)
    # A snapshot is an optimisation: failing to save one is not an error.
    with contextlib.suppress(OSError):
        write_pickle(_file(cache_dir, root), CACHE_KIND, payload)


def _stripped_graph(key: str, cg: ConceptGraph) -> tuple[Any, ...]:
    concepts = {
        k: Concept(
            key=c.key,
            title=c.title,
            kind=c.kind,
            notes=[_stripped(n) for n in c.notes],
            slug=c.slug,
            aliases=c.aliases,
            tags=c.tags,
        )
        for k, c in cg.concepts.items()
    }
    problems: list[Problem] = list(cg.problems)
    cg.lookup("")  # builds the name index once, so queries need not
    return (key, _without_context(cg.graph), concepts, problems, cg._names)


_STRIPPED = {"body": "", "links": (), "cells": (), "headings": (), "block_ids": ()}


def _stripped(note: Note) -> Note:
    # `dataclasses.replace` runs `__init__` with every field: three times slower at
    # 10,000 notes, and this runs after every build.
    copy = object.__new__(Note)
    state = copy.__dict__
    state.update(note.__dict__)
    state.update(_STRIPPED)
    state["frontmatter"] = {}
    return copy


def _without_context(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """A copy of the graph without the edges' context sentences (the bulk of it, and
    no query prints them), its adjacency dicts built directly in the original's order:
    networkx's edge views and `add_edge` take seconds over a hundred thousand edges."""
    copy: nx.MultiDiGraph = nx.MultiDiGraph()
    copy.graph.update(graph.graph)
    copy.add_nodes_from(graph.nodes(data=True))
    succ, pred = copy._succ, copy._pred
    made: dict[int, dict[str, dict[str, Any]]] = {}  # id of an old key dict → its copy
    factory = copy.edge_key_dict_factory
    for u, nbrs in graph._succ.items():
        row = succ[u]
        for v, keydict in nbrs.items():
            fresh = factory()
            for rel, attrs in keydict.items():
                kept = attrs.copy()
                kept.pop("context", None)
                fresh[rel] = kept
            row[v] = fresh
            made[id(keydict)] = fresh
    for v, nbrs in graph._pred.items():
        col = pred[v]
        for u, keydict in nbrs.items():
            col[u] = made[id(keydict)]
    return copy


def settings_key(config: Config) -> str:
    """What decides the graph besides the files: the ignore list and kgraph's version."""
    from kgraph import __version__

    return f"{__version__}\n{sorted(config.ignore)}"


def load_graph(path: str | os.PathLike[str], *, cache_dir: Path | None = None) -> ConceptGraph:
    """Only the concept graph: from the snapshot when the vault is unchanged, else read it.

    The fast path imports neither the Markdown parser nor the reader, so a warm
    `kgraph query` costs little more than Python's start and unpickling the graph.
    """
    from kgraph.config import load_config

    config, _ = load_config(Path(path))
    env = os.environ.get("KGRAPH_CACHE_DIR")
    where = cache_dir or (Path(env) if env else Path(".kgraph-cache"))
    key = fingerprint(config.vault, config.ignore, settings_key(config))
    found = read_snapshot(where, config.vault, key)
    if found is not None:
        return found
    from kgraph.api import load

    cg = load(path, cache_dir=where).concept_graph
    write_snapshot(where, config.vault, key, cg)  # the next query takes the fast path
    return cg
