"""Compiled note bodies kept between command-line builds, in one SQLite file per vault.

An edit renders again the pages around it: a new link changes its neighbours' local
graphs, a renamed title every page linking it. Their bodies did not change, yet each was
compiled again from its Markdown (two thirds of such a page's render time). This store
keeps each body's `fastrender.Template`, keyed by a digest of the body text, its first
line and the compiler (`compiler_id`): a template is a function of exactly those, so a
stored one is the one compiling again would give, and any other body misses.

Builds read it (a few indexed lookups) before rendering; the detached writer adds the
templates of the bodies the build read and, when the store holds many more bodies than
the vault, drops those no note has. Anything wrong with the file (missing, locked,
damaged) only means compiling again: the store is never needed for a correct page.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import sqlite3
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from kgraph import __version__
from kgraph.cache import vault_id
from kgraph.vault.fastrender import Template
from kgraph.vault.note import Note

# Part of every key: a change to what `compile_body` writes must come with a new one.
FORMAT = 1
_CHUNK = 500  # keys per query, under SQLite's limit on bound parameters
_SCHEMA = "CREATE TABLE IF NOT EXISTS bodies (key BLOB PRIMARY KEY, template BLOB NOT NULL)"

Where = tuple[str, int]  # (note path, body line): how a build names a compiled body


def store_file(cache_dir: Path, vault: Path) -> Path:
    return cache_dir / f"bodies-{vault_id(vault)}.sqlite"


@lru_cache(maxsize=1)
def compiler_id() -> bytes:
    """The compiler's identity: kgraph's version and the source of the modules that
    compile a body (a checkout being worked on keeps its version), and the versions of
    the libraries whose output a body holds (Pygments' highlighting above all)."""
    import markdown_it
    import pygments

    import kgraph.vault

    h = hashlib.blake2b(
        f"{FORMAT}\0{__version__}\0{pygments.__version__}\0{markdown_it.__version__}".encode(),
        digest_size=16,
    )
    root = Path(kgraph.vault.__file__).parent
    for source in sorted([*root.glob("*.py"), *root.glob("syntax/*.py")]):
        h.update(source.relative_to(root).as_posix().encode() + b"\0")
        with contextlib.suppress(OSError):
            h.update(source.read_bytes())
    return h.digest()


def body_key(body: str, body_line: int) -> bytes:
    """What decides a body's template: its text, its first line and the compiler."""
    h = hashlib.blake2b(compiler_id(), digest_size=16)
    h.update(f"{body_line}\0".encode())
    h.update(body.encode("utf-8", "surrogatepass"))
    return h.digest()


def fetch(path: Path, notes: Iterable[Note]) -> dict[Where, Template]:
    """The stored templates of these notes' bodies, by (path, body line)."""
    wanted: dict[bytes, list[Where]] = {}
    for note in notes:
        wanted.setdefault(body_key(note.body, note.body_line), []).append(
            (note.path, note.body_line)
        )
    if not wanted or not path.is_file():
        return {}
    found: dict[Where, Template] = {}
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=0.5)
    except (sqlite3.Error, OSError, ValueError):
        return {}
    try:
        keys = list(wanted)
        for at in range(0, len(keys), _CHUNK):
            chunk = keys[at : at + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = db.execute(f"SELECT key, template FROM bodies WHERE key IN ({marks})", chunk)
            for key, blob in rows:
                template = _loaded(blob)
                if template is not None:
                    for where in wanted[key]:
                        found[where] = template
    except sqlite3.Error:
        return found  # locked or damaged: what was read is right, the rest compiles
    finally:
        db.close()
    return found


def _loaded(blob: bytes) -> Template | None:
    try:
        packed, calls = pickle.loads(blob)
    except Exception:  # a damaged row: that body is compiled again
        return None
    if not isinstance(packed, bytes) or not isinstance(calls, tuple):
        return None
    return Template(packed, calls)


def save(path: Path, compiled: Mapping[Where, Any], notes: Iterable[Note]) -> None:
    """Add the templates in `compiled` (a build's, by (path, body line)) of these notes;
    drop the bodies no note has once the store holds over twice as many as the vault."""
    notes = list(notes)
    rows = []
    for note in notes:
        template = compiled.get((note.path, note.body_line))
        if isinstance(template, Template):
            blob = pickle.dumps((template.packed, template.calls), pickle.HIGHEST_PROTOCOL)
            rows.append((body_key(note.body, note.body_line), blob))
    try:
        _save_rows(path, rows, notes)
    except sqlite3.DatabaseError:
        # Not a database, or a damaged one: start it again.
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(OSError):
                os.unlink(f"{path}{suffix}")
        with contextlib.suppress(sqlite3.Error):
            _save_rows(path, rows, notes)


def _save_rows(path: Path, rows: list[tuple[bytes, bytes]], notes: list[Note]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=10)
    try:
        # Readers (the next build) never wait for this writer, nor it for them.
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(_SCHEMA)
        with db:
            db.executemany("INSERT OR REPLACE INTO bodies VALUES (?, ?)", rows)
        (count,) = db.execute("SELECT count(*) FROM bodies").fetchone()
        if count > 2 * len(notes) + 1000:
            keep = {body_key(n.body, n.body_line) for n in notes}
            stale = [(k,) for (k,) in db.execute("SELECT key FROM bodies") if k not in keep]
            with db:
                db.executemany("DELETE FROM bodies WHERE key = ?", stale)
    finally:
        db.close()
