"""The linked graph of the last command-line build, kept on disk for the next one.

Most edits change a note's prose and nothing the graph is made of: its path, title,
aliases, tags, date, links (targets, lines and context sentences), headings and block
ids. Linking a 10,000-note vault again takes about 1.4 s; loading the graph the last
build linked takes about half that. So after each command-line build a detached process
writes the graph (the loader takes out again the figures the cells stage added), with
the digest of every note file it was linked from. The next build takes it
only when every file whose digest changed still has the same graph facts as the version
the graph was linked from (that version is in the parse cache), or differs from it only
in its links (those files are linked again in the kept graph: `relink`), and the vault
holds the same files and notes in the same order. Notes are kept as (path, index) and
the new Note objects are put in their place on loading: nothing else in the graph
depends on their text. Tests hold the result equal to linking again.
"""

from __future__ import annotations

import contextlib
import io
import pickle
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import networkx as nx

from kgraph.cache import CacheError, read_payload, vault_id, write_encoded
from kgraph.gcpause import paused_gc
from kgraph.graph.build import ConceptGraph
from kgraph.graph.relink import links_to_figures, name_facts, relink
from kgraph.problems import Problem, problem
from kgraph.vault.note import Note

KIND = "linked-graph-v2"


def kept_file(cache_dir: Path, vault: Path) -> Path:
    return cache_dir / f"linked-{vault_id(vault)}.pickle"


def graph_facts(note: Note) -> tuple[Any, ...]:
    """Everything linking reads from a note (`build_graph`, the resolver, the keys)."""
    return (*name_facts(note), note.links)


def _same_facts(before: Sequence[Note], now: Sequence[Note]) -> bool:
    return [graph_facts(n) for n in before] == [graph_facts(n) for n in now]


def _same_names(before: Sequence[Note], now: Sequence[Note]) -> bool:
    """The same notes but for their links, none of them to a figure."""
    if links_to_figures(before) or links_to_figures(now):
        return False
    return [name_facts(n) for n in before] == [name_facts(n) for n in now]


class _Pickler(pickle.Pickler):
    """Notes are written as (path, index): their bodies are in the parse cache. (Only
    objects of classes reach `reducer_override`, so it costs little, unlike
    `persistent_id`, which every string and number goes through.)"""

    def reducer_override(self, obj: Any) -> Any:
        return (_note_at, (obj.path, obj.index)) if type(obj) is Note else NotImplemented


# The notes of the build loading a kept graph, for `_note_at` (set only while loading).
_loading: dict[tuple[str, int], Note] = {}


def _note_at(path: str, index: int) -> Note:
    return _loading[(path, index)]  # KeyError: a note that is gone


def save_kept(
    path: Path,
    cg: ConceptGraph,
    linked_problems: int,
    notes: Sequence[Note],
    files: Sequence[str],
    digests: Mapping[str, str],
) -> None:
    """Write `cg`, figures and all (the loader takes them out again, as the first
    `linked_problems` problems are the linker's), without changing it."""
    value = {
        "graph": cg,
        "linked_problems": linked_problems,
        "figures": [key for key, concept in cg.concepts.items() if concept.kind == "figure"],
        "order": [(n.path, n.index) for n in notes],
        "files": list(files),
        "digests": dict(digests),
    }
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    with contextlib.suppress(OSError):
        write_encoded(path, KIND, buffer.getvalue())


def load_kept(
    path: Path,
    notes: Sequence[Note],
    files: Sequence[str],
    digests: Mapping[str, str],
    replaced: Mapping[str, Any],
) -> tuple[ConceptGraph | None, list[Problem], bool]:
    """The kept graph with `notes` in it, if linking these notes gives that graph; else
    None (with a `cache-corrupt` warning if the file could not be trusted). Files whose
    links alone changed are linked again in it (`relink`); the flag says whether that
    changed its edges (more than a link's line or sentence).

    `digests` names each note file's digest now; `replaced` holds the parse cache's
    previous version of each file read again (`VaultData.replaced`)."""
    by_file: dict[str, list[Note]] = {}
    for note in notes:
        by_file.setdefault(note.path, []).append(note)
    relinked = {
        rel for rel, item in replaced.items() if not _same_facts(item.notes, by_file.get(rel, []))
    }
    if not all(_same_names(replaced[rel].notes, by_file.get(rel, [])) for rel in relinked):
        # A file read again changed what other notes' links resolve to: link again
        # without reading the graph (0.45 s at 10,000 notes).
        return None, [], False
    try:
        payload = read_payload(path, KIND)
    except FileNotFoundError:
        return None, [], False
    except (CacheError, OSError) as exc:
        return None, [problem(path.name, 0, "cache-corrupt", f"ignored and rebuilt: {exc}")], False
    _loading.update(((n.path, n.index), n) for n in notes)
    try:
        with paused_gc():
            value = pickle.loads(payload)
    except KeyError:
        return None, [], False  # a note the kept graph names is gone: link again
    except Exception as exc:  # a checksummed payload that still fails: treat as corrupt
        return (
            None,
            [problem(path.name, 0, "cache-corrupt", f"ignored: cannot unpickle: {exc}")],
            False,
        )
    finally:
        _loading.clear()
    try:
        cg, linked, figures = value["graph"], value["linked_problems"], value["figures"]
        order, old_files, old_digests = value["order"], value["files"], value["digests"]
        if not isinstance(cg, ConceptGraph) or not isinstance(cg.graph, nx.MultiDiGraph):
            raise TypeError("not a concept graph")
        if not isinstance(linked, int) or not isinstance(cg.problems, list):
            raise TypeError("no count of linking problems")
        if not isinstance(figures, list) or not isinstance(cg.concepts, dict):
            raise TypeError("no list of figures")
        if not isinstance(old_files, list) or not isinstance(order, list):
            raise TypeError("no list of files")
        if not isinstance(old_digests, dict):
            raise TypeError("no file digests")
    except (TypeError, KeyError) as exc:
        return (
            None,
            [problem(path.name, 0, "cache-corrupt", f"ignored: wrong shape ({exc})")],
            False,
        )
    if old_files != list(files) or old_digests.keys() != digests.keys():
        return None, [], False
    if order != [(n.path, n.index) for n in notes]:
        return None, [], False
    for rel, digest in digests.items():
        if old_digests[rel] == digest:
            continue
        before = replaced.get(rel)
        if before is None or before.digest != old_digests[rel]:
            return None, [], False  # the version the graph was linked from is not at hand
    # As `build_graph` returned it: the cells stage adds the figures again.
    cg.graph.remove_nodes_from(figures)
    for key in figures:
        cg.concepts.pop(key, None)
    del cg.problems[linked:]
    cg._names = None
    if not relinked:
        return cg, [], False
    done = relink(cg, notes, relinked)
    if done is None:
        return None, [], False
    return cg, [], done.edges_changed
