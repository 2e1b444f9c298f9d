"""Checked pickle files: a header with a magic, a version and a digest guards every load.

A cache file that is corrupt, truncated, or written by another kgraph version is
detected before unpickling and ignored, so a stale cache is never trusted.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

from kgraph import __version__

MAGIC = b"KGRAPH-CACHE\n"


class CacheError(Exception):
    """The file exists but cannot be trusted."""


def vault_id(vault: Path) -> str:
    """The short name a vault's cache files carry, so one cache folder serves several."""
    return hashlib.blake2b(str(vault).encode(), digest_size=8).hexdigest()


def _header(kind: str) -> bytes:
    return MAGIC + f"{kind} {__version__} {pickle.HIGHEST_PROTOCOL}\n".encode()


def write_pickle(path: Path, kind: str, value: Any) -> None:
    """Write atomically: a reader sees the old file or the new one, never half of one."""
    write_encoded(path, kind, encode(value))


def encode(value: Any) -> bytes:
    """What `write_encoded` writes: a value pickled ahead of time (off the critical path)."""
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def write_encoded(path: Path, kind: str, payload: bytes) -> None:
    """`write_pickle` for a value `encode`d before."""
    digest = hashlib.blake2b(payload, digest_size=16).hexdigest().encode() + b"\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(_header(kind))
            fh.write(digest)
            fh.write(payload)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_pickle(path: Path, kind: str) -> Any:
    """Load what `write_pickle` wrote: FileNotFoundError if absent, CacheError if untrusted."""
    data = path.read_bytes()
    header = _header(kind)
    if not data.startswith(header):
        raise CacheError(f"{path.name}: not a kgraph {kind} cache of this version")
    rest = data[len(header) :]
    digest, sep, payload = rest.partition(b"\n")
    if not sep or hashlib.blake2b(payload, digest_size=16).hexdigest().encode() != digest:
        raise CacheError(f"{path.name}: checksum mismatch (truncated or corrupt)")
    try:
        return pickle.loads(payload)
    except Exception as exc:  # a checksummed payload that still fails: treat as corrupt
        raise CacheError(f"{path.name}: cannot unpickle: {exc}") from exc
