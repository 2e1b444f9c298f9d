"""The worker pool: runs notes' cells in separate processes, with timeouts and crash recovery.

Each note runs on one worker, cell after cell. A worker that crashes, runs out of memory
or passes a cell's timeout is killed and replaced; only that note is affected: the
failing cell gets status error/timeout and the note's later cells are "skipped" with
error "not run: cell N failed" (their namespace would be incomplete).

Workers use the "spawn" start method, so a script that calls `run_cells` must guard
its entry point with `if __name__ == "__main__":`, as multiprocessing requires.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from kgraph.execute.assemble import NoteOutcome, failed_note, finish_note
from kgraph.execute.cache import CellCache
from kgraph.execute.keys import ModuleFinder, runtime_versions
from kgraph.execute.plan import NotePlan, plan_note
from kgraph.execute.results import CellResult, ExecutionReport, NoteCells
from kgraph.execute.worker import worker_main
from kgraph.problems import Problem

STARTUP_TIMEOUT = 120.0  # seconds a new worker may take to import numpy and matplotlib


@dataclass(frozen=True)
class RunOutcome:
    """What the worker said about one cell (or what the pool saw happen to it)."""

    status: str  # ok | error | timeout
    stdout: str = ""
    error: str | None = None
    figures: tuple[tuple[str, dict[str, Any]], ...] = ()
    seconds: float = 0.0


class _Worker:
    """One worker process and the parent's end of its pipe."""

    def __init__(self, ctx: Any, memory_mb: int) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=worker_main, args=(child, memory_mb), daemon=True)
        self.process.start()
        child.close()
        self.ready = False

    def wait_ready(self) -> bool:
        if not self.ready:
            reply = self._receive(STARTUP_TIMEOUT)
            self.ready = isinstance(reply, tuple) and reply[0] == "ready"
        return self.ready

    def _receive(self, timeout: float) -> Any:
        conn: Connection = self.conn
        try:
            if not conn.poll(timeout):
                return "timeout"
            return conn.recv()
        except (EOFError, OSError):
            return "died"

    def send(self, message: tuple[Any, ...]) -> bool:
        try:
            self.conn.send(message)
            return True
        except (OSError, ValueError):
            return False

    def run(self, spec: dict[str, Any], timeout: float) -> RunOutcome:
        if not self.send(("run", spec)):
            return self._died()
        reply = self._receive(timeout)
        if reply == "timeout":
            self.kill()
            return RunOutcome(
                "timeout", error=f"TimeoutError: cell did not finish in {timeout:g} s"
            )
        if not (isinstance(reply, tuple) and reply[0] == "result"):
            return self._died()
        data = reply[1]
        return RunOutcome(
            status=data["status"],
            stdout=data["stdout"],
            error=data["error"],
            figures=tuple(data["figures"]),
            seconds=float(data["seconds"]),
        )

    def _died(self) -> RunOutcome:
        self.process.join(5)
        code = self.process.exitcode
        self.kill()
        how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        return RunOutcome(
            "error",
            error=f"WorkerDied: the cell process ended ({how}): crash, os._exit or out of memory",
        )

    def alive(self) -> bool:
        return self.process.is_alive()

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self.conn.close()

    def stop(self) -> None:
        self.send(("stop",))
        self.process.join(2)
        self.kill()


class CellPool:
    """Worker processes kept alive between builds; they start lazily, when a cell must run."""

    def __init__(self, jobs: int | None = None, *, memory_mb: int = 2048) -> None:
        self.jobs = max(1, jobs or os.cpu_count() or 1)
        self.memory_mb = memory_mb
        self._ctx = multiprocessing.get_context("spawn")
        self._idle: list[_Worker] = []
        self._count = 0
        self._cond = threading.Condition()
        self.started = 0  # worker processes started so far (replacements included)

    def __enter__(self) -> CellPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def warm(self) -> None:
        """Start every worker now, so that a long-running server's first build pays no start-up."""
        with self._cond:
            missing = self.jobs - self._count
            self._count += missing
            self.started += missing
        for _ in range(missing):
            worker = _Worker(self._ctx, self.memory_mb)
            with self._cond:
                self._idle.append(worker)
                self._cond.notify()

    def _acquire(self) -> _Worker:
        with self._cond:
            while not self._idle and self._count >= self.jobs:
                self._cond.wait()
            if self._idle:
                return self._idle.pop()
            self._count += 1
            self.started += 1
        try:
            return _Worker(self._ctx, self.memory_mb)
        except BaseException:
            with self._cond:
                self._count -= 1
                self._cond.notify()
            raise

    def _release(self, worker: _Worker) -> None:
        with self._cond:
            if worker.alive():
                self._idle.append(worker)
            else:
                worker.kill()
                self._count -= 1
            self._cond.notify()

    def close(self) -> None:
        """Stop every idle worker (call when no run is in progress)."""
        with self._cond:
            idle, self._idle = self._idle, []
            self._count -= len(idle)
        for worker in idle:
            worker.stop()

    def run_note(self, plan: NotePlan, vault: Path, timeout: float) -> list[RunOutcome | None]:
        """Run a note's eval cells in order on one worker; None marks cells not run."""
        outcomes: list[RunOutcome | None] = [None] * len(plan.cells)
        worker = self._acquire()
        try:
            if not worker.wait_ready():
                worker.kill()
                failed = RunOutcome("error", error="WorkerDied: the worker process did not start")
                for i, cell in enumerate(plan.cells):
                    if cell.options.eval:
                        outcomes[i] = failed
                        break
                return outcomes
            begin = {"vault": str(vault), "path": plan.note.path, "params": plan.note.params}
            worker.send(("begin", begin))
            for i, cell in enumerate(plan.cells):
                if not cell.options.eval:
                    continue
                spec = {
                    "index": cell.cell.index,
                    "code": cell.cell.code,
                    "offset": cell.source_offset,
                }
                outcome = worker.run(spec, cell.options.timeout or timeout)
                outcomes[i] = outcome
                if outcome.status != "ok":
                    break
            if worker.alive():
                worker.send(("end",))
        finally:
            self._release(worker)
        return outcomes

    def run(
        self,
        notes: Sequence[NoteCells],
        *,
        vault: Path,
        cache_dir: Path,
        execute: bool = True,
        timeout: float = 120.0,
    ) -> ExecutionReport:
        """Run (or fetch from the cache) every note's cells; see `run_cells`."""
        vault = Path(vault).resolve()
        cache = CellCache(cache_dir)
        finder = ModuleFinder(vault)
        versions = runtime_versions()
        plans = [plan_note(note, vault, finder, versions) for note in notes]

        def handle(plan: NotePlan) -> NoteOutcome:
            try:
                return finish_note(
                    plan, cache, execute, lambda: self.run_note(plan, vault, timeout)
                )
            except Exception as exc:  # one note's trouble must not stop the others
                return failed_note(plan, f"{type(exc).__name__}: {exc}")

        workers = max(1, min(self.jobs, len(plans)))
        with ThreadPoolExecutor(max_workers=workers) as threads:
            finished = list(threads.map(handle, plans))
        results: dict[str, tuple[CellResult, ...]] = {}
        problems: list[Problem] = []
        executed = cached = failed = 0
        for plan, done in zip(plans, finished, strict=True):
            results[plan.note.note_id] = done.results
            problems.extend(done.problems)
            executed += done.executed
            cached += sum(1 for r in done.results if r.cached)
            failed += sum(1 for r in done.results if r.status in {"error", "timeout"})
        return ExecutionReport(results, executed, cached, failed, tuple(problems))


def run_cells(
    notes: Sequence[NoteCells],
    *,
    vault: Path,
    cache_dir: Path,
    jobs: int | None = None,
    execute: bool = True,
    timeout: float = 120.0,
    memory_mb: int = 2048,
) -> ExecutionReport:
    """Run every note's cells with a temporary pool; results come from the cache when they can."""
    with CellPool(jobs, memory_mb=memory_mb) as pool:
        return pool.run(notes, vault=vault, cache_dir=cache_dir, execute=execute, timeout=timeout)
