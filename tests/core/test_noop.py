"""A build with nothing to do is recognised before reading any note, and only then."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.core.test_incremental import build, make_vault, snapshot


def skipped(report: dict) -> bool:
    # A recognised no-op reads nothing, so it has no stage times.
    return set(report["timings"]) == {"total"}


def test_unchanged_vault_is_a_noop_with_the_same_report(tmp_path: Path) -> None:
    vault = make_vault(tmp_path)
    out = tmp_path / "site"
    first = build(vault, out)
    assert not skipped(first)
    before = snapshot(out)
    second = build(vault, out)
    assert skipped(second)
    assert second["warnings"] == first["warnings"] and second["warnings"]
    assert second["pages"] == {
        "written": 0,
        "unchanged": first["pages"]["written"] + first["pages"]["unchanged"],
        "removed": 0,
        "rendered": 0,
    }
    assert (second["notes"], second["edges"]) == (first["notes"], first["edges"])
    assert snapshot(out) == before


def test_touched_or_edited_files_take_a_real_build(tmp_path: Path) -> None:
    vault = make_vault(tmp_path)
    out = tmp_path / "site"
    build(vault, out)
    note = vault / "F.md"
    st = note.stat()
    os.utime(note, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    touched = build(vault, out)
    assert not skipped(touched) and touched["pages"]["written"] == 0
    assert skipped(build(vault, out))
    note.write_text(note.read_text() + "\nMore.\n")
    edited = build(vault, out)
    assert not skipped(edited) and edited["pages"]["written"] == 1


def test_templates_settings_and_a_missing_site_take_a_real_build(tmp_path: Path) -> None:
    vault = make_vault(tmp_path)
    out = tmp_path / "site"
    build(vault, out)
    (vault / "kgraph.yaml").write_text("title: Another title\n")
    retitled = build(vault, out)
    assert not skipped(retitled) and retitled["pages"]["written"] > 0
    assert "Another title" in (out / "index.html").read_text()
    (out / ".kgraph-site").unlink()
    for path in sorted(out.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    again = build(vault, out)
    assert not skipped(again) and (out / "index.html").is_file()


def test_damaged_cache_is_read_and_reported_not_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The cache is written in place: a detached writer finishing after the damage below
    # would repair it (on a loaded machine it did), and the next build would rightly be
    # skipped.
    monkeypatch.setenv("KGRAPH_NO_BACKGROUND", "1")
    vault = make_vault(tmp_path)
    out = tmp_path / "site"
    build(vault, out)
    for bucket in (tmp_path / ".kgraph-cache").glob("parse-*/*.pickle"):
        bucket.write_bytes(b"garbage")
    report = build(vault, out)
    assert not skipped(report)
    assert any(w["code"] == "cache-corrupt" for w in report["warnings"])


def test_cache_written_after_the_record_still_allows_a_noop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An edit's parse-cache bucket is written by a detached process, which may finish
    after the build recorded its inputs: the record must already expect it."""
    import kgraph.background
    import kgraph.build

    later: list[tuple] = []
    monkeypatch.setattr(
        kgraph.background, "detached", lambda fn, *args, **_: later.append((fn, args))
    )

    def finish_detached() -> None:
        while later:
            fn, args = later.pop(0)
            fn(*args)

    vault = make_vault(tmp_path)
    out = tmp_path / "site"
    build(vault, out)
    finish_detached()
    note = vault / "F.md"
    note.write_text(note.read_text() + "\nMore.\n")
    buckets = sorted((tmp_path / ".kgraph-cache").glob("parse-*/*.pickle"))
    before = {p: p.stat().st_mtime_ns for p in buckets}
    edited = build(vault, out)
    assert not skipped(edited) and edited["pages"]["written"] == 1
    # The page state is written first (the next build waits for it), then, holding the
    # saving lock, the calls below.
    assert [fn for fn, _ in later] == [kgraph.build._write_and_save]
    deferred = [call for fn, args in later for call in args[4]]
    # The bucket comes first, then the linked graph: a build started meanwhile needs them
    # to take its shortcuts; then the edited body, and last, at the lowest priority, the
    # snapshot, which is only for queries.
    names = [
        f"{args[0].__name__} yielding" if fn is kgraph.background.yielding else fn.__name__
        for fn, args in deferred
    ]
    assert names == ["save_buckets", "save_kept", "save", "_save_snapshot yielding"]
    assert deferred[2][0].__module__ == "kgraph.bodystore"
    finish_detached()  # after the record: the bucket's mtime moves on
    assert any(p.stat().st_mtime_ns != ns for p, ns in before.items())
    assert skipped(build(vault, out))
    # A bucket the detached process never wrote leaves a cache the record did not expect.
    note.write_text(note.read_text() + "\nEven more.\n")
    build(vault, out)
    later.clear()
    assert not skipped(build(vault, out))
