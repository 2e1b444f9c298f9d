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


def each(calls: Sequence[tuple[Callable[..., Any], tuple[Any, ...]]], failures: Path) -> None:
    """Make every call (for `detached(each, calls)`); one failing does not stop the rest.
    Nobody is left to tell of a failure but the next build, which redoes what matters:
    each is appended to `failures` for it to report (`record_failure`)."""
    for fn, args in calls:
        try:
            fn(*args)
        except Exception as exc:
            record_failure(failures, _label(fn, args), exc)


def _label(fn: Callable[..., Any], args: tuple[Any, ...]) -> str:
    name = getattr(fn, "__qualname__", repr(fn))
    if fn is yielding and args and callable(args[0]):  # name the work, not the wrapper
        name = getattr(args[0], "__qualname__", name)
    return str(name)


def record_failure(failures: Path, what: str, exc: BaseException) -> None:
    """Append one line naming `what` failed and why (best effort: a full disk loses it)."""
    reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
    with contextlib.suppress(OSError), failures.open("a", encoding="utf-8") as out:
        out.write(f"{what}: {reason}\n")


def take_failures(failures: Path) -> list[str]:
    """The failures recorded in `failures` since they were last taken; the file goes."""
    try:
        text = failures.read_text(encoding="utf-8", errors="replace")
        failures.unlink()
    except OSError:
        return []
    return [line for line in text.splitlines() if line.strip()]


def each_holding(
    lock: Path,
    calls: Sequence[tuple[Callable[..., Any], tuple[Any, ...]]],
    failures: Path,
) -> None:
    """`each(calls)` while holding a lock on the file `lock`, so that `busy(lock)` tells
    another process the calls are still being made (the OS drops the lock on exit)."""
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        each(calls, failures)
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        each(calls, failures)
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
