from __future__ import annotations

import json
import time
from pathlib import Path

from kgraph.execute import CellPool, ExecutionReport, NoteCells, run_cells
from kgraph.vault.note import Cell

from .conftest import cell, note

PLOT = "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3], [4, 5, 6])\n"


def run(pool: CellPool, vault: Path, *notes: NoteCells, **kwargs: object) -> ExecutionReport:
    return pool.run(notes, vault=vault, cache_dir=vault.parent / "cache", **kwargs)  # type: ignore[arg-type]


def codes(report: ExecutionReport) -> list[tuple[str, int, str]]:
    return sorted((p.file, p.line, p.code) for p in report.problems)


def test_second_run_comes_from_cache_with_same_figures(pool: CellPool, vault: Path) -> None:
    notes = [note("a.md", cell(0, "x = 2\nprint(x)"), cell(1, PLOT, label="fig-a"))]
    first = run(pool, vault, *notes)
    assert (first.executed, first.cached, first.failed) == (2, 0, 0)
    started = pool.started
    second = run(pool, vault, *notes)
    assert (second.executed, second.cached, second.failed) == (0, 2, 0)
    assert pool.started == started  # nothing to run, so no worker was needed
    one, two = first.results["a.md#0"], second.results["a.md#0"]
    assert [r.cached for r in two] == [True, True]
    assert two[0].stdout == "2\n"
    assert two[1].figures == one[1].figures
    fig = two[1].figures[0]
    assert (fig.label, fig.number) == ("fig-a", 1)
    data = json.loads(fig.data.read_text())
    assert data["label"] == "fig-a"
    assert data["axes"][0]["series"][0]["y"] == [4, 5, 6]
    assert fig.svg.read_text().lstrip().startswith("<?xml")


def test_namespace_shared_within_note_isolated_between_notes(pool: CellPool, vault: Path) -> None:
    a = note("a.md", cell(0, "x = params['n']"), cell(1, "print(x * 2)"), params={"n": 21})
    b = note("b.md", cell(0, "print('x' in globals(), sorted(params))"))
    report = run(pool, vault, a, b)
    assert report.results["a.md#0"][1].stdout == "42\n"
    assert report.results["b.md#0"][0].stdout == "False []\n"


def test_vault_modules_are_fresh_for_each_note_and_edits_are_seen(vault: Path) -> None:
    bump = (
        "import models.kernel as k\n"
        "k.count = getattr(k, 'count', 0) + 1\n"
        "print(k.count, k.window(1))"
    )
    with CellPool(jobs=1) as single:
        single.warm()
        report = run(single, vault, note("a.md", cell(0, bump)), note("b.md", cell(0, bump + " ")))
        assert report.results["a.md#0"][0].stdout == "1 2\n"
        assert report.results["b.md#0"][0].stdout == "1 2\n"  # same worker, no leaked state
        (vault / "models" / "kernel.py").write_text("def window(i):\n    return 10 * i\n")
        again = run(single, vault, note("a.md", cell(0, bump)))
        assert again.executed == 1
        assert again.results["a.md#0"][0].stdout == "1 10\n"
        assert single.started == 1  # the warmed worker served every note


def test_timeout_stops_only_that_note(pool: CellPool, vault: Path) -> None:
    hang = note(
        "hang.md",
        cell(0, "import time\nwhile True:\n    time.sleep(0.1)", line=4, timeout=2),
        cell(1, "print('after')", line=9),
    )
    good = note("good.md", cell(0, "print('fine')"))
    started = time.monotonic()
    report = run(pool, vault, hang, good)
    assert time.monotonic() - started < 15
    first, second = report.results["hang.md#0"]
    assert first.status == "timeout" and "2 s" in (first.error or "")
    assert second.status == "skipped" and second.error == "not run: cell 0 failed"
    assert report.results["good.md#0"][0].stdout == "fine\n"
    assert ("hang.md", 4, "cell-timeout") in codes(report)
    assert report.failed == 1


def test_crashes_and_exits_fail_alone(pool: CellPool, vault: Path) -> None:
    notes = [
        note("segv.md", cell(0, "import ctypes\nctypes.string_at(0)"), cell(1, "print(1)")),
        note("exit.md", cell(0, "import sys\nsys.exit(3)"), cell(1, "print(1)")),
        note("hard.md", cell(0, "import os\nos._exit(1)")),
        note("loud.md", cell(0, "for _ in range(1000):\n    print('x' * 100_000)")),
        note("good.md", cell(0, PLOT)),
    ]
    report = run(pool, vault, *notes)
    status = {nid: [r.status for r in rs] for nid, rs in report.results.items()}
    assert status == {
        "segv.md#0": ["error", "skipped"],
        "exit.md#0": ["error", "skipped"],
        "hard.md#0": ["error"],
        "loud.md#0": ["ok"],
        "good.md#0": ["ok"],
    }
    assert "WorkerDied" in (report.results["segv.md#0"][0].error or "")
    assert "SystemExit: 3" in (report.results["exit.md#0"][0].error or "")
    loud = report.results["loud.md#0"][0].stdout
    assert len(loud) < 70_000 and "truncated" in loud
    assert len(report.results["good.md#0"][0].figures) == 1
    assert report.failed == 3


def test_memory_limit_fails_the_cell_and_pool_recovers(pool: CellPool, vault: Path) -> None:
    hog = note("hog.md", cell(0, "import numpy as np\na = bytearray(3 * 2**30)\nprint(len(a))"))
    report = run(pool, vault, hog)
    result = report.results["hog.md#0"][0]
    assert result.status == "error"
    assert "MemoryError" in (result.error or "") or "WorkerDied" in (result.error or "")
    after = run(pool, vault, note("ok.md", cell(0, "print(sum(range(10)))")))
    assert after.results["ok.md#0"][0].stdout == "45\n"


def test_traceback_points_at_note_lines(pool: CellPool, vault: Path) -> None:
    (vault / "models" / "bad.py").write_text("def explode():\n    raise KeyError('deep')\n")
    cells = (
        cell(0, "def f():\n    return 1 / 0\n", line=3),
        # fence at line 10, two option lines, so code line 3 is source line 15
        cell(1, "y = 1\n\nf()\n", line=10, label="fig-x", echo=False),
        cell(2, "from models.bad import explode\nexplode()", line=20),
    )
    report = run(pool, vault, NoteCells("notes/x.md#0", "notes/x.md", cells, {}))
    error = report.results["notes/x.md#0"][1].error or ""
    assert 'File "notes/x.md", line 15, in <module>' in error
    assert 'File "notes/x.md", line 5, in f' in error
    assert error.rstrip().endswith("ZeroDivisionError: division by zero")
    assert "runpy" not in error and "worker.py" not in error
    assert ("notes/x.md", 10, "cell-error") in codes(report)
    # a later cell is not run after a failure; run the module cell on its own
    alone = run(pool, vault, NoteCells("notes/y.md#0", "notes/y.md", (cells[2],), {}))
    deep = alone.results["notes/y.md#0"][0].error or ""
    assert 'File "notes/y.md", line 22, in <module>' in deep
    assert 'File "models/bad.py", line 2, in explode' in deep


def test_syntax_error_points_at_note_line(pool: CellPool, vault: Path) -> None:
    report = run(pool, vault, note("s.md", cell(0, "x = 1\ny = (\n", line=7, label="fig-s")))
    error = report.results["s.md#0"][0].error or ""
    assert 'File "s.md", line 10' in error and "SyntaxError" in error


def test_failure_keeps_last_good_figures_marked_stale(pool: CellPool, vault: Path) -> None:
    good = run(pool, vault, note("st.md", cell(0, PLOT, line=5)))
    figure = good.results["st.md#0"][0].figures[0]
    bad = run(pool, vault, note("st.md", cell(0, PLOT + "raise RuntimeError('later')", line=5)))
    result = bad.results["st.md#0"][0]
    assert (result.status, result.stale) == ("error", True)
    assert result.figures == (figure,)
    assert "RuntimeError: later" in (result.error or "")
    assert codes(bad) == [("st.md", 5, "cell-error"), ("st.md", 5, "cell-stale")]


def test_corrupt_cache_entry_is_recomputed(pool: CellPool, vault: Path) -> None:
    notes = [note("c.md", cell(0, PLOT))]
    first = run(pool, vault, *notes)
    result = first.results["c.md#0"][0]
    result.figures[0].svg.unlink()
    second = run(pool, vault, *notes)
    assert second.executed == 1
    assert ("c.md", 1, "cache-corrupt") in codes(second)
    assert second.results["c.md#0"][0].figures[0].svg.is_file()
    (result.figures[0].data.parent / "result.json").write_text("{not json")
    third = run(pool, vault, *notes)
    assert third.executed == 1 and third.results["c.md#0"][0].status == "ok"


def test_no_exec_uses_cache_and_skips_the_rest(pool: CellPool, vault: Path) -> None:
    started = pool.started
    cold = run(pool, vault, note("n.md", cell(0, PLOT)), execute=False)
    assert cold.results["n.md#0"][0].status == "skipped" and cold.executed == 0
    assert pool.started == started
    run(pool, vault, note("n.md", cell(0, PLOT)))
    warm = run(pool, vault, note("n.md", cell(0, PLOT)), execute=False)
    assert warm.results["n.md#0"][0].status == "ok" and warm.cached == 1


def test_eval_false_is_skipped_and_labels_number_figures(pool: CellPool, vault: Path) -> None:
    two = PLOT + "plt.figure()\nplt.plot([0, 1])\n"
    cells = (
        cell(0, "raise SystemExit('never')", eval=False),
        Cell(1, two, {"label": "fig-pair", "fig-cap": ["left", "right"]}, 1),
        cell(2, PLOT + "plt.show()\n"),
        cell(3, PLOT, label="fig-pair-1"),
    )
    report = run(pool, vault, NoteCells("dir/My Note.md#0", "dir/My Note.md", cells, {}))
    results = report.results["dir/My Note.md#0"]
    assert [r.status for r in results] == ["skipped", "ok", "ok", "ok"]
    assert results[2].stdout == ""  # plt.show() neither warns nor loses the figure
    figures = [f for r in results for f in r.figures]
    assert [(f.label, f.caption, f.number) for f in figures] == [
        ("fig-pair-1", "left", 1),
        ("fig-pair-2", "right", 2),
        ("fig-my-note-2-1", "", 3),
        ("fig-pair-1", "", 4),
    ]
    assert [p.code for p in report.problems] == ["duplicate-label"]


def test_run_cells_with_a_temporary_pool(vault: Path, tmp_path: Path) -> None:
    report = run_cells(
        [note("t.md", cell(0, "print('hi')"))], vault=vault, cache_dir=tmp_path / "c", jobs=1
    )
    assert report.results["t.md#0"][0].stdout == "hi\n"


def test_unwritable_cache_turns_into_a_cell_error(pool: CellPool, vault: Path) -> None:
    blocker = vault.parent / "blocked"
    blocker.write_text("a file where the cache folder should be")
    report = pool.run([note("w.md", cell(0, "print(1)"))], vault=vault, cache_dir=blocker / "sub")
    result = report.results["w.md#0"][0]
    assert result.status == "error" and "not stored" in (result.error or "")
    assert report.failed == 1


def test_sample_note_in_the_test_vault(pool: CellPool, vault: Path) -> None:
    # the cell of tests/vaults/cells/ltp.md as the parser hands it over: fence on line 10
    lines = (vault / "ltp.md").read_text().splitlines()
    assert lines[9] == "```{python}"
    code = "\n".join(lines[12:-1]) + "\n"
    options = {"label": "fig-ltp-weights", "fig-cap": "Weights after n steps"}
    ltp = NoteCells("ltp.md#0", "ltp.md", (Cell(0, code, options, 10),), {"n": 5})
    report = run(pool, vault, ltp)
    (figure,) = report.results["ltp.md#0"][0].figures
    data = json.loads(figure.data.read_text())
    assert (data["label"], data["caption"]) == ("fig-ltp-weights", "Weights after n steps")
    assert data["axes"][0]["series"][0]["y"] == [0, 2, 4, 6, 8]
    provenance = report.results["ltp.md#0"][0].provenance
    assert set(provenance["modules"]) == {"models/__init__.py", "models/ltp.py", "models/kernel.py"}
    assert provenance["params"] == {"n": 5}
    broken = Cell(0, code.replace("plt.plot", "plt.plott"), options, 10)
    failed = run(pool, vault, NoteCells("x.md#0", "ltp.md", (broken,), {"n": 5}))
    assert 'File "ltp.md", line 17, in <module>' in (failed.results["x.md#0"][0].error or "")
