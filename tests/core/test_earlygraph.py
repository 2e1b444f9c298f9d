"""The global graph of a command-line link edit, laid out by a process forked before the
build reads the vault: used only when that process read the same vault."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

import kgraph.earlygraph
from kgraph.cli import main
from kgraph.config import load_config
from kgraph.earlygraph import EarlyGraph, worth_starting
from kgraph.site.parallel import PARALLEL_MIN_PAGES, EarlyPart
from tests.core.test_incremental import clean_build_equals, make_vault

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="forks on Linux only")

N = PARALLEL_MIN_PAGES + 20


def _vault(tmp_path: Path) -> Path:
    files = {f"N{i:03d}.md": f"Note {i} links [[N{(i * 7 + 1) % N:03d}]].\n" for i in range(N)}
    return make_vault(tmp_path, files)


def _build(vault: Path, out: Path) -> dict:
    report = out.parent / "report.json"
    cmd = ["build", str(vault), "-o", str(out), "--jobs", "2", "--quiet", "--report"]
    assert main([*cmd, str(report)]) == 0
    return json.loads(report.read_text())


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What the builds do with the early processes: EarlyGraph's start, `expect`,
    `result` (and what it gave) and `cancel`, and any EarlyPart started after reading."""
    # Each build's caches are written before it returns, so the next build never finds
    # them still being written (a test of that case is below).
    monkeypatch.setenv("KGRAPH_NO_BACKGROUND", "1")
    seen: list[str] = []
    start, expect, result = EarlyGraph.__init__, EarlyGraph.expect, EarlyGraph.result
    cancel, part = EarlyPart.cancel, EarlyPart.__init__

    def started(self: EarlyGraph, *args: object) -> None:
        seen.append("start")
        start(self, *args)  # type: ignore[arg-type]

    def expected(self: EarlyGraph, digest: str) -> None:
        seen.append("expect")
        expect(self, digest)

    def got(self: EarlyGraph) -> object:
        out = result(self)
        seen.append("result" if out is not None else "result: none")
        return out

    def cancelled(self: EarlyPart) -> None:
        if not self._done:
            seen.append("cancel")
        cancel(self)

    def part_started(self: EarlyPart, *args: object) -> None:
        seen.append("early part")
        part(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(EarlyGraph, "__init__", started)
    monkeypatch.setattr(EarlyGraph, "expect", expected)
    monkeypatch.setattr(EarlyGraph, "result", got)
    monkeypatch.setattr(EarlyPart, "cancel", cancelled)
    monkeypatch.setattr(EarlyPart, "__init__", part_started)
    return seen


def test_a_link_edit_takes_the_graph_laid_out_meanwhile(tmp_path: Path, calls: list[str]) -> None:
    vault, out = _vault(tmp_path), tmp_path / "site"
    _build(vault, out)
    assert calls == []  # nothing published before: everything is rendered
    note = vault / "N005.md"
    note.write_text(note.read_text() + "It also links [[N300]].\n")
    _build(vault, out)
    assert calls == ["start", "expect", "cancel", "result"]  # (result joins it)
    assert "N300" in (out / "graph" / "graph-data.js").read_text()
    clean_build_equals(vault, out)
    # Prose only: the kept graph keeps its edges, and the process is stopped.
    calls.clear()
    note.write_text(note.read_text() + "More words, no link.\n")
    _build(vault, out)
    assert calls == ["start", "cancel"]
    clean_build_equals(vault, out)
    # A new heading links anew here: the process is stopped, the graph laid out after
    # linking (EarlyPart) as before.
    calls.clear()
    note.write_text(note.read_text() + "\n## A heading\n\nIt links [[N301]].\n")
    _build(vault, out)
    assert calls[:3] == ["start", "cancel", "early part"]
    clean_build_equals(vault, out)


def test_a_process_that_read_another_vault_is_not_taken(
    tmp_path: Path, calls: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Here the forked process digests its vault differently, as if a file had been
    saved between its read and the build's: the build lays the graph out itself."""
    vault, out = _vault(tmp_path), tmp_path / "site"
    _build(vault, out)
    parent = os.getpid()
    digest = kgraph.earlygraph.vault_digest
    monkeypatch.setattr(
        kgraph.earlygraph,
        "vault_digest",
        lambda files, digests: digest(files, digests) + ("" if os.getpid() == parent else "x"),
    )
    note = vault / "N005.md"
    note.write_text(note.read_text() + "It also links [[N300]].\n")
    _build(vault, out)
    assert calls == ["start", "expect", "cancel", "result: none"]
    assert "N300" in (out / "graph" / "graph-data.js").read_text()
    clean_build_equals(vault, out)


def test_nothing_starts_while_the_last_builds_caches_are_written(
    tmp_path: Path, calls: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the detached writer of the last build holds its lock, the kept graph may be
    older than the edit's base, and that writer already takes the other core."""
    import fcntl

    from kgraph.build import saving_lock

    vault, out = _vault(tmp_path), tmp_path / "site"
    _build(vault, out)
    # This build's own writer waits for the lock held here: detached, as it would be.
    monkeypatch.delenv("KGRAPH_NO_BACKGROUND")
    config, _ = load_config(vault, out, execute=False)
    fd = os.open(saving_lock(config), os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # as the writer does
        note = vault / "N005.md"
        note.write_text(note.read_text() + "It also links [[N300]].\n")
        _build(vault, out)
        assert calls[0] == "early part" and "start" not in calls  # laid out after linking
    finally:
        os.close(fd)
    assert "N300" in (out / "graph" / "graph-data.js").read_text()
    clean_build_equals(vault, out)


def test_the_writers_lock_is_seen_while_held(tmp_path: Path) -> None:
    import threading

    from kgraph.background import busy, each_holding

    lock = tmp_path / "saving.lock"
    assert not busy(lock)  # no file yet
    entered, release = threading.Event(), threading.Event()
    seen: list[bool] = []
    worker = threading.Thread(
        target=each_holding,
        args=(
            lock,
            [(lambda: (entered.set(), release.wait(10)), ()), (seen.append, (True,))],
            tmp_path / "unsaved.txt",
        ),
    )
    worker.start()
    assert entered.wait(10)
    assert busy(lock)
    release.set()
    worker.join(10)
    assert not busy(lock) and seen == [True]


def test_small_vaults_and_vaults_with_cells_start_nothing(tmp_path: Path) -> None:
    record = tmp_path / "record.json"
    cells = {"executed": 0, "cached": 0, "failed": 0}

    def saved(concepts: int, cells: object) -> Path:
        record.write_text(json.dumps({"report": {"concepts": concepts, "cells": cells}}))
        return record

    assert worth_starting(saved(PARALLEL_MIN_PAGES, cells))
    assert not worth_starting(saved(PARALLEL_MIN_PAGES - 1, cells))
    assert not worth_starting(saved(5000, {**cells, "cached": 3}))
    record.write_text("{not json")
    assert not worth_starting(record)
    assert not worth_starting(tmp_path / "missing.json")
