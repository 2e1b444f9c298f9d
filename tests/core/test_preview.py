"""A link edit in the dev server: the edited page, rendered in a forked child from the last
build, is written and announced before the full build has even linked the vault."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import kgraph.build
import kgraph.preview
from kgraph.build import Builder
from kgraph.preview import start_preview
from tests.core.test_hot import edit, live, page_of, same_as_clean

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the preview forks")

__all__ = ["live"]  # the fixture, shared with test_hot


def held_linking(monkeypatch: pytest.MonkeyPatch, announced: threading.Event) -> list[bool]:
    """Make the full build wait (a while at most) for the first announcement before it
    links the vault; record, per build, whether it had come by then."""
    before: list[bool] = []
    real = kgraph.build.build_graph

    def build_graph(*args: Any) -> Any:
        before.append(announced.wait(20))
        return real(*args)

    monkeypatch.setattr(kgraph.build, "build_graph", build_graph)
    return before


@pytest.mark.parametrize(
    ("name", "old", "new", "stubs"),
    [
        ("B.md", "[[Gamma]]", "[[Delta]]", []),  # retargeted
        ("B.md", "leads to [[Gamma]].", "leads to [[Gamma]] and [[Phi]].", []),  # added
        ("C.md", " It wants [[Omega]].", "", []),  # removed: the stub loses its only link
        ("D.md", "[[Epsilon]].", "[[Epsilon]].\n\nSee also: [[Alpha]], [[Gamma]]\n", []),
        ("F.md", "alone.", "alone, unlike [[Epsilon#Missing]].", []),  # a missing anchor
        ("F.md", "alone.", "alone, unlike [[Zeta]] and [[Eta]].", ["Eta", "Zeta"]),  # new stubs
        ("B.md", "[[Gamma]]", "[[Omega]]", []),  # a stub another note wants already
        # Not links, but also beyond a prose edit: others' links may point at headings,
        # tag and A-Z pages list the note.
        ("F.md", "stands alone.", "stands alone.\n\n## A heading\n\nSee [[#A heading]].", []),
        ("A.md", "tags: [greek]", "tags: [greek, latin]", []),
        ("E.md", "ends the chain.", "ends the chain. ^end", []),  # a block id; G embeds E
        ("D.md", "title: Delta\n", "title: Delta\ndate: 2024-05-01\n", []),
    ],
)
def test_a_link_edit_shows_the_edited_page_before_the_vault_is_linked(
    live: tuple[Builder, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    old: str,
    new: str,
    stubs: list[str],
) -> None:
    builder, vault = live
    out = builder.config.out
    title = {"A.md": "Alpha", "B.md": "Beta", "C.md": "Gamma", "D.md": "Delta", "F.md": "Phi"}.get(
        name, "Epsilon"
    )
    page = page_of(out, title)
    before = (out / page).read_text()
    assert not any(page_exists(out, stub) for stub in stubs)
    announced = threading.Event()
    seen: list[tuple[list[str], str]] = []

    def early(pages: list[str]) -> None:
        seen.append((pages, (out / page).read_text()))
        announced.set()

    builder.early = early
    linked_after_announcement = held_linking(monkeypatch, announced)
    result = builder.build({edit(vault, name, old, new)})
    assert not result.fast
    assert linked_after_announcement == [True]
    stub_pages = [page_of(out, stub) for stub in stubs]
    assert [pages for pages, _ in seen] == [sorted([page, *stub_pages])]
    shown = seen[0][1]
    assert shown != before
    for stub, stub_page in zip(stubs, stub_pages, strict=True):
        assert f'href="../{stub_page}"' in shown, stub
    # The full build agreed: it left the pages as the preview wrote them and did not
    # announce them again.
    assert (out / page).read_text() == shown
    assert not {page, *stub_pages} & set(result.changed_pages)
    same_as_clean(builder, tmp_path, result.report()["warnings"])


def page_exists(out: Path, title: str) -> bool:
    try:
        page_of(out, title)
    except AssertionError:
        return False
    return True


def test_the_preview_leaves_the_last_build_as_it_was(live: tuple[Builder, Path]) -> None:
    builder, vault = live
    last = builder._last
    assert last is not None
    key = next(k for k, c in last.cg.concepts.items() if c.title == "Beta")
    edges_before = sorted(last.cg.graph.out_edges(key, keys=True))
    note_before = last.cg.concepts[key].notes[0]
    announced: list[list[str]] = []
    preview = start_preview(
        last, builder.config, {edit(vault, "B.md", "[[Gamma]]", "[[Delta]]")}, announced.append
    )
    assert preview is not None
    preview.wait()
    page = page_of(builder.config.out, "Beta")
    assert announced == [[page]]
    assert "Delta" in (builder.config.out / page).read_text()
    # The child changed its own copy of the graph, not this process's.
    assert sorted(last.cg.graph.out_edges(key, keys=True)) == edges_before
    assert last.cg.concepts[key].notes[0] is note_before


def test_the_pages_are_announced_before_the_child_has_exited(
    live: tuple[Builder, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A child of a large server takes tens of ms to exit (its image is unmapped); the
    page is announced once written, not after that. Here the child's exit is held."""
    builder, vault = live
    last = builder._last
    assert last is not None
    real_exit = os._exit

    def slow_exit(code: int) -> None:  # runs only in the child
        time.sleep(5)
        real_exit(code)

    monkeypatch.setattr(os, "_exit", slow_exit)
    child_alive: list[bool] = []
    got = threading.Event()
    preview: kgraph.preview.Preview | None = None

    def announce(pages: list[str]) -> None:
        assert preview is not None
        child_alive.append(os.waitpid(preview.pid, os.WNOHANG) == (0, 0))
        got.set()

    preview = start_preview(
        last, builder.config, {edit(vault, "B.md", "[[Gamma]]", "[[Delta]]")}, announce
    )
    assert preview is not None
    assert got.wait(4)
    assert child_alive == [True]
    preview.wait()  # reaps it
    assert "Delta" in (builder.config.out / page_of(builder.config.out, "Beta")).read_text()


@pytest.mark.parametrize(
    ("name", "old", "new"),
    [
        # A new stub whose slug, `phi`, a note holds: numbering the two is the full
        # build's business.
        ("F.md", "alone.", "alone, unlike [[Phi!]]."),
        ("B.md", "title: Beta", "title: Bravo"),  # a title other pages show
    ],
)
def test_edits_beyond_links_get_no_preview_and_still_come_first(
    live: tuple[Builder, Path], tmp_path: Path, name: str, old: str, new: str
) -> None:
    builder, vault = live
    changed = {edit(vault, name, old, new)}
    assert builder._last is not None
    assert start_preview(builder._last, builder.config, changed, lambda pages: None) is None
    seen: list[list[str]] = []
    builder.early = seen.append
    result = builder.build(changed)
    title = "Phi" if name == "F.md" else "Bravo"
    if name == "F.md":
        assert "[[Phi!]]" in str(result.report()["warnings"])  # a stub, not a loose match
    # The full build's own early render still puts the edited page first.
    assert seen == [[page_of(builder.config.out, title)]]
    same_as_clean(builder, tmp_path, result.report()["warnings"])


def test_a_preview_the_full_build_disagrees_with_is_rewritten_and_reloads_again(
    live: tuple[Builder, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    builder, vault = live
    out = builder.config.out
    page = page_of(out, "Beta")

    def wrong(*args: Any) -> list[str]:  # runs in the child, as the real one would
        (out / page).write_text("<p>not what the full build makes</p>")
        return [page]

    monkeypatch.setattr(kgraph.preview, "_render_edited", wrong)
    seen: list[list[str]] = []
    builder.early = seen.append
    result = builder.build({edit(vault, "B.md", "[[Gamma]]", "[[Delta]]")})
    # The child's page first, then the full build's own early render of it, which
    # differs, is written over it and announced again.
    assert seen == [[page], [page]]
    assert "not what the full build makes" not in (out / page).read_text()
    same_as_clean(builder, tmp_path, result.report()["warnings"])
