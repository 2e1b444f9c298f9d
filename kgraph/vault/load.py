"""Read every note of a vault, in parallel, reusing the on-disk parse cache.

A file is re-parsed only when its bytes changed: (mtime, size) is the cheap test, and a
content digest confirms it, so a touched-but-identical file is not parsed again.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from kgraph.cache import CacheError, read_pickle, write_pickle
from kgraph.problems import Problem, problem
from kgraph.vault.files import discover
from kgraph.vault.note import Note
from kgraph.vault.parse import parse_file

# Below this many files to parse, a process pool costs more than it saves.
PARALLEL_MIN_FILES = 64
CACHE_KIND = "parse"


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


def digest_bytes(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _parse_one(root: str, rel: str) -> ParsedFile:
    path = os.path.join(root, rel)
    try:
        st = os.stat(path)
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        return ParsedFile(rel, 0, -1, "", (), (problem(rel, 0, "unreadable-file", str(exc)),))
    try:
        notes, problems = parse_file(data, rel)
    except Exception as exc:  # a parser bug must cost one file, not the vault
        found = problem(rel, 0, "unreadable-file", f"internal parser error: {exc!r}")
        return ParsedFile(rel, st.st_mtime_ns, st.st_size, digest_bytes(data), (), (found,))
    return ParsedFile(
        rel, st.st_mtime_ns, st.st_size, digest_bytes(data), tuple(notes), tuple(problems)
    )


def _parse_chunk(root: str, rels: Sequence[str]) -> list[ParsedFile]:
    return [_parse_one(root, rel) for rel in rels]


def _pool_context() -> multiprocessing.context.BaseContext:
    # fork starts workers in milliseconds and they inherit the imported parser.
    if sys.platform == "linux":
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def parse_files(root: Path, rels: Sequence[str], jobs: int) -> list[ParsedFile]:
    """Parse files with up to `jobs` processes, results in the order of `rels`."""
    if jobs <= 1 or len(rels) < PARALLEL_MIN_FILES:
        return _parse_chunk(str(root), rels)
    # Many small chunks balance uneven note sizes across workers.
    size = max(16, len(rels) // (jobs * 8))
    chunks = [rels[i : i + size] for i in range(0, len(rels), size)]
    out: list[ParsedFile] = []
    with ProcessPoolExecutor(max_workers=jobs, mp_context=_pool_context()) as pool:
        for part in pool.map(_parse_chunk, [str(root)] * len(chunks), chunks):
            out.extend(part)
    return out


def _cache_file(cache_dir: Path, root: Path) -> Path:
    vault_id = hashlib.blake2b(str(root).encode(), digest_size=8).hexdigest()
    return cache_dir / f"parse-{vault_id}.pickle"


def _read_cache(path: Path) -> tuple[dict[str, ParsedFile], list[Problem]]:
    try:
        value = read_pickle(path, CACHE_KIND)
    except FileNotFoundError:
        return {}, []
    except (CacheError, OSError) as exc:
        return {}, [problem(path.name, 0, "cache-corrupt", f"ignored and rebuilt: {exc}")]
    if not isinstance(value, dict):
        return {}, [problem(path.name, 0, "cache-corrupt", "ignored and rebuilt: wrong shape")]
    return value, []


def save_parse_cache(cache_dir: Path, root: Path, parsed: dict[str, ParsedFile]) -> None:
    """Write the parse cache of a vault (what `load_vault` writes when it may)."""
    write_pickle(_cache_file(cache_dir, root.resolve()), CACHE_KIND, parsed)


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
) -> VaultData:
    """Discover, decode, split and parse the vault; unchanged files come from the cache.

    `write_cache=False` leaves the cache file as it is (a long-running server keeps the
    parsed files in memory, as `previous`, and saves them with `save_parse_cache`).
    """
    root = root.resolve()
    found = discover(root, tuple(ignore), exclude_dirs=tuple(exclude_dirs))
    problems: list[Problem] = list(found.problems)
    cache_path = _cache_file(cache_dir, root) if cache_dir else None
    known: dict[str, ParsedFile] = dict(previous or {})
    if not known and cache_path is not None:
        known, cache_problems = _read_cache(cache_path)
        problems.extend(cache_problems)

    parsed: dict[str, ParsedFile] = {}
    todo: list[str] = []
    for rel in found.notes:
        old = known.get(rel)
        if old is not None:
            try:
                st = os.stat(root / rel)
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
                    continue
        todo.append(rel)

    if progress:
        progress(len(parsed), len(found.notes))
    for item in parse_files(root, todo, jobs or os.cpu_count() or 1):
        parsed[item.path] = item
    if progress:
        progress(len(found.notes), len(found.notes))

    notes: list[Note] = []
    for rel in found.notes:
        item = parsed[rel]
        notes.extend(item.notes)
        problems.extend(item.problems)

    changed = bool(todo) or set(known) != set(parsed)
    if cache_path is not None and changed and write_cache:
        try:
            write_pickle(cache_path, CACHE_KIND, parsed)
        except OSError as exc:
            problems.append(problem(cache_path.name, 0, "cache-corrupt", f"cannot write: {exc}"))
    return VaultData(
        root=root,
        notes=notes,
        files=sorted({*found.notes, *found.attachments}),
        note_files=list(found.notes),
        problems=problems,
        parsed=parsed,
        reparsed=len(todo),
    )
