"""Work run after a build by one detached process."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

import kgraph.background


def test_detached_calls_all_run_though_one_fails(tmp_path: Path) -> None:
    done: list[int] = []

    def fail() -> None:
        raise OSError("disk full")

    calls = [(done.append, (1,)), (fail, ()), (done.append, (2,))]
    kgraph.background.each(calls, tmp_path / "unsaved.txt")
    assert done == [1, 2]


def test_a_tree_removed_later_is_gone_soon(tmp_path: Path) -> None:
    tree = tmp_path / "-old site"  # a name `rm` could take for an option
    (tree / "a" / "b").mkdir(parents=True)
    (tree / "a" / "b" / "page.html").write_text("x")
    (tmp_path / "keep.txt").write_text("y")
    kgraph.background.remove_later(tree)
    deadline = time.monotonic() + 20
    while tree.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not tree.exists()
    assert (tmp_path / "keep.txt").read_text() == "y"


def test_without_background_work_the_tree_is_removed_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KGRAPH_NO_BACKGROUND", "1")
    tree = tmp_path / "old"
    (tree / "a").mkdir(parents=True)
    kgraph.background.remove_later(tree)
    assert not tree.exists()


def _record_collector(where: Path) -> None:
    import gc

    part = where.with_suffix(".part")
    part.write_text(f"{gc.isenabled()}")
    part.replace(where)  # whole or absent for the test polling it


def test_detached_work_runs_without_the_cycle_collector(tmp_path: Path) -> None:
    import gc
    import sys

    if sys.platform != "linux":
        pytest.skip("detached work runs in place off Linux")
    out = tmp_path / "enabled.txt"
    assert gc.isenabled()
    kgraph.background.detached(_record_collector, out)
    deadline = time.monotonic() + 20
    while not out.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert out.read_text() == "False", "the detached process skips collections"
    assert gc.isenabled(), "the caller's collector is untouched"


def _record_priority(where: Path) -> None:
    part = where.with_suffix(".part")
    part.write_text(str(os.getpriority(os.PRIO_PROCESS, 0)))
    part.replace(where)


def test_yielding_work_runs_at_the_lowest_priority_only_when_detached(tmp_path: Path) -> None:
    import sys

    if sys.platform != "linux":
        pytest.skip("detached work runs in place off Linux")
    mine = os.getpriority(os.PRIO_PROCESS, 0)
    here = tmp_path / "here.txt"
    kgraph.background.yielding(_record_priority, here)
    assert int(here.read_text()) == mine, "in place, the caller's priority is untouched"
    there = tmp_path / "there.txt"
    kgraph.background.detached(kgraph.background.yielding, _record_priority, there)
    deadline = time.monotonic() + 20
    while not there.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert int(there.read_text()) == 19
    assert os.getpriority(os.PRIO_PROCESS, 0) == mine


def test_failed_calls_are_recorded_for_the_next_build_once(tmp_path: Path) -> None:
    done: list[int] = []
    failures = tmp_path / "unsaved.txt"

    def save_snapshot() -> None:
        raise OSError("disk\nfull")  # one line per failure, however the message runs

    def save_kept() -> None:
        raise ValueError("bad")

    calls = [
        (done.append, (1,)),
        (kgraph.background.yielding, (save_snapshot,)),  # named by the work, not the wrapper
        (save_kept, ()),
        (done.append, (2,)),
    ]
    kgraph.background.each(calls, failures)
    assert done == [1, 2]
    lines = kgraph.background.take_failures(failures)
    assert [line.split(":")[0].rsplit(".", 1)[-1] for line in lines] == [
        "save_snapshot",
        "save_kept",
    ]
    assert lines[0].endswith("OSError: disk full") and lines[1].endswith("ValueError: bad")
    assert not failures.exists() and kgraph.background.take_failures(failures) == []
