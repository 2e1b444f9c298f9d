"""Shared helpers: a copy of the cells test vault and a worker pool per test module."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from kgraph.execute import CellPool, NoteCells
from kgraph.vault.note import Cell

VAULT = Path(__file__).resolve().parents[1] / "vaults" / "cells"


def cell(index: int, code: str, line: int = 1, **options: object) -> Cell:
    return Cell(index=index, code=code, options=dict(options), line=line)


def note(path: str, *cells: Cell, params: dict[str, object] | None = None) -> NoteCells:
    return NoteCells(note_id=f"{path}#0", path=path, cells=tuple(cells), params=params or {})


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    """A private copy of tests/vaults/cells that a test may edit."""
    target = tmp_path / "vault"
    shutil.copytree(VAULT, target)
    return target


@pytest.fixture(scope="module")
def pool() -> Iterator[CellPool]:
    with CellPool(jobs=2, memory_mb=1024) as shared:
        yield shared
