"""The page state a command-line build leaves, written after it exits.

Pickling and writing the state of a 10,000-page site takes about 0.08 s, which a build
need not wait for: the detached process that saves the other caches writes it first.
The next build must then never read the state before that: a state older than the
published site would make it skip pages that changed since. So, before the site is
replaced, the build takes a lock beside the state file and removes the old state; the
detached process holds that lock until the new state is written. A reader that finds no
state waits while the lock is held; a writer killed before writing leaves no state, and
the next build renders every page (correct, only slower).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from pathlib import Path

from kgraph.incremental import PageState, save_state


def _lock_of(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


class PendingState:
    """The lock that says "a new page state is on its way", taken by the build."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(_lock_of(path), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            # Held only until the last build's writer has written its state, which this
            # build waited for before reading it: no wait in practice.
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:
            os.close(fd)
            raise
        self.fd = fd

    def drop_old(self) -> None:
        """Remove the state of the site about to be replaced."""
        self.path.unlink(missing_ok=True)

    def write(self, state: PageState, stamp_ns: int) -> None:
        """Write the new state, with `stamp_ns` as its mtime (known to the no-op record
        before it exists), and let readers in."""
        try:
            save_state(self.path, state)
            os.utime(self.path, ns=(stamp_ns, stamp_ns))
        finally:
            self.release()

    def release(self) -> None:
        """Let readers in (this process's copy of the lock: a forked writer holds its own)."""
        fd, self.fd = self.fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)


def await_state(path: Path, timeout: float = 60.0) -> None:
    """Return once the page state at `path` is written, or no process is writing it
    (then there is none: the build renders every page)."""
    lock = _lock_of(path)
    if path.exists() or not lock.exists():
        return
    try:
        fd = os.open(lock, os.O_RDONLY)
    except OSError:
        return
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
                return  # the writer is done (or gone)
            except BlockingIOError:
                time.sleep(0.005)
            except OSError:
                return
    finally:
        os.close(fd)
