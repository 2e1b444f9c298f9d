"""Read every note of a vault, in parallel, reusing the on-disk parse cache.

A file is re-parsed only when its bytes changed: (mtime, size) is the cheap test, and a
content digest confirms it, so a touched-but-identical file is not parsed again.
"""

from __future__ import annotations

import contextlib
import hashlib
import multiprocessing
import os
import pickle
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kgraph.cache import CacheError, encode, read_pickle, vault_id, write_encoded, write_pickle
from kgraph.gcpause import paused_gc
from kgraph.problems import Problem, problem
from kgraph.vault.files import discover
from kgraph.vault.note import Note
from kgraph.vault.parse import parse_file

# Below this many files to parse, a process pool costs more than it saves.
PARALLEL_MIN_FILES = 64
# The parse cache is split by path hash, so an edit rewrites a sixteenth of it.
BUCKETS = 16
CACHE_KIND = "parse-bucket-v4"


@dataclass(frozen=True)
class ParsedFile:
    path: str
    mtime_ns: int
    size: int
    digest: str
    notes: tuple[Note, ...]
    problems: tuple[Problem, ...]


@dataclass
class VaultData:
    """Everything read from the vault: notes in file order, all files, and what went wrong."""

    root: Path
    notes: list[Note]
    files: list[str]  # every vault file: notes and attachments
    note_files: list[str]
    problems: list[Problem]
    parsed: dict[str, ParsedFile] = field(default_factory=dict)
    reparsed: int = 0  # files parsed in this load (the rest came from the cache)
    # The cached versions of files parsed again (what signatures of the last build saw).
    replaced: dict[str, ParsedFile] = field(default_factory=dict)
    # Cache buckets left for the caller to write (`load_vault(defer_cache=True)`).
    unsaved: dict[Path, dict[str, ParsedFile]] = field(default_factory=dict)
    # Bodies parsed in this load, compiled for rendering (`load_vault(compile_bodies=True)`),
    # by (path, body line): valid for the notes of this load only.
    compiled: dict[Any, Any] = field(default_factory=dict)


def save_buckets(
    unsaved: Mapping[Path, dict[str, ParsedFile]], stamp_ns: int | None = None
) -> None:
    """Write cache buckets `load_vault` left unsaved (each atomically: a build reading
    meanwhile sees the old bucket, and only parses its changed files again).

    `stamp_ns` becomes each bucket's mtime: a caller that records the cache's state before
    a detached process has written it (`kgraph.noop`) knows what it will find."""
    for dest, bucket in unsaved.items():
        with contextlib.suppress(OSError):
            write_pickle(dest, CACHE_KIND, bucket)
            if stamp_ns is not None:
                os.utime(dest, ns=(stamp_ns, stamp_ns))


def digest_bytes(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _parse_one(root: str, rel: str, compiled: dict[Any, Any] | None = None) -> ParsedFile:
    path = os.path.join(root, rel)
    try:
        st = os.stat(path)
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        return ParsedFile(rel, 0, -1, "", (), (problem(rel, 0, "unreadable-file", str(exc)),))
    try:
        notes, problems = parse_file(data, rel, compiled)
    except Exception as exc:  # a parser bug must cost one file, not the vault
        found = problem(rel, 0, "unreadable-file", f"internal parser error: {exc!r}")
        return ParsedFile(rel, st.st_mtime_ns, st.st_size, digest_bytes(data), (), (found,))
    return ParsedFile(
        rel, st.st_mtime_ns, st.st_size, digest_bytes(data), tuple(notes), tuple(problems)
    )


def _parse_bucket(
    root: str,
    rels: Sequence[str],
    kept: dict[str, ParsedFile],
    dest: str | None,
    compile_bodies: bool = False,
    as_bytes: bool = False,
) -> tuple[list[ParsedFile] | bytes, dict[Any, Any]]:
    """Parse one cache bucket's changed files; write the whole bucket's cache if asked.
    With `compile_bodies`, also the bodies compiled for rendering (`parse_body`).

    Workers write their own buckets, so a cold load does not wait for one big cache write.
    With `as_bytes` (a worker), a bucket of new files comes back as the bytes written:
    pickled once, not once for the file and again for the way back.
    """
    compiled: dict[Any, Any] | None = {} if compile_bodies else None
    items = [_parse_one(root, rel, compiled) for rel in rels]
    if dest is not None:
        bucket = {**kept, **{item.path: item for item in items}}
        payload = encode(bucket)
        with contextlib.suppress(OSError):
            write_encoded(Path(dest), CACHE_KIND, payload)
        if as_bytes and not kept:
            return payload, compiled or {}
    return items, compiled or {}


def _pool_context() -> multiprocessing.context.BaseContext:
    # fork starts workers in milliseconds and they inherit the imported parser.
    if sys.platform == "linux":
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def bucket_of(rel: str) -> int:
    """The cache bucket of a file: a stable hash of its path."""
    return int.from_bytes(hashlib.blake2b(rel.encode(), digest_size=2).digest(), "big") % BUCKETS


def parse_buckets(
    root: Path,
    work: dict[int, tuple[list[str], dict[str, ParsedFile]]],
    jobs: int,
    folder: Path | None,
    compiled: dict[Any, Any] | None = None,
) -> list[ParsedFile]:
    """Parse each bucket's files (in `jobs` processes when there are many); with a cache
    folder, each bucket's cache file is rewritten with its kept and new entries. Bodies
    compiled for rendering are added to `compiled` when it is given."""
    tasks = [
        (
            str(root),
            rels,
            kept,
            str(folder / f"{b:02d}.pickle") if folder else None,
            compiled is not None,
        )
        for b, (rels, kept) in sorted(work.items())
    ]
    total = sum(len(rels) for rels, _ in work.values())
    parts: Iterable[tuple[list[ParsedFile] | bytes, dict[Any, Any]]]
    out: list[ParsedFile] = []
    with contextlib.ExitStack() as stack:
        if jobs <= 1 or total < PARALLEL_MIN_FILES:
            parts = (_parse_bucket(*task) for task in tasks)
        else:
            stack.enter_context(paused_gc())
            ctx = _pool_context()
            pool = stack.enter_context(ProcessPoolExecutor(max_workers=jobs, mp_context=ctx))
            as_bytes = [True] * len(tasks)
            parts = pool.map(_parse_bucket, *zip(*tasks, strict=True), as_bytes)
        for items, found in parts:
            out.extend(pickle.loads(items).values() if isinstance(items, bytes) else items)
            if compiled is not None:
                compiled.update(found)
    return out


def parse_files(root: Path, rels: Sequence[str], jobs: int) -> list[ParsedFile]:
    """Parse files with up to `jobs` processes (no cache), results in the order of `rels`."""
    work: dict[int, tuple[list[str], dict[str, ParsedFile]]] = {}
    for rel in rels:
        work.setdefault(bucket_of(rel), ([], {}))[0].append(rel)
    by_path = {item.path: item for item in parse_buckets(root, work, jobs, None)}
    return [by_path[rel] for rel in rels]


def _cache_folder(cache_dir: Path, root: Path) -> Path:
    return cache_dir / f"parse-{vault_id(root)}"


def _read_cache(folder: Path) -> tuple[dict[str, ParsedFile], list[Problem]]:
    found: dict[str, ParsedFile] = {}
    bad: list[tuple[str, str, str]] = []  # (bucket file, message, why alone)
    for b in range(BUCKETS):
        path = folder / f"{b:02d}.pickle"
        try:
            value = read_pickle(path, CACHE_KIND)
        except FileNotFoundError:
            continue
        except (CacheError, OSError) as exc:
            bad.append((path.name, f"ignored and rebuilt: {exc}", str(exc)))
            continue
        if not isinstance(value, dict):
            bad.append((path.name, "ignored: wrong shape", f"{path.name}: wrong shape"))
            continue
        found.update(value)
    if len(bad) > 1:
        # Every bucket at once (a cache from another kgraph version): one warning, not 16.
        message = f"{len(bad)} parse cache files ignored and rebuilt; the first: {bad[0][2]}"
        return found, [problem(folder.name, 0, "cache-corrupt", message)]
    return found, [problem(name, 0, "cache-corrupt", message) for name, message, _ in bad]


def save_parse_cache(cache_dir: Path, root: Path, parsed: dict[str, ParsedFile]) -> None:
    """Write the parse cache of a vault (what `load_vault` writes when it may)."""
    folder = _cache_folder(cache_dir, root.resolve())
    buckets: dict[int, dict[str, ParsedFile]] = {b: {} for b in range(BUCKETS)}
    for rel, item in parsed.items():
        buckets[bucket_of(rel)][rel] = item
    for b, bucket in buckets.items():
        write_pickle(folder / f"{b:02d}.pickle", CACHE_KIND, bucket)


def load_vault(
    root: Path,
    *,
    ignore: Iterable[str] = (),
    cache_dir: Path | None = None,
    jobs: int | None = None,
    exclude_dirs: Sequence[Path] = (),
    previous: dict[str, ParsedFile] | None = None,
    progress: Callable[[int, int], None] | None = None,
    write_cache: bool = True,
    defer_cache: bool = False,
    compile_bodies: bool = False,
) -> VaultData:
    """Discover, decode, split and parse the vault; unchanged files come from the cache.

    `write_cache=False` leaves the cache file as it is (a long-running server keeps the
    parsed files in memory, as `previous`, and saves them with `save_parse_cache`).
    `defer_cache=True` returns the few buckets an edit changed in `unsaved` instead of
    writing them (the command line writes them after the build, off its critical path).
    `compile_bodies=True` keeps what the fast renderer needs of the bodies it parses
    (`compiled`), so a build renders them without reading them again.
    """
    root = root.resolve()
    found = discover(root, tuple(ignore), exclude_dirs=tuple(exclude_dirs))
    problems: list[Problem] = list(found.problems)
    folder = _cache_folder(cache_dir, root) if cache_dir else None
    known: dict[str, ParsedFile] = dict(previous or {})
    if not known and folder is not None:
        with paused_gc():  # a few hundred thousand objects, no cycles: 0.4 s at 10k notes
            known, cache_problems = _read_cache(folder)
        problems.extend(cache_problems)

    parsed: dict[str, ParsedFile] = {}
    todo: list[str] = []
    touched: set[str] = set()  # reused, but with a new mtime to remember
    base = str(root)
    for rel in found.notes:
        old = known.get(rel)
        if old is not None:
            try:
                st = os.stat(os.path.join(base, rel))  # a string: 10,000 Paths cost 0.1 s
            except OSError:
                st = None
            if st is not None and st.st_mtime_ns == old.mtime_ns and st.st_size == old.size:
                parsed[rel] = old
                continue
            if st is not None and st.st_size == old.size:
                # Same size, new mtime: compare content before paying for a parse.
                try:
                    data = (root / rel).read_bytes()
                except OSError:
                    data = b""
                if digest_bytes(data) == old.digest:
                    parsed[rel] = ParsedFile(
                        rel, st.st_mtime_ns, old.size, old.digest, old.notes, old.problems
                    )
                    touched.add(rel)
                    continue
        todo.append(rel)

    # Buckets whose cache must be rewritten: new, changed, touched or removed files.
    dirty = {bucket_of(rel) for rel in (*todo, *touched, *(set(known) - set(found.notes)))}
    work: dict[int, tuple[list[str], dict[str, ParsedFile]]] = {b: ([], {}) for b in dirty}
    for rel in todo:
        work[bucket_of(rel)][0].append(rel)
    for rel, item in parsed.items():
        b = bucket_of(rel)
        if b in work:
            work[b][1][rel] = item
    if progress:
        progress(len(parsed), len(found.notes))
    write_to = folder if folder is not None and write_cache else None
    unsaved: dict[Path, dict[str, ParsedFile]] = {}
    if write_to is not None and defer_cache and len(todo) < PARALLEL_MIN_FILES:
        unsaved = {write_to / f"{b:02d}.pickle": dict(kept) for b, (_, kept) in work.items()}
        write_to = None
    compiled: dict[Any, Any] | None = {} if compile_bodies else None
    for item in parse_buckets(root, work, jobs or os.cpu_count() or 1, write_to, compiled):
        parsed[item.path] = item
    for b, (rels, _) in work.items():
        bucket = unsaved.get(folder / f"{b:02d}.pickle") if folder is not None else None
        if bucket is not None:
            bucket.update((rel, parsed[rel]) for rel in rels)
    if progress:
        progress(len(found.notes), len(found.notes))

    notes: list[Note] = []
    for rel in found.notes:
        item = parsed[rel]
        notes.extend(item.notes)
        problems.extend(item.problems)
    return VaultData(
        root=root,
        notes=notes,
        files=sorted({*found.notes, *found.attachments}),
        note_files=list(found.notes),
        problems=problems,
        parsed=parsed,
        reparsed=len(todo),
        replaced={rel: known[rel] for rel in todo if rel in known},
        unsaved=unsaved,
        compiled=compiled or {},
    )
