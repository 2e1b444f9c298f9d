"""Fast edits in the dev server: applied in memory, and always the same site as a full build."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kgraph.build import Builder
from kgraph.cli import main
from tests.core.test_incremental import CHAIN, make_vault, snapshot

EMBEDS = {
    **CHAIN,
    "G.md": "---\ntitle: Gamma digest\n---\nThe summary:\n\n![[E]]\n",
    "H.md": "---\ntitle: Host\n---\nText [[Alpha#Missing]] and $x^2$.\n",
}


def clean_report(vault: Path, out: Path) -> tuple[dict[str, bytes], list[dict]]:
    """A clean CLI build of the vault as it is now: its files and its warnings."""
    report = out.parent / "clean-report.json"
    code = main(["build", str(vault), "-o", str(out), "--report", str(report), "--quiet"])
    assert code in (0, 1)
    files = {k: v[1] for k, v in snapshot(out).items()}
    return files, json.loads(report.read_text())["warnings"]


@pytest.fixture
def live(tmp_path: Path) -> tuple[Builder, Path]:
    vault = make_vault(tmp_path, EMBEDS)
    builder = Builder.for_vault(vault, tmp_path / "site", execute=False, jobs=1)
    builder.fast_edits = True
    first = builder.build()
    assert first.pages["written"] > 0 and not first.fast
    yield builder, vault
    builder.close()


def edit(vault: Path, name: str, old: str, new: str) -> Path:
    path = vault / name
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    return path


def same_as_clean(builder: Builder, tmp_path: Path, warnings: list[dict] | None = None) -> None:
    files, clean_warnings = clean_report(builder.config.vault, tmp_path / "clean")
    live = {k: v[1] for k, v in snapshot(builder.config.out).items()}
    assert live.keys() == files.keys()
    assert [k for k in live if live[k] != files[k]] == []
    if warnings is not None:
        assert warnings == clean_warnings


def page_of(out: Path, title: str) -> str:
    for path in out.rglob("index.html"):
        if f'<h1 data-pagefind-meta="title">{title}</h1>' in path.read_text():
            return path.relative_to(out).as_posix()
    raise AssertionError(f"no page titled {title}")


def test_prose_edit_is_fast_and_rewrites_only_its_page(
    live: tuple[Builder, Path], tmp_path: Path
) -> None:
    builder, vault = live
    out = builder.config.out
    before = snapshot(out)
    result = builder.build({edit(vault, "D.md", "Epsilon]].", "Epsilon]].\n\nA new paragraph.")})
    assert result.fast
    delta = page_of(out, "Delta")
    assert result.changed_pages == [delta]
    after = snapshot(out)
    assert {k for k in after if before.get(k) != after[k]} == {delta}
    assert "A new paragraph." in (out / delta).read_text()
    report = result.report()
    assert report["pages"]["written"] == 1 and report["cells"]["executed"] == 0
    same_as_clean(builder, tmp_path, report["warnings"])


def test_new_context_of_a_link_rewrites_the_page_it_links_to(
    live: tuple[Builder, Path], tmp_path: Path
) -> None:
    builder, vault = live
    out = builder.config.out
    result = builder.build({edit(vault, "D.md", "leads to", "now clearly leads to")})
    assert result.fast
    assert set(result.changed_pages) == {page_of(out, "Delta"), page_of(out, "Epsilon")}
    assert "now clearly leads to" in (out / page_of(out, "Epsilon")).read_text()
    same_as_clean(builder, tmp_path, result.report()["warnings"])


def test_edit_of_an_embedded_note_rerenders_the_page_embedding_it(
    live: tuple[Builder, Path], tmp_path: Path
) -> None:
    builder, vault = live
    out = builder.config.out
    result = builder.build({edit(vault, "E.md", "ends the chain", "closes the chain")})
    assert result.fast
    assert set(result.changed_pages) == {page_of(out, "Epsilon"), page_of(out, "Gamma digest")}
    assert "closes the chain" in (out / page_of(out, "Gamma digest")).read_text()
    same_as_clean(builder, tmp_path)


@pytest.mark.parametrize(
    ("name", "old", "new"),
    [
        ("B.md", "[[Gamma]]", "[[Delta]]"),  # a link changes: other pages show it
        ("B.md", "title: Beta", "title: Bravo"),  # the title: every page linking it
        ("F.md", "stands alone.", "stands alone.\n\n## A heading\n"),  # anchors others use
        ("F.md", "alone.", "alone [[Nowhere]]."),  # a new stub
    ],
)
def test_edits_others_can_see_take_a_full_build(
    live: tuple[Builder, Path], tmp_path: Path, name: str, old: str, new: str
) -> None:
    builder, vault = live
    result = builder.build({edit(vault, name, old, new)})
    assert not result.fast
    same_as_clean(builder, tmp_path, result.report()["warnings"])
    # The build it fell back to is kept: the next prose edit is fast again.
    again = builder.build({edit(vault, "A.md", "leads to", "points to")})
    assert again.fast
    same_as_clean(builder, tmp_path, again.report()["warnings"])


def test_new_file_and_template_changes_take_a_full_build(
    live: tuple[Builder, Path], tmp_path: Path
) -> None:
    builder, vault = live
    new = vault / "N.md"
    new.write_text("---\ntitle: Nu\n---\nNu links [[Alpha]].\n")
    assert not builder.build({new}).fast
    new.unlink()
    assert not builder.build({new}).fast
    outside = tmp_path / "elsewhere.html"
    outside.write_text("x")
    assert not builder.build({outside}).fast
    same_as_clean(builder, tmp_path)


def test_problems_of_an_edited_note_are_replaced_not_added(
    live: tuple[Builder, Path], tmp_path: Path
) -> None:
    builder, vault = live
    first = builder.build({edit(vault, "H.md", "Text", "Some text")})
    assert first.fast
    codes = [p["code"] for p in first.report()["warnings"] if p["file"] == "H.md"]
    assert codes.count("missing-anchor") == 1
    second = builder.build({edit(vault, "H.md", "Some text", "More text")})
    assert second.fast
    assert second.report()["warnings"] == first.report()["warnings"]
    same_as_clean(builder, tmp_path, second.report()["warnings"])


def test_an_unchanged_save_writes_nothing(live: tuple[Builder, Path]) -> None:
    builder, vault = live
    path = vault / "C.md"
    path.write_text(path.read_text())
    result = builder.build({path})
    assert result.fast
    assert result.changed_pages == [] and result.pages["written"] == 0


def test_editor_swap_and_backup_files_do_not_cost_a_full_build(
    live: tuple[Builder, Path], tmp_path: Path
) -> None:
    builder, vault = live
    gone = vault / ".D.md.swp"  # written and removed again before the watcher reports it
    backup = vault / "D.md~"
    backup.write_text("an editor's backup")
    note = edit(vault, "D.md", "Epsilon]].", "Epsilon]].\n\nSaved by an editor.")
    result = builder.build({gone, backup, note})
    assert result.fast and result.changed_pages == [page_of(builder.config.out, "Delta")]
    same_as_clean(builder, tmp_path, result.report()["warnings"])
    attachment = vault / "plot.png"
    attachment.write_bytes(b"\x89PNG\r\n\x1a\n")
    assert not builder.build({attachment}).fast  # a new file others may link to


def test_settings_file_is_read_again(live: tuple[Builder, Path], tmp_path: Path) -> None:
    builder, vault = live
    settings = vault / "kgraph.yaml"
    settings.write_text("title: Served again\n")
    result = builder.build({settings})
    assert not result.fast
    assert "Served again" in (builder.config.out / "index.html").read_text()
    same_as_clean(builder, tmp_path)


def test_a_link_edit_publishes_the_edited_page_before_the_others(
    live: tuple[Builder, Path], tmp_path: Path
) -> None:
    builder, vault = live
    out = builder.config.out
    bravo, gamma, delta = page_of(out, "Beta"), page_of(out, "Gamma"), page_of(out, "Delta")
    target_before = (out / delta).read_text()
    seen: list[tuple[list[str], str, str]] = []
    # What the browser could fetch at the moment it is told: the edited page is new,
    # the page gaining a backlink not yet.
    builder.early = lambda pages: seen.append(
        (pages, (out / bravo).read_text(), (out / delta).read_text())
    )
    result = builder.build({edit(vault, "B.md", "[[Gamma]]", "[[Delta]]")})
    assert not result.fast
    assert [pages for pages, _, _ in seen] == [[bravo]]
    _, edited, target = seen[0]
    assert "../" + delta.removesuffix("index.html") in edited
    assert target == target_before  # Delta's backlink from Beta comes with the rest
    assert (out / delta).read_text() != target_before
    # The rest of the build announces the pages it changed, the edited one not again.
    assert bravo not in result.changed_pages
    assert {gamma, delta} <= set(result.changed_pages)
    same_as_clean(builder, tmp_path, result.report()["warnings"])


def test_a_full_build_without_an_edit_publishes_nothing_early(
    live: tuple[Builder, Path],
) -> None:
    builder, vault = live
    seen: list[list[str]] = []
    builder.early = seen.append
    edit(vault, "B.md", "[[Gamma]]", "[[Delta]]")
    result = builder.build()  # not told what changed: nothing to put first
    assert not result.fast and result.changed_pages
    assert seen == []
