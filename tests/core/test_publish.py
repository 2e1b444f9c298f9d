"""Publishing a site: a few changed files go in place under a journal, many are staged."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from kgraph import publish as pub
from kgraph.publish import MARKER, publish, recover, rendering_folder
from kgraph.site.output import StagedFiles


def site_files(n: int, tag: str = "") -> dict[str, bytes]:
    return {
        f"p{i}/index.html": f"<p>page {i}{tag if i == 0 else ''}</p>".encode() for i in range(n)
    }


def tree(out: Path) -> dict[str, bytes]:
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name != MARKER
    }


def index_into(text: str) -> Callable[[Path], None]:
    def write(stage: Path) -> None:
        (stage / "pagefind").mkdir()
        (stage / "pagefind" / "index.json").write_text(text)

    return write


def test_small_change_is_made_in_place_and_large_one_swapped(tmp_path: Path) -> None:
    out = tmp_path / "site"
    publish(out, site_files(200), {}, before_swap=index_into("v1"))
    inode = out.stat().st_ino
    untouched = (out / "p5" / "index.html").stat().st_ino
    stats = publish(out, site_files(199, "!"), {}, before_swap=index_into("v2"))
    assert (stats.written, stats.removed) == (1, 1)
    assert out.stat().st_ino == inode  # the same folder: nothing was swapped
    assert (out / "p5" / "index.html").stat().st_ino == untouched
    assert tree(out) == {**site_files(199, "!"), "pagefind/index.json": b"v2"}
    assert not (out / "p199").exists()  # no empty folder left behind
    publish(
        out, {k: v + b"x" for k, v in site_files(199).items()}, {}, before_swap=index_into("v3")
    )
    assert out.stat().st_ino != inode  # everything changed: a new tree swapped in
    assert (out / "pagefind" / "index.json").read_text() == "v3"


def test_killed_before_the_journal_leaves_the_old_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "site"
    publish(out, site_files(100), {}, before_swap=index_into("v1"))
    before = tree(out)

    def killed(stage: Path) -> None:
        raise KeyboardInterrupt  # stands for SIGKILL while the search index is written

    with pytest.raises(KeyboardInterrupt):
        publish(out, site_files(100, "!"), {}, before_swap=killed)
    assert tree(out) == before
    recover(out)
    assert tree(out) == before and not list(tmp_path.glob(".site.*"))


def test_killed_after_the_journal_is_finished_by_the_next_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "site"
    publish(out, site_files(100), {}, before_swap=index_into("v1"))
    new = {**site_files(100, "!"), "extra/index.html": b"<p>new</p>"}
    del new["p7/index.html"]
    real_apply = pub._apply

    def half(out_: Path, ops: list[list[str]]) -> None:
        real_apply(out_, ops[:1])  # one move made, then killed
        raise KeyboardInterrupt

    monkeypatch.setattr(pub, "_apply", half)
    with pytest.raises(KeyboardInterrupt):
        publish(out, new, {}, before_swap=index_into("v2"))
    monkeypatch.setattr(pub, "_apply", real_apply)
    recover(out)
    assert tree(out) == {**new, "pagefind/index.json": b"v2"}
    assert not list(tmp_path.glob(".site.*"))


def _staged(out: Path, files: dict[str, bytes]) -> StagedFiles:
    folder = rendering_folder(out)
    return StagedFiles(folder, StagedFiles.write(folder, files))


def test_pages_written_by_the_render_workers_become_the_site(tmp_path: Path) -> None:
    out = tmp_path / "site"
    files = site_files(100)
    stats = publish(out, _staged(out, files), {}, before_swap=index_into("fresh"))
    assert tree(out) == {**files, "pagefind/index.json": b"fresh"}
    assert (out / MARKER).is_file()
    assert stats.written == 100 and stats.unchanged == 0
    assert not pub._rendering(out).exists()


def test_staged_publish_over_a_site_keeps_unchanged_files_and_drops_removed(
    tmp_path: Path,
) -> None:
    out = tmp_path / "site"
    publish(out, site_files(100), {})
    before = (out / "p5" / "index.html").stat()
    changed = {**site_files(99, tag=" new")}
    stats = publish(out, _staged(out, changed), {})
    assert tree(out) == changed
    assert (stats.written, stats.unchanged, stats.removed) == (1, 98, 1)
    after = (out / "p5" / "index.html").stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_a_build_killed_while_rendering_leaves_the_site_and_no_folder(tmp_path: Path) -> None:
    out = tmp_path / "site"
    publish(out, site_files(3), {})
    _staged(out, site_files(50, tag=" half"))  # the workers wrote, then the build died
    recover(out)
    assert tree(out) == site_files(3)
    assert not pub._rendering(out).exists()
