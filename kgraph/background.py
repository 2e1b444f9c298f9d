"""Work whose result nobody waits for (deleting an old site, saving a query snapshot).

A command line build prints its summary and exits as soon as the site is in place; such
work then finishes in a detached process instead of holding the user up.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

# True in the detached process `detached` starts.
_in_detached = False


def detached(fn: Callable[..., Any], *args: Any, keep_fd: int | None = None) -> None:
    """Run `fn(*args)` in a detached grandchild process (Linux), else right here.

    `keep_fd` stays open in that process (a lock it must go on holding); every other
    inherited descriptor is closed."""
    if sys.platform != "linux" or os.environ.get("KGRAPH_NO_BACKGROUND"):
        fn(*args)
        return
    try:
        child = os.fork()
    except OSError:
        fn(*args)
        return
    if child:
        os.waitpid(child, 0)  # the middle process exits at once: no zombie is left
        return
    # The middle process: fork the worker and leave, so init adopts it.
    try:
        if os.fork() == 0:
            try:
                global _in_detached
                _in_detached = True
                _detach(keep_fd)
                # The process is short-lived and what it allocates (stripped copies,
                # pickles) holds no cycles: a collection would only rescan, and so copy,
                # the parent's whole heap.
                gc.disable()
                fn(*args)
            finally:
                os._exit(0)
    finally:
        os._exit(0)


def yielding(fn: Callable[..., Any], *args: Any) -> None:
    """Call `fn(*args)`; in a detached process, at the lowest CPU priority from now on:
    work that only saves time later (the query snapshot) then takes what the next build
    leaves of the cores instead of competing with it (Linux nice 19)."""
    if _in_detached:
        with contextlib.suppress(OSError):
            os.nice(19)
    fn(*args)


def remove_later(tree: Path) -> None:
    """Delete a folder tree in a detached `rm` (Linux), else right here.

    Unlike `detached`, nothing is forked: spawning a shell costs a few milliseconds
    however much memory this process holds, where forking a build that holds a
    10,000-note vault costs 40-60 ms."""
    if sys.platform != "linux" or os.environ.get("KGRAPH_NO_BACKGROUND"):
        shutil.rmtree(tree, ignore_errors=True)
        return
    script = 'rm -rf -- "$1" </dev/null >/dev/null 2>&1 &'  # the shell leaves at once
    try:
        subprocess.run(["sh", "-c", script, "sh", str(tree)], check=False, start_new_session=True)
    except OSError:
        shutil.rmtree(tree, ignore_errors=True)


def each(calls: Sequence[tuple[Callable[..., Any], tuple[Any, ...]]]) -> None:
    """Make every call (for `detached(each, calls)`); one failing does not stop the rest."""
    for fn, args in calls:
        try:
            fn(*args)
        except Exception:  # nobody is left to tell: the next build redoes what matters
            continue


def each_holding(lock: Path, calls: Sequence[tuple[Callable[..., Any], tuple[Any, ...]]]) -> None:
    """`each(calls)` while holding a lock on the file `lock`, so that `busy(lock)` tells
    another process the calls are still being made (the OS drops the lock on exit)."""
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        each(calls)
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        each(calls)
    finally:
        os.close(fd)


def busy(lock: Path) -> bool:
    """Whether a process holds `lock` (see `each_holding`)."""
    try:
        fd = os.open(lock, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)
    return False


def _detach(keep: int | None = None) -> None:
    """Own session; no inherited descriptors but `keep`: a caller reading our output must
    not wait for this process, and the build lock must not outlive the build."""
    os.setsid()
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    if keep is not None and keep > 2:
        os.closerange(3, keep)
        os.closerange(keep + 1, _max_fd())
    else:
        os.closerange(3, _max_fd())


def _max_fd() -> int:
    try:
        return min(os.sysconf("SC_OPEN_MAX"), 1 << 16)
    except (ValueError, OSError):
        return 1 << 12
