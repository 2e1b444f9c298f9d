"""Executing model cells in isolated worker processes, with an on-disk result cache."""

from __future__ import annotations

from kgraph.execute.options import CellOptions, interpret_options
from kgraph.execute.results import CellResult, ExecutionReport, FigureResult, NoteCells
from kgraph.execute.runner import CellPool, run_cells

__all__ = [
    "CellOptions",
    "CellPool",
    "CellResult",
    "ExecutionReport",
    "FigureResult",
    "NoteCells",
    "interpret_options",
    "run_cells",
]
