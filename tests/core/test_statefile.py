"""The page state written after a command-line build exits (`kgraph.statefile`)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from kgraph.incremental import PageState, load_state
from kgraph.statefile import PendingState, await_state
from tests.core.test_incremental import build, clean_build_equals, make_vault

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="forks a writer")


def _in_child(work: Callable[[], None]) -> int:
    """Run `work()` in a forked child; its pid."""
    pid = os.fork()
    if pid == 0:
        try:
            work()
        finally:
            os._exit(0)
    return pid


def _wait_for(path: Path) -> None:
    deadline = time.monotonic() + 20
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert path.exists()


def test_no_state_and_no_writer_returns_at_once(tmp_path: Path) -> None:
    started = time.monotonic()
    await_state(tmp_path / "pages.pickle", timeout=30)
    assert time.monotonic() - started < 5


def test_a_reader_waits_for_the_state_a_writer_holds(tmp_path: Path) -> None:
    path = tmp_path / "pages.pickle"
    path.write_bytes(b"the state of the site before")
    held = tmp_path / "held"
    release = tmp_path / "release"
    written = PageState(global_key="new", resolver_key="after")

    def writer() -> None:
        pending = PendingState(path)
        pending.drop_old()
        held.touch()
        while not release.exists():  # the reader has started waiting
            time.sleep(0.01)
        time.sleep(0.2)
        pending.write(written, 1_000_000_000)

    pid = _in_child(writer)
    _wait_for(held)
    assert not path.exists()  # the old state went before the site would be replaced
    release.touch()
    await_state(path, timeout=30)
    os.waitpid(pid, 0)
    state, problems = load_state(path)
    assert problems == []
    assert (state.global_key, state.resolver_key) == ("new", "after")
    assert path.stat().st_mtime_ns == 1_000_000_000  # the mtime the no-op record expects


def test_a_writer_killed_before_writing_leaves_no_state(tmp_path: Path) -> None:
    path = tmp_path / "pages.pickle"
    path.write_bytes(b"old")
    held = tmp_path / "held"

    def killed() -> None:
        pending = PendingState(path)
        pending.drop_old()
        held.touch()
        time.sleep(0.3)
        os._exit(9)  # as if killed: the kernel drops the lock

    pid = _in_child(killed)
    _wait_for(held)
    await_state(path, timeout=30)
    os.waitpid(pid, 0)
    assert not path.exists()
    state, problems = load_state(path)
    assert state == PageState() and problems == []


def test_a_build_whose_state_was_never_written_renders_everything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The detached writer dies before writing the page state: the next build finds
    none and renders every page, and the site is still a clean build's."""
    import kgraph.background

    vault = make_vault(tmp_path)
    out = tmp_path / "site"
    first = build(vault, out)
    note = vault / "B.md"
    note.write_text(note.read_text() + "\nBeta also links [[Phi]].\n")
    monkeypatch.setattr(kgraph.background, "detached", lambda *args, **kwargs: None)
    edited = build(vault, out)
    states = list((tmp_path / ".kgraph-cache").glob("pages-*.pickle"))
    assert states == []  # dropped before the site was replaced; never written again
    monkeypatch.undo()
    again = build(vault, out)
    assert again["pages"]["rendered"] == first["pages"]["rendered"] > edited["pages"]["rendered"]
    assert again["pages"]["written"] == 0
    clean_build_equals(vault, out)
