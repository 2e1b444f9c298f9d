"""One build at a time per cache folder: a second one stops with a clear message."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class BuildLocked(RuntimeError):
    """Another kgraph process holds the lock."""


class CacheUnusable(RuntimeError):
    """The cache folder cannot be made or written (a file in its place, no permission)."""


@contextmanager
def build_lock(cache_dir: Path, holder: str = "kgraph build") -> Iterator[None]:
    """Hold an exclusive lock on `cache_dir/build.lock`; released even on kill (the OS drops it).
    `holder` names the command in the message another process gets."""
    path = cache_dir / "build.lock"
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise CacheUnusable(
            f"cannot use {cache_dir} as the cache folder: {exc.strerror or exc} "
            "(choose another with KGRAPH_CACHE_DIR)"
        ) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            found = os.pread(fd, 96, 0).decode(errors="replace").strip() or "another process"
            pid, _, command = found.partition(" ")
            raise BuildLocked(
                f"another kgraph build is running (pid {pid}{', ' + command if command else ''}) "
                f"with cache {cache_dir}; wait for it to finish, or stop it"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {holder}".encode(), 0)
        yield
    finally:
        os.close(fd)
