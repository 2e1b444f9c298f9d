"""Turn one note's cache hits and run outcomes into CellResults, problems and cache entries."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from kgraph.execute.cache import CellCache, CorruptEntry, NewFigure, StoredResult
from kgraph.execute.plan import CellPlan, NotePlan
from kgraph.execute.results import CellResult, FigureResult
from kgraph.problems import Problem, problem

if TYPE_CHECKING:
    from kgraph.execute.runner import RunOutcome


@dataclass(frozen=True)
class NoteOutcome:
    results: tuple[CellResult, ...]
    problems: tuple[Problem, ...]
    executed: int


class _Note:
    """Collects one note's results, numbering its figures in order."""

    def __init__(self, plan: NotePlan, cache: CellCache) -> None:
        self.plan = plan
        self.cache = cache
        self.results: list[CellResult] = []
        self.problems: list[Problem] = []
        self.number = 0

    def report(self, cell: CellPlan, code: str, message: str) -> None:
        self.problems.append(problem(self.plan.note.path, cell.cell.line, code, message))

    def load(self, cell: CellPlan, key: str) -> StoredResult | None:
        try:
            return self.cache.load(key)
        except CorruptEntry as exc:
            self.report(
                cell, "cache-corrupt", f"cell {cell.cell.index}: ignored cache entry ({exc})"
            )
            self.cache.discard(key)
            return None

    def add(
        self,
        cell: CellPlan,
        status: str,
        *,
        stored: StoredResult | None = None,
        cached: bool = False,
        stale: bool = False,
        stdout: str = "",
        error: str | None = None,
    ) -> None:
        figures = []
        for figure in stored.figures if stored else ():
            self.number += 1
            figures.append(
                FigureResult(figure.label, figure.caption, figure.svg, figure.data, self.number)
            )
        self.results.append(
            CellResult(
                note_id=self.plan.note.note_id,
                index=cell.cell.index,
                line=cell.cell.line,
                key=cell.key,
                status=status,
                cached=cached,
                stale=stale,
                stdout=stored.stdout if stored and not stale else stdout,
                error=error,
                figures=tuple(figures),
                options=cell.options.as_dict(),
                provenance=dict(stored.provenance) if stored and not stale else {"key": cell.key},
            )
        )

    def add_failed(self, cell: CellPlan, status: str, stdout: str, error: str | None) -> None:
        """A cell that did not produce a result now: show its last good figures, marked stale."""
        last = self.cache.last_good(self.plan.note.note_id, cell.cell.index)
        previous = self.load(cell, last) if last else None
        self.add(
            cell, status, stored=previous, stale=previous is not None, stdout=stdout, error=error
        )
        if previous is not None and previous.figures:
            self.report(
                cell, "cell-stale", f"cell {cell.cell.index}: showing figures from an earlier run"
            )

    def store(self, cell: CellPlan, outcome: RunOutcome) -> StoredResult:
        labels = cell.labels(len(outcome.figures))
        figures = [
            NewFigure(label, cell.options.caption_for(n), svg, data)
            for n, (label, (svg, data)) in enumerate(zip(labels, outcome.figures, strict=True))
        ]
        provenance: dict[str, Any] = {
            "key": cell.key,
            "params": self.plan.note.params,
            "modules": cell.modules,
            "depends": cell.depends,
            "seconds": round(outcome.seconds, 6),
            "computed_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "versions": self.plan.versions,
        }
        stored = self.cache.store(
            cell.key,
            stdout=outcome.stdout,
            options=cell.options.as_dict(),
            provenance=provenance,
            figures=figures,
        )
        self.cache.set_last_good(self.plan.note.note_id, cell.cell.index, cell.key)
        return stored

    def check_labels(self) -> None:
        counts = Counter(f.label for r in self.results for f in r.figures)
        for result, cell in zip(self.results, self.plan.cells, strict=True):
            for figure in result.figures:
                if counts[figure.label] > 1:
                    counts[figure.label] = 0  # report each duplicate once
                    self.report(
                        cell, "duplicate-label", f"figure label {figure.label!r} is used twice"
                    )


def _last_line(text: str | None) -> str:
    lines = [line for line in (text or "").splitlines() if line.strip()]
    return lines[-1].strip() if lines else "failed"


def finish_note(
    plan: NotePlan,
    cache: CellCache,
    execute: bool,
    run: Callable[[], list[RunOutcome | None]],
) -> NoteOutcome:
    """Reuse cached results when every cell has one; otherwise run the whole note (if allowed)."""
    note = _Note(plan, cache)
    stored = [note.load(c, c.key) if c.options.eval else None for c in plan.cells]
    missing = any(c.options.eval and s is None for c, s in zip(plan.cells, stored, strict=True))
    executed = 0
    if not missing or not execute:
        for cell, hit in zip(plan.cells, stored, strict=True):
            if not cell.options.eval:
                note.add(cell, "skipped")
            elif hit is not None:
                note.add(cell, "ok", stored=hit, cached=True)
            else:
                note.add_failed(cell, "skipped", "", "not run: execution is off (--no-exec)")
    else:
        outcomes = run()
        failed_at: int | None = None
        for cell, outcome in zip(plan.cells, outcomes, strict=True):
            if not cell.options.eval:
                note.add(cell, "skipped")
                continue
            if outcome is None:
                note.add_failed(cell, "skipped", "", f"not run: cell {failed_at} failed")
                continue
            executed += 1
            if outcome.status == "ok":
                try:
                    note.add(cell, "ok", stored=note.store(cell, outcome))
                    continue
                except (OSError, ValueError, TypeError, CorruptEntry) as exc:
                    outcome = replace(outcome, status="error", error=f"not stored: {exc!r}")
            failed_at = cell.cell.index
            code = "cell-timeout" if outcome.status == "timeout" else "cell-error"
            note.report(cell, code, f"cell {cell.cell.index}: {_last_line(outcome.error)}")
            note.add_failed(cell, outcome.status, outcome.stdout, outcome.error)
    note.check_labels()
    return NoteOutcome(tuple(note.results), tuple(note.problems), executed)


def failed_note(plan: NotePlan, message: str) -> NoteOutcome:
    """Results for a note that could not be handled at all: every cell an error."""
    results = tuple(
        CellResult(
            note_id=plan.note.note_id,
            index=c.cell.index,
            line=c.cell.line,
            key=c.key,
            status="error",
            cached=False,
            stale=False,
            stdout="",
            error=message,
            figures=(),
            options=c.options.as_dict(),
            provenance={"key": c.key},
        )
        for c in plan.cells
    )
    problems = tuple(
        problem(plan.note.path, c.cell.line, "cell-error", f"cell {c.cell.index}: {message}")
        for c in plan.cells[:1]
    )
    return NoteOutcome(results, problems, 0)
