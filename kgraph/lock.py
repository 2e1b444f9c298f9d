"""One build at a time per cache folder: a second one stops with a clear message."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class BuildLocked(RuntimeError):
    """Another kgraph process holds the lock."""


@contextmanager
def build_lock(cache_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on `cache_dir/build.lock`; released even on kill (the OS drops it)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / "build.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "another process"
            raise BuildLocked(
                f"another kgraph build is running (pid {holder}) with cache {cache_dir}; "
                "wait for it to finish"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)
