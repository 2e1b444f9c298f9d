"""Run (or look up) the cells of every note and put their figures into the concept graph."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kgraph.execute import CellPool, NoteCells, run_cells
from kgraph.graph.build import ConceptGraph, add_figure, link_figure_embeds
from kgraph.problems import Problem


@dataclass
class CellsOutcome:
    """Cell results by note id, the concept owning each note, counts and problems."""

    results: dict[str, Any] = field(default_factory=dict)
    owner: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(
        default_factory=lambda: {"executed": 0, "cached": 0, "failed": 0}
    )
    problems: list[Problem] = field(default_factory=list)


def note_jobs(cg: ConceptGraph) -> tuple[list[NoteCells], dict[str, str]]:
    """One job per note with cells, and the concept each note belongs to."""
    jobs: list[NoteCells] = []
    owner: dict[str, str] = {}
    with_cells = (k for k, c in cg.concepts.items() if any(n.cells for n in c.notes))
    for key in sorted(with_cells):
        for note in cg.concepts[key].notes:
            if note.cells:
                note_id = f"{note.path}#{note.index}"
                owner[note_id] = key
                jobs.append(NoteCells(note_id, note.path, note.cells, dict(note.params)))
    return jobs, owner


def attach_figures(
    cg: ConceptGraph,
    *,
    vault: Path,
    cache_dir: Path,
    execute: bool,
    jobs: int | None = None,
    timeout: float = 120.0,
    memory_mb: int = 2048,
    pool: CellPool | None = None,
) -> CellsOutcome:
    """Run cells (or take cached results with execute=False) and add figure nodes and edges.

    With execute=False a figure that is not in the cache may simply not be computed
    yet, so links to it are not reported as `missing-figure`.
    """
    work, owner = note_jobs(cg)
    outcome = CellsOutcome(owner=owner)
    if work:
        if pool is not None:
            report = pool.run(
                work, vault=vault, cache_dir=cache_dir, execute=execute, timeout=timeout
            )
        else:
            report = run_cells(
                work,
                vault=vault,
                cache_dir=cache_dir,
                jobs=jobs,
                execute=execute,
                timeout=timeout,
                memory_mb=memory_mb,
            )
        outcome.results = dict(report.results)
        outcome.counts = {
            "executed": report.executed,
            "cached": report.cached,
            "failed": report.failed,
        }
        outcome.problems.extend(report.problems)
        for note_id, cell_results in report.results.items():
            for cell in cell_results:
                for fig in cell.figures:
                    add_figure(cg, owner[note_id], fig.label, fig.caption)
    missing = link_figure_embeds(cg)
    if execute:
        outcome.problems.extend(missing)
    else:
        cg.problems[:] = [p for p in cg.problems if p.code != "missing-figure"]
    return outcome
