"""The code that runs inside a worker process: one note's cells at a time, in one namespace.

Cells are trusted code: they run with the rights of the user who builds the site, with
the vault root as working directory and first on `sys.path`. Nothing here is a sandbox;
the worker only protects the build from crashes, hangs, runaway memory and output.
Workers are daemon processes, so a cell cannot start processes with `multiprocessing`.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import sys
import time
import traceback
import warnings
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

STDOUT_LIMIT = 64 * 1024  # characters of stdout+stderr kept per cell
MAX_SVG = 32 * 2**20  # characters of SVG per figure; more would swamp the pipe and the page
ERROR_FRAMES = 40  # deepest frames kept in a traceback (a RecursionError has thousands)
SEED = 0  # every note starts from the same random state, whichever worker runs it


class BoundedText(io.TextIOBase):
    """A text stream that keeps the first `limit` characters and counts the rest."""

    def __init__(self, limit: int = STDOUT_LIMIT) -> None:
        self.limit = limit
        self.parts: list[str] = []
        self.kept = 0
        self.dropped = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        text = str(text)
        room = self.limit - self.kept
        if room > 0:
            piece = text[:room]
            self.parts.append(piece)
            self.kept += len(piece)
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def getvalue(self) -> str:
        text = "".join(self.parts)
        if self.dropped:
            text += f"\n… truncated ({self.dropped} more characters)\n"
        return text


class NoteSession:
    """The state of the note being run: its namespace and where each cell's lines come from."""

    def __init__(self, vault: str, path: str, params: dict[str, Any]) -> None:
        self.vault = os.path.realpath(vault)
        self.path = path
        self.namespace: dict[str, Any] = {"__name__": "__main__", "params": params}
        # compiled filename -> (first source line - 1, the cell's code lines)
        self.sources: dict[str, tuple[int, list[str]]] = {}

    def run(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Run one cell; report status, bounded output, a trimmed traceback and the figures."""
        from kgraph.execute.capture import capture_open_figures

        filename = f"<cell:{self.path}:{spec['index']}>"
        self.sources[filename] = (int(spec["offset"]), str(spec["code"]).splitlines())
        out = BoundedText()
        saved = sys.stdout, sys.stderr
        started = time.perf_counter()
        status, error, figures = "ok", None, []
        sys.stdout = sys.stderr = out
        try:
            code = compile(spec["code"], filename, "exec", dont_inherit=True)
            exec(code, self.namespace)
            figures = capture_open_figures()
            for n, (svg, _data) in enumerate(figures, start=1):
                if len(svg) > MAX_SVG:
                    figures = []
                    size = len(svg) / 2**20
                    hint = "plot fewer points or pass rasterized=True"
                    raise OverflowError(f"figure {n} is {size:.0f} MB of SVG: {hint}")
        except BaseException as exc:  # SystemExit and KeyboardInterrupt are cell errors too
            status, error = "error", self.format_error(exc)
        finally:
            sys.stdout, sys.stderr = saved
        if status != "ok":
            import matplotlib.pyplot as plt

            plt.close("all")
        return {
            "status": status,
            "stdout": out.getvalue(),
            "error": error,
            "figures": figures,
            "seconds": time.perf_counter() - started,
        }

    def _where(self, filename: str, lineno: int | None) -> tuple[str, int, str] | None:
        """Map a frame to (vault file, line, source text), or None if it is not vault code."""
        if filename in self.sources:
            offset, lines = self.sources[filename]
            number = lineno or 0
            text = lines[number - 1].strip() if 0 < number <= len(lines) else ""
            return self.path, offset + number, text
        real = os.path.realpath(filename) if filename and not filename.startswith("<") else ""
        if real.startswith(self.vault + os.sep):
            import linecache

            text = linecache.getline(real, lineno or 0).strip()
            return Path(real).relative_to(self.vault).as_posix(), lineno or 0, text
        return None

    def format_error(self, exc: BaseException) -> str:
        """A traceback with only the note's own cells and vault modules, at note file:line."""
        lines = ["Traceback (most recent call last):"]
        frames = []
        for frame in traceback.extract_tb(exc.__traceback__):
            where = self._where(frame.filename, frame.lineno)
            if where is not None:
                frames.append((where, frame.name))
        if len(frames) > ERROR_FRAMES:
            lines.append(f"  … {len(frames) - ERROR_FRAMES} frames omitted")
            frames = frames[-ERROR_FRAMES:]
        for (file, line, text), name in frames:
            lines.append(f'  File "{file}", line {line}, in {name}')
            if text:
                lines.append(f"    {text}")
        if isinstance(exc, SyntaxError) and exc.filename:
            where = self._where(exc.filename, exc.lineno)
            if where is not None:
                file, line, text = where
                detail = f"{type(exc).__name__}: {exc.msg}"
                return f'  File "{file}", line {line}\n    {text}\n{detail}'
        lines.extend(s.rstrip("\n") for s in traceback.format_exception_only(exc))
        return "\n".join(lines)


def purge_vault_modules(vault: str) -> None:
    """Forget modules loaded from the vault so the next note re-imports them fresh."""
    import importlib

    root = os.path.realpath(vault) + os.sep
    for name, module in list(sys.modules.items()):
        places = [getattr(module, "__file__", None) or ""]
        places.extend(getattr(module, "__path__", None) or [])
        if any(str(p) and os.path.realpath(str(p)).startswith(root) for p in places):
            del sys.modules[name]
    importlib.invalidate_caches()


def _reset(vault: str, base_path: list[str]) -> None:
    import random

    import numpy as np

    from kgraph.execute.capture import apply_style

    purge_vault_modules(vault)
    sys.path[:] = [os.path.realpath(vault), *base_path]
    # a missing vault shows up as the cells' own errors
    with contextlib.suppress(OSError):
        os.chdir(vault)
    apply_style()
    random.seed(SEED)
    np.random.seed(SEED)


def _limit_memory(memory_mb: int) -> None:
    """Cap the address space: at least `memory_mb`, and never below what imports already use."""
    import resource

    try:
        with open("/proc/self/statm") as handle:
            used = int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        used = 0
    limit = max(memory_mb * 2**20, used + 512 * 2**20)
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def worker_main(conn: Connection, memory_mb: int) -> None:
    """Entry point of a worker process: import the heavy libraries once, then serve requests."""
    # Ctrl-C is for the build, which stops its workers itself
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    # output a cell writes straight to file descriptors must not reach the build's terminal
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    sys.dont_write_bytecode = True  # vault edits within one second must still be seen
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot
    import numpy  # noqa: F401

    from kgraph.execute import capture  # noqa: F401

    # plt.show() is how notebooks end a plot; under Agg it only warns, and the figure is kept
    warnings.filterwarnings("ignore", message=".*non-interactive.*cannot be shown")
    if memory_mb > 0:
        _limit_memory(memory_mb)
    base_path = [p for p in sys.path if p]
    session: NoteSession | None = None
    conn.send(("ready", os.getpid()))
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        kind = message[0]
        if kind == "begin":
            spec = message[1]
            _reset(spec["vault"], base_path)
            session = NoteSession(spec["vault"], spec["path"], spec["params"])
        elif kind == "run" and session is not None:
            conn.send(("result", session.run(message[1])))
        elif kind == "end" and session is not None:
            purge_vault_modules(session.vault)
            session = None
        elif kind == "stop":
            return
